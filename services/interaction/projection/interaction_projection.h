// InteractionProjection: interactions, the customer timelines and the contact directory, built
// from this service's events and the contact service's.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "services/interaction/domain/case.h"
#include "services/interaction/domain/interaction.h"
#include "services/interaction/domain/task.h"

namespace crm::interaction {

// The layout of this projection's keys and values: bump the number with any change to either,
// and a store of the old layout is emptied and rebuilt from the log at start
// (ProjectionStore::OpenProjection). Last bumped when the contact directory's entries began to
// keep their contact's version (an event that lost a race changes nothing), then when other
// services' events stopped leaving an outcome record (EventApplier::SecondCopyChangesNothing),
// then when its own events did too (only a request's record stays).
inline constexpr char kProjectionLayout[] = "interaction/6";

struct TimelineFilter {
  std::set<int> channels;              // empty: all
  std::set<int> kinds;                 // empty: all
  std::optional<int64_t> start_nanos;  // inclusive
  std::optional<int64_t> end_nanos;    // exclusive
};

struct CaseFilter {
  std::set<int> statuses;  // empty: all
  std::string owner;
  int priority = 0;  // 0: all
  std::optional<bool> breached;
  std::string contact_id;
};

struct CasePage {
  std::vector<Case> cases;
  std::string resume_after;  // a case id; empty at the end
};

struct TaskPage {
  std::vector<Task> tasks;
  std::string resume_after;  // opaque position; empty at the end
};

struct TimelinePage {
  // Each a TimelineItem in its wire form, as stored: ListTimeline sends them on as they are.
  // ParseTimelineItem reads one.
  std::vector<std::string> items;
  // The position after which the next page starts; empty at the end.
  std::string resume_after;
};

// One of TimelinePage's items; DATA_LOSS if it does not parse.
absl::StatusOr<TimelineItem> ParseTimelineItem(std::string_view encoded);

class InteractionProjection final : public projection::EventApplier {
 public:
  explicit InteractionProjection(store::ProjectionStore* store)
      : store_(store), directory_(store) {}

  bool Handles(std::string_view event_type) const override;
  // The contact service's events go to the contact directory, which refuses those its entry's
  // version has moved on from, and an erasure's scrub leaves scrubbed records as they are. Its
  // own events (interactions, cases, tasks) are each refused unless their aggregate is at the
  // version they expect, and none of those records is ever removed (a deletion is a flag).
  bool SecondCopyChangesNothing(std::string_view) const override { return true; }
  void Built() override { directory_.Built(); }
  void Committed() override { directory_.Committed(); }
  // The directory entry of a contact event; the record of an interaction, case or task event.
  void WillRead(const crm::common::v1::EventEnvelope& event,
                std::vector<std::string>& state_keys) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;

  absl::StatusOr<std::optional<Interaction>> GetInteraction(std::string_view tenant,
                                                            std::string_view id) const;
  // The contact directory kept from the contact service's events.
  const directory::ContactDirectory& directory() const { return directory_; }

  // A case as stored (breach flags as of its last event).
  absl::StatusOr<std::optional<Case>> GetCase(std::string_view tenant, std::string_view id) const;
  // Cases after `resume_after` in id order matching `filter`, breach flags as of `now`; at most
  // `max_scan` examined.
  absl::StatusOr<CasePage> ListCases(std::string_view tenant, const CaseFilter& filter,
                                     std::string_view resume_after, size_t page_size,
                                     size_t max_scan, absl::Time now) const;

  absl::StatusOr<std::optional<Task>> GetTask(std::string_view tenant, std::string_view id) const;
  // Open tasks of `assignee` whose time is in [from, to) (either may be unset), soonest first,
  // after `resume_after`.
  absl::StatusOr<TaskPage> OpenTasks(std::string_view tenant, std::string_view assignee,
                                     std::optional<int64_t> from_nanos,
                                     std::optional<int64_t> to_nanos, std::string_view resume_after,
                                     size_t page_size) const;

  // Items of the timelines of `owners` (contacts with kind 't', a company with 'u'), newest
  // first, after position `resume_after`; at most `max_scan` entries examined per owner. Only a
  // filtered page parses the items it examines.
  absl::StatusOr<TimelinePage> Timeline(std::string_view tenant, char kind,
                                        const std::vector<std::string>& owners,
                                        const TimelineFilter& filter, std::string_view resume_after,
                                        size_t page_size, size_t max_scan) const;

 private:
  // Erasure of a contact: the free text of its interactions, cases and tasks (and of their
  // timeline lines) goes; what happened and when stays. Records applied later for an erased
  // contact are stored the same way, so the order of the topics does not matter.
  absl::Status ScrubErased(store::ProjectionStore::Batch& batch, std::string_view tenant,
                           std::string_view contact_id);
  // Writes an interaction's change from `current` to `next` (record and timeline lines).
  static void StoreInteraction(store::ProjectionStore::Batch& batch, std::string_view tenant,
                               const std::optional<Interaction>& current, const Interaction& next);
  static void StoreTask(store::ProjectionStore::Batch& batch, std::string_view tenant,
                        const std::optional<Task>& current, const Task& next);
  absl::StatusOr<absl::Status> ApplyInteraction(const crm::common::v1::EventEnvelope& event,
                                                store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyCaseEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyTaskEvent(const crm::common::v1::EventEnvelope& event,
                                              store::ProjectionStore::Batch& batch);
  store::ProjectionStore* const store_;
  const directory::ContactDirectory directory_;
};

}  // namespace crm::interaction
