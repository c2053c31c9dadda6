#include "services/contact/contact_service.h"

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "services/contact/domain/decide.h"

namespace crm::contact {
namespace {

// Candidate bounds keep every read O(page), whatever the data size.
constexpr size_t kMaxListScan = 10000;
constexpr size_t kMaxSearchCandidates = 5000;

}  // namespace

absl::StatusOr<std::unique_ptr<ContactService>> ContactService::Open(
    const std::string& projection_dir, eventlog::EventLog* log, bool rebuild) {
  if (rebuild) RETURN_IF_ERROR(store::ProjectionStore::Destroy(projection_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<store::ProjectionStore> store,
                   store::ProjectionStore::Open(projection_dir));
  return std::unique_ptr<ContactService>(new ContactService(std::move(store), log));
}

ContactService::ContactService(std::unique_ptr<store::ProjectionStore> store,
                               eventlog::EventLog* log)
    : store_(std::move(store)),
      projection_(store_.get()),
      projector_(projection::ProjectorOptions{.name = "contact", .topics = {kTopic}}, log,
                 store_.get(), &projection_),
      writer_(log, &projector_, kTopic, kAggregateType) {}

ContactService::~ContactService() { Stop(); }

absl::Status ContactService::Start(absl::Time catch_up_deadline) {
  RETURN_IF_ERROR(projector_.Start());
  return projector_.WaitUntilCaughtUp(catch_up_deadline);
}

void ContactService::Stop() { projector_.Stop(); }

void ContactService::Finish(const CallContext& ctx,
                            absl::StatusOr<crm::common::v1::CommandOutcome> outcome,
                            Done<Contact>& done) const {
  if (!outcome.ok()) {
    done(outcome.status());
    return;
  }
  if (absl::Status s = projection::OutcomeStatus(*outcome); !s.ok()) {
    done(s);
    return;
  }
  done(Get(ctx, outcome->aggregate_id()));
}

bool ContactService::AnswerEarlier(const CallContext& ctx, const std::string& request_id,
                                   const std::string& command, Done<Contact>& done) {
  absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> earlier =
      writer_.FindEarlier(ctx.tenant, request_id, command);
  if (!earlier.ok()) {
    done(earlier.status());
    return true;
  }
  if (!*earlier) return false;
  Finish(ctx, **earlier, done);
  return true;
}

void ContactService::Submit(const CallContext& ctx, const std::string& command,
                            const std::string& request_id, const std::string& id,
                            int64_t expected_version, absl::Time now,
                            const google::protobuf::Message& payload, Done<Contact> done) {
  projection::CommandWriter::Command cmd;
  cmd.tenant = ctx.tenant;
  cmd.actor = ctx.actor;
  cmd.request_id = request_id;
  cmd.command = command;
  cmd.aggregate_id = id;
  cmd.expected_version = expected_version;
  cmd.now = now;
  cmd.deadline = ctx.deadline;
  writer_.Write(cmd, payload,
                [this, ctx, done = std::move(done)](
                    absl::StatusOr<crm::common::v1::CommandOutcome> outcome) mutable {
                  Finish(ctx, std::move(outcome), done);
                });
}

void ContactService::Create(const CallContext& ctx, const Contact& contact,
                            const std::string& request_id, Done<Contact> done) {
  if (AnswerEarlier(ctx, request_id, "CreateContact", done)) return;
  const absl::Time now = absl::Now();
  const std::string id = ids::NewId(now);
  absl::StatusOr<ContactCreated> event = DecideCreate(contact, id, now);
  if (!event.ok()) {
    done(event.status());
    return;
  }
  Submit(ctx, "CreateContact", request_id, id, 0, now, *event, std::move(done));
}

void ContactService::Update(const CallContext& ctx, const Contact& values,
                            const google::protobuf::FieldMask& mask, int64_t expected_version,
                            const std::string& request_id, Done<Contact> done) {
  if (AnswerEarlier(ctx, request_id, "UpdateContact", done)) return;
  absl::StatusOr<std::optional<Contact>> current = projection_.Get(ctx.tenant, values.id());
  if (!current.ok()) {
    done(current.status());
    return;
  }
  const absl::Time now = absl::Now();
  absl::StatusOr<ContactUpdated> event =
      DecideUpdate(*current, values, mask, expected_version, now);
  if (!event.ok()) {
    done(event.status());
    return;
  }
  Submit(ctx, "UpdateContact", request_id, values.id(), (*current)->version(), now, *event,
         std::move(done));
}

void ContactService::Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
                            const std::string& request_id, Done<Contact> done) {
  if (AnswerEarlier(ctx, request_id, "DeleteContact", done)) return;
  absl::StatusOr<std::optional<Contact>> current = projection_.Get(ctx.tenant, id);
  if (!current.ok()) {
    done(current.status());
    return;
  }
  absl::StatusOr<ContactArchived> event = DecideArchive(*current, id, expected_version);
  if (!event.ok()) {
    done(event.status());
    return;
  }
  Submit(ctx, "DeleteContact", request_id, id, (*current)->version(), absl::Now(), *event,
         std::move(done));
}

absl::StatusOr<Contact> ContactService::Get(const CallContext& ctx, const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Contact> contact, projection_.Get(ctx.tenant, id));
  if (!contact) return absl::NotFoundError(absl::StrCat("id: contact ", id, " does not exist"));
  return *std::move(contact);
}

absl::StatusOr<ListPage> ContactService::List(const CallContext& ctx, const ListFilter& filter,
                                              const std::string& resume_after,
                                              size_t page_size) const {
  return projection_.List(ctx.tenant, filter, resume_after, page_size, kMaxListScan);
}

absl::StatusOr<std::vector<SearchHit>> ContactService::Search(const CallContext& ctx,
                                                              const std::vector<std::string>& words,
                                                              bool show_archived) const {
  return projection_.Search(ctx.tenant, words, show_archived, kMaxSearchCandidates);
}

}  // namespace crm::contact
