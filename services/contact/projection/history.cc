#include "services/contact/projection/history.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <memory>

#include "common/projection/projector.h"

namespace crm::contact {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

google::protobuf::util::TypeResolver* Resolver() {
  static google::protobuf::util::TypeResolver* resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", google::protobuf::DescriptorPool::generated_pool());
  return resolver;
}

// A copy of `m` with only field `fd` kept.
std::unique_ptr<Message> OnlyField(const Message& m, const FieldDescriptor* fd) {
  std::unique_ptr<Message> copy(m.New());
  copy->CopyFrom(m);
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i) != fd) copy->GetReflection()->ClearField(copy.get(), d->field(i));
  }
  return copy;
}

bool IsSet(const Message& m, const FieldDescriptor* fd) {
  const auto* r = m.GetReflection();
  return fd->is_repeated() ? r->FieldSize(m, fd) > 0 : r->HasField(m, fd);
}

// JSON of field `fd` of `m` ("" if unset), rendered from deterministic bytes.
std::string FieldJson(const Message* m, const FieldDescriptor* fd) {
  if (m == nullptr || !IsSet(*m, fd)) return "";
  const std::unique_ptr<Message> only = OnlyField(*m, fd);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::BinaryToJsonString(
           Resolver(), "type.googleapis.com/" + m->GetDescriptor()->full_name(),
           projection::SerializeDeterministic(*only), &json, options)
           .ok()) {
    return "";
  }
  // {"name":VALUE} -> VALUE
  const std::string prefix = "{\"" + fd->name() + "\":";
  if (json.size() > prefix.size() + 1 && json.compare(0, prefix.size(), prefix) == 0) {
    return json.substr(prefix.size(), json.size() - prefix.size() - 1);
  }
  return json;
}

bool Recurse(const FieldDescriptor* fd) {
  return fd->type() == FieldDescriptor::TYPE_MESSAGE && !fd->is_repeated() &&
         fd->message_type()->file()->package().rfind("crm.", 0) == 0;
}

void DiffInto(const Message* before, const Message& after, const std::string& prefix,
              std::vector<crm::contact::v1::FieldChange>& out) {
  const auto* d = after.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* fd = d->field(i);
    if (prefix.empty() && (fd->name() == "version" || fd->name() == "update_time")) continue;
    const std::string path = prefix + fd->name();
    if (Recurse(fd)) {
      const Message* b = before != nullptr && IsSet(*before, fd)
                             ? &before->GetReflection()->GetMessage(*before, fd)
                             : nullptr;
      if (b == nullptr && !IsSet(after, fd)) continue;
      DiffInto(b, after.GetReflection()->GetMessage(after, fd), path + ".", out);
      continue;
    }
    const std::string b =
        before != nullptr ? projection::SerializeDeterministic(*OnlyField(*before, fd)) : "";
    const std::string a = projection::SerializeDeterministic(*OnlyField(after, fd));
    if (a == b) continue;
    crm::contact::v1::FieldChange change;
    change.set_path(path);
    change.set_before(FieldJson(before, fd));
    change.set_after(FieldJson(&after, fd));
    if (change.before() == change.after()) continue;
    out.push_back(std::move(change));
  }
}

crm::contact::v1::ChangeSource Source(const std::string& s) {
  if (s == "api") return crm::contact::v1::CHANGE_SOURCE_API;
  if (s == "import") return crm::contact::v1::CHANGE_SOURCE_IMPORT;
  if (s == "merge") return crm::contact::v1::CHANGE_SOURCE_MERGE;
  if (s == "integration") return crm::contact::v1::CHANGE_SOURCE_INTEGRATION;
  return crm::contact::v1::CHANGE_SOURCE_UNSPECIFIED;
}

}  // namespace

std::vector<crm::contact::v1::FieldChange> Diff(const Message* before, const Message& after) {
  std::vector<crm::contact::v1::FieldChange> out;
  DiffInto(before, after, "", out);
  return out;
}

crm::contact::v1::HistoryEntry MakeHistoryEntry(const crm::common::v1::EventEnvelope& event,
                                                int64_t version,
                                                const google::protobuf::Timestamp& time) {
  crm::contact::v1::HistoryEntry entry;
  entry.set_version(version);
  entry.set_event_type(event.event_type());
  *entry.mutable_time() = time;
  entry.set_actor(event.actor());
  entry.set_source(Source(event.source()));
  entry.set_request_id(event.request_id());
  entry.set_event_id(event.event_id());
  return entry;
}

}  // namespace crm::contact
