// FoldContactEvent: a contact record after one of its events, for any projection that keeps
// whole contacts (the contact service's own, analytics' customer files). Plain events go
// through the domain's Apply; an unmerge folds the survivor's events again. So while a contact
// holds merged contacts — and only then: most never do, and a copy of every event would be a
// key per event — each projection keeps its history under a kind of its choosing:
//
//   kIndex kind/tenant\0contact_id\0 0(BE64)       -> Contact: as it was before the first merge
//                                                    since it last held none (absent when the
//                                                    history starts with its creation)
//   kIndex kind/tenant\0contact_id\0 version(BE64) -> EventEnvelope: each event since
//
// and drops it when the last merged contact leaves (or the contact is erased).
//
//   ASSIGN_OR_RETURN(absl::StatusOr<Contact> next,
//                    FoldContactEvent(current, event, batch, 'g'));
//   if (!next.ok()) return next.status();   // refused by the domain: write nothing
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/projection_store.h"
#include "crm/common/v1/envelope.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// The version slot of a history's base record (events start at version 1).
inline constexpr uint64_t kHistoryBase = 0;

// The contact after `event` (inner status: the domain's refusal, nothing written), having kept
// its history under `history_kind` as above. Outer status: a storage error.
absl::StatusOr<absl::StatusOr<Contact>> FoldContactEvent(
    const std::optional<Contact>& current, const crm::common::v1::EventEnvelope& event,
    store::ProjectionStore::Batch& batch, char history_kind);

// A ContactErased `event` folded like FoldContactEvent, having dropped the contact's events kept
// under `history_kind` first (when the domain accepts it): what is left of the contact, or the
// domain's refusal (nothing written). Outer status: a storage error.
absl::StatusOr<absl::StatusOr<Contact>> FoldErasure(const std::optional<Contact>& current,
                                                    const crm::common::v1::EventEnvelope& event,
                                                    store::ProjectionStore::Batch& batch,
                                                    char history_kind);

// Erasure: drops every event of contact `id` kept under `history_kind`.
absl::Status ForgetContactEvents(store::ProjectionStore::Batch& batch, std::string_view tenant,
                                 std::string_view id, char history_kind);

}  // namespace crm::contact
