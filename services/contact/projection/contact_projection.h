// ContactProjection: the contact service's RocksDB projection — contacts, companies, their
// search indexes, affiliations, relationships, and every version of every record with its
// history entry (for audit trails and "as of" reads) — built only from the service's events,
// plus the queries the API serves from it.
//
// Apply runs on the projector thread; queries run on any thread and read committed state.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/projection/as_of.h"
#include "common/projection/import_ledger.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "services/contact/domain/contact.h"
#include "services/contact/projection/keys.h"
#include "services/contact/projection/sealing.h"

namespace crm::contact {

// Duplicate blocks kept in memory, by their key prefix (keys::DuplicateBlockSize): each block's
// members (contact id, serialized DuplicateSignature) in id order, as a scan of the block
// finds them. Only blocks within the limit (no member count kept) are held: one that passes
// it is dropped. Up to kBytes of keys and members; past that, emptied and filled anew.
// Complete, while it holds every block the store has that was read before it was written (set
// when the store had none, as when a projection is built from empty): such a block it does not
// hold then has no member, and is not read. Not thread-safe.
class DuplicateBlockCache {
 public:
  using Member = std::pair<std::string, std::string>;
  static constexpr size_t kBytes = size_t{32} << 20;

  // The members of the block under `prefix`, or nullptr if it is not held. Valid until the
  // next call that changes the cache.
  const std::vector<Member>* Find(const std::string& prefix) const;
  // Holds `members` (as scanned, in id order) as the block under `prefix`.
  void Keep(const std::string& prefix, std::vector<Member> members);
  // A member written (added, or its signature changed) or removed, in a block held or not.
  void Put(const std::string& prefix, std::string_view id, std::string_view signature);
  void Erase(const std::string& prefix, std::string_view id);
  // The block under `prefix` passed the limit: not held any more, and the cache not complete.
  void Drop(const std::string& prefix);
  // Empties the cache if `emptied` (ProjectionStore::emptied) moved since the last call (the
  // store was emptied for a rebuild), or on the first call; true if it did (the caller then
  // finds out whether the store holds any block).
  bool Follow(uint64_t emptied);
  // The store holds no block but those held (called on an empty cache).
  void SetComplete() { complete_ = true; }
  bool complete() const { return complete_; }
  size_t bytes() const { return bytes_; }
  size_t blocks() const { return blocks_.size(); }

 private:
  static size_t Cost(const Member& m) { return m.first.size() + m.second.size() + 64; }
  void Forget(const std::string& prefix);
  absl::flat_hash_map<std::string, std::vector<Member>> blocks_;
  size_t bytes_ = 0;
  bool complete_ = false;
  bool followed_ = false;
  uint64_t emptied_ = 0;
};

// The layout of this projection's keys and values: bump the number with any change to either,
// and a store of the old layout is emptied and rebuilt from the log at start
// (ProjectionStore::OpenProjection). Last bumped when a duplicate block's member count moved to
// the head of the block's own prefix (keys::DuplicateBlockSize), then when its events stopped
// leaving an outcome record (only a request's record stays).
inline constexpr char kProjectionLayout[] = "contact/9";

using crm::contact::v1::HistoryEntry;

// The state key of a contact or a company.
template <typename T>
std::string StateKey(std::string_view tenant, std::string_view id) {
  if constexpr (std::is_same_v<T, Company>) {
    return keys::Company(tenant, id);
  } else {
    return keys::Contact(tenant, id);
  }
}

// The search terms of a contact with the kind of field each came from ('n', 'e' or 'p').
std::map<std::string, char> SearchTerms(const Contact& contact);
// The search terms of a company ('n' name, 'd' domain).
std::map<std::string, char> CompanySearchTerms(const Company& company);

// Query words of a search string: one digit string if the whole query looks like a phone
// number, else its folded words.
std::vector<std::string> QueryWords(std::string_view query);

struct ListFilter {
  std::string owner;
  std::string tag;         // lower case
  std::string industry;    // companies only; compared case-insensitively
  std::string company_id;  // contacts only: affiliated with this company
  crm::contact::v1::LifecycleStage lifecycle_stage = crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED;
  std::optional<google::protobuf::Timestamp> updated_since;
  bool show_archived = false;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // Where the next page starts after (an id or a version), when more may follow; empty at the end.
  std::string resume_after;
};

template <typename T>
struct Hit {
  T record;
  double score = 0;
};

class ContactProjection final : public projection::EventApplier {
 public:
  // `sealer` opens the personal data of events at apply and shreds the keys of erased contacts.
  ContactProjection(store::ProjectionStore* store, const PersonalDataSealer* sealer)
      : store_(store), sealer_(sealer) {}

  bool Handles(std::string_view event_type) const override;
  // Every event (contacts, companies, the data-quality rules) is refused unless its aggregate is
  // at the version the event expects, before anything is written: opening its sealed personal
  // data only reads the key vault, and an erasure shreds the key only once the erasure is
  // decided. No contact or company record is ever removed (an erased contact keeps its id, times
  // and version), so a creation's copy finds what it created.
  bool SecondCopyChangesNothing(std::string_view) const override { return true; }
  // The record of a contact or company event; the rules' version of a data-quality rules event.
  void WillRead(const crm::common::v1::EventEnvelope& event,
                std::vector<std::string>& state_keys) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;

  // The record now, or as it was at `as_of` (nullopt: did not exist then / at all).
  absl::StatusOr<std::optional<Contact>> GetContact(
      std::string_view tenant, std::string_view id,
      const std::optional<google::protobuf::Timestamp>& as_of = std::nullopt) const;
  absl::StatusOr<std::optional<Company>> GetCompany(
      std::string_view tenant, std::string_view id,
      const std::optional<google::protobuf::Timestamp>& as_of = std::nullopt) const;
  // The personal data of the contact now (nullopt: no such contact), read out of its record
  // without parsing the rest.
  absl::StatusOr<std::optional<crm::contact::v1::PersonalData>> GetPersonalData(
      std::string_view tenant, std::string_view id) const;
  // The record as `version` left it (nullopt if no such version is stored).
  template <typename T>
  absl::StatusOr<std::optional<T>> GetVersion(std::string_view tenant, std::string_view id,
                                              int64_t version) const {
    return projection::ReadVersion<T>(*store_, keys::kAsOfKind, tenant, id, StateKey<T>(tenant, id),
                                      version);
  }

  // Lists after `resume_after` (exclusive) in id order, examining at most `max_scan` records so
  // a call stays bounded even when the filter matches few.
  absl::StatusOr<Page<Contact>> ListContacts(std::string_view tenant, const ListFilter& filter,
                                             std::string_view resume_after, size_t page_size,
                                             size_t max_scan) const;
  absl::StatusOr<Page<Company>> ListCompanies(std::string_view tenant, const ListFilter& filter,
                                              std::string_view resume_after, size_t page_size,
                                              size_t max_scan) const;

  // Records matching all `words`, best first (ties by id), the first `limit` of them; at most
  // `max_candidates` index entries examined. A one-word query is ranked from the index alone
  // and reads only the contacts it returns (and those it skips as archived or merged).
  absl::StatusOr<std::vector<Hit<Contact>>> SearchContacts(
      std::string_view tenant, const std::vector<std::string>& words, bool show_archived,
      size_t max_candidates, size_t limit = std::numeric_limits<size_t>::max()) const;
  absl::StatusOr<std::vector<Hit<Company>>> SearchCompanies(std::string_view tenant,
                                                            const std::vector<std::string>& words,
                                                            bool show_archived,
                                                            size_t max_candidates) const;

  // History entries of the records `ids` (a survivor and everything merged into it; companies
  // if `company`), oldest first, from position `offset`, each with the fields it changed;
  // resume_after holds the next offset.
  absl::StatusOr<Page<HistoryEntry>> History(std::string_view tenant,
                                             const std::vector<std::string>& ids, bool company,
                                             size_t offset, size_t page_size) const;

  // Likely duplicates of a contact, best first.
  absl::StatusOr<std::vector<crm::contact::v1::DuplicatePair>> DuplicatesOf(
      std::string_view tenant, std::string_view contact_id) const;
  // All likely duplicate pairs of the tenant, best first, after `resume_after` (an opaque
  // position from a previous page), scoring at least `min_score`.
  absl::StatusOr<Page<crm::contact::v1::DuplicatePair>> DuplicatePairs(
      std::string_view tenant, std::string_view resume_after, double min_score,
      size_t page_size) const;

  // The tenant's data-quality rules and their version; nullopt until set.
  absl::StatusOr<std::optional<crm::contact::v1::DataQualityRules>> QualityRules(
      std::string_view tenant) const;
  absl::StatusOr<int64_t> QualityRulesVersion(std::string_view tenant) const;

  // Contacts with completeness below `below` under `rules`, least complete first (ties by id),
  // after `resume_after` (an opaque position from a previous page).
  absl::StatusOr<Page<Contact>> IncompleteContacts(std::string_view tenant,
                                                   const crm::contact::v1::DataQualityRules& rules,
                                                   int below, std::string_view resume_after,
                                                   size_t page_size) const;

  // Relationships where `company_id` is the object.
  absl::StatusOr<std::vector<Relationship>> IncomingRelationships(
      std::string_view tenant, std::string_view company_id) const;

  // The oldest live (not archived, not merged) contact with this normalised email address or
  // E.164 phone number, for import matching; nullopt if none.
  absl::StatusOr<std::optional<Contact>> FindByEmail(std::string_view tenant,
                                                     std::string_view email) const;
  absl::StatusOr<std::optional<Contact>> FindByPhone(std::string_view tenant,
                                                     std::string_view phone) const;
  // The oldest live company with this (normalised) domain; nullopt if none.
  absl::StatusOr<std::optional<Company>> FindCompanyByDomain(std::string_view tenant,
                                                             std::string_view domain) const;
  // What import `import_id` did here, record by record (common/projection/import_ledger.h).
  absl::Status ScanImport(
      std::string_view tenant, std::string_view import_id,
      const std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>& fn)
      const;

 private:
  absl::StatusOr<std::optional<Contact>> FindInBlock(std::string_view tenant,
                                                     const std::string& block) const;
  absl::StatusOr<absl::Status> ApplyContact(const crm::common::v1::EventEnvelope& event,
                                            store::ProjectionStore::Batch& batch);
  // Writes a contact's change from `current` to `next` (state, version, history, search terms,
  // affiliations, duplicates, quality group).
  absl::Status StoreContact(store::ProjectionStore::Batch& batch,
                            const crm::common::v1::EventEnvelope& event,
                            const std::optional<Contact>& current, const Contact& next);
  // Erasure: `id`'s stored versions, history entries and events are dropped (before the erased
  // state is written), and its data key is shredded.
  absl::Status Forget(store::ProjectionStore::Batch& batch, std::string_view tenant,
                      std::string_view id);
  absl::StatusOr<std::vector<Hit<Contact>>> SearchOneWord(std::string_view tenant,
                                                          const std::string& word,
                                                          bool show_archived, size_t max_candidates,
                                                          size_t limit) const;
  // Re-derives the duplicate pairs of the contact that changed from `current` to `next`, and
  // of the members of every block that crossed kMaxDuplicateBlock because of it.
  absl::Status UpdateDuplicates(store::ProjectionStore::Batch& batch, std::string_view tenant,
                                const std::optional<Contact>& current, const Contact& next);
  // A duplicate block: its member count, and its live contacts (id, serialized
  // DuplicateSignature, parsed only by whoever scores them) when read.
  using BlockMember = std::pair<std::string, std::string>;
  struct Block {
    int64_t size = 0;
    std::vector<BlockMember> members;
    // Not read: a full-name block known to be within a name block that was (IsFullNameBlock),
    // so under the limit, its members among that block's.
    bool within_name_block = false;
  };
  // Blocking key `key`'s count, and its members only if there are at most `read_up_to` of them
  // (a block over the cap is never scanned: its count is kept; within it, the scan counts).
  // From `blocks_` when it holds the block.
  absl::StatusOr<Block> ReadBlock(store::ProjectionStore::Batch& batch, std::string_view tenant,
                                  const std::string& key, int64_t read_up_to);
  // Drops the pairs of `contact` (if it `had_pairs`) and, if it is live, pairs it again with
  // every contact it shares a block of at most kMaxDuplicateBlock members with.
  // `known` (optional) holds blocks already read in this apply: sizes with `contact`, members
  // without it; `blocking_keys` (optional), BlockingKeys(contact) if the caller has them.
  absl::Status RecomputePairs(store::ProjectionStore::Batch& batch, std::string_view tenant,
                              const Contact& contact, bool had_pairs,
                              const std::map<std::string, Block>* known = nullptr,
                              const std::set<std::string>* blocking_keys = nullptr);
  absl::StatusOr<absl::Status> ApplySettings(const crm::common::v1::EventEnvelope& event,
                                             store::ProjectionStore::Batch& batch);
  absl::StatusOr<absl::Status> ApplyCompany(const crm::common::v1::EventEnvelope& event,
                                            store::ProjectionStore::Batch& batch);

  store::ProjectionStore* const store_;
  const PersonalDataSealer* const sealer_;
  // Duplicate blocks within the limit, whole, as the batches applied so far hold them (committed
  // or not): those ReadBlock read, kept up to date by UpdateDuplicates, the only writer of
  // blocks; while building from an empty store, every block read before it was written (all
  // but the full-name blocks UpdateDuplicates writes unread). A scan of a block — a seek in
  // every memtable and table file that may hold it, two per new contact — was 28 % of the
  // contact rebuild's applying thread. Applying thread only. It relies on what the projector
  // does: every batch built is committed, in the order built (a failed commit stops the
  // process; none is dropped), and a rebuild empties the store first (which empties this too).
  DuplicateBlockCache blocks_;
};

}  // namespace crm::contact
