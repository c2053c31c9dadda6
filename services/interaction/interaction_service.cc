#include "services/interaction/interaction_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "services/interaction/domain/decide.h"

namespace crm::interaction {
namespace {

using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;
using projection::Take;

// How long a write may wait for the directory to learn of a contact just created.
constexpr absl::Duration kDirectoryWait = absl::Seconds(5);
constexpr size_t kMaxTimelineScan = 20000;
constexpr size_t kMaxCaseScan = 10000;

}  // namespace

absl::StatusOr<std::unique_ptr<InteractionService>> InteractionService::Open(
    const std::string& projection_dir, eventlog::EventLog* log, bool rebuild, SlaPolicy sla) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<store::ProjectionStore> store,
      store::ProjectionStore::OpenProjection(projection_dir, kProjectionLayout, rebuild));
  return std::unique_ptr<InteractionService>(
      new InteractionService(std::move(store), log, std::move(sla)));
}

InteractionService::InteractionService(std::unique_ptr<store::ProjectionStore> store,
                                       eventlog::EventLog* log, SlaPolicy sla)
    : store_(std::move(store)),
      sla_(std::move(sla)),
      projection_(store_.get()),
      projector_(
          projection::ProjectorOptions{
              .name = "interaction", .topics = {kTopic, kContactTopic}, .own_topic = kTopic},
          log, store_.get(), &projection_),
      writer_(log, &projector_, kTopic, kAggregateType) {}

InteractionService::~InteractionService() { Stop(); }

void InteractionService::Stop() { projector_.Stop(); }

absl::Status InteractionService::CheckContact(const CallContext& ctx, const std::string& field,
                                              const std::string& contact_id) {
  return projection_.directory().CheckLinkableWaiting(
      projector_, ctx.tenant, field, contact_id,
      std::min(ctx.deadline, absl::Now() + kDirectoryWait));
}

template <typename T>
void InteractionService::Write(const CallContext& ctx, const std::string& command,
                               const std::string& request_id,
                               const std::function<Decided(absl::Time, Payload&)>& decide,
                               Done<T> done) {
  writer_.Run<T>(
      // The writer's aggregate type: interactions.
      projection::CommandFor(ctx, command, "", request_id), decide,
      [this, ctx](const std::string& id, int64_t) { return Get(ctx, id); }, std::move(done));
}

void InteractionService::Log(const CallContext& ctx, const Interaction& interaction,
                             const std::string& request_id, Done<Interaction> done) {
  Write<Interaction>(
      ctx, "LogInteraction", request_id,
      [&](absl::Time now, Payload& payload) {
        const std::string id = ids::NewId(now);
        ContactCheck check = [this, &ctx](const std::string& field, const std::string& contact) {
          return CheckContact(ctx, field, contact);
        };
        return Take(DecideLog(interaction, id, check), payload, id, 0);
      },
      std::move(done));
}

void InteractionService::Update(const CallContext& ctx, const Interaction& values,
                                const google::protobuf::FieldMask& mask, int64_t expected_version,
                                const std::string& request_id, Done<Interaction> done) {
  Write<Interaction>(
      ctx, "UpdateInteraction", request_id,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Interaction> current,
                         projection_.GetInteraction(ctx.tenant, values.id()));
        ContactCheck check = [this, &ctx](const std::string& field, const std::string& contact) {
          return CheckContact(ctx, field, contact);
        };
        return Take(DecideUpdate(current, values, mask, expected_version, check), payload,
                    values.id(), current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::Delete(const CallContext& ctx, const std::string& id,
                                int64_t expected_version, const std::string& request_id,
                                Done<Interaction> done) {
  Write<Interaction>(
      ctx, "DeleteInteraction", request_id,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Interaction> current,
                         projection_.GetInteraction(ctx.tenant, id));
        return Take(DecideDelete(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Interaction> InteractionService::Get(const CallContext& ctx,
                                                    const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Interaction> i, projection_.GetInteraction(ctx.tenant, id));
  if (!i) return absl::NotFoundError(absl::StrCat("id: interaction ", id, " does not exist"));
  return *std::move(i);
}

void InteractionService::WriteCase(
    const CallContext& ctx, const std::string& command, const std::string& id,
    const std::string& request_id,
    const std::function<Decided(const std::optional<Case>&, Payload&)>& decide, Done<Case> done) {
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, command, kCaseAggregateType, request_id);
  writer_.Run<Case>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Case> current, projection_.GetCase(ctx.tenant, id));
        return decide(current, payload);
      },
      [this, ctx](const std::string& case_id, int64_t) { return GetCase(ctx, case_id); },
      std::move(done));
}

void InteractionService::OpenCase(const CallContext& ctx, const Case& requested,
                                  const std::string& request_id, Done<Case> done) {
  const std::string id = ids::NewId();
  WriteCase(
      ctx, "OpenCase", id, request_id,
      [&](const std::optional<Case>&, Payload& payload) {
        auto check = [this, &ctx](const std::string& field, const std::string& contact) {
          return CheckContact(ctx, field, contact);
        };
        return Take(DecideOpenCase(requested, id, sla_, check), payload, id, 0);
      },
      std::move(done));
}

void InteractionService::AssignCase(const CallContext& ctx, const std::string& id,
                                    const std::string& owner, int64_t expected_version,
                                    const std::string& request_id, Done<Case> done) {
  WriteCase(
      ctx, "AssignCase", id, request_id,
      [&](const std::optional<Case>& current, Payload& payload) {
        return Take(DecideAssign(current, id, owner, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::CommentOnCase(const CallContext& ctx, const std::string& id,
                                       const crm::interaction::v1::CaseComment& comment,
                                       int64_t expected_version, const std::string& request_id,
                                       Done<Case> done) {
  WriteCase(
      ctx, "CommentOnCase", id, request_id,
      [&](const std::optional<Case>& current, Payload& payload) {
        return Take(DecideComment(current, id, comment, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::ChangeCasePriority(const CallContext& ctx, const std::string& id,
                                            Priority priority, int64_t expected_version,
                                            const std::string& request_id, Done<Case> done) {
  WriteCase(
      ctx, "ChangeCasePriority", id, request_id,
      [&](const std::optional<Case>& current, Payload& payload) {
        return Take(DecidePriority(current, id, priority, sla_, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::ChangeCaseStatus(const CallContext& ctx, const std::string& id,
                                          CaseStatus status, int64_t expected_version,
                                          const std::string& request_id, Done<Case> done) {
  WriteCase(
      ctx, "ChangeCaseStatus", id, request_id,
      [&](const std::optional<Case>& current, Payload& payload) {
        return Take(DecideStatus(current, id, status, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Case> InteractionService::GetCase(const CallContext& ctx,
                                                 const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Case> c, projection_.GetCase(ctx.tenant, id));
  if (!c) return absl::NotFoundError(absl::StrCat("id: case ", id, " does not exist"));
  MarkBreaches(*c, absl::Now());
  return *std::move(c);
}

std::vector<projection::ExportSource<crm::interaction::v1::ExportRecordsResponse>>
InteractionService::ExportSources(const CallContext& ctx) const {
  using Response = crm::interaction::v1::ExportRecordsResponse;
  const store::ReadView view = store_->Snapshot();
  return {projection::KindSource<Interaction, Response>(
              view, 'i', ctx.tenant,
              [](Interaction& i, Response& r) { *r.mutable_interaction() = std::move(i); }),
          projection::KindSource<Case, Response>(
              view, 'c', ctx.tenant,
              [](Case& c, Response& r) { *r.mutable_support_case() = std::move(c); }),
          projection::KindSource<Task, Response>(view, 'j', ctx.tenant, [](Task& t, Response& r) {
            *r.mutable_task() = std::move(t);
          })};
}

absl::StatusOr<CasePage> InteractionService::ListCases(const CallContext& ctx,
                                                       const CaseFilter& filter,
                                                       const std::string& resume_after,
                                                       size_t page_size) const {
  return projection_.ListCases(ctx.tenant, filter, resume_after, page_size, kMaxCaseScan,
                               absl::Now());
}

void InteractionService::WriteTask(
    const CallContext& ctx, const std::string& command, const std::string& id,
    const std::string& request_id,
    const std::function<Decided(const std::optional<Task>&, Payload&)>& decide, Done<Task> done) {
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, command, kTaskAggregateType, request_id);
  writer_.Run<Task>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Task> current, projection_.GetTask(ctx.tenant, id));
        return decide(current, payload);
      },
      [this, ctx](const std::string& task_id, int64_t) { return GetTask(ctx, task_id); },
      std::move(done));
}

void InteractionService::CreateTask(const CallContext& ctx, const Task& requested,
                                    const std::string& request_id, Done<Task> done) {
  const std::string id = ids::NewId();
  WriteTask(
      ctx, "CreateTask", id, request_id,
      [&](const std::optional<Task>&, Payload& payload) {
        auto check = [this, &ctx](const std::string& field, const std::string& contact) {
          return CheckContact(ctx, field, contact);
        };
        return Take(DecideCreateTask(requested, id, check), payload, id, 0);
      },
      std::move(done));
}

void InteractionService::CompleteTask(const CallContext& ctx, const std::string& id,
                                      int64_t expected_version, const std::string& request_id,
                                      Done<Task> done) {
  WriteTask(
      ctx, "CompleteTask", id, request_id,
      [&](const std::optional<Task>& current, Payload& payload) {
        return Take(DecideComplete(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::CancelTask(const CallContext& ctx, const std::string& id,
                                    int64_t expected_version, const std::string& request_id,
                                    Done<Task> done) {
  WriteTask(
      ctx, "CancelTask", id, request_id,
      [&](const std::optional<Task>& current, Payload& payload) {
        return Take(DecideCancel(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

void InteractionService::RescheduleTask(const CallContext& ctx, const std::string& id,
                                        const TaskRescheduled& reschedule, int64_t expected_version,
                                        const std::string& request_id, Done<Task> done) {
  WriteTask(
      ctx, "RescheduleTask", id, request_id,
      [&](const std::optional<Task>& current, Payload& payload) {
        return Take(DecideReschedule(current, id, reschedule, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Task> InteractionService::GetTask(const CallContext& ctx,
                                                 const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Task> t, projection_.GetTask(ctx.tenant, id));
  if (!t) return absl::NotFoundError(absl::StrCat("id: task ", id, " does not exist"));
  return *std::move(t);
}

absl::StatusOr<TaskPage> InteractionService::ListTasks(
    const CallContext& ctx, const std::string& assignee, std::optional<int64_t> from_nanos,
    std::optional<int64_t> to_nanos, const std::string& resume_after, size_t page_size) const {
  return projection_.OpenTasks(ctx.tenant, assignee, from_nanos, to_nanos, resume_after, page_size);
}

absl::StatusOr<TimelinePage> InteractionService::Timeline(
    const CallContext& ctx, const std::string& contact_id, const std::string& company_id,
    const TimelineFilter& filter, const std::string& resume_after, size_t page_size) const {
  if (!contact_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<directory::ContactDirectoryEntry> entry,
                     projection_.directory().Get(ctx.tenant, contact_id));
    if (!entry) {
      return absl::NotFoundError(
          absl::StrCat("contact_id: contact ", contact_id, " does not exist"));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     projection_.directory().WithMerged(ctx.tenant, *entry));
    return projection_.Timeline(ctx.tenant, 't', ids, filter, resume_after, page_size,
                                kMaxTimelineScan);
  }
  return projection_.Timeline(ctx.tenant, 'u', {company_id}, filter, resume_after, page_size,
                              kMaxTimelineScan);
}

absl::StatusOr<nlohmann::json> InteractionService::ExportPersonalData(
    const CallContext& ctx, const std::vector<std::string>& contact_ids) const {
  nlohmann::json out = {{"interactions", nlohmann::json::array()},
                        {"cases", nlohmann::json::array()},
                        {"tasks", nlohmann::json::array()}};
  std::set<std::string> seen;  // a survivor's timeline also holds its merged contacts' items
  for (const std::string& contact_id : contact_ids) {
    std::string resume;
    for (int page = 0; page < projection::kMaxExportPages; ++page) {
      ASSIGN_OR_RETURN(TimelinePage items, Timeline(ctx, contact_id, "", {}, resume, 1000));
      for (const std::string& encoded : items.items) {
        ASSIGN_OR_RETURN(const TimelineItem item, ParseTimelineItem(encoded));
        if (!seen.insert(item.id()).second) continue;
        if (item.kind() == crm::interaction::v1::TIMELINE_KIND_INTERACTION) {
          ASSIGN_OR_RETURN(Interaction i, Get(ctx, item.id()));
          out["interactions"].push_back(projection::ToJson(i));
        } else if (item.kind() == crm::interaction::v1::TIMELINE_KIND_CASE) {
          ASSIGN_OR_RETURN(Case c, GetCase(ctx, item.id()));
          out["cases"].push_back(projection::ToJson(c));
        } else if (item.kind() == crm::interaction::v1::TIMELINE_KIND_TASK) {
          ASSIGN_OR_RETURN(Task t, GetTask(ctx, item.id()));
          out["tasks"].push_back(projection::ToJson(t));
        }
      }
      if (items.resume_after.empty()) break;
      resume = items.resume_after;
    }
  }
  return out;
}

}  // namespace crm::interaction
