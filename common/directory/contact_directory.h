// ContactDirectory: a service's local knowledge of contacts and companies, kept from the contact
// service's events in that service's own projection (ARCHITECTURE: reads use other services' events
// kept locally). Services that link records to contacts (interactions, cases, deals, orders) check
// them here and follow merges with it.
//
// Keys it owns in the service's store (the service must not use these kinds):
//   kState "k/" tenant \0 contact_or_company_id   -> crm.common.v1.ContactDirectoryEntry (with a
//                                                   count of the contacts merged into it)
//   kIndex "z/" tenant \0 survivor_id \0 merged_id -> "" (contacts merged into a survivor)
//   kIndex "k/" tenant \0 contact_id              -> "" (the contact was erased)
//
// Apply is deterministic: an entry depends only on its own contact's events, but for its count of
// merged contacts, a sum over the merged contacts' events (the same in any order). It takes the
// events the contact service took, no others: an entry keeps its contact's version.
//
// Get keeps the entries it read in memory (up to a quarter of the store's cache_bytes(), 8 MiB at
// the default --rocksdb-memory-mib: some 40,000 entries; a timeline, a 360 and every
// link check of a write start with one), each dropped when a committed batch changes it: the
// owner calls Committed after each commit, before waiting writers are answered, so a read after
// an acknowledged write never finds an entry older than the store's.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "common/projection/projector.h"
#include "common/store/keys.h"
#include "common/store/projection_store.h"
#include "common/store/read_cache.h"
#include "common/store/tenant_flags.h"
#include "crm/common/v1/directory.pb.h"
#include "crm/common/v1/envelope.pb.h"

namespace crm::directory {

using crm::common::v1::ContactDirectoryEntry;

// The contact service's topic.
inline constexpr char kContactTopic[] = "crm.contact.v1";

// True for every event type of the contact service (the directory takes what it needs).
bool IsContactEvent(std::string_view event_type);

// "Given Family", or the one of them there is ("" without either).
std::string DisplayName(const std::string& given, const std::string& family);

// The entry after a contact-service event; nullopt when the event changes nothing here: not a
// contact's or company's, or one the contact service refused at apply. Of those refusals only
// a lost race can reach the log (the event was decided against the state at the version it
// expects, so at that version it passes every other check): an event expecting a version older
// than the entry's changes nothing, as in the contact projection. One expecting a newer version
// follows events this build does not know (a newer contact service's) and applies.
std::optional<ContactDirectoryEntry> ApplyContactEvent(
    const std::optional<ContactDirectoryEntry>& current,
    const crm::common::v1::EventEnvelope& event);

// What a linked id must name.
enum class Kind { kContact, kCompany };

// OK if a record may be linked to the contact (or company, by `kind`); NOT_FOUND (unknown, or
// of the other kind) or FAILED_PRECONDITION (archived; merged, naming the survivor), the message
// starting with `field`.
absl::Status CheckLinkable(const std::optional<ContactDirectoryEntry>& entry,
                           const std::string& field, const std::string& id,
                           Kind kind = Kind::kContact);

class ContactDirectory {
 public:
  explicit ContactDirectory(store::ProjectionStore* store)
      : store_(store),
        cached_(store->cache_bytes() / 4,
                [](std::string_view key, const std::optional<ContactDirectoryEntry>& entry) {
                  return key.size() + (entry ? entry->SpaceUsedLong() : 0) + 64;
                }) {}

  // Applies a contact-service event into `batch`.
  absl::Status Apply(const crm::common::v1::EventEnvelope& event,
                     store::ProjectionStore::Batch& batch) const;
  // The key Apply reads first for `event`, if a contact-service event (EventApplier::WillRead).
  void WillRead(const crm::common::v1::EventEnvelope& event,
                std::vector<std::string>& state_keys) const;

  // The contact's (or company's) entry; nullopt if it is not known. From memory when it was read
  // before and has not changed since.
  absl::StatusOr<std::optional<ContactDirectoryEntry>> Get(std::string_view tenant,
                                                           std::string_view contact_id) const;
  // The same, not keeping what it reads: for a pass over every contact of a tenant, which would
  // only push out the entries that reads come back to.
  absl::StatusOr<std::optional<ContactDirectoryEntry>> GetOnce(std::string_view tenant,
                                                               std::string_view contact_id) const;

  // To be called on the applying thread once a batch is built, before its commit: the entries
  // Apply changed in it are those the Committed after that commit is about.
  void Built() const;
  // To be called on the applying thread after each commit of the store (and after it was emptied
  // for a rebuild): the entries changed in the batches built before it, or all after an
  // emptying, are read from the store again from now on.
  void Committed() const;

  // True if the contact was erased, as `batch` sees it (for apply: on the projector's thread,
  // as Apply). No read at all while the tenant has no erased contact, which is almost always.
  absl::StatusOr<bool> Erased(store::ProjectionStore::Batch& batch, std::string_view tenant,
                              std::string_view contact_id) const;

  // CheckLinkable on the entry; a contact not known yet is looked for again once `projector`
  // (the one applying this directory) has caught up with the log, waiting until `deadline`
  // (UNAVAILABLE if it cannot). Blocks the calling thread on that rare path.
  absl::Status CheckLinkableWaiting(projection::Projector& projector, std::string_view tenant,
                                    const std::string& field, const std::string& id,
                                    absl::Time deadline, Kind kind = Kind::kContact) const;

  // Every contact that another contact was merged into (directly), in id order.
  absl::StatusOr<std::set<std::string>> Survivors(std::string_view tenant) const;

  // The contact and every contact merged into it, transitively (at most 1000).
  absl::StatusOr<std::vector<std::string>> WithMerged(std::string_view tenant,
                                                      std::string_view contact_id) const;
  // The same for a contact whose entry the caller has read: no lookup when nothing was merged
  // into it (merged_count 0), which is almost always.
  absl::StatusOr<std::vector<std::string>> WithMerged(std::string_view tenant,
                                                      const ContactDirectoryEntry& entry) const;

 private:
  store::ProjectionStore* const store_;
  // Per tenant, whether it has erased-contact markers (kIndex "k/" tenant \0): found at the
  // tenant's first Erased, then kept true by Apply when it erases. Apply side only.
  mutable store::TenantFlags erasures_{
      store::Cf::kIndex, [](std::string_view tenant) { return store::KindPrefix('k', tenant); }};
  // Keys of the entries written by Apply since the last Built, and those of the batches built
  // since the last Committed. Apply side only.
  mutable std::vector<std::string> changed_;
  mutable std::vector<std::string> built_;
  // The store's emptyings (ProjectionStore::emptied) as of the last Committed. Apply side only.
  mutable uint64_t emptied_ = 0;

  absl::StatusOr<std::optional<ContactDirectoryEntry>> Read(std::string_view tenant,
                                                            std::string_view contact_id,
                                                            bool keep) const;

  // Entries read, including those not found, by their bytes in memory (those read least
  // recently go first).
  mutable store::ReadCache<std::optional<ContactDirectoryEntry>> cached_;
};

}  // namespace crm::directory
