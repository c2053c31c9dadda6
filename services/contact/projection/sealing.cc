#include "services/contact/projection/sealing.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crypto/sealing.h"
#include "common/status/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "services/contact/domain/apply.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {
namespace {

using crm::common::v1::EventEnvelope;
using crm::common::v1::SealedData;
using crm::contact::v1::PersonalData;

// Binds a sealed value to its tenant and person.
std::string Aad(std::string_view tenant, std::string_view id) {
  return absl::StrCat(std::string(tenant), "/", std::string(id));
}

// Seals the personal data of `contact` (which then has none) into `sealed` with the key of `id`.
// No personal data seals to nothing: there is nothing to hide, and an update that clears a field
// must still clear it.
absl::Status SealInto(crypto::DataKeys& vault, std::string_view tenant, const std::string& id,
                      Contact& contact, SealedData& sealed) {
  if (contact.personal().ByteSizeLong() == 0) {
    contact.clear_personal();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string key, vault.GetOrCreate(tenant, id));
  ASSIGN_OR_RETURN(sealed,
                   crypto::Seal(key, id, Aad(tenant, id), contact.personal().SerializeAsString()));
  contact.clear_personal();
  return absl::OkStatus();
}

// Opens `sealed` into `personal`; leaves it empty if the key is gone (erased).
absl::Status OpenInto(crypto::DataKeys& vault, std::string_view tenant, const SealedData& sealed,
                      PersonalData& personal) {
  ASSIGN_OR_RETURN(std::optional<std::string> key, vault.Get(tenant, sealed.key_id()));
  if (!key) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string bytes, crypto::Open(*key, sealed, Aad(tenant, sealed.key_id())));
  if (!personal.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("sealed personal data of ", sealed.key_id(), " does not decode"));
  }
  return absl::OkStatus();
}

// `event` (of type T) with its sealed field opened into its personal data; `fields` gives both
// of a T. nullopt when nothing is sealed, or the payload does not decode (apply reports that).
template <typename T, typename Fields>
absl::StatusOr<std::optional<EventEnvelope>> Reopen(crypto::DataKeys& vault,
                                                    const EventEnvelope& event, Fields fields) {
  T message;
  if (!event.payload().UnpackTo(&message)) return std::nullopt;
  auto [sealed, personal] = fields(message);
  if (sealed->ciphertext().empty()) return std::nullopt;
  RETURN_IF_ERROR(OpenInto(vault, event.tenant(), *sealed, *personal));
  // The sealed field goes: what apply stores holds the personal data once, opened.
  const google::protobuf::Descriptor* descriptor = T::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->message_type() == SealedData::descriptor()) {
      message.GetReflection()->ClearField(&message, descriptor->field(i));
    }
  }
  EventEnvelope opened = event;
  opened.mutable_payload()->PackFrom(message);
  return opened;
}

}  // namespace

absl::Status PersonalDataSealer::Seal(std::string_view tenant,
                                      google::protobuf::Message& payload) const {
  if (auto* created = dynamic_cast<ContactCreated*>(&payload)) {
    return SealInto(*vault_, tenant, created->contact().id(), *created->mutable_contact(),
                    *created->mutable_sealed_personal());
  }
  if (auto* updated = dynamic_cast<ContactUpdated*>(&payload)) {
    return SealInto(*vault_, tenant, updated->contact_id(), *updated->mutable_contact(),
                    *updated->mutable_sealed_personal());
  }
  if (auto* merged = dynamic_cast<ContactsMerged*>(&payload)) {
    return SealInto(*vault_, tenant, merged->merged_id(), *merged->mutable_merged(),
                    *merged->mutable_sealed_merged_personal());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<EventEnvelope>> PersonalDataSealer::Open(
    const EventEnvelope& event) const {
  const std::string& type = event.event_type();
  if (type == kContactCreatedType) {
    return Reopen<ContactCreated>(*vault_, event, [](ContactCreated& e) {
      return std::make_pair(e.mutable_sealed_personal(), e.mutable_contact()->mutable_personal());
    });
  }
  if (type == kContactUpdatedType) {
    return Reopen<ContactUpdated>(*vault_, event, [](ContactUpdated& e) {
      return std::make_pair(e.mutable_sealed_personal(), e.mutable_contact()->mutable_personal());
    });
  }
  if (type == kContactsMergedType) {
    return Reopen<ContactsMerged>(*vault_, event, [](ContactsMerged& e) {
      return std::make_pair(e.mutable_sealed_merged_personal(),
                            e.mutable_merged()->mutable_personal());
    });
  }
  return std::nullopt;
}

absl::Status PersonalDataSealer::Shred(std::string_view tenant, std::string_view contact_id) const {
  return vault_->Forget(tenant, contact_id);
}

}  // namespace crm::contact
