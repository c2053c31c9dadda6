#include "services/contact/contact_service.h"

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {
namespace {

// Candidate bounds keep every read O(page), whatever the data size.
constexpr size_t kMaxListScan = 10000;
constexpr size_t kMaxSearchCandidates = 5000;

using Decided = absl::StatusOr<std::pair<std::string, int64_t>>;
using Payload = std::unique_ptr<google::protobuf::Message>;

// Moves a decided event into `payload` and returns (aggregate id, expected version).
template <typename Event>
Decided Take(absl::StatusOr<Event> event, Payload& payload, std::string id, int64_t expected) {
  if (!event.ok()) return event.status();
  payload = std::make_unique<Event>(std::move(*event));
  return std::make_pair(std::move(id), expected);
}

template <typename T>
absl::StatusOr<T> Found(absl::StatusOr<std::optional<T>> record, const char* kind,
                        const std::string& id, bool as_of) {
  if (!record.ok()) return record.status();
  if (!*record) {
    return absl::NotFoundError(
        absl::StrCat("id: ", kind, " ", id, as_of ? " did not exist at as_of" : " does not exist"));
  }
  return **std::move(record);
}

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

Facts ContactService::CurrentFacts(const CallContext& ctx) const {
  Facts facts;
  facts.company_exists = [this, tenant = ctx.tenant](const std::string& id) {
    absl::StatusOr<std::optional<Company>> c = projection_.GetCompany(tenant, id);
    return c.ok() && c->has_value() && !(*c)->archived();
  };
  return facts;
}

template <typename T>
void ContactService::Write(const CallContext& ctx, const std::string& command,
                           const std::string& request_id, const std::string& aggregate_type,
                           const std::function<Decided(absl::Time now, Payload& payload)>& decide,
                           std::function<absl::StatusOr<T>(const std::string& id)> read,
                           Done<T> done) {
  auto finish = [read = std::move(read), done = std::move(done)](
                    absl::StatusOr<crm::common::v1::CommandOutcome> outcome) mutable {
    if (!outcome.ok()) {
      done(outcome.status());
    } else if (absl::Status s = projection::OutcomeStatus(*outcome); !s.ok()) {
      done(s);
    } else {
      done(read(outcome->aggregate_id()));
    }
  };
  absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> earlier =
      writer_.FindEarlier(ctx.tenant, request_id, command);
  if (!earlier.ok()) {
    finish(earlier.status());
    return;
  }
  if (*earlier) {
    finish(**earlier);  // A repeated request: its first outcome, nothing written again.
    return;
  }
  const absl::Time now = absl::Now();
  Payload payload;
  Decided decided = decide(now, payload);
  if (!decided.ok()) {
    finish(decided.status());
    return;
  }
  projection::CommandWriter::Command cmd;
  cmd.tenant = ctx.tenant;
  cmd.actor = ctx.actor;
  cmd.request_id = request_id;
  cmd.command = command;
  cmd.aggregate_type = aggregate_type;
  cmd.aggregate_id = decided->first;
  cmd.expected_version = decided->second;
  cmd.now = now;
  cmd.deadline = ctx.deadline;
  writer_.Write(cmd, *payload, std::move(finish));
}

// --- Contacts ---------------------------------------------------------------------------------

void ContactService::Create(const CallContext& ctx, const Contact& contact,
                            const std::string& request_id, Done<Contact> done) {
  Write<Contact>(
      ctx, "CreateContact", request_id, kAggregateType,
      [&](absl::Time now, Payload& payload) {
        const std::string id = ids::NewId(now);
        return Take(DecideCreate(contact, id, now, CurrentFacts(ctx)), payload, id, 0);
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); }, std::move(done));
}

void ContactService::Update(const CallContext& ctx, const Contact& values,
                            const google::protobuf::FieldMask& mask, int64_t expected_version,
                            const std::string& request_id, Done<Contact> done) {
  Write<Contact>(
      ctx, "UpdateContact", request_id, kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> current,
                         projection_.GetContact(ctx.tenant, values.id()));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideUpdate(current, values, mask, expected_version, now, CurrentFacts(ctx)),
                    payload, values.id(), at);
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); }, std::move(done));
}

void ContactService::Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
                            const std::string& request_id, Done<Contact> done) {
  Write<Contact>(
      ctx, "DeleteContact", request_id, kAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> current, projection_.GetContact(ctx.tenant, id));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideArchive(current, id, expected_version), payload, id, at);
      },
      [this, ctx](const std::string& read_id) { return Get(ctx, read_id); }, std::move(done));
}

absl::StatusOr<Contact> ContactService::Get(const CallContext& ctx, const std::string& id,
                                            const OptionalTime& as_of) const {
  return Found(projection_.GetContact(ctx.tenant, id, as_of), "contact", id, as_of.has_value());
}

absl::StatusOr<Page<Contact>> ContactService::List(const CallContext& ctx, const ListFilter& filter,
                                                   const std::string& resume_after,
                                                   size_t page_size) const {
  return projection_.ListContacts(ctx.tenant, filter, resume_after, page_size, kMaxListScan);
}

absl::StatusOr<std::vector<Hit<Contact>>> ContactService::Search(
    const CallContext& ctx, const std::vector<std::string>& words, bool show_archived) const {
  return projection_.SearchContacts(ctx.tenant, words, show_archived, kMaxSearchCandidates);
}

absl::StatusOr<std::vector<crm::contact::v1::DuplicateMatch>> ContactService::FindDuplicates(
    const CallContext& ctx, const std::string& id, size_t limit) const {
  RETURN_IF_ERROR(Get(ctx, id).status());
  ASSIGN_OR_RETURN(std::vector<crm::contact::v1::DuplicatePair> pairs,
                   projection_.DuplicatesOf(ctx.tenant, id));
  std::vector<crm::contact::v1::DuplicateMatch> out;
  for (const auto& pair : pairs) {
    if (out.size() >= limit) break;
    ASSIGN_OR_RETURN(std::optional<Contact> other,
                     projection_.GetContact(ctx.tenant, pair.other_contact_id()));
    if (!other) continue;
    crm::contact::v1::DuplicateMatch match;
    *match.mutable_contact() = std::move(*other);
    match.set_score(pair.score());
    *match.mutable_reasons() = pair.reasons();
    out.push_back(std::move(match));
  }
  return out;
}

absl::StatusOr<Page<crm::contact::v1::DuplicatePair>> ContactService::ListDuplicateCandidates(
    const CallContext& ctx, const std::string& resume_after, double min_score,
    size_t page_size) const {
  return projection_.DuplicatePairs(ctx.tenant, resume_after, min_score, page_size);
}

absl::StatusOr<Page<HistoryEntry>> ContactService::History(const CallContext& ctx,
                                                           const std::string& id, bool company,
                                                           int64_t after_version,
                                                           size_t page_size) const {
  if (company) {
    RETURN_IF_ERROR(GetCompany(ctx, id).status());
  } else {
    RETURN_IF_ERROR(Get(ctx, id).status());
  }
  return projection_.History(ctx.tenant, id, after_version, page_size);
}

// --- Companies --------------------------------------------------------------------------------

void ContactService::CreateCompany(const CallContext& ctx, const Company& company,
                                   const std::string& request_id, Done<Company> done) {
  Write<Company>(
      ctx, "CreateCompany", request_id, kCompanyAggregateType,
      [&](absl::Time now, Payload& payload) {
        const std::string id = ids::NewId(now);
        return Take(DecideCreateCompany(company, id), payload, id, 0);
      },
      [this, ctx](const std::string& id) { return GetCompany(ctx, id); }, std::move(done));
}

void ContactService::UpdateCompany(const CallContext& ctx, const Company& values,
                                   const google::protobuf::FieldMask& mask,
                                   int64_t expected_version, const std::string& request_id,
                                   Done<Company> done) {
  Write<Company>(
      ctx, "UpdateCompany", request_id, kCompanyAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Company> current,
                         projection_.GetCompany(ctx.tenant, values.id()));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideUpdateCompany(current, values, mask, expected_version), payload,
                    values.id(), at);
      },
      [this, ctx](const std::string& id) { return GetCompany(ctx, id); }, std::move(done));
}

void ContactService::DeleteCompany(const CallContext& ctx, const std::string& id,
                                   int64_t expected_version, const std::string& request_id,
                                   Done<Company> done) {
  Write<Company>(
      ctx, "DeleteCompany", request_id, kCompanyAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Company> current, projection_.GetCompany(ctx.tenant, id));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideArchiveCompany(current, id, expected_version), payload, id, at);
      },
      [this, ctx](const std::string& read_id) { return GetCompany(ctx, read_id); },
      std::move(done));
}

void ContactService::AddRelationship(const CallContext& ctx, const Relationship& relationship,
                                     int64_t expected_version, const std::string& request_id,
                                     Done<Company> done) {
  Write<Company>(
      ctx, "AddRelationship", request_id, kCompanyAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        const std::string& id = relationship.company_id();
        ASSIGN_OR_RETURN(std::optional<Company> current, projection_.GetCompany(ctx.tenant, id));
        const int64_t at = current ? current->version() : 0;
        return Take(
            DecideAddRelationship(current, relationship, expected_version, CurrentFacts(ctx)),
            payload, id, at);
      },
      [this, ctx](const std::string& id) { return GetCompany(ctx, id); }, std::move(done));
}

void ContactService::RemoveRelationship(const CallContext& ctx, const Relationship& relationship,
                                        int64_t expected_version, const std::string& request_id,
                                        Done<Company> done) {
  Write<Company>(
      ctx, "RemoveRelationship", request_id, kCompanyAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        const std::string& id = relationship.company_id();
        ASSIGN_OR_RETURN(std::optional<Company> current, projection_.GetCompany(ctx.tenant, id));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideRemoveRelationship(current, relationship, expected_version), payload, id,
                    at);
      },
      [this, ctx](const std::string& id) { return GetCompany(ctx, id); }, std::move(done));
}

absl::StatusOr<Company> ContactService::GetCompany(const CallContext& ctx, const std::string& id,
                                                   const OptionalTime& as_of) const {
  return Found(projection_.GetCompany(ctx.tenant, id, as_of), "company", id, as_of.has_value());
}

absl::StatusOr<Page<Company>> ContactService::ListCompanies(const CallContext& ctx,
                                                            const ListFilter& filter,
                                                            const std::string& resume_after,
                                                            size_t page_size) const {
  return projection_.ListCompanies(ctx.tenant, filter, resume_after, page_size, kMaxListScan);
}

absl::StatusOr<std::vector<Hit<Company>>> ContactService::SearchCompanies(
    const CallContext& ctx, const std::vector<std::string>& words, bool show_archived) const {
  return projection_.SearchCompanies(ctx.tenant, words, show_archived, kMaxSearchCandidates);
}

absl::StatusOr<Relationships> ContactService::ListRelationships(
    const CallContext& ctx, const std::string& company_id) const {
  ASSIGN_OR_RETURN(Company company, GetCompany(ctx, company_id));
  Relationships out;
  out.outgoing.assign(company.relationships().begin(), company.relationships().end());
  ASSIGN_OR_RETURN(out.incoming, projection_.IncomingRelationships(ctx.tenant, company_id));
  return out;
}

}  // namespace crm::contact
