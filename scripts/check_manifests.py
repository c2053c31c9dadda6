#!/usr/bin/env python3
"""Checks the objects one kustomize overlay renders (scripts/check-deploy.sh) for what running the
CRM safely depends on; prints every problem and exits 1 if there is one.

usage: check_manifests.py OVERLAY RENDERED.yaml
"""
import sys

import yaml

SERVICES = ["contact", "interaction", "sales", "analytics"]
# Who asks whom over gRPC: the analytics service the contact service (personal data, automation
# actions) and the interaction service (tasks); the contact service the other three
# (ExportContactData).
PEERS = {
    "analytics": {"CRM_CONTACT_ADDRESS": "contact", "CRM_INTERACTION_ADDRESS": "interaction"},
    "contact": {"CRM_INTERACTION_ADDRESS": "interaction", "CRM_SALES_ADDRESS": "sales",
                "CRM_ANALYTICS_ADDRESS": "analytics"},
}
TOPICS = [
    "crm.contact.v1", "crm.interaction.v1", "crm.sales.v1", "crm.analytics.v1", "crm.access.v1",
    "crm.keys.v1", "crm.outbound.v1"
]


def main():
    overlay, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    problems = []

    def need(condition, what):
        if not condition:
            problems.append(f"{overlay}: {what}")

    by_kind = {}
    for o in objects:
        need("apiVersion" in o and "kind" in o and o.get("metadata", {}).get("name"),
             f"an object without apiVersion, kind or name: {o}")
        by_kind.setdefault(o.get("kind"), []).append(o)

    def named(kind, name):
        return next((o for o in by_kind.get(kind, []) if o["metadata"]["name"] == name), None)

    services = by_kind.get("Service", [])
    for svc in SERVICES:
        sts = named("StatefulSet", f"crm-{svc}")
        need(sts is not None, f"no StatefulSet crm-{svc}")
        if sts is None:
            continue
        spec = sts["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        selector = spec["selector"]["matchLabels"]
        need(all(labels.get(k) == v for k, v in selector.items()),
             f"crm-{svc}: the selector {selector} does not match the pod labels {labels}")
        need(selector.get("app.kubernetes.io/component") == svc,
             f"crm-{svc}: the selector does not pick the {svc} pods only")
        headless = named("Service", spec.get("serviceName", ""))
        need(headless is not None and headless["spec"].get("clusterIP") == "None",
             f"crm-{svc}: serviceName is not a headless Service")
        need(any(s["spec"].get("clusterIP") != "None" and s["spec"].get("selector") == selector
                 for s in services), f"crm-{svc}: no ClusterIP Service selects its pods")
        need(any(p["spec"]["selector"]["matchLabels"] == selector
                 for p in by_kind.get("PodDisruptionBudget", [])),
             f"crm-{svc}: no PodDisruptionBudget")
        need(spec.get("volumeClaimTemplates"), f"crm-{svc}: no volume for its RocksDB data")
        ctx = pod.get("securityContext", {})
        need(ctx.get("runAsNonRoot") is True, f"crm-{svc}: not runAsNonRoot")
        need(pod.get("terminationGracePeriodSeconds", 30) >= 15,
             f"crm-{svc}: terminationGracePeriodSeconds too short to drain")
        for c in pod["containers"]:
            where = f"crm-{svc}/{c['name']}"
            need(c.get("command") == [f"crm-{svc}"], f"{where}: runs {c.get('command')}")
            sc = c.get("securityContext", {})
            need(sc.get("readOnlyRootFilesystem") is True, f"{where}: root filesystem writable")
            need(sc.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation")
            need(sc.get("capabilities", {}).get("drop") == ["ALL"],
                 f"{where}: capabilities not all dropped")
            res = c.get("resources", {})
            need(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory"),
                 f"{where}: no CPU and memory requests")
            need(res.get("limits", {}).get("memory"), f"{where}: no memory limit")
            ready = c.get("readinessProbe", {}).get("grpc", {})
            live = c.get("livenessProbe", {}).get("grpc", {})
            need(ready.get("port") == 7071 and not ready.get("service"),
                 f"{where}: readiness is not the gRPC health check of the health port")
            need(live.get("port") == 7071 and live.get("service") == "liveness",
                 f"{where}: liveness is not the gRPC \"liveness\" health check")
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            if overlay == "prod":
                need({"/etc/crm/tls", "/etc/crm/jwt"} <= mounts,
                     f"{where}: the TLS and JWT secrets are not mounted")
                if svc == "contact":
                    kek = {e["name"]: e.get("value") for e in c.get("env", [])}.get(
                        "CRM_KEY_ENCRYPTION_KEY_FILE", "")
                    need("/etc/crm/keys" in mounts and kek.startswith("/etc/crm/keys/"),
                         f"{where}: the key-encryption key (Secret crm-keys) is not given")
            need(c.get("lifecycle", {}).get("preStop"), f"{where}: no preStop")
            env = {e["name"] for e in c.get("env", [])}
            need(any(r.get("configMapRef") for r in c.get("envFrom", [])),
                 f"{where}: configuration not from a ConfigMap")
            need("CRM_KAFKA_PROPERTIES" in env, f"{where}: Kafka secrets not from the Secret")
            # The services that ask others: each address names a ClusterIP Service of the peer.
            values = {e["name"]: e.get("value", "") for e in c.get("env", [])}
            for variable, peer in PEERS.get(svc, {}).items():
                need(values.get(variable) == f"crm-{peer}:7070"
                     and named("Service", f"crm-{peer}") is not None,
                     f"{where}: {variable} does not name the {peer} service (crm-{peer}:7070)")
    config = by_kind.get("ConfigMap", [{}])[0].get("data", {})
    need(config.get("CRM_LOG") == "kafka", "the services do not use Kafka")
    need(config.get("CRM_METRICS_LISTEN", "").endswith(":9464"), "metrics are not served")
    need(int(config.get("CRM_MAX_CONNECTION_AGE", "0")) > 0,
         "connections are never recycled: load will not spread after a scale-up")
    need(config.get("CRM_HEALTH_LISTEN", "").endswith(":7071"),
         "no plaintext health port for the probes")
    if overlay == "prod":
        need(config.get("CRM_AUTH") == "jwt", "prod does not authenticate callers")
        need(config.get("CRM_TLS_CERT") and config.get("CRM_TLS_KEY"), "prod does not use TLS")
        need(config.get("CRM_TLS_CLIENT_CA"), "prod does not require client certificates")
        need(config.get("CRM_PLAINTEXT", "false") != "true", "prod allows plaintext")
        need(config.get("CRM_JWT_ISSUER") and config.get("CRM_JWT_AUDIENCE"),
             "prod does not check the tokens' issuer and audience")
    else:
        need(config.get("CRM_PLAINTEXT") == "true" or config.get("CRM_TLS_CERT"),
             "plaintext on a pod address must be said (CRM_PLAINTEXT) or TLS given")
    need(by_kind.get("Secret"), "no Secret")
    need(by_kind.get("NetworkPolicy"), "no NetworkPolicy")
    for np in by_kind.get("NetworkPolicy", []):
        need(set(np["spec"].get("policyTypes", [])) == {"Ingress", "Egress"},
             f"NetworkPolicy {np['metadata']['name']} does not restrict both directions")
    need(by_kind.get("ServiceMonitor"), "no ServiceMonitor")
    topics = {t["spec"]["topicName"]: t["spec"] for t in by_kind.get("KafkaTopic", [])}
    for topic in TOPICS:
        t = topics.get(topic)
        need(t is not None, f"no KafkaTopic {topic}")
        if t is None:
            continue
        need(str(t["config"].get("retention.ms")) == "-1", f"{topic}: retention is not unlimited")
        # Erased persons' keys must leave the brokers: only compaction removes them.
        need((t["config"].get("cleanup.policy") == "compact") == (topic == "crm.keys.v1"),
             f"{topic}: cleanup.policy must be compact exactly for crm.keys.v1")
        if overlay == "prod":
            need(t.get("replicas") == 3 and t["config"].get("min.insync.replicas") == 2,
                 f"{topic}: not 3 replicas with min.insync.replicas=2")
    if overlay == "dev":
        need(by_kind.get("Kafka"), "the dev overlay has no Kafka cluster")
    for p in problems:
        print(p)
    print(f"{overlay}: {len(objects)} objects, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
