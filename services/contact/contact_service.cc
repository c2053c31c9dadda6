#include "services/contact/contact_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/status/status_macros.h"
#include "services/contact/domain/contact.h"
#include "services/contact/domain/import.h"
#include "services/contact/domain/quality.h"

namespace crm::contact {
namespace {

// Merge and unmerge retry their survivor step this many times when the survivor moved on.
constexpr int kSurvivorAttempts = 3;

// The request id of one step of a two-event command (empty stays empty: no idempotency asked).
std::string StepId(const std::string& request_id, const std::string& step) {
  return request_id.empty() ? "" : request_id + "#" + step;
}

// Candidate bounds keep every read O(page), whatever the data size.
constexpr size_t kMaxListScan = 10000;
constexpr size_t kMaxSearchCandidates = 5000;
// Contacts merged into one (transitively) that one erasure takes with it.
constexpr size_t kMaxMergedErased = 1000;

using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;
using projection::Take;

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
    const std::string& projection_dir, std::unique_ptr<crypto::DataKeys> keys,
    eventlog::EventLog* log, bool rebuild) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<store::ProjectionStore> store,
      store::ProjectionStore::OpenProjection(projection_dir, kProjectionLayout, rebuild));
  return std::unique_ptr<ContactService>(
      new ContactService(std::move(store), std::move(keys), log));
}

ContactService::ContactService(std::unique_ptr<store::ProjectionStore> store,
                               std::unique_ptr<crypto::DataKeys> keys, eventlog::EventLog* log)
    : store_(std::move(store)),
      keys_(std::move(keys)),
      sealer_(keys_.get()),
      keyed_ids_(keys_.get()),
      projection_(store_.get(), &sealer_),
      projector_(
          projection::ProjectorOptions{.name = "contact", .topics = {kTopic}, .own_topic = kTopic},
          log, store_.get(), &projection_),
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
  projection::CommandWriter::Command cmd =
      projection::CommandFor(ctx, command, aggregate_type, request_id);
  cmd.source = command == "MergeContacts" || command == "UnmergeContacts" ? "merge"
               : command.starts_with("Import")                            ? "import"
                                                                          : "api";
  // Personal data leaves this process only sealed.
  auto decide_and_seal = [&](absl::Time now, Payload& payload) -> Decided {
    Decided decided = decide(now, payload);
    if (decided.ok()) RETURN_IF_ERROR(sealer_.Seal(ctx.tenant, *payload));
    return decided;
  };
  writer_.Run<T>(
      std::move(cmd), decide_and_seal,
      [projection = &projection_, tenant = ctx.tenant, read = std::move(read)](
          const std::string& id, int64_t version) -> absl::StatusOr<T> {
        absl::StatusOr<T> now = read(id);
        (void)projection;  // unused where T keeps no versions
        if constexpr (std::is_same_v<T, Contact> || std::is_same_v<T, Company>) {
          // Records keep every version: answer with the one this command made (a repeated
          // request gets the version its first run made, not a later one).
          if (now.ok() && now->id() == id && now->version() != version) {
            ASSIGN_OR_RETURN(std::optional<T> made, projection->GetVersion<T>(tenant, id, version));
            if (made) return *std::move(made);
          }
        }
        return now;
      },
      std::move(done));
}

// --- Contacts ---------------------------------------------------------------------------------

void ContactService::Create(const CallContext& ctx, const Contact& contact,
                            const std::string& request_id, Done<Contact> done) {
  Write<Contact>(
      ctx, "CreateContact", request_id, kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(const std::string id, keyed_ids_.Next(ctx.tenant));
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

absl::StatusOr<std::vector<std::string>> ContactService::MergedInto(const CallContext& ctx,
                                                                    const Contact& survivor) const {
  // Merged contacts are frozen: the ids merged into them do not change under us.
  std::vector<std::string> merged;
  std::vector<std::string> pending(survivor.merged_ids().begin(), survivor.merged_ids().end());
  while (!pending.empty() && merged.size() < kMaxMergedErased) {
    const std::string next = pending.back();
    pending.pop_back();
    merged.push_back(next);
    ASSIGN_OR_RETURN(std::optional<Contact> m, projection_.GetContact(ctx.tenant, next));
    if (m) pending.insert(pending.end(), m->merged_ids().begin(), m->merged_ids().end());
  }
  return merged;
}

void ContactService::Erase(const CallContext& ctx, const std::string& id,
                           const std::string& request_id, Done<Contact> done) {
  // The keys go first, everywhere: once the erasure is acknowledged nothing sealed for these
  // people can be opened again. Should the events not follow (a crash, a refused race), the keys
  // are gone all the same and a retry completes the erasure.
  auto prepare = [&]() -> absl::StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(std::optional<Contact> current, projection_.GetContact(ctx.tenant, id));
    if (!current || current->erased() || !current->merged_into().empty()) {
      return std::vector<std::string>();  // decide refuses it
    }
    ASSIGN_OR_RETURN(std::vector<std::string> merged, MergedInto(ctx, *current));
    for (const std::string& m : merged) RETURN_IF_ERROR(keys_->Destroy(ctx.tenant, m));
    RETURN_IF_ERROR(keys_->Destroy(ctx.tenant, id));
    return merged;
  };
  absl::StatusOr<std::vector<std::string>> merged = prepare();
  if (!merged.ok()) {
    done(merged.status());
    return;
  }
  EraseNext(ctx, id, *std::move(merged), 0, request_id, std::move(done));
}

void ContactService::EraseNext(const CallContext& ctx, const std::string& id,
                               std::vector<std::string> merged, size_t next,
                               const std::string& request_id, Done<Contact> done) {
  // Each contact's erasure is an event on its own aggregate (its own partition, after its own
  // merge): the contacts merged into it first, then the one asked for.
  const bool last = next == merged.size();
  const std::string target = last ? id : merged[next];
  Write<Contact>(
      ctx, "EraseContact", last ? request_id : StepId(request_id, "erase-" + target),
      kAggregateType,
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> current,
                         projection_.GetContact(ctx.tenant, target));
        const int64_t at = current ? current->version() : 0;
        return Take(DecideErase(current, target, /*with_survivor=*/!last), payload, target, at);
      },
      [this, ctx](const std::string& read_id) { return Get(ctx, read_id); },
      [this, ctx, id, merged, next, last, request_id,
       done = std::move(done)](absl::StatusOr<Contact> erased) mutable {
        // A merged contact erased before (an interrupted erasure, retried) is done already.
        const bool done_before = !erased.ok() && !last &&
                                 absl::IsFailedPrecondition(erased.status()) &&
                                 absl::StrContains(erased.status().message(), "already erased");
        if (last || (!erased.ok() && !done_before)) {
          done(std::move(erased));
          return;
        }
        EraseNext(ctx, id, std::move(merged), next + 1, request_id, std::move(done));
      });
}

crm::contact::v1::PersonalData ContactService::PersonalData(std::string_view tenant,
                                                            const std::string& id) const {
  absl::StatusOr<std::optional<crm::contact::v1::PersonalData>> p =
      projection_.GetPersonalData(tenant, id);
  if (!p.ok() || !*p) return {};
  return **std::move(p);
}

absl::StatusOr<nlohmann::json> ContactService::ExportPersonalData(
    const CallContext& ctx, const std::string& id, std::vector<std::string>& contact_ids) const {
  ASSIGN_OR_RETURN(Contact contact, Get(ctx, id));
  ASSIGN_OR_RETURN(std::vector<std::string> merged, MergedInto(ctx, contact));
  contact_ids = {id};
  contact_ids.insert(contact_ids.end(), merged.begin(), merged.end());
  nlohmann::json out = {{"contact", projection::ToJson(contact)},
                        {"merged_contacts", nlohmann::json::array()},
                        {"history", nlohmann::json::array()}};
  for (const std::string& m : merged) {
    absl::StatusOr<Contact> c = Get(ctx, m);
    if (c.ok()) out["merged_contacts"].push_back(projection::ToJson(*c));
  }
  // History covers the merged contacts already (History of a survivor).
  int64_t offset = 0;
  for (int page = 0; page < projection::kMaxExportPages; ++page) {
    ASSIGN_OR_RETURN(Page<HistoryEntry> entries, History(ctx, id, false, offset, 1000));
    for (const HistoryEntry& e : entries.items) out["history"].push_back(projection::ToJson(e));
    if (entries.resume_after.empty()) break;
    offset = std::stoll(entries.resume_after);
  }
  return out;
}

absl::StatusOr<Contact> ContactService::Get(const CallContext& ctx, const std::string& id,
                                            const OptionalTime& as_of) const {
  return Found(projection_.GetContact(ctx.tenant, id, as_of), "contact", id, as_of.has_value());
}

std::vector<projection::ExportSource<crm::contact::v1::ExportRecordsResponse>>
ContactService::ExportSources(const CallContext& ctx) const {
  using Response = crm::contact::v1::ExportRecordsResponse;
  const store::ReadView view = store_->Snapshot();
  return {
      projection::KindSource<Contact, Response>(
          view, 'c', ctx.tenant,
          [](Contact& c, Response& r) { *r.mutable_contact() = std::move(c); }),
      projection::KindSource<Company, Response>(view, 'm', ctx.tenant, [](Company& c, Response& r) {
        *r.mutable_company() = std::move(c);
      })};
}

absl::StatusOr<Page<Contact>> ContactService::List(const CallContext& ctx, const ListFilter& filter,
                                                   const std::string& resume_after,
                                                   size_t page_size) const {
  return projection_.ListContacts(ctx.tenant, filter, resume_after, page_size, kMaxListScan);
}

absl::StatusOr<std::vector<Hit<Contact>>> ContactService::Search(
    const CallContext& ctx, const std::vector<std::string>& words, bool show_archived,
    size_t limit) const {
  return projection_.SearchContacts(ctx.tenant, words, show_archived, kMaxSearchCandidates, limit);
}

absl::StatusOr<std::vector<crm::contact::v1::DuplicateMatch>> ContactService::FindDuplicates(
    const CallContext& ctx, const std::string& id, size_t limit) const {
  ASSIGN_OR_RETURN(const Contact contact, Get(ctx, id));
  return FindDuplicatesOf(ctx, contact, limit);
}

absl::StatusOr<std::vector<crm::contact::v1::DuplicateMatch>> ContactService::FindDuplicatesOf(
    const CallContext& ctx, const Contact& contact, size_t limit) const {
  ASSIGN_OR_RETURN(std::vector<crm::contact::v1::DuplicatePair> pairs,
                   projection_.DuplicatesOf(ctx.tenant, contact.id()));
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
                                                           int64_t offset, size_t page_size) const {
  std::vector<std::string> ids = {id};
  if (company) {
    RETURN_IF_ERROR(GetCompany(ctx, id).status());
  } else {
    RETURN_IF_ERROR(Get(ctx, id).status());
    // The trail of a survivor includes its merged records, and theirs.
    for (size_t i = 0; i < ids.size() && ids.size() < 1000; ++i) {
      ASSIGN_OR_RETURN(std::optional<Contact> c, projection_.GetContact(ctx.tenant, ids[i]));
      if (c) ids.insert(ids.end(), c->merged_ids().begin(), c->merged_ids().end());
    }
  }
  return projection_.History(ctx.tenant, ids, company, static_cast<size_t>(offset), page_size);
}

void ContactService::Merge(const CallContext& ctx, const std::string& survivor_id,
                           const std::string& merged_id, const google::protobuf::FieldMask& mask,
                           int64_t survivor_expected_version, int64_t merged_expected_version,
                           const std::string& request_id, Done<Contact> done) {
  Write<Contact>(
      ctx, "MergeContacts", request_id, kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> merged,
                         projection_.GetContact(ctx.tenant, merged_id));
        ASSIGN_OR_RETURN(std::optional<Contact> survivor,
                         projection_.GetContact(ctx.tenant, survivor_id));
        const int64_t at = merged ? merged->version() : 0;
        return Take(DecideMergeInto(merged, survivor, merged_id, survivor_id,
                                    merged_expected_version, ids::NewId(now)),
                    payload, merged_id, at);
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); },
      [this, ctx, survivor_id, merged_id, mask, survivor_expected_version, request_id,
       done = std::move(done)](absl::StatusOr<Contact> frozen) mutable {
        if (!frozen.ok()) {
          done(frozen.status());
          return;
        }
        Absorb(ctx, survivor_id, merged_id, mask, survivor_expected_version, request_id, 1,
               std::move(done));
      });
}

void ContactService::Absorb(const CallContext& ctx, const std::string& survivor_id,
                            const std::string& merged_id, const google::protobuf::FieldMask& mask,
                            int64_t survivor_expected_version, const std::string& request_id,
                            int attempt, Done<Contact> done) {
  Write<Contact>(
      ctx, "MergeContacts", StepId(request_id, "absorb" + std::to_string(attempt)), kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> survivor,
                         projection_.GetContact(ctx.tenant, survivor_id));
        ASSIGN_OR_RETURN(std::optional<Contact> merged,
                         projection_.GetContact(ctx.tenant, merged_id));
        if (!merged) return absl::NotFoundError(absl::StrCat("contact ", merged_id, " vanished"));
        const int64_t at = survivor ? survivor->version() : 0;
        return Take(
            DecideAbsorb(survivor, *merged, mask, survivor_expected_version, ids::NewId(now)),
            payload, survivor_id, at);
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); },
      [this, ctx, survivor_id, merged_id, mask, survivor_expected_version, request_id, attempt,
       done = std::move(done)](absl::StatusOr<Contact> survivor) mutable {
        if (survivor.ok()) {
          done(std::move(survivor));
          return;
        }
        if (absl::IsAborted(survivor.status()) && survivor_expected_version == 0 &&
            attempt < kSurvivorAttempts) {
          // The survivor changed between decide and apply; its new state is as good.
          Absorb(ctx, survivor_id, merged_id, mask, 0, request_id, attempt + 1, std::move(done));
          return;
        }
        // Compensate step 1 so the merged contact stands on its own again.
        const absl::Status failure = survivor.status();
        Write<Contact>(
            ctx, "MergeContacts", StepId(request_id, "undo"), kAggregateType,
            [&](absl::Time now, Payload& payload) -> Decided {
              ASSIGN_OR_RETURN(std::optional<Contact> merged,
                               projection_.GetContact(ctx.tenant, merged_id));
              const int64_t at = merged ? merged->version() : 0;
              return Take(DecideRestore(merged, merged_id, ids::NewId(now)), payload, merged_id,
                          at);
            },
            [this, ctx](const std::string& id) { return Get(ctx, id); },
            [failure, done = std::move(done)](absl::StatusOr<Contact> restored) mutable {
              if (!restored.ok()) {
                done(absl::Status(
                    failure.code(),
                    absl::StrCat(failure.message(), "; undoing the first step also failed (",
                                 restored.status().message(),
                                 "): retry the merge with the same request_id")));
                return;
              }
              done(failure);
            });
      });
}

void ContactService::Unmerge(const CallContext& ctx, const std::string& merged_id,
                             const std::string& request_id,
                             Done<std::pair<Contact, Contact>> done) {
  absl::StatusOr<Contact> merged = Get(ctx, merged_id);
  if (!merged.ok()) {
    done(merged.status());
    return;
  }
  std::string survivor_id = merged->merged_into();
  if (survivor_id.empty()) {
    // Either never merged, or a retry of an unmerge that completed: its trail says which.
    absl::StatusOr<std::optional<crm::common::v1::CommandOutcome>> earlier =
        writer_.FindEarlier(ctx.tenant, StepId(request_id, "restore"), "UnmergeContacts");
    if (!request_id.empty() && earlier.ok() && *earlier) {
      absl::StatusOr<Page<HistoryEntry>> trail =
          projection_.History(ctx.tenant, {merged_id}, /*company=*/false, 0, 100000);
      if (trail.ok()) {
        for (const HistoryEntry& e : trail->items) {
          for (const auto& change : e.changes()) {
            if (change.path() == "merged_into" && change.before().size() > 2) {
              survivor_id = change.before().substr(1, change.before().size() - 2);
            }
          }
        }
      }
      absl::StatusOr<Contact> survivor = Get(ctx, survivor_id);
      if (!survivor.ok()) {
        done(survivor.status());
      } else {
        done(std::make_pair(*std::move(survivor), *std::move(merged)));
      }
      return;
    }
    done(absl::FailedPreconditionError(
        absl::StrCat("merged_id: contact ", merged_id, " is not merged into another")));
    return;
  }
  UnmergeSurvivor(
      ctx, survivor_id, merged_id, request_id, 1,
      [this, ctx, merged_id, request_id,
       done = std::move(done)](absl::StatusOr<Contact> survivor) mutable {
        if (!survivor.ok()) {
          done(survivor.status());
          return;
        }
        Write<Contact>(
            ctx, "UnmergeContacts", StepId(request_id, "restore"), kAggregateType,
            [&](absl::Time now, Payload& payload) -> Decided {
              ASSIGN_OR_RETURN(std::optional<Contact> m,
                               projection_.GetContact(ctx.tenant, merged_id));
              const int64_t at = m ? m->version() : 0;
              return Take(DecideRestore(m, merged_id, ids::NewId(now)), payload, merged_id, at);
            },
            [this, ctx](const std::string& id) { return Get(ctx, id); },
            [this, ctx, survivor_id = survivor->id(),
             done = std::move(done)](absl::StatusOr<Contact> restored) mutable {
              if (!restored.ok()) {
                done(absl::Status(restored.status().code(),
                                  absl::StrCat("the survivor was recomputed but restoring the "
                                               "merged contact failed (",
                                               restored.status().message(),
                                               "): retry with the same request_id")));
                return;
              }
              absl::StatusOr<Contact> s = Get(ctx, survivor_id);
              if (!s.ok()) {
                done(s.status());
              } else {
                done(std::make_pair(*std::move(s), *std::move(restored)));
              }
            });
      });
}

void ContactService::UnmergeSurvivor(const CallContext& ctx, const std::string& survivor_id,
                                     const std::string& merged_id, const std::string& request_id,
                                     int attempt, Done<Contact> done) {
  Write<Contact>(
      ctx, "UnmergeContacts", StepId(request_id, "survivor" + std::to_string(attempt)),
      kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> survivor,
                         projection_.GetContact(ctx.tenant, survivor_id));
        const int64_t at = survivor ? survivor->version() : 0;
        return Take(DecideUnmergeSurvivor(survivor, merged_id, ids::NewId(now)), payload,
                    survivor_id, at);
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); },
      [this, ctx, survivor_id, merged_id, request_id, attempt,
       done = std::move(done)](absl::StatusOr<Contact> survivor) mutable {
        if (absl::IsAborted(survivor.status()) && attempt < kSurvivorAttempts) {
          UnmergeSurvivor(ctx, survivor_id, merged_id, request_id, attempt + 1, std::move(done));
          return;
        }
        done(std::move(survivor));
      });
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

// --- Data quality -----------------------------------------------------------------------------

absl::StatusOr<crm::contact::v1::DataQualityRules> ContactService::QualityRules(
    const CallContext& ctx) const {
  ASSIGN_OR_RETURN(std::optional<crm::contact::v1::DataQualityRules> rules,
                   projection_.QualityRules(ctx.tenant));
  return rules ? *std::move(rules) : DefaultRules();
}

void ContactService::UpdateQualityRules(const CallContext& ctx,
                                        const crm::contact::v1::DataQualityRules& rules,
                                        const std::string& request_id,
                                        Done<crm::contact::v1::DataQualityRules> done) {
  Write<crm::contact::v1::DataQualityRules>(
      ctx, "UpdateDataQualityRules", request_id, "settings",
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(int64_t version, projection_.QualityRulesVersion(ctx.tenant));
        crm::contact::v1::DataQualityRulesSet set;
        *set.mutable_rules() = rules;
        return Take(absl::StatusOr<crm::contact::v1::DataQualityRulesSet>(std::move(set)), payload,
                    "data-quality", version);
      },
      [this, ctx](const std::string&) { return QualityRules(ctx); }, std::move(done));
}

absl::StatusOr<crm::contact::v1::DataQuality> ContactService::ContactQuality(
    const CallContext& ctx, const std::string& id) const {
  ASSIGN_OR_RETURN(Contact contact, Get(ctx, id));
  ASSIGN_OR_RETURN(crm::contact::v1::DataQualityRules rules, QualityRules(ctx));
  return Assess(ContactChecks(contact), rules, contact.update_time(), absl::Now());
}

absl::StatusOr<crm::contact::v1::DataQuality> ContactService::CompanyQuality(
    const CallContext& ctx, const std::string& id) const {
  ASSIGN_OR_RETURN(Company company, GetCompany(ctx, id));
  ASSIGN_OR_RETURN(crm::contact::v1::DataQualityRules rules, QualityRules(ctx));
  return Assess(CompanyChecks(company), rules, company.update_time(), absl::Now());
}

absl::StatusOr<Page<crm::contact::v1::IncompleteContact>> ContactService::IncompleteContacts(
    const CallContext& ctx, int below, const std::string& resume_after, size_t page_size) const {
  ASSIGN_OR_RETURN(crm::contact::v1::DataQualityRules rules, QualityRules(ctx));
  ASSIGN_OR_RETURN(Page<Contact> contacts, projection_.IncompleteContacts(ctx.tenant, rules, below,
                                                                          resume_after, page_size));
  Page<crm::contact::v1::IncompleteContact> out;
  out.resume_after = std::move(contacts.resume_after);
  const absl::Time now = absl::Now();
  for (Contact& c : contacts.items) {
    crm::contact::v1::IncompleteContact item;
    *item.mutable_quality() = Assess(ContactChecks(c), rules, c.update_time(), now);
    *item.mutable_contact() = std::move(c);
    out.items.push_back(std::move(item));
  }
  return out;
}

absl::StatusOr<Relationships> ContactService::ListRelationships(
    const CallContext& ctx, const std::string& company_id) const {
  ASSIGN_OR_RETURN(Company company, GetCompany(ctx, company_id));
  Relationships out;
  out.outgoing.assign(company.relationships().begin(), company.relationships().end());
  ASSIGN_OR_RETURN(out.incoming, projection_.IncomingRelationships(ctx.tenant, company_id));
  return out;
}

// --- Import -----------------------------------------------------------------------------------

absl::StatusOr<std::optional<Contact>> ContactService::MatchContact(const CallContext& ctx,
                                                                    const Contact& row,
                                                                    std::string& matched_by) const {
  if (!row.id().empty()) {
    ASSIGN_OR_RETURN(std::optional<Contact> by_id, projection_.GetContact(ctx.tenant, row.id()));
    if (by_id) matched_by = "id";
    return by_id;
  }
  for (const auto& email : row.personal().emails()) {
    ASSIGN_OR_RETURN(std::optional<Contact> found,
                     projection_.FindByEmail(ctx.tenant, email.address()));
    if (found) {
      matched_by = "email";
      return found;
    }
  }
  for (const auto& phone : row.personal().phones()) {
    ASSIGN_OR_RETURN(std::optional<Contact> found,
                     projection_.FindByPhone(ctx.tenant, phone.number()));
    if (found) {
      matched_by = "phone";
      return found;
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<Company>> ContactService::MatchCompany(const CallContext& ctx,
                                                                    const Company& row,
                                                                    std::string& matched_by) const {
  if (!row.id().empty()) {
    ASSIGN_OR_RETURN(std::optional<Company> by_id, projection_.GetCompany(ctx.tenant, row.id()));
    if (by_id) matched_by = "id";
    return by_id;
  }
  if (row.domain().empty()) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<Company> found,
                   projection_.FindCompanyByDomain(ctx.tenant, row.domain()));
  if (found) matched_by = "domain";
  return found;
}

void ContactService::ImportContact(const CallContext& ctx, const std::string& import_id,
                                   int64_t row, const Contact& contact, bool archived,
                                   Done<crm::common::v1::ImportRowResult> done) {
  auto match = std::make_shared<projection::ImportMatch>();
  const CallContext ictx = projection::ImportContext(ctx, import_id);
  Write<Contact>(
      ictx, "ImportContact", projection::ImportRequestId(import_id, row), kAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Contact> current,
                         MatchContact(ctx, contact, match->matched_by));
        if (!current) {
          std::string id = contact.id();
          if (id.empty()) {
            ASSIGN_OR_RETURN(id, keyed_ids_.Next(ctx.tenant));
          }
          return Take(DecideCreate(contact, id, now, CurrentFacts(ctx)), payload, id, 0);
        }
        auto [values, mask] = ImportChanges(*current, contact);
        if (mask.paths().empty()) {
          match->unchanged.emplace(current->id(), current->version());
          return projection::Unchanged();
        }
        return Take(DecideUpdate(current, values, mask, current->version(), now, CurrentFacts(ctx)),
                    payload, current->id(), current->version());
      },
      [this, ctx](const std::string& id) { return Get(ctx, id); },
      projection::ImportRowDone<Contact>(
          row, match,
          archived ? projection::ImportStep<Contact>([this, ictx, import_id, row](
                                                         const std::string& id, Done<Contact> d) {
            Delete(ictx, id, 1, projection::ImportRequestId(import_id, row) + "#archive",
                   std::move(d));
          })
                   : nullptr,
          std::move(done)));
}

void ContactService::ImportCompany(const CallContext& ctx, const std::string& import_id,
                                   int64_t row, const Company& company, bool archived,
                                   Done<crm::common::v1::ImportRowResult> done) {
  auto match = std::make_shared<projection::ImportMatch>();
  const CallContext ictx = projection::ImportContext(ctx, import_id);
  Write<Company>(
      ictx, "ImportCompany", projection::ImportRequestId(import_id, row), kCompanyAggregateType,
      [&](absl::Time now, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Company> current,
                         MatchCompany(ctx, company, match->matched_by));
        if (!current) {
          const std::string id = company.id().empty() ? ids::NewId(now) : company.id();
          return Take(DecideCreateCompany(company, id), payload, id, 0);
        }
        auto [values, mask] = ImportCompanyChanges(*current, company);
        if (mask.paths().empty()) {
          match->unchanged.emplace(current->id(), current->version());
          return projection::Unchanged();
        }
        return Take(DecideUpdateCompany(current, values, mask, current->version()), payload,
                    current->id(), current->version());
      },
      [this, ctx](const std::string& id) { return GetCompany(ctx, id); },
      projection::ImportRowDone<Company>(
          row, match,
          archived ? projection::ImportStep<Company>([this, ictx, import_id, row](
                                                         const std::string& id, Done<Company> d) {
            DeleteCompany(ictx, id, 1, projection::ImportRequestId(import_id, row) + "#archive",
                          std::move(d));
          })
                   : nullptr,
          std::move(done)));
}

void ContactService::UndoRecord(const CallContext& ctx, const std::string& import_id,
                                const std::string& id,
                                const crm::common::v1::ImportLedgerEntry& entry, Done<bool> done) {
  const std::string request_id = absl::StrCat("undo-import:", import_id, ":", id);
  const bool company = entry.aggregate_type() == kCompanyAggregateType;
  // Answers true once the record is archived (created) or restored (changed).
  auto answer = [done](const auto& record) {
    done(record.ok() ? absl::StatusOr<bool>(true) : absl::StatusOr<bool>(record.status()));
  };
  google::protobuf::FieldMask mask;
  for (const std::string& path : entry.paths()) mask.add_paths(path);
  if (company) {
    absl::StatusOr<std::optional<Company>> current = projection_.GetCompany(ctx.tenant, id);
    if (!current.ok() || !*current) return done(absl::NotFoundError(absl::StrCat("company ", id)));
    if (entry.created()) {
      if ((*current)->archived()) return done(true);
      return DeleteCompany(ctx, id, 0, request_id, answer);
    }
    absl::StatusOr<std::optional<Company>> before =
        projection_.GetVersion<Company>(ctx.tenant, id, entry.version_before());
    if (!before.ok() || !*before) return done(absl::NotFoundError(absl::StrCat("company ", id)));
    return UpdateCompany(ctx, **before, mask, 0, request_id, answer);
  }
  absl::StatusOr<std::optional<Contact>> current = projection_.GetContact(ctx.tenant, id);
  if (!current.ok() || !*current) return done(absl::NotFoundError(absl::StrCat("contact ", id)));
  if (entry.created()) {
    if ((*current)->archived() && (*current)->merged_into().empty()) return done(true);
    return Delete(ctx, id, 0, request_id, answer);
  }
  absl::StatusOr<std::optional<Contact>> before =
      projection_.GetVersion<Contact>(ctx.tenant, id, entry.version_before());
  if (!before.ok() || !*before) return done(absl::NotFoundError(absl::StrCat("contact ", id)));
  return Update(ctx, **before, mask, 0, request_id, answer);
}

void ContactService::UndoImport(const CallContext& ctx, const std::string& import_id,
                                Done<crm::common::v1::ImportUndoSummary> done) {
  projection::UndoAll(
      ctx, import_id,
      [this](std::string_view tenant, std::string_view id, const projection::ImportLedgerFn& fn) {
        return projection_.ScanImport(tenant, id, fn);
      },
      [this, ctx, import_id](const std::string& id, const crm::common::v1::ImportLedgerEntry& e,
                             Done<bool> d) { UndoRecord(ctx, import_id, id, e, std::move(d)); },
      "contact or company", std::move(done));
}

}  // namespace crm::contact
