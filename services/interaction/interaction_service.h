// InteractionService: the interaction service's application layer, what crm-interaction and
// crm-node embed. Its projection reads this service's topic and the contact service's (for the
// contact directory).
//
// Lifecycle: Open() -> projector()->Start() -> serve -> Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/export_source.h"
#include "common/projection/personal_export.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "crm/interaction/v1/interaction_service.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/interaction/projection/interaction_projection.h"

namespace crm::interaction {

using projection::CallContext;
template <typename T>
using Done = projection::Done<T>;

class InteractionService {
 public:
  // `sla` gives the targets stamped into cases when they are opened or change priority.
  static absl::StatusOr<std::unique_ptr<InteractionService>> Open(
      const std::string& projection_dir, eventlog::EventLog* log, bool rebuild,
      SlaPolicy sla = SlaPolicy::Default());
  ~InteractionService();
  void Stop();

  void Log(const CallContext& ctx, const Interaction& interaction, const std::string& request_id,
           Done<Interaction> done);
  void Update(const CallContext& ctx, const Interaction& values,
              const google::protobuf::FieldMask& mask, int64_t expected_version,
              const std::string& request_id, Done<Interaction> done);
  void Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
              const std::string& request_id, Done<Interaction> done);
  absl::StatusOr<Interaction> Get(const CallContext& ctx, const std::string& id) const;

  // Support cases.
  void OpenCase(const CallContext& ctx, const Case& requested, const std::string& request_id,
                Done<Case> done);
  void AssignCase(const CallContext& ctx, const std::string& id, const std::string& owner,
                  int64_t expected_version, const std::string& request_id, Done<Case> done);
  void CommentOnCase(const CallContext& ctx, const std::string& id,
                     const crm::interaction::v1::CaseComment& comment, int64_t expected_version,
                     const std::string& request_id, Done<Case> done);
  void ChangeCasePriority(const CallContext& ctx, const std::string& id, Priority priority,
                          int64_t expected_version, const std::string& request_id, Done<Case> done);
  void ChangeCaseStatus(const CallContext& ctx, const std::string& id, CaseStatus status,
                        int64_t expected_version, const std::string& request_id, Done<Case> done);
  // With breach flags as of now.
  absl::StatusOr<Case> GetCase(const CallContext& ctx, const std::string& id) const;
  // Everything the tenant holds here, for ExportRecords: interactions, cases, tasks, read from
  // one snapshot.
  std::vector<projection::ExportSource<crm::interaction::v1::ExportRecordsResponse>> ExportSources(
      const CallContext& ctx) const;
  absl::StatusOr<CasePage> ListCases(const CallContext& ctx, const CaseFilter& filter,
                                     const std::string& resume_after, size_t page_size) const;

  // Tasks and appointments.
  void CreateTask(const CallContext& ctx, const Task& requested, const std::string& request_id,
                  Done<Task> done);
  void CompleteTask(const CallContext& ctx, const std::string& id, int64_t expected_version,
                    const std::string& request_id, Done<Task> done);
  void CancelTask(const CallContext& ctx, const std::string& id, int64_t expected_version,
                  const std::string& request_id, Done<Task> done);
  void RescheduleTask(const CallContext& ctx, const std::string& id,
                      const TaskRescheduled& reschedule, int64_t expected_version,
                      const std::string& request_id, Done<Task> done);
  absl::StatusOr<Task> GetTask(const CallContext& ctx, const std::string& id) const;
  absl::StatusOr<TaskPage> ListTasks(const CallContext& ctx, const std::string& assignee,
                                     std::optional<int64_t> from_nanos,
                                     std::optional<int64_t> to_nanos,
                                     const std::string& resume_after, size_t page_size) const;

  // A contact's timeline (with the contacts merged into it) or a company's.
  absl::StatusOr<TimelinePage> Timeline(const CallContext& ctx, const std::string& contact_id,
                                        const std::string& company_id, const TimelineFilter& filter,
                                        const std::string& resume_after, size_t page_size) const;

  // Everything this service holds on the person with `contact_ids` (the survivor first): the
  // interactions, cases and tasks on their timelines (ContactService.ExportContactData).
  absl::StatusOr<nlohmann::json> ExportPersonalData(
      const CallContext& ctx, const std::vector<std::string>& contact_ids) const;

  projection::Projector* projector() { return &projector_; }

 private:
  InteractionService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log,
                     SlaPolicy sla);
  // The directory check: a contact unknown here is looked for again once the directory has
  // caught up with the contact log (bounded by the call's deadline).
  absl::Status CheckContact(const CallContext& ctx, const std::string& field,
                            const std::string& contact_id);
  template <typename T>
  void Write(const CallContext& ctx, const std::string& command, const std::string& request_id,
             const std::function<projection::CommandWriter::Decision(
                 absl::Time, projection::CommandWriter::Payload&)>& decide,
             Done<T> done);
  // A task command: decide against the current task, answer with the task.
  void WriteTask(
      const CallContext& ctx, const std::string& command, const std::string& id,
      const std::string& request_id,
      const std::function<projection::CommandWriter::Decision(
          const std::optional<Task>& current, projection::CommandWriter::Payload&)>& decide,
      Done<Task> done);
  // A case command: decide against the current case, answer with the case.
  void WriteCase(
      const CallContext& ctx, const std::string& command, const std::string& id,
      const std::string& request_id,
      const std::function<projection::CommandWriter::Decision(
          const std::optional<Case>& current, projection::CommandWriter::Payload&)>& decide,
      Done<Case> done);

  std::unique_ptr<store::ProjectionStore> store_;
  const SlaPolicy sla_;
  InteractionProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
};

}  // namespace crm::interaction
