#include "services/contact/projection/contact_fold.h"

#include <vector>

#include "common/projection/projector.h"
#include "common/status/status_macros.h"
#include "common/store/big_endian.h"
#include "common/store/keys.h"
#include "services/contact/domain/apply.h"

namespace crm::contact {

using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

std::string HistoryKey(const std::string& prefix, uint64_t version) {
  std::string key = prefix;
  store::PutBigEndian(key, version);
  return key;
}

}  // namespace

absl::StatusOr<absl::StatusOr<Contact>> FoldContactEvent(const std::optional<Contact>& current,
                                                         const EventEnvelope& event,
                                                         store::ProjectionStore::Batch& batch,
                                                         char history_kind) {
  // Made only where a history is read or written: most contacts never hold merged ones.
  auto prefix = [&] {
    return store::KindPrefix(history_kind, event.tenant(), event.aggregate_id());
  };
  const bool held_merged = current && !current->merged_ids().empty();
  absl::StatusOr<Contact> next;
  if (event.event_type() == kContactsUnmergedType) {
    std::optional<Contact> base;
    std::vector<EventEnvelope> history;
    absl::Status error;
    RETURN_IF_ERROR(
        batch.Scan(Cf::kIndex, prefix(), [&](std::string_view key, std::string_view value) {
          const bool is_base = store::GetBigEndian(key.substr(key.size() - 8)) == kHistoryBase;
          bool parsed = false;
          if (is_base) {
            base.emplace();
            parsed = base->ParseFromArray(value.data(), static_cast<int>(value.size()));
          } else {
            parsed =
                history.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
          }
          if (!parsed) {
            error = absl::DataLossError("corrupt contact history");
            return false;
          }
          return true;
        }));
    RETURN_IF_ERROR(error);
    next = ApplyUnmerge(current, event, base, history);
  } else {
    next = Apply(current, event);
  }
  if (!next.ok()) return next;
  if (next->merged_ids().empty()) {
    // Nothing left to unmerge: nothing to fold again.
    if (held_merged) {
      RETURN_IF_ERROR(
          ForgetContactEvents(batch, event.tenant(), event.aggregate_id(), history_kind));
    }
    return next;
  }
  const std::string history = prefix();
  if (!held_merged && current) {
    // Its first merged contact: an unmerge folds again from the contact as it was before.
    batch.Put(Cf::kIndex, HistoryKey(history, kHistoryBase),
              projection::SerializeDeterministic(*current));
  }
  batch.Put(Cf::kIndex, HistoryKey(history, static_cast<uint64_t>(next->version())),
            projection::SerializeDeterministic(event));
  return next;
}

absl::StatusOr<absl::StatusOr<Contact>> FoldErasure(const std::optional<Contact>& current,
                                                    const EventEnvelope& event,
                                                    store::ProjectionStore::Batch& batch,
                                                    char history_kind) {
  absl::StatusOr<Contact> allowed = Apply(current, event);
  if (!allowed.ok()) return allowed;
  RETURN_IF_ERROR(ForgetContactEvents(batch, event.tenant(), event.aggregate_id(), history_kind));
  return FoldContactEvent(current, event, batch, history_kind);
}

absl::Status ForgetContactEvents(store::ProjectionStore::Batch& batch, std::string_view tenant,
                                 std::string_view id, char history_kind) {
  std::vector<std::string> dropped;
  RETURN_IF_ERROR(batch.Scan(Cf::kIndex, store::KindPrefix(history_kind, tenant, id),
                             [&](std::string_view key, std::string_view) {
                               dropped.emplace_back(key);
                               return true;
                             }));
  for (const std::string& key : dropped) batch.Delete(Cf::kIndex, key);
  return absl::OkStatus();
}

}  // namespace crm::contact
