#include "common/projection/personal_export.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/validation/request_fields.h"

namespace crm::projection {

absl::StatusOr<std::string> ExportPart(const CallContext& ctx,
                                       const google::protobuf::RepeatedPtrField<std::string>& ids,
                                       const PersonalDataExport& part) {
  if (ids.empty() || ids.size() > 1000) {
    return absl::InvalidArgumentError("contact_ids: give 1 to 1000 contact ids");
  }
  for (int i = 0; i < ids.size(); ++i) {
    absl::Status s =
        validation::CheckId(absl::StrCat("contact_ids[", i, "]"), ids.Get(i), "contact");
    if (!s.ok()) return s;
  }
  absl::StatusOr<nlohmann::json> out = part(ctx, {ids.begin(), ids.end()});
  if (!out.ok()) return out.status();
  return out->dump();
}

nlohmann::json ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return nlohmann::json::object();  // only for messages that cannot be printed at all
  }
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace crm::projection
