#include "services/interaction/projection/interaction_projection.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "services/interaction/domain/apply.h"
#include "services/interaction/domain/erasure.h"
#include "services/interaction/projection/keys.h"

namespace crm::interaction {

using crm::common::v1::EventEnvelope;
using store::Cf;

namespace {

template <typename T>
absl::StatusOr<std::optional<T>> Decode(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  T value;
  if (!value.ParseFromString(*raw)) return absl::DataLossError("corrupt record in projection");
  return value;
}

// The timeline entries an interaction contributes (none without one): key -> item. (A pointer,
// not an optional: an optional would copy the interaction.)
std::map<std::string, TimelineItem> TimelineEntries(std::string_view tenant, const Interaction* i) {
  std::map<std::string, TimelineItem> out;
  if (!i || i->deleted()) return out;
  TimelineItem item;
  item.set_kind(crm::interaction::v1::TIMELINE_KIND_INTERACTION);
  item.set_id(i->id());
  *item.mutable_occurred_at() = i->occurred_at();
  item.set_channel(i->channel());
  item.set_direction(i->direction());
  item.set_subject(i->subject());
  item.set_owner(i->owner());
  const int64_t nanos = projection::TimestampNanos(i->occurred_at());
  for (const std::string& contact : i->contact_ids()) {
    item.set_contact_id(contact);
    out[keys::Timeline('t', tenant, contact, nanos, i->id())] = item;
  }
  if (!i->company_id().empty()) {
    item.clear_contact_id();
    out[keys::Timeline('u', tenant, i->company_id(), nanos, i->id())] = item;
  }
  return out;
}

// The record an interaction, case or task event reads and writes: its aggregate's.
std::string RecordKey(const EventEnvelope& event) {
  if (IsCaseEvent(event.event_type())) return keys::CaseKey(event.tenant(), event.aggregate_id());
  if (IsTaskEvent(event.event_type())) return keys::TaskKey(event.tenant(), event.aggregate_id());
  return keys::Interaction(event.tenant(), event.aggregate_id());
}

}  // namespace

bool InteractionProjection::Handles(std::string_view event_type) const {
  // Every contact event is known: the directory takes what it needs and ignores the rest.
  return event_type == kInteractionLoggedType || event_type == kInteractionUpdatedType ||
         event_type == kInteractionDeletedType || IsCaseEvent(event_type) ||
         IsTaskEvent(event_type) || event_type.starts_with("crm.contact.v1.");
}

void InteractionProjection::WillRead(const EventEnvelope& event,
                                     std::vector<std::string>& state_keys) const {
  if (directory::IsContactEvent(event.event_type())) {
    directory_.WillRead(event, state_keys);
  } else if (Handles(event.event_type())) {
    state_keys.push_back(RecordKey(event));
  }
}

absl::StatusOr<absl::Status> InteractionProjection::Apply(const EventEnvelope& event,
                                                          store::ProjectionStore::Batch& batch) {
  if (directory::IsContactEvent(event.event_type())) {
    RETURN_IF_ERROR(directory_.Apply(event, batch));
    if (event.event_type() == "crm.contact.v1.ContactErased") {
      ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), event.aggregate_id()));
      if (erased) RETURN_IF_ERROR(ScrubErased(batch, event.tenant(), event.aggregate_id()));
    }
    return absl::OkStatus();
  }
  if (IsCaseEvent(event.event_type())) return ApplyCaseEvent(event, batch);
  if (IsTaskEvent(event.event_type())) return ApplyTaskEvent(event, batch);
  return ApplyInteraction(event, batch);
}

namespace {

// The index and timeline entries a task contributes (none without one): key -> value.
std::map<std::string, std::string> TaskEntries(std::string_view tenant, const Task* t) {
  std::map<std::string, std::string> out;
  if (!t || t->status() == crm::interaction::v1::TASK_STATUS_CANCELLED) return out;
  const int64_t nanos = projection::TimestampNanos(When(*t));
  if (t->status() == crm::interaction::v1::TASK_STATUS_OPEN) {
    out[keys::OpenTask(tenant, t->assignee(), nanos, t->id())] = "";
  }
  if (!t->contact_id().empty()) {
    TimelineItem item;
    item.set_kind(crm::interaction::v1::TIMELINE_KIND_TASK);
    item.set_id(t->id());
    *item.mutable_occurred_at() = When(*t);
    const bool done = t->status() == crm::interaction::v1::TASK_STATUS_COMPLETED;
    const bool appointment = t->kind() == crm::interaction::v1::TASK_KIND_APPOINTMENT;
    item.set_subject(std::string(done ? "Done: " : "") +
                     (appointment ? "Appointment: " : "Task: ") + t->title());
    item.set_owner(t->assignee());
    item.set_contact_id(t->contact_id());
    out[keys::Timeline('t', tenant, t->contact_id(), nanos, t->id())] =
        projection::SerializeDeterministic(item);
  }
  return out;
}

}  // namespace

absl::StatusOr<absl::Status> InteractionProjection::ApplyTaskEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Task> current, Decode<Task>(raw));
  absl::StatusOr<Task> next = ApplyTask(current, event);
  if (!next.ok()) return next.status();
  ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), next->contact_id()));
  if (erased) EraseFreeText(*next);
  StoreTask(batch, event.tenant(), current, *next);
  return absl::OkStatus();
}

void InteractionProjection::StoreTask(store::ProjectionStore::Batch& batch, std::string_view tenant,
                                      const std::optional<Task>& current, const Task& next) {
  const auto old_entries = TaskEntries(tenant, current ? &*current : nullptr);
  const auto new_entries = TaskEntries(tenant, &next);
  for (const auto& [k, v] : old_entries) {
    if (!new_entries.contains(k)) batch.Delete(Cf::kIndex, k);
  }
  for (const auto& [k, v] : new_entries) batch.Put(Cf::kIndex, k, v);
  batch.Put(Cf::kState, keys::TaskKey(tenant, next.id()), projection::SerializeDeterministic(next));
}

absl::StatusOr<absl::Status> InteractionProjection::ApplyCaseEvent(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Case> current, Decode<Case>(raw));
  absl::StatusOr<Case> next = ApplyCase(current, event);
  if (!next.ok()) return next.status();
  ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, tenant, next->contact_id()));
  if (erased) EraseFreeText(*next);
  if (!current)
    batch.Put(Cf::kIndex, keys::CaseOfContact(tenant, next->contact_id(), next->id()), "");
  // Every case event is a line in the customer's (and the company's) timeline.
  const std::string& type = event.event_type();
  std::string what = "Case updated";
  if (type == "crm.interaction.v1.CaseOpened") {
    what = "Case opened";
  } else if (type == "crm.interaction.v1.CaseCommented") {
    what = "Comment on case";
  } else if (type == "crm.interaction.v1.CaseAssigned") {
    what = "Case assigned";
  } else if (type == "crm.interaction.v1.CaseStatusChanged") {
    what = "Case " +
           absl::AsciiStrToLower(crm::interaction::v1::CaseStatus_Name(next->status()).substr(12));
  } else if (type == "crm.interaction.v1.CasePriorityChanged") {
    what = "Case priority changed";
  }
  TimelineItem item;
  item.set_kind(crm::interaction::v1::TIMELINE_KIND_CASE);
  item.set_id(next->id());
  *item.mutable_occurred_at() = next->update_time();
  item.set_subject(what + ": " + next->subject());
  item.set_owner(next->owner());
  item.set_contact_id(next->contact_id());
  const std::string position_id = next->id() + "#" + std::to_string(next->version());
  const int64_t nanos = projection::TimestampNanos(next->update_time());
  batch.Put(Cf::kIndex, keys::Timeline('t', tenant, next->contact_id(), nanos, position_id),
            projection::SerializeDeterministic(item));
  if (!next->company_id().empty()) {
    item.clear_contact_id();
    batch.Put(Cf::kIndex, keys::Timeline('u', tenant, next->company_id(), nanos, position_id),
              projection::SerializeDeterministic(item));
  }
  batch.Put(Cf::kState, key, projection::SerializeDeterministic(*next));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> InteractionProjection::ApplyInteraction(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Interaction> current, Decode<Interaction>(raw));
  absl::StatusOr<Interaction> next = interaction::Apply(current, event);
  if (!next.ok()) return next.status();
  for (const std::string& contact : next->contact_ids()) {
    ASSIGN_OR_RETURN(bool erased, directory_.Erased(batch, event.tenant(), contact));
    if (erased) {
      EraseFreeText(*next);
      break;
    }
  }
  StoreInteraction(batch, event.tenant(), current, *next);
  return absl::OkStatus();
}

void InteractionProjection::StoreInteraction(store::ProjectionStore::Batch& batch,
                                             std::string_view tenant,
                                             const std::optional<Interaction>& current,
                                             const Interaction& next) {
  const auto old_entries = TimelineEntries(tenant, current ? &*current : nullptr);
  const auto new_entries = TimelineEntries(tenant, &next);
  for (const auto& [k, item] : old_entries) {
    if (!new_entries.contains(k)) batch.Delete(Cf::kIndex, k);
  }
  for (const auto& [k, item] : new_entries) {
    batch.Put(Cf::kIndex, k, projection::SerializeDeterministic(item));
  }
  batch.Put(Cf::kState, keys::Interaction(tenant, next.id()),
            projection::SerializeDeterministic(next));
}

absl::Status InteractionProjection::ScrubErased(store::ProjectionStore::Batch& batch,
                                                std::string_view tenant,
                                                std::string_view contact_id) {
  // What the contact's timeline points at.
  std::set<std::string> interactions, cases, tasks;
  absl::Status error;
  RETURN_IF_ERROR(
      batch.Scan(Cf::kIndex, store::KindPrefix('t', tenant, contact_id),
                 [&](std::string_view, std::string_view value) {
                   TimelineItem item;
                   if (!item.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                     error = absl::DataLossError("corrupt timeline entry");
                     return false;
                   }
                   const std::string id = item.id().substr(0, item.id().find('#'));
                   if (item.kind() == crm::interaction::v1::TIMELINE_KIND_CASE) {
                     cases.insert(id);
                   } else if (item.kind() == crm::interaction::v1::TIMELINE_KIND_TASK) {
                     tasks.insert(id);
                   } else {
                     interactions.insert(id);
                   }
                   return true;
                 }));
  RETURN_IF_ERROR(error);
  for (const std::string& id : interactions) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw,
                     batch.Get(Cf::kState, keys::Interaction(tenant, id)));
    ASSIGN_OR_RETURN(std::optional<Interaction> current, Decode<Interaction>(raw));
    if (!current) continue;
    Interaction next = *current;
    EraseFreeText(next);
    StoreInteraction(batch, tenant, current, next);
  }
  for (const std::string& id : tasks) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw,
                     batch.Get(Cf::kState, keys::TaskKey(tenant, id)));
    ASSIGN_OR_RETURN(std::optional<Task> current, Decode<Task>(raw));
    if (!current) continue;
    Task next = *current;
    EraseFreeText(next);
    StoreTask(batch, tenant, current, next);
  }
  // A case has a timeline line per change, on the contact's timeline and its company's: each
  // keeps what happened ("Case opened: ") without the subject, as a later change would write it.
  for (const std::string& id : cases) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw,
                     batch.Get(Cf::kState, keys::CaseKey(tenant, id)));
    ASSIGN_OR_RETURN(std::optional<Case> current, Decode<Case>(raw));
    if (!current) continue;
    Case next = *current;
    EraseFreeText(next);
    batch.Put(Cf::kState, keys::CaseKey(tenant, id), projection::SerializeDeterministic(next));
    std::vector<std::pair<std::string, TimelineItem>> lines;
    for (const auto& [kind, owner] : {std::pair<char, std::string>{'t', current->contact_id()},
                                      std::pair<char, std::string>{'u', current->company_id()}}) {
      if (owner.empty()) continue;
      RETURN_IF_ERROR(batch.Scan(
          Cf::kIndex, store::KindPrefix(kind, tenant, owner),
          [&](std::string_view key, std::string_view value) {
            TimelineItem item;
            if (item.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
                item.kind() == crm::interaction::v1::TIMELINE_KIND_CASE && item.id() == id) {
              lines.emplace_back(std::string(key), std::move(item));
            }
            return true;
          }));
    }
    for (auto& [key, item] : lines) {
      const size_t colon = item.subject().find(": ");
      if (colon != std::string::npos) item.set_subject(item.subject().substr(0, colon + 2));
      batch.Put(Cf::kIndex, key, projection::SerializeDeterministic(item));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Interaction>> InteractionProjection::GetInteraction(
    std::string_view tenant, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::Interaction(tenant, id)));
  return Decode<Interaction>(raw);
}

absl::StatusOr<std::optional<Case>> InteractionProjection::GetCase(std::string_view tenant,
                                                                   std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::CaseKey(tenant, id)));
  return Decode<Case>(raw);
}

absl::StatusOr<CasePage> InteractionProjection::ListCases(std::string_view tenant,
                                                          const CaseFilter& filter,
                                                          std::string_view resume_after,
                                                          size_t page_size, size_t max_scan,
                                                          absl::Time now) const {
  CasePage page;
  // By contact: that contact's cases; otherwise every case of the tenant.
  const bool by_contact = !filter.contact_id.empty();
  const std::string prefix =
      by_contact ? keys::Prefix2('e', tenant, filter.contact_id) : keys::Prefix('c', tenant);
  std::string start;
  if (!resume_after.empty()) {
    start = prefix + std::string(resume_after);
    start.push_back('\0');
  }
  size_t scanned = 0;
  std::string last;
  absl::Status error;
  RETURN_IF_ERROR(store_->Scan(
      by_contact ? Cf::kIndex : Cf::kState, prefix, start,
      [&](std::string_view key, std::string_view) {
        if (page.cases.size() >= page_size || scanned >= max_scan) {
          page.resume_after = last;
          return false;
        }
        ++scanned;
        last = std::string(key.substr(prefix.size()));
        absl::StatusOr<std::optional<Case>> c = GetCase(tenant, last);
        if (!c.ok()) {
          error = c.status();
          return false;
        }
        if (!*c) return true;
        Case& k = **c;
        MarkBreaches(k, now);
        if (!filter.statuses.empty() && !filter.statuses.contains(k.status())) return true;
        if (!filter.owner.empty() && k.owner() != filter.owner) return true;
        if (filter.priority != 0 && k.priority() != filter.priority) return true;
        if (filter.breached &&
            (k.first_response_breached() || k.resolution_breached()) != *filter.breached) {
          return true;
        }
        page.cases.push_back(std::move(k));
        return true;
      }));
  RETURN_IF_ERROR(error);
  return page;
}

absl::StatusOr<std::optional<Task>> InteractionProjection::GetTask(std::string_view tenant,
                                                                   std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::TaskKey(tenant, id)));
  return Decode<Task>(raw);
}

absl::StatusOr<TaskPage> InteractionProjection::OpenTasks(
    std::string_view tenant, std::string_view assignee, std::optional<int64_t> from_nanos,
    std::optional<int64_t> to_nanos, std::string_view resume_after, size_t page_size) const {
  TaskPage page;
  const std::string prefix = keys::Prefix2('a', tenant, assignee);
  std::string start = prefix;
  if (!resume_after.empty()) {
    start.append(resume_after);
    start.push_back('\0');
  } else if (from_nanos) {
    store::PutBigEndian(start, static_cast<uint64_t>(std::max<int64_t>(*from_nanos, 0)));
  }
  std::string last;
  absl::Status error;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, prefix, start, [&](std::string_view key, std::string_view) {
        const std::string_view position = key.substr(prefix.size());
        const auto nanos = static_cast<int64_t>(store::GetBigEndian(position));
        if (to_nanos && nanos >= *to_nanos) return false;
        if (page.tasks.size() >= page_size) {
          page.resume_after = last;
          return false;
        }
        absl::StatusOr<std::optional<Task>> task = GetTask(tenant, position.substr(8));
        if (!task.ok()) {
          error = task.status();
          return false;
        }
        if (*task) page.tasks.push_back(std::move(**task));
        last = std::string(position);
        return true;
      }));
  RETURN_IF_ERROR(error);
  return page;
}

absl::StatusOr<TimelineItem> ParseTimelineItem(std::string_view encoded) {
  TimelineItem item;
  if (!item.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) {
    return absl::DataLossError("corrupt timeline item");
  }
  return item;
}

absl::StatusOr<TimelinePage> InteractionProjection::Timeline(std::string_view tenant, char kind,
                                                             const std::vector<std::string>& owners,
                                                             const TimelineFilter& filter,
                                                             std::string_view resume_after,
                                                             size_t page_size,
                                                             size_t max_scan) const {
  // Each owner's timeline is already newest first; take up to a page from each, then merge.
  struct Entry {
    std::string position;
    std::string item;  // as stored
  };
  const bool filtered =
      !filter.channels.empty() || !filter.kinds.empty() || filter.start_nanos || filter.end_nanos;
  std::vector<Entry> entries;
  bool truncated = false;
  // When a scan is cut short: the last position examined there. Everything up to it was seen
  // in every timeline, nothing after it can be trusted yet.
  std::string scan_limit;
  for (const std::string& owner : owners) {
    const std::string prefix = keys::Prefix2(kind, tenant, owner);
    std::string start = prefix;
    if (!resume_after.empty()) {
      start.append(resume_after);
      start.push_back('\0');  // Strictly after.
    } else if (filter.end_nanos) {
      start.append(keys::TimelinePosition(*filter.end_nanos - 1, ""));
    }
    size_t scanned = 0;
    size_t taken = 0;
    std::string last_examined;
    absl::Status error;
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, prefix, start, [&](std::string_view key, std::string_view value) {
          if (taken > page_size) return false;
          if (++scanned > max_scan) {
            if (!last_examined.empty() && (!truncated || last_examined < scan_limit)) {
              scan_limit = last_examined;
            }
            truncated = true;
            return false;
          }
          last_examined = std::string(key.substr(prefix.size()));
          if (filtered) {
            absl::StatusOr<TimelineItem> item = ParseTimelineItem(value);
            if (!item.ok()) {
              error = item.status();
              return false;
            }
            const int64_t nanos = projection::TimestampNanos(item->occurred_at());
            if (filter.end_nanos && nanos >= *filter.end_nanos) return true;
            if (filter.start_nanos && nanos < *filter.start_nanos) return false;  // Older: done.
            if (!filter.channels.empty() && !filter.channels.contains(item->channel())) {
              return true;
            }
            if (!filter.kinds.empty() && !filter.kinds.contains(item->kind())) return true;
          }
          entries.push_back({last_examined, std::string(value)});
          ++taken;
          return true;
        }));
    RETURN_IF_ERROR(error);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.position < b.position; });
  TimelinePage page;
  // An item in the timelines of two contacts merged into one shows once (same position).
  std::set<std::string> seen;
  std::string last;
  for (Entry& e : entries) {
    if (truncated && e.position > scan_limit) break;
    if (page.items.size() >= page_size) {
      page.resume_after = last;
      break;
    }
    last = e.position;
    if (!seen.insert(e.position).second) continue;
    page.items.push_back(std::move(e.item));
  }
  if (page.resume_after.empty() && truncated) page.resume_after = scan_limit;
  return page;
}

}  // namespace crm::interaction
