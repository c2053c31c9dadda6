// FoldContactEvent: a contact record after one of its events, for any projection that keeps
// whole contacts (the contact service's own, analytics' customer files). Plain events go
// through the domain's Apply; an unmerge folds the contact's own events again, so each
// projection keeps those events under a history kind of its choosing:
//
//   kIndex kind/tenant\0contact_id\0 version(BE64) -> EventEnvelope
//
//   ASSIGN_OR_RETURN(absl::StatusOr<Contact> next,
//                    FoldContactEvent(current, event, batch, 'g'));
//   if (!next.ok()) return next.status();   // refused by the domain: write nothing
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/projection_store.h"
#include "crm/common/v1/envelope.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// The contact after `event` (inner status: the domain's refusal, nothing written), having put
// `event` into the contact's history under `history_kind`. Outer status: a storage error.
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
