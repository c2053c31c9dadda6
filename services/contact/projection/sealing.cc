#include "services/contact/projection/sealing.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crypto/sealing.h"
#include "common/projection/wire_field.h"
#include "common/status/status_macros.h"
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

// Opens `sealed` into `personal` (PersonalData, serialised); leaves it empty if the key is gone
// (erased).
absl::Status OpenInto(crypto::DataKeys& vault, std::string_view tenant, const SealedData& sealed,
                      std::string& personal) {
  ASSIGN_OR_RETURN(std::optional<std::string> key, vault.Get(tenant, sealed.key_id()));
  if (!key) return absl::OkStatus();
  ASSIGN_OR_RETURN(personal, crypto::Open(*key, sealed, Aad(tenant, sealed.key_id())));
  if (!PersonalData().ParseFromString(personal)) {
    return absl::DataLossError(
        absl::StrCat("sealed personal data of ", sealed.key_id(), " does not decode"));
  }
  return absl::OkStatus();
}

// `event` (of type T) with its sealed field, number `sealed_field`, opened into the personal data
// of its contact, field `contact_field`. nullopt when nothing is sealed, or the payload does not
// decode (apply reports that). Done on the payload's wire form: the sealed field left out, and
// the contact's field appended once more holding only its personal data, which parsers merge
// into the contact (sealing left it without any) — parsing the whole payload, clearing the field
// and serialising it again was a third of the opening.
template <typename T>
absl::StatusOr<std::optional<EventEnvelope>> Reopen(crypto::DataKeys& vault,
                                                    const EventEnvelope& event, int contact_field,
                                                    int sealed_field) {
  if (!event.payload().Is<T>()) return std::nullopt;
  const std::string& value = event.payload().value();
  SealedData sealed;
  std::string opened_value;  // the payload without its sealed field, then with its personal data
  opened_value.reserve(value.size());
  if (!projection::SplitField(value, sealed_field, &opened_value, [&](std::string_view bytes) {
        return projection::MergeBytes(bytes, sealed);
      })) {
    return std::nullopt;
  }
  if (sealed.ciphertext().empty()) return std::nullopt;
  std::string personal;
  RETURN_IF_ERROR(OpenInto(vault, event.tenant(), sealed, personal));
  // The sealed field goes: what apply stores holds the personal data once, opened.
  if (!personal.empty()) {
    std::string contact;
    projection::AppendField(contact, Contact::kPersonalFieldNumber, personal);
    projection::AppendField(opened_value, contact_field, contact);
  }
  EventEnvelope opened = event;
  opened.mutable_payload()->set_value(std::move(opened_value));
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
    return Reopen<ContactCreated>(*vault_, event, ContactCreated::kContactFieldNumber,
                                  ContactCreated::kSealedPersonalFieldNumber);
  }
  if (type == kContactUpdatedType) {
    return Reopen<ContactUpdated>(*vault_, event, ContactUpdated::kContactFieldNumber,
                                  ContactUpdated::kSealedPersonalFieldNumber);
  }
  if (type == kContactsMergedType) {
    return Reopen<ContactsMerged>(*vault_, event, ContactsMerged::kMergedFieldNumber,
                                  ContactsMerged::kSealedMergedPersonalFieldNumber);
  }
  return std::nullopt;
}

absl::Status PersonalDataSealer::Shred(std::string_view tenant, std::string_view contact_id) const {
  return vault_->Forget(tenant, contact_id);
}

}  // namespace crm::contact
