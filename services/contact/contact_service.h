// ContactService: the contact service's application layer, what crm-contact and crm-node embed.
//
// It wires the domain (decide/apply), the projection and the log: writes decide against the
// projection, append through a CommandWriter and answer once the projection applied them;
// reads come from the projection alone. Handlers (api/contact_grpc.h) validate requests first;
// this layer takes validated, normalised input.
//
// Lifecycle: Open() -> Start() -> serve -> Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/crypto/key_vault.h"
#include "common/crypto/keyed_ids.h"
#include "common/eventlog/event_log.h"
#include "common/projection/call_context.h"
#include "common/projection/command_writer.h"
#include "common/projection/export_source.h"
#include "common/projection/import_ledger.h"
#include "common/projection/personal_export.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/contact/domain/decide.h"
#include "services/contact/projection/contact_projection.h"

namespace crm::contact {

// Who is calling, for which tenant, until when.
using projection::CallContext;
template <typename T>
using Done = projection::Done<T>;

using OptionalTime = std::optional<google::protobuf::Timestamp>;

struct Relationships {
  std::vector<Relationship> outgoing;
  std::vector<Relationship> incoming;
};

class ContactService {
 public:
  // Opens the projection under `projection_dir` (wiping it first if `rebuild`), sealing personal
  // data with the data keys in `keys` (kept apart from the projection and never wiped: a rebuild
  // needs them to open the log's personal data). `log` must outlive the service.
  static absl::StatusOr<std::unique_ptr<ContactService>> Open(
      const std::string& projection_dir, std::unique_ptr<crypto::DataKeys> keys,
      eventlog::EventLog* log, bool rebuild);
  ~ContactService();

  // Starts applying the log; then waits until the projection has caught up with the log as it
  // was at the call, up to `catch_up_deadline`.
  absl::Status Start(absl::Time catch_up_deadline);
  void Stop();

  // Contact writes. `done` runs once, possibly on another thread, and must not block.
  void Create(const CallContext& ctx, const Contact& contact, const std::string& request_id,
              Done<Contact> done);
  void Update(const CallContext& ctx, const Contact& values,
              const google::protobuf::FieldMask& mask, int64_t expected_version,
              const std::string& request_id, Done<Contact> done);
  void Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
              const std::string& request_id, Done<Contact> done);
  // Erases the contact and every contact merged into it (transitively): their data keys are
  // destroyed and this projection keeps only their ids and times. Answers with what is left.
  void Erase(const CallContext& ctx, const std::string& id, const std::string& request_id,
             Done<Contact> done);

  // The personal data of a contact; empty if unknown or erased (for the other services of the
  // node, in process).
  crm::contact::v1::PersonalData PersonalData(std::string_view tenant, const std::string& id) const;

  // What this service holds on the person with contact `id`: the contact, the contacts merged
  // into it and the history of all of them, as {"contact", "merged_contacts", "history"}; the ids
  // (`id` first) go to `contact_ids`. NOT_FOUND for an unknown id.
  absl::StatusOr<nlohmann::json> ExportPersonalData(const CallContext& ctx, const std::string& id,
                                                    std::vector<std::string>& contact_ids) const;

  // Everything the tenant holds here, for ExportRecords: contacts, then companies, read from one
  // snapshot.
  std::vector<projection::ExportSource<crm::contact::v1::ExportRecordsResponse>> ExportSources(
      const CallContext& ctx) const;

  // Contact reads. NOT_FOUND for an unknown id (or one that did not exist at `as_of`).
  absl::StatusOr<Contact> Get(const CallContext& ctx, const std::string& id,
                              const OptionalTime& as_of = std::nullopt) const;
  absl::StatusOr<Page<Contact>> List(const CallContext& ctx, const ListFilter& filter,
                                     const std::string& resume_after, size_t page_size) const;
  // The first `limit` contacts matching every word, best first.
  absl::StatusOr<std::vector<Hit<Contact>>> Search(const CallContext& ctx,
                                                   const std::vector<std::string>& words,
                                                   bool show_archived, size_t limit) const;
  // Likely duplicates of a contact, best first, at most `limit`. NOT_FOUND for an unknown id.
  absl::StatusOr<std::vector<crm::contact::v1::DuplicateMatch>> FindDuplicates(
      const CallContext& ctx, const std::string& id, size_t limit) const;
  // The same for a contact the caller has just read or written (not read again).
  absl::StatusOr<std::vector<crm::contact::v1::DuplicateMatch>> FindDuplicatesOf(
      const CallContext& ctx, const Contact& contact, size_t limit) const;
  absl::StatusOr<Page<crm::contact::v1::DuplicatePair>> ListDuplicateCandidates(
      const CallContext& ctx, const std::string& resume_after, double min_score,
      size_t page_size) const;
  // History of a contact or company (NOT_FOUND if neither exists).
  // A contact's history includes the records merged into it (and into those).
  absl::StatusOr<Page<HistoryEntry>> History(const CallContext& ctx, const std::string& id,
                                             bool company, int64_t offset, size_t page_size) const;

  // Merge: two events (freeze the merged contact, then absorb it into the survivor). If the
  // second is refused, the first is compensated. A retry with the same request id completes a
  // merge that was interrupted. Answers with the survivor.
  void Merge(const CallContext& ctx, const std::string& survivor_id, const std::string& merged_id,
             const google::protobuf::FieldMask& mask, int64_t survivor_expected_version,
             int64_t merged_expected_version, const std::string& request_id, Done<Contact> done);
  // Unmerge: recompute the survivor, then restore the merged contact. Answers with both.
  void Unmerge(const CallContext& ctx, const std::string& merged_id, const std::string& request_id,
               Done<std::pair<Contact, Contact>> done);

  // Companies.
  void CreateCompany(const CallContext& ctx, const Company& company, const std::string& request_id,
                     Done<Company> done);
  void UpdateCompany(const CallContext& ctx, const Company& values,
                     const google::protobuf::FieldMask& mask, int64_t expected_version,
                     const std::string& request_id, Done<Company> done);
  void DeleteCompany(const CallContext& ctx, const std::string& id, int64_t expected_version,
                     const std::string& request_id, Done<Company> done);
  void AddRelationship(const CallContext& ctx, const Relationship& relationship,
                       int64_t expected_version, const std::string& request_id, Done<Company> done);
  void RemoveRelationship(const CallContext& ctx, const Relationship& relationship,
                          int64_t expected_version, const std::string& request_id,
                          Done<Company> done);
  absl::StatusOr<Company> GetCompany(const CallContext& ctx, const std::string& id,
                                     const OptionalTime& as_of = std::nullopt) const;
  absl::StatusOr<Page<Company>> ListCompanies(const CallContext& ctx, const ListFilter& filter,
                                              const std::string& resume_after,
                                              size_t page_size) const;
  absl::StatusOr<std::vector<Hit<Company>>> SearchCompanies(const CallContext& ctx,
                                                            const std::vector<std::string>& words,
                                                            bool show_archived) const;
  absl::StatusOr<Relationships> ListRelationships(const CallContext& ctx,
                                                  const std::string& company_id) const;

  // Bulk import (ImportRecords), one row: the row (validated and normalised as for a create) is
  // matched to an existing record — by id, else a contact by its emails then phones, a company by
  // its domain — and brings its values into it (domain/import.h), or is created, with its id if it
  // has one — and then archived if `archived` (a record the row created; request id
  // ImportRequestId(...) + "#archive"). One command with request id ImportRequestId(import_id,
  // row) and the import id as correlation id, so the projection records it in the import ledger.
  // `done` gets the row's result (a refusal is the row's INVALID or FAILED, not an error).
  void ImportContact(const CallContext& ctx, const std::string& import_id, int64_t row,
                     const Contact& contact, bool archived,
                     Done<crm::common::v1::ImportRowResult> done);
  void ImportCompany(const CallContext& ctx, const std::string& import_id, int64_t row,
                     const Company& company, bool archived,
                     Done<crm::common::v1::ImportRowResult> done);
  // Undoes import `import_id`: archives the records it created and puts the fields it changed
  // back to their values before it. Each record is one command with request id
  // "undo-import:<import id>:<record id>", so undoing again changes nothing more. NOT_FOUND if the
  // import wrote nothing here.
  void UndoImport(const CallContext& ctx, const std::string& import_id,
                  Done<crm::common::v1::ImportUndoSummary> done);

  // Data quality.
  absl::StatusOr<crm::contact::v1::DataQualityRules> QualityRules(const CallContext& ctx) const;
  void UpdateQualityRules(const CallContext& ctx, const crm::contact::v1::DataQualityRules& rules,
                          const std::string& request_id,
                          Done<crm::contact::v1::DataQualityRules> done);
  absl::StatusOr<crm::contact::v1::DataQuality> ContactQuality(const CallContext& ctx,
                                                               const std::string& id) const;
  absl::StatusOr<crm::contact::v1::DataQuality> CompanyQuality(const CallContext& ctx,
                                                               const std::string& id) const;
  absl::StatusOr<Page<crm::contact::v1::IncompleteContact>> IncompleteContacts(
      const CallContext& ctx, int below, const std::string& resume_after, size_t page_size) const;

  projection::Projector* projector() { return &projector_; }
  // Opens the personal data sealed in this service's events (for the change feed).
  const PersonalDataSealer& sealer() const { return sealer_; }
  // The data keys of persons (for checkpoints).
  crypto::DataKeys* keys() { return keys_.get(); }

 private:
  ContactService(std::unique_ptr<store::ProjectionStore> store,
                 std::unique_ptr<crypto::DataKeys> keys, eventlog::EventLog* log);

  // The write path shared by every command: answer a repeated request id with its first
  // outcome; otherwise decide (which may refuse) and submit the event, then answer with the
  // record read back through `read`.
  template <typename T>
  void Write(const CallContext& ctx, const std::string& command, const std::string& request_id,
             const std::string& aggregate_type,
             const std::function<absl::StatusOr<std::pair<std::string, int64_t>>(
                 absl::Time now, std::unique_ptr<google::protobuf::Message>& payload)>& decide,
             std::function<absl::StatusOr<T>(const std::string& id)> read, Done<T> done);

  Facts CurrentFacts(const CallContext& ctx) const;
  // The live contact a row of an import is about (see ImportContact); `matched_by` says how.
  absl::StatusOr<std::optional<Contact>> MatchContact(const CallContext& ctx, const Contact& row,
                                                      std::string& matched_by) const;
  absl::StatusOr<std::optional<Company>> MatchCompany(const CallContext& ctx, const Company& row,
                                                      std::string& matched_by) const;
  // Undoes what import `import_id` did to one record.
  void UndoRecord(const CallContext& ctx, const std::string& import_id, const std::string& id,
                  const crm::common::v1::ImportLedgerEntry& entry, Done<bool> done);
  // Erasure step `next` of `merged` (then `id` itself, last).
  void EraseNext(const CallContext& ctx, const std::string& id, std::vector<std::string> merged,
                 size_t next, const std::string& request_id, Done<Contact> done);
  // The contacts merged into `survivor`, transitively (at most kMaxMergedErased).
  absl::StatusOr<std::vector<std::string>> MergedInto(const CallContext& ctx,
                                                      const Contact& survivor) const;
  // Merge step 2 with retries on a survivor that moved on (when the caller did not pin it).
  void Absorb(const CallContext& ctx, const std::string& survivor_id, const std::string& merged_id,
              const google::protobuf::FieldMask& mask, int64_t survivor_expected_version,
              const std::string& request_id, int attempts, Done<Contact> done);
  void UnmergeSurvivor(const CallContext& ctx, const std::string& survivor_id,
                       const std::string& merged_id, const std::string& request_id, int attempts,
                       Done<Contact> done);

  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<crypto::DataKeys> keys_;
  PersonalDataSealer sealer_;
  // Ids for new contacts with their data keys made ahead, so a creation seldom waits for a key.
  crypto::KeyedIds keyed_ids_;
  ContactProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
};

}  // namespace crm::contact
