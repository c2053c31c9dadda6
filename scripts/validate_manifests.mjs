// Validates rendered Kubernetes objects against their schemas: the Kubernetes API's (from the
// kubernetes-models package), Strimzi's and the Prometheus operator's (their @kubernetes-models
// packages), all from npm (package.json). Reads a JSON array of objects on stdin; prints every
// invalid or unknown object and exits 1 if there is one.
//
//   python3 -c 'import json,sys,yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)' \
//     < rendered.yaml | node scripts/validate_manifests.mjs OVERLAY
import { readFileSync } from "node:fs";

const overlay = process.argv[2] ?? "manifests";
// Schema packages by API group; the core group ("v1") has none.
const packages = {
  "": "kubernetes-models",
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const objects = JSON.parse(readFileSync(0, "utf8")).filter((o) => o);
let problems = 0;
for (const o of objects) {
  const what = `${overlay}: ${o.kind} ${o.metadata?.name}`;
  const slash = o.apiVersion.indexOf("/");
  const group = slash < 0 ? "" : o.apiVersion.slice(0, slash);
  const pkg = packages[group] ?? packages[""];
  let models;
  try {
    models = await import(`${pkg}/${o.apiVersion}`);
  } catch {
    console.error(`${what}: no schema for apiVersion ${o.apiVersion}`);
    problems++;
    continue;
  }
  const Model = models[o.kind];
  if (!Model) {
    console.error(`${what}: no schema for kind ${o.kind} in ${o.apiVersion}`);
    problems++;
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    console.error(`${what}: ${e.message}`);
    problems++;
  }
}
console.log(`${overlay}: ${objects.length} objects checked against their schemas, ${problems} invalid`);
process.exit(problems > 0 ? 1 : 0);
