#include "services/contact/projection/contact_projection.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"
#include "common/projection/as_of.h"
#include "common/projection/import_ledger.h"
#include "common/projection/wire_field.h"
#include "common/status/status_macros.h"
#include "common/validation/text_fold.h"
#include "services/contact/domain/apply.h"
#include "services/contact/domain/duplicates.h"
#include "services/contact/domain/quality.h"
#include "services/contact/projection/contact_fold.h"
#include "services/contact/projection/history.h"
#include "services/contact/projection/keys.h"

namespace crm::contact {

using crm::common::v1::EventEnvelope;
using google::protobuf::Timestamp;
using store::Cf;

namespace {

// The fields an update event changed (its mask); none for other events.
std::vector<std::string> ChangedPaths(const EventEnvelope& event) {
  google::protobuf::FieldMask mask;
  if (crm::contact::v1::ContactUpdated u; event.payload().UnpackTo(&u)) {
    mask = u.update_mask();
  } else if (crm::contact::v1::CompanyUpdated c; event.payload().UnpackTo(&c)) {
    mask = c.update_mask();
  }
  return {mask.paths().begin(), mask.paths().end()};
}

// Lower is better when a term comes from several fields.
int KindRank(char kind) { return kind == 'n' ? 0 : kind == 'e' || kind == 'd' ? 1 : 2; }

void AddTerm(std::map<std::string, char>& terms, std::string term, char kind) {
  if (term.empty()) return;
  auto [it, inserted] = terms.emplace(std::move(term), kind);
  if (!inserted && KindRank(kind) < KindRank(it->second)) it->second = kind;
}

void AddWords(std::map<std::string, char>& terms, const std::string& text, char kind) {
  for (std::string& w : validation::SplitWords(text)) AddTerm(terms, std::move(w), kind);
}

bool LooksLikePhone(std::string_view q) {
  bool digit = false;
  for (char c : q) {
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c != '+' && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      return false;
    }
  }
  return digit;
}

bool Before(const Timestamp& a, const Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

template <typename T>
absl::StatusOr<std::optional<T>> Decode(const std::optional<std::string>& raw) {
  if (!raw) return std::nullopt;
  T record;
  if (!record.ParseFromString(*raw)) return absl::DataLossError("corrupt record in projection");
  return record;
}

// Replaces the search entries of `id` from `old_terms` with `new_terms`.
void UpdateTerms(store::ProjectionStore::Batch& batch, char kind, std::string_view tenant,
                 std::string_view id, const std::map<std::string, char>& old_terms,
                 const std::map<std::string, char>& new_terms) {
  for (const auto& [term, k] : old_terms) {
    if (!new_terms.contains(term))
      batch.Delete(Cf::kIndex, keys::SearchEntry(kind, tenant, term, id));
  }
  for (const auto& [term, k] : new_terms) {
    const auto old = old_terms.find(term);
    if (old == old_terms.end() || old->second != k) {
      batch.Put(Cf::kIndex, keys::SearchEntry(kind, tenant, term, id), std::string(1, k));
    }
  }
}

// What every record change writes: the state, the state it supersedes (`superseded`, if any)
// for as_of reads, and its history entry (who, when, why; the changed fields are derived from
// the stored states when read).
template <typename T>
void WriteRecord(store::ProjectionStore::Batch& batch, const EventEnvelope& event,
                 const std::string& state_key, const T* superseded, const T& next) {
  if (superseded != nullptr) {
    projection::KeepSuperseded(batch, keys::kAsOfKind, event.tenant(), *superseded,
                               projection::SerializeDeterministic(*superseded));
  }
  batch.Put(Cf::kState, state_key, projection::SerializeDeterministic(next));
  const HistoryEntry entry = MakeHistoryEntry(event, next.version(), next.update_time());
  batch.Put(Cf::kIndex, keys::History(event.tenant(), next.id(), next.version()),
            projection::SerializeDeterministic(entry));
}

// Every stored state of record `id` (state key `state_key`), by version: the states
// WriteRecord kept as superseded and the current one.
template <typename T>
absl::StatusOr<std::map<int64_t, std::string>> StatesByVersion(const store::ProjectionStore& store,
                                                               std::string_view tenant,
                                                               std::string_view id,
                                                               const std::string& state_key) {
  const store::ReadView view = store.Snapshot();
  std::map<int64_t, std::string> states;
  RETURN_IF_ERROR(view.Scan(Cf::kIndex, projection::AsOfPrefix(keys::kAsOfKind, tenant, id), "",
                            [&](std::string_view key, std::string_view value) {
                              const auto version = static_cast<int64_t>(
                                  store::GetBigEndian(key.substr(key.size() - 8)));
                              states.emplace(version, std::string(value));
                              return true;
                            }));
  ASSIGN_OR_RETURN(std::optional<std::string> raw, view.Get(Cf::kState, state_key));
  ASSIGN_OR_RETURN(std::optional<T> now, Decode<T>(raw));
  if (now) states.emplace(now->version(), std::move(*raw));
  return states;
}

// Fills in the changed fields of `entries`: the difference between the state each entry's
// version made and the state before it (the previous stored version of the same record).
template <typename T>
absl::Status FillChanges(const store::ProjectionStore& store, std::string_view tenant,
                         std::vector<HistoryEntry>& entries) {
  std::map<std::string, std::map<int64_t, std::string>> states;
  for (HistoryEntry& entry : entries) {
    auto record = states.find(entry.record_id());
    if (record == states.end()) {
      ASSIGN_OR_RETURN(auto all, StatesByVersion<T>(store, tenant, entry.record_id(),
                                                    StateKey<T>(tenant, entry.record_id())));
      record = states.emplace(entry.record_id(), std::move(all)).first;
    }
    const auto after = record->second.find(entry.version());
    if (after == record->second.end()) {
      return absl::DataLossError(
          absl::StrCat("no stored state for version ", entry.version(), " of ", entry.record_id()));
    }
    std::optional<T> before_record;
    if (after != record->second.begin()) {
      ASSIGN_OR_RETURN(before_record, Decode<T>(std::prev(after)->second));
    }
    ASSIGN_OR_RETURN(std::optional<T> after_record, Decode<T>(after->second));
    entry.clear_changes();  // entries written before changes were derived on read carry them
    for (auto& change : Diff(before_record ? &*before_record : nullptr, *after_record)) {
      *entry.add_changes() = std::move(change);
    }
  }
  return absl::OkStatus();
}

std::set<std::string> AffiliatedCompanies(const Contact& c) {
  std::set<std::string> ids;
  for (const auto& a : c.affiliations()) ids.insert(a.company_id());
  return ids;
}

// Reads a record now, or its version at `as_of`.
template <typename T>
absl::StatusOr<std::optional<T>> ReadRecord(const store::ProjectionStore& store,
                                            std::string_view tenant, std::string_view id,
                                            const std::string& state_key,
                                            const std::optional<Timestamp>& as_of) {
  if (!as_of) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(Cf::kState, state_key));
    return Decode<T>(raw);
  }
  return projection::ReadAsOf<T>(store, keys::kAsOfKind, tenant, id, state_key, *as_of);
}

// Scores `words` against `terms`: every word must prefix-match a term. 0 if one does not.
double Score(const std::vector<std::string>& words, const std::map<std::string, char>& terms) {
  double score = 0;
  for (const std::string& w : words) {
    double best = 0;
    for (auto it = terms.lower_bound(w); it != terms.end() && it->first.starts_with(w); ++it) {
      const bool exact = it->first.size() == w.size();
      const double s = it->second == 'n' ? (exact ? 4 : 3) : (exact ? 2 : 1);
      best = std::max(best, s);
    }
    if (best == 0) return 0;
    score += best;
  }
  return score;
}

// Collects the ids under search-index prefix `kind/tenant\0driver...`, up to `max`.
absl::Status CollectCandidates(const store::ProjectionStore& store, char kind,
                               std::string_view tenant, const std::string& driver, size_t max,
                               std::set<std::string>& out) {
  return store.Scan(Cf::kIndex, keys::SearchTermPrefix(kind, tenant, driver), "",
                    [&](std::string_view key, std::string_view) {
                      out.emplace(key.substr(key.rfind('\0') + 1));
                      return out.size() < max;
                    });
}

const std::string& Driver(const std::vector<std::string>& words) {
  return *std::max_element(
      words.begin(), words.end(),
      [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
}

template <typename T>
void SortHits(std::vector<Hit<T>>& hits) {
  std::sort(hits.begin(), hits.end(), [](const Hit<T>& a, const Hit<T>& b) {
    return a.score != b.score ? a.score > b.score : a.record.id() < b.record.id();
  });
}

// Generic filtered scan over ids from `prefix` (keys ending in the record id).
template <typename T, typename Load, typename Keep>
absl::StatusOr<Page<T>> ScanPage(const store::ProjectionStore& store, Cf cf,
                                 const std::string& prefix, std::string_view resume_after,
                                 size_t page_size, size_t max_scan, Load load, Keep keep) {
  Page<T> page;
  std::string start;
  if (!resume_after.empty()) {
    start = prefix;
    start.append(resume_after);
    start.push_back('\0');  // Strictly after.
  }
  size_t scanned = 0;
  absl::Status error;
  std::string last_id;
  bool more = false;
  RETURN_IF_ERROR(store.Scan(cf, prefix, start, [&](std::string_view key, std::string_view value) {
    if (page.items.size() >= page_size || scanned >= max_scan) {
      more = true;
      return false;
    }
    ++scanned;
    last_id = std::string(key.substr(prefix.size()));
    absl::StatusOr<std::optional<T>> record = load(last_id, value);
    if (!record.ok()) {
      error = record.status();
      return false;
    }
    if (*record && keep(**record)) page.items.push_back(std::move(**record));
    return true;
  }));
  RETURN_IF_ERROR(error);
  if (more) page.resume_after = last_id;
  return page;
}

// The record an event reads first and writes: its contact's or company's, or the data-quality
// rules' version.
std::string RecordKey(const EventEnvelope& event) {
  if (event.event_type() == kDataQualityRulesSetType) {
    return keys::Settings(event.tenant(), "version");
  }
  if (IsCompanyEvent(event.event_type())) {
    return keys::Company(event.tenant(), event.aggregate_id());
  }
  return keys::Contact(event.tenant(), event.aggregate_id());
}

}  // namespace

std::map<std::string, char> SearchTerms(const Contact& c) {
  std::map<std::string, char> terms;
  AddWords(terms, c.personal().given_name(), 'n');
  AddWords(terms, c.personal().family_name(), 'n');
  for (const auto& e : c.personal().emails()) AddWords(terms, e.address(), 'e');
  for (const auto& p : c.personal().phones()) {
    std::string digits;
    for (char ch : p.number()) {
      if (absl::ascii_isdigit(ch)) digits.push_back(ch);
    }
    AddTerm(terms, std::move(digits), 'p');
  }
  return terms;
}

std::map<std::string, char> CompanySearchTerms(const Company& c) {
  std::map<std::string, char> terms;
  AddWords(terms, c.name(), 'n');
  AddWords(terms, c.domain(), 'd');
  return terms;
}

std::vector<std::string> QueryWords(std::string_view query) {
  if (LooksLikePhone(query)) {
    std::string digits;
    for (char c : query) {
      if (absl::ascii_isdigit(c)) digits.push_back(c);
    }
    if (digits.size() > 2 && digits[0] == '0' && digits[1] == '0') digits.erase(0, 2);
    return {digits};
  }
  std::vector<std::string> words =
      validation::SplitWords(absl::string_view(query.data(), query.size()));
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

bool ContactProjection::Handles(std::string_view event_type) const {
  return event_type == kContactCreatedType || event_type == kContactUpdatedType ||
         event_type == kContactArchivedType || event_type == kContactMergedIntoType ||
         event_type == kContactsMergedType || event_type == kContactsUnmergedType ||
         event_type == kContactUnmergedType || event_type == kContactErasedType ||
         event_type == kDataQualityRulesSetType || IsCompanyEvent(event_type);
}

void ContactProjection::WillRead(const EventEnvelope& event,
                                 std::vector<std::string>& state_keys) const {
  if (Handles(event.event_type())) state_keys.push_back(RecordKey(event));
}

absl::StatusOr<absl::Status> ContactProjection::Apply(const EventEnvelope& event,
                                                      store::ProjectionStore::Batch& batch) {
  if (event.event_type() == kDataQualityRulesSetType) return ApplySettings(event, batch);
  absl::Status applied;
  if (IsCompanyEvent(event.event_type())) {
    ASSIGN_OR_RETURN(applied, ApplyCompany(event, batch));
  } else {
    ASSIGN_OR_RETURN(std::optional<EventEnvelope> opened, sealer_->Open(event));
    ASSIGN_OR_RETURN(applied, ApplyContact(opened ? *opened : event, batch));
  }
  if (applied.ok() && event.source() == projection::kImportSource) {
    RETURN_IF_ERROR(projection::RecordImport(batch, keys::kImportKind, event, ChangedPaths(event)));
  }
  return applied;
}

absl::Status ContactProjection::Forget(store::ProjectionStore::Batch& batch,
                                       std::string_view tenant, std::string_view id) {
  // Its states by version and history entries are kept like its events: kind/tenant\0id\0...
  // (its events, 'g', FoldErasure dropped).
  for (char kind : {keys::kAsOfKind, 'h'}) {
    RETURN_IF_ERROR(ForgetContactEvents(batch, tenant, id, kind));
  }
  return sealer_->Shred(tenant, id);
}

absl::StatusOr<absl::Status> ContactProjection::ApplyContact(const EventEnvelope& event,
                                                             store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Contact> current, Decode<Contact>(raw));
  if (event.event_type() == kContactErasedType) {
    ASSIGN_OR_RETURN(absl::StatusOr<Contact> erased, FoldErasure(current, event, batch, 'g'));
    if (!erased.ok()) return erased.status();  // Refused: nothing written.
    RETURN_IF_ERROR(Forget(batch, tenant, event.aggregate_id()));
    RETURN_IF_ERROR(StoreContact(batch, event, current, *erased));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(absl::StatusOr<Contact> next, FoldContactEvent(current, event, batch, 'g'));
  if (!next.ok()) return next.status();  // Refused: nothing written.
  RETURN_IF_ERROR(StoreContact(batch, event, current, *next));
  return absl::OkStatus();
}

absl::Status ContactProjection::StoreContact(store::ProjectionStore::Batch& batch,
                                             const EventEnvelope& event,
                                             const std::optional<Contact>& current,
                                             const Contact& next) {
  const std::string& tenant = event.tenant();
  const std::string key = keys::Contact(tenant, next.id());
  UpdateTerms(batch, 's', tenant, next.id(),
              current ? SearchTerms(*current) : std::map<std::string, char>{}, SearchTerms(next));
  const std::set<std::string> old_companies =
      current ? AffiliatedCompanies(*current) : std::set<std::string>{};
  const std::set<std::string> new_companies = AffiliatedCompanies(next);
  for (const std::string& company : old_companies) {
    if (!new_companies.contains(company)) {
      batch.Delete(Cf::kIndex, keys::Affiliation(tenant, company, next.id()));
    }
  }
  for (const std::string& company : new_companies) {
    if (!old_companies.contains(company)) {
      batch.Put(Cf::kIndex, keys::Affiliation(tenant, company, next.id()), "");
    }
  }
  // An erasure keeps no earlier state: they held the personal data (Forget dropped them).
  const bool erasure = event.event_type() == kContactErasedType;
  WriteRecord(batch, event, key, current && !erasure ? &*current : nullptr, next);
  RETURN_IF_ERROR(UpdateDuplicates(batch, tenant, current, next));
  // Quality group: live contacts only (archived and merged ones are not work to do).
  auto live = [](const Contact& c) { return !c.archived() && c.merged_into().empty(); };
  if (current && live(*current)) {
    const CheckBits bits = ContactChecks(*current);
    batch.Delete(Cf::kIndex,
                 keys::QualityGroup(tenant, bits.applicable, bits.missing) + current->id());
  }
  if (live(next)) {
    const CheckBits bits = ContactChecks(next);
    batch.Put(Cf::kIndex, keys::QualityGroup(tenant, bits.applicable, bits.missing) + next.id(),
              "");
  }
  return absl::OkStatus();
}

const std::vector<DuplicateBlockCache::Member>* DuplicateBlockCache::Find(
    const std::string& prefix) const {
  const auto it = blocks_.find(prefix);
  return it == blocks_.end() ? nullptr : &it->second;
}

void DuplicateBlockCache::Keep(const std::string& prefix, std::vector<Member> members) {
  size_t cost = prefix.size() + 64;
  for (const Member& m : members) cost += Cost(m);
  if (bytes_ + cost > kBytes) {
    blocks_.clear();
    bytes_ = 0;
    complete_ = false;
    if (cost > kBytes) return;
  }
  Forget(prefix);
  blocks_.emplace(prefix, std::move(members));
  bytes_ += cost;
}

void DuplicateBlockCache::Put(const std::string& prefix, std::string_view id,
                              std::string_view signature) {
  const auto it = blocks_.find(prefix);
  if (it == blocks_.end()) return;
  std::vector<Member>& members = it->second;
  auto at = std::lower_bound(members.begin(), members.end(), id,
                             [](const Member& m, std::string_view k) { return m.first < k; });
  if (at != members.end() && at->first == id) {
    bytes_ -= at->second.size();
    at->second.assign(signature);
    bytes_ += at->second.size();
    return;
  }
  at = members.emplace(at, std::string(id), std::string(signature));
  bytes_ += Cost(*at);
}

void DuplicateBlockCache::Erase(const std::string& prefix, std::string_view id) {
  const auto it = blocks_.find(prefix);
  if (it == blocks_.end()) return;
  std::vector<Member>& members = it->second;
  const auto at = std::lower_bound(members.begin(), members.end(), id,
                                   [](const Member& m, std::string_view k) { return m.first < k; });
  if (at == members.end() || at->first != id) return;
  bytes_ -= Cost(*at);
  members.erase(at);
}

void DuplicateBlockCache::Drop(const std::string& prefix) {
  Forget(prefix);
  complete_ = false;  // a block it does not hold is not empty any more
}

void DuplicateBlockCache::Forget(const std::string& prefix) {
  const auto it = blocks_.find(prefix);
  if (it == blocks_.end()) return;
  bytes_ -= prefix.size() + 64;
  for (const Member& m : it->second) bytes_ -= Cost(m);
  blocks_.erase(it);
}

bool DuplicateBlockCache::Follow(uint64_t emptied) {
  if (emptied != emptied_ || !followed_) {
    followed_ = true;
    emptied_ = emptied;
    blocks_.clear();
    bytes_ = 0;
    complete_ = false;
    return true;
  }
  return false;
}

namespace {
constexpr int64_t kBlockCap = static_cast<int64_t>(kMaxDuplicateBlock);
}  // namespace

// Pairs are a function of the contacts' current states only: two live contacts are a pair when
// they score at least kDuplicateThreshold and share a blocking key whose block has at most
// kMaxDuplicateBlock live members (a larger block, such as a common name or a switchboard
// phone, is no evidence and would make every write O(block)). Whenever a contact changes its
// pairs are recomputed, and so are those of every member of a block that crossed the limit. So
// the final pairs do not depend on the order in which partitions interleave, and a rebuild
// reproduces them. A block over the limit keeps its member count beside its entries, so it is
// neither scanned nor parsed: a write costs O(limit) however common its name. A block within
// the limit — nearly every one — keeps no count: it is read whole anyway, and its size is what
// that scan finds.
absl::Status ContactProjection::UpdateDuplicates(store::ProjectionStore::Batch& batch,
                                                 std::string_view tenant,
                                                 const std::optional<Contact>& current,
                                                 const Contact& next) {
  // By pointer: an optional made of `next` would copy the whole contact.
  auto live = [](const Contact* c) {
    return c != nullptr && !c->archived() && c->merged_into().empty();
  };
  auto live_keys = [&](const Contact* c) {
    std::set<std::string> keys;
    if (live(c)) {
      for (std::string& k : BlockingKeys(*c)) keys.insert(std::move(k));
    }
    return keys;
  };
  const Contact* const was = current ? &*current : nullptr;
  if (blocks_.Follow(store_->emptied())) {
    // A store without any block (built from empty): every block is in blocks_ from now on, as
    // long as none passes the limit and it keeps within its bytes.
    bool any = false;
    RETURN_IF_ERROR(batch.Scan(Cf::kIndex, "x/", [&](std::string_view, std::string_view) {
      any = true;
      return false;
    }));
    if (!any) blocks_.SetComplete();
  }
  const std::set<std::string> old_keys = live_keys(was);
  const std::set<std::string> new_keys = live_keys(&next);
  const Contact signature = DuplicateSignature(next);
  const std::string value = projection::SerializeDeterministic(signature);
  // A block member's entry carries its signature: rewritten where it stays if that changed.
  const bool signature_changed =
      !live(was) || projection::SerializeDeterministic(DuplicateSignature(*current)) != value;
  // Members of blocks that cross the limit as `next` leaves or joins them.
  std::map<std::string, std::string> crossed;
  auto cross = [&](const std::vector<BlockMember>& members) {
    for (const auto& [id, sig] : members) crossed.emplace(id, sig);
  };
  // Every write to a block goes to blocks_ too.
  auto put = [&](const std::string& k) {
    batch.Put(Cf::kIndex, keys::DuplicateBlock(tenant, k, next.id()), value);
    blocks_.Put(keys::DuplicateBlockSize(tenant, k), next.id(), value);
  };
  auto resize = [&](const std::string& k, int64_t was, int64_t size) {
    if (size > kBlockCap) {
      const std::string count = keys::DuplicateBlockSize(tenant, k);
      batch.Put(Cf::kIndex, count, store::EncodeInt64(size));
      blocks_.Drop(count);
    } else if (was > kBlockCap) {
      batch.Delete(Cf::kIndex, keys::DuplicateBlockSize(tenant, k));
    }
  };
  for (const std::string& k : old_keys) {
    if (new_keys.contains(k)) continue;
    ASSIGN_OR_RETURN(Block block, ReadBlock(batch, tenant, k, kBlockCap + 1));
    if (block.size == kBlockCap + 1) cross(block.members);
    batch.Delete(Cf::kIndex, keys::DuplicateBlock(tenant, k, next.id()));
    blocks_.Erase(keys::DuplicateBlockSize(tenant, k), next.id());
    resize(k, block.size, block.size - 1);
  }
  // The blocks `next` joins, as they were without it: its own pairs are computed from them.
  // Name blocks before the full-name block: once a name block `next` joins is found with fewer
  // than kBlockCap members, the full-name block (within it) cannot reach the limit with `next`
  // and holds no one that name block does not, so it is written to but not read — a scan less
  // for nearly every new contact.
  std::vector<std::string> joining(new_keys.begin(), new_keys.end());
  std::stable_partition(joining.begin(), joining.end(),
                        [](const std::string& k) { return !IsFullNameBlock(k); });
  bool within_a_name_block = false;
  std::map<std::string, Block> joined;
  for (const std::string& k : joining) {
    if (old_keys.contains(k)) {
      if (signature_changed) put(k);
      continue;
    }
    if (within_a_name_block && IsFullNameBlock(k)) {
      put(k);
      joined.emplace(k, Block{.size = 0, .members = {}, .within_name_block = true});
      continue;
    }
    ASSIGN_OR_RETURN(Block block, ReadBlock(batch, tenant, k, kBlockCap));
    within_a_name_block |= IsNameBlock(k) && block.size < kBlockCap;
    if (block.size == kBlockCap) cross(block.members);
    put(k);
    resize(k, block.size, block.size + 1);
    ++block.size;  // with `next`, as RecomputePairs counts
    joined.emplace(k, std::move(block));
  }
  crossed.erase(next.id());
  // A contact that did not exist has no pairs to drop.
  // `new_keys` are the signature's blocking keys (it keeps every field they come from) when
  // `next` is live; otherwise RecomputePairs only drops pairs.
  RETURN_IF_ERROR(RecomputePairs(batch, tenant, live(&next) ? signature : next,
                                 /*had_pairs=*/current.has_value(), &joined, &new_keys));
  for (const auto& [id, sig] : crossed) {
    Contact member;
    if (!member.ParseFromString(sig)) {
      return absl::DataLossError(absl::StrCat("duplicate block entry of ", id, ": corrupt"));
    }
    RETURN_IF_ERROR(RecomputePairs(batch, tenant, member, /*had_pairs=*/true));
  }
  return absl::OkStatus();
}

absl::StatusOr<ContactProjection::Block> ContactProjection::ReadBlock(
    store::ProjectionStore::Batch& batch, std::string_view tenant, const std::string& key,
    int64_t read_up_to) {
  Block block;
  const std::string prefix = keys::DuplicateBlockSize(tenant, key);
  if (const std::vector<BlockMember>* kept = blocks_.Find(prefix)) {
    block.members = *kept;
    block.size = static_cast<int64_t>(kept->size());
    return block;
  }
  // Complete: a block it does not hold has no member — but for a full-name block, which
  // UpdateDuplicates writes without reading it while a name block is small.
  if (blocks_.complete() && !IsFullNameBlock(key)) {
    blocks_.Keep(prefix, {});
    return block;
  }
  // One scan: the member count, kept only while the block is over the limit, comes first (it is
  // the prefix itself); a block too large to read stops there.
  std::optional<int64_t> size;
  RETURN_IF_ERROR(batch.Scan(Cf::kIndex, prefix, [&](std::string_view k, std::string_view value) {
    if (k.size() == prefix.size()) {
      size = store::DecodeInt64(value);
      block.size = *size;
      return block.size <= read_up_to;
    }
    block.members.emplace_back(k.substr(prefix.size()), value);
    return true;
  }));
  if (size && *size > read_up_to) return block;
  const auto members = static_cast<int64_t>(block.members.size());
  if (size ? members != block.size : members > kBlockCap) {
    return absl::DataLossError(absl::StrCat(
        "duplicate block ", key, ": ", members, " members, ",
        size ? absl::StrCat("its count says ", block.size) : "over the limit without a count"));
  }
  block.size = members;
  if (!size) blocks_.Keep(prefix, block.members);
  return block;
}

absl::Status ContactProjection::RecomputePairs(store::ProjectionStore::Batch& batch,
                                               std::string_view tenant, const Contact& contact,
                                               bool had_pairs,
                                               const std::map<std::string, Block>* known,
                                               const std::set<std::string>* blocking_keys) {
  // Drop every pair of this contact.
  std::vector<crm::contact::v1::DuplicatePair> old_pairs;
  absl::Status error;
  if (had_pairs) {
    RETURN_IF_ERROR(
        batch.Scan(Cf::kIndex, keys::Prefix2('q', tenant, contact.id()),
                   [&](std::string_view, std::string_view value) {
                     crm::contact::v1::DuplicatePair pair;
                     if (!pair.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                       error = absl::DataLossError("corrupt duplicate pair");
                       return false;
                     }
                     old_pairs.push_back(std::move(pair));
                     return true;
                   }));
  }
  RETURN_IF_ERROR(error);
  for (const auto& pair : old_pairs) {
    batch.Delete(Cf::kIndex, keys::DuplicateOf(tenant, contact.id(), pair.other_contact_id()));
    batch.Delete(Cf::kIndex, keys::DuplicateOf(tenant, pair.other_contact_id(), contact.id()));
    batch.Delete(Cf::kIndex, keys::DuplicateRanking(tenant, pair.score(), contact.id(),
                                                    pair.other_contact_id()));
  }
  if (contact.archived() || !contact.merged_into().empty()) return absl::OkStatus();

  // Recompute against everyone sharing a block that is not too large: block entries hold live
  // contacts' signatures, which is all the score reads; each is parsed once.
  std::map<std::string, std::string_view> candidates;
  std::list<Block> read;  // what `candidates` points into
  auto add_block = [&](const std::string& k) -> absl::Status {
    const Block* block = nullptr;  // its size counts `contact`
    if (known != nullptr && known->contains(k)) {
      block = &known->at(k);
      if (block->within_name_block) return absl::OkStatus();  // with the name block's members
    } else {
      ASSIGN_OR_RETURN(Block scanned, ReadBlock(batch, tenant, k, kBlockCap));
      block = &read.emplace_back(std::move(scanned));
    }
    if (block->size > kBlockCap) return absl::OkStatus();
    for (const auto& [id, sig] : block->members) candidates.emplace(id, sig);
    return absl::OkStatus();
  };
  if (blocking_keys != nullptr) {
    for (const std::string& k : *blocking_keys) RETURN_IF_ERROR(add_block(k));
  } else {
    for (const std::string& k : BlockingKeys(contact)) RETURN_IF_ERROR(add_block(k));
  }
  candidates.erase(contact.id());
  Contact other;
  for (const auto& [other_id, sig] : candidates) {
    if (!other.ParseFromArray(sig.data(), static_cast<int>(sig.size()))) {
      return absl::DataLossError(absl::StrCat("duplicate block entry of ", other_id, ": corrupt"));
    }
    const DuplicateScore score = ScoreDuplicate(contact, other);
    if (score.score < kDuplicateThreshold) continue;
    crm::contact::v1::DuplicatePair pair;
    pair.set_score(std::round(score.score * 1000000.0) / 1000000.0);
    for (auto r : score.reasons) pair.add_reasons(r);
    pair.set_contact_id(contact.id());
    pair.set_other_contact_id(other_id);
    batch.Put(Cf::kIndex, keys::DuplicateOf(tenant, contact.id(), other_id),
              projection::SerializeDeterministic(pair));
    pair.set_contact_id(other_id);
    pair.set_other_contact_id(contact.id());
    batch.Put(Cf::kIndex, keys::DuplicateOf(tenant, other_id, contact.id()),
              projection::SerializeDeterministic(pair));
    pair.set_contact_id(std::min(other_id, contact.id()));
    pair.set_other_contact_id(std::max(other_id, contact.id()));
    batch.Put(Cf::kIndex, keys::DuplicateRanking(tenant, pair.score(), contact.id(), other_id),
              projection::SerializeDeterministic(pair));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> ContactProjection::ApplySettings(
    const EventEnvelope& event, store::ProjectionStore::Batch& batch) {
  const std::string version_key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, version_key));
  const int64_t at = raw ? store::DecodeInt64(*raw) : 0;
  if (at != event.expected_version()) {
    return absl::AbortedError(absl::StrCat("data-quality rules are at version ", at,
                                           ", the change expected ", event.expected_version()));
  }
  crm::contact::v1::DataQualityRulesSet set;
  if (!event.payload().UnpackTo(&set)) {
    return absl::InvalidArgumentError("DataQualityRulesSet payload does not decode");
  }
  batch.Put(Cf::kState, keys::Settings(event.tenant(), "rules"),
            projection::SerializeDeterministic(set.rules()));
  batch.Put(Cf::kState, version_key, store::EncodeInt64(event.aggregate_version()));
  return absl::OkStatus();
}

absl::StatusOr<absl::Status> ContactProjection::ApplyCompany(const EventEnvelope& event,
                                                             store::ProjectionStore::Batch& batch) {
  const std::string& tenant = event.tenant();
  const std::string key = RecordKey(event);
  ASSIGN_OR_RETURN(std::optional<std::string> raw, batch.Get(Cf::kState, key));
  ASSIGN_OR_RETURN(std::optional<Company> current, Decode<Company>(raw));
  absl::StatusOr<Company> next = contact::ApplyCompany(current, event);
  if (!next.ok()) return next.status();

  UpdateTerms(batch, 'n', tenant, next->id(),
              current ? CompanySearchTerms(*current) : std::map<std::string, char>{},
              CompanySearchTerms(*next));
  // Incoming-relationship index: the difference between the old and new outgoing lists.
  auto rel_key = [&](const Relationship& r) {
    return keys::IncomingRelationship(tenant, r.related_company_id(), next->id(), r.type());
  };
  std::map<std::string, const Relationship*> old_rels, new_rels;
  if (current) {
    for (const auto& r : current->relationships()) old_rels[rel_key(r)] = &r;
  }
  for (const auto& r : next->relationships()) new_rels[rel_key(r)] = &r;
  for (const auto& [k, r] : old_rels) {
    if (!new_rels.contains(k)) batch.Delete(Cf::kIndex, k);
  }
  for (const auto& [k, r] : new_rels) {
    if (!old_rels.contains(k)) batch.Put(Cf::kIndex, k, projection::SerializeDeterministic(*r));
  }
  WriteRecord(batch, event, key, current ? &*current : nullptr, *next);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Contact>> ContactProjection::GetContact(
    std::string_view tenant, std::string_view id, const std::optional<Timestamp>& as_of) const {
  return ReadRecord<Contact>(*store_, tenant, id, keys::Contact(tenant, id), as_of);
}

absl::StatusOr<std::optional<crm::contact::v1::PersonalData>> ContactProjection::GetPersonalData(
    std::string_view tenant, std::string_view id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::Contact(tenant, id)));
  if (!raw) return std::nullopt;
  crm::contact::v1::PersonalData personal;
  if (!projection::MergeField(*raw, Contact::kPersonalFieldNumber, personal)) {
    return absl::DataLossError(absl::StrCat("contact ", std::string(id), ": corrupt record"));
  }
  return personal;
}

absl::StatusOr<std::optional<Company>> ContactProjection::GetCompany(
    std::string_view tenant, std::string_view id, const std::optional<Timestamp>& as_of) const {
  return ReadRecord<Company>(*store_, tenant, id, keys::Company(tenant, id), as_of);
}

absl::StatusOr<Page<Contact>> ContactProjection::ListContacts(std::string_view tenant,
                                                              const ListFilter& filter,
                                                              std::string_view resume_after,
                                                              size_t page_size,
                                                              size_t max_scan) const {
  auto keep = [&filter](const Contact& c) {
    if (!c.merged_into().empty()) return false;  // A pointer to its survivor, not a contact.
    if (c.archived() && !filter.show_archived) return false;
    if (!filter.owner.empty() && c.owner() != filter.owner) return false;
    if (filter.lifecycle_stage != crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED &&
        c.lifecycle_stage() != filter.lifecycle_stage) {
      return false;
    }
    if (!filter.tag.empty() &&
        std::find(c.tags().begin(), c.tags().end(), filter.tag) == c.tags().end()) {
      return false;
    }
    return !(filter.updated_since && Before(c.update_time(), *filter.updated_since));
  };
  if (!filter.company_id.empty()) {
    // Walk the affiliation index of the company; load each contact.
    return ScanPage<Contact>(
        *store_, Cf::kIndex, keys::Prefix2('a', tenant, filter.company_id), resume_after, page_size,
        max_scan, [&](const std::string& id, std::string_view) { return GetContact(tenant, id); },
        keep);
  }
  return ScanPage<Contact>(
      *store_, Cf::kState, keys::TenantPrefix('c', tenant), resume_after, page_size, max_scan,
      [](const std::string&, std::string_view value) {
        return Decode<Contact>(std::string(value));
      },
      keep);
}

absl::StatusOr<Page<Company>> ContactProjection::ListCompanies(std::string_view tenant,
                                                               const ListFilter& filter,
                                                               std::string_view resume_after,
                                                               size_t page_size,
                                                               size_t max_scan) const {
  const std::string industry = absl::AsciiStrToLower(filter.industry);
  return ScanPage<Company>(
      *store_, Cf::kState, keys::TenantPrefix('m', tenant), resume_after, page_size, max_scan,
      [](const std::string&, std::string_view value) {
        return Decode<Company>(std::string(value));
      },
      [&](const Company& c) {
        if (c.archived() && !filter.show_archived) return false;
        if (!filter.owner.empty() && c.owner() != filter.owner) return false;
        if (!industry.empty() && absl::AsciiStrToLower(c.industry()) != industry) return false;
        return filter.tag.empty() ||
               std::find(c.tags().begin(), c.tags().end(), filter.tag) != c.tags().end();
      });
}

absl::StatusOr<std::vector<Hit<Contact>>> ContactProjection::SearchOneWord(std::string_view tenant,
                                                                           const std::string& word,
                                                                           bool show_archived,
                                                                           size_t max_candidates,
                                                                           size_t limit) const {
  // The score of a contact is its best term starting with `word` (as Score computes it): its own
  // terms carry their kind in the index value; its companies' name words count as 'c'.
  auto score_of = [&](std::string_view key, size_t prefix_size, char kind) {
    const bool exact = key.find('\0', prefix_size) == prefix_size;
    return kind == 'n' ? (exact ? 4.0 : 3.0) : (exact ? 2.0 : 1.0);
  };
  std::map<std::string, double> best;
  size_t examined = 0;
  const std::string own = keys::SearchTermPrefix('s', tenant, word);
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, own, "", [&](std::string_view key, std::string_view v) {
    double& b = best[std::string(key.substr(key.rfind('\0') + 1))];
    b = std::max(b, score_of(key, own.size(), v.empty() ? 'n' : v[0]));
    return ++examined < max_candidates;
  }));
  std::map<std::string, double> companies;  // whose name has a word starting with `word`
  const std::string named = keys::SearchTermPrefix('n', tenant, word);
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, named, "", [&](std::string_view key, std::string_view v) {
        if (!v.empty() && v[0] == 'n') {
          double& b = companies[std::string(key.substr(key.rfind('\0') + 1))];
          b = std::max(b, score_of(key, named.size(), 'c'));
        }
        return ++examined < max_candidates;
      }));
  for (const auto& [company, company_score] : companies) {
    if (examined >= max_candidates) break;
    const double score = company_score;  // a lambda cannot capture a structured binding (C++17)
    RETURN_IF_ERROR(store_->Scan(Cf::kIndex, keys::Prefix2('a', tenant, company), "",
                                 [&](std::string_view key, std::string_view) {
                                   double& b = best[std::string(key.substr(key.rfind('\0') + 1))];
                                   b = std::max(b, score);
                                   return ++examined < max_candidates;
                                 }));
  }
  std::vector<std::pair<double, const std::string*>> ranked;
  ranked.reserve(best.size());
  for (const auto& [id, score] : best) ranked.emplace_back(score, &id);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  std::vector<Hit<Contact>> hits;
  for (const auto& [score, id] : ranked) {
    if (hits.size() >= limit) break;
    ASSIGN_OR_RETURN(std::optional<Contact> c, GetContact(tenant, *id));
    if (!c || !c->merged_into().empty() || (c->archived() && !show_archived)) continue;
    hits.push_back(Hit<Contact>{std::move(*c), score});
  }
  return hits;
}

absl::StatusOr<std::vector<Hit<Contact>>> ContactProjection::SearchContacts(
    std::string_view tenant, const std::vector<std::string>& words, bool show_archived,
    size_t max_candidates, size_t limit) const {
  std::vector<Hit<Contact>> hits;
  if (words.empty()) return hits;
  if (words.size() == 1) {
    return SearchOneWord(tenant, words[0], show_archived, max_candidates, limit);
  }
  const std::string& driver = Driver(words);
  std::set<std::string> candidates;
  RETURN_IF_ERROR(CollectCandidates(*store_, 's', tenant, driver, max_candidates, candidates));
  // Contacts of companies whose name matches the driver word are candidates too.
  std::set<std::string> companies;
  RETURN_IF_ERROR(CollectCandidates(*store_, 'n', tenant, driver, max_candidates, companies));
  for (const std::string& company : companies) {
    if (candidates.size() >= max_candidates) break;
    RETURN_IF_ERROR(store_->Scan(Cf::kIndex, keys::Prefix2('a', tenant, company), "",
                                 [&](std::string_view key, std::string_view) {
                                   candidates.emplace(key.substr(key.rfind('\0') + 1));
                                   return candidates.size() < max_candidates;
                                 }));
  }
  std::map<std::string, std::string> company_names;  // Cache per query.
  for (const std::string& id : candidates) {
    ASSIGN_OR_RETURN(std::optional<Contact> c, GetContact(tenant, id));
    if (!c || !c->merged_into().empty() || (c->archived() && !show_archived)) continue;
    std::map<std::string, char> terms = SearchTerms(*c);
    for (const auto& a : c->affiliations()) {
      auto it = company_names.find(a.company_id());
      if (it == company_names.end()) {
        ASSIGN_OR_RETURN(std::optional<Company> company, GetCompany(tenant, a.company_id()));
        it = company_names.emplace(a.company_id(), company ? company->name() : "").first;
      }
      AddWords(terms, it->second, 'c');
    }
    if (const double score = Score(words, terms); score > 0) {
      hits.push_back(Hit<Contact>{std::move(*c), score});
    }
  }
  SortHits(hits);
  if (hits.size() > limit) hits.resize(limit);
  return hits;
}

absl::StatusOr<std::vector<Hit<Company>>> ContactProjection::SearchCompanies(
    std::string_view tenant, const std::vector<std::string>& words, bool show_archived,
    size_t max_candidates) const {
  std::vector<Hit<Company>> hits;
  if (words.empty()) return hits;
  std::set<std::string> candidates;
  RETURN_IF_ERROR(
      CollectCandidates(*store_, 'n', tenant, Driver(words), max_candidates, candidates));
  for (const std::string& id : candidates) {
    ASSIGN_OR_RETURN(std::optional<Company> c, GetCompany(tenant, id));
    if (!c || (c->archived() && !show_archived)) continue;
    if (const double score = Score(words, CompanySearchTerms(*c)); score > 0) {
      hits.push_back(Hit<Company>{std::move(*c), score});
    }
  }
  SortHits(hits);
  return hits;
}

absl::StatusOr<Page<HistoryEntry>> ContactProjection::History(std::string_view tenant,
                                                              const std::vector<std::string>& ids,
                                                              bool company, size_t offset,
                                                              size_t page_size) const {
  // A record's trail is short next to its data; a survivor's includes its merged records'.
  constexpr size_t kMaxEntries = 100000;
  std::vector<HistoryEntry> all;
  absl::Status error;
  for (const std::string& id : ids) {
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, keys::Prefix2('h', tenant, id), "",
                     [&](std::string_view, std::string_view value) {
                       HistoryEntry entry;
                       if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                         error = absl::DataLossError("corrupt history entry");
                         return false;
                       }
                       entry.set_record_id(id);
                       all.push_back(std::move(entry));
                       return all.size() < kMaxEntries;
                     }));
    RETURN_IF_ERROR(error);
  }
  std::stable_sort(all.begin(), all.end(), [](const HistoryEntry& a, const HistoryEntry& b) {
    if (projection::TimestampNanos(a.time()) != projection::TimestampNanos(b.time()))
      return projection::TimestampNanos(a.time()) < projection::TimestampNanos(b.time());
    if (a.record_id() != b.record_id()) return a.record_id() < b.record_id();
    return a.version() < b.version();
  });
  Page<HistoryEntry> page;
  for (size_t i = offset; i < all.size() && page.items.size() < page_size; ++i) {
    page.items.push_back(std::move(all[i]));
  }
  if (offset + page.items.size() < all.size()) {
    page.resume_after = std::to_string(offset + page.items.size());
  }
  RETURN_IF_ERROR(company ? FillChanges<Company>(*store_, tenant, page.items)
                          : FillChanges<Contact>(*store_, tenant, page.items));
  return page;
}

absl::StatusOr<std::vector<crm::contact::v1::DuplicatePair>> ContactProjection::DuplicatesOf(
    std::string_view tenant, std::string_view contact_id) const {
  std::vector<crm::contact::v1::DuplicatePair> out;
  absl::Status error;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, keys::Prefix2('q', tenant, contact_id), "",
                   [&](std::string_view, std::string_view value) {
                     crm::contact::v1::DuplicatePair pair;
                     if (!pair.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                       error = absl::DataLossError("corrupt duplicate pair");
                       return false;
                     }
                     out.push_back(std::move(pair));
                     return true;
                   }));
  RETURN_IF_ERROR(error);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.score() != b.score() ? a.score() > b.score()
                                  : a.other_contact_id() < b.other_contact_id();
  });
  return out;
}

absl::StatusOr<Page<crm::contact::v1::DuplicatePair>> ContactProjection::DuplicatePairs(
    std::string_view tenant, std::string_view resume_after, double min_score,
    size_t page_size) const {
  Page<crm::contact::v1::DuplicatePair> page;
  const std::string prefix = keys::TenantPrefix('w', tenant);
  std::string start;
  if (!resume_after.empty()) {
    start = prefix;
    start.append(resume_after);
    start.push_back('\0');
  }
  absl::Status error;
  std::string last_position;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, prefix, start, [&](std::string_view key, std::string_view value) {
        crm::contact::v1::DuplicatePair pair;
        if (!pair.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt duplicate pair");
          return false;
        }
        if (pair.score() < min_score) return false;  // Best first: the rest score lower.
        if (page.items.size() >= page_size) {
          page.resume_after = last_position;
          return false;
        }
        last_position = std::string(key.substr(prefix.size()));
        page.items.push_back(std::move(pair));
        return true;
      }));
  RETURN_IF_ERROR(error);
  return page;
}

absl::StatusOr<std::optional<crm::contact::v1::DataQualityRules>> ContactProjection::QualityRules(
    std::string_view tenant) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::Settings(tenant, "rules")));
  return Decode<crm::contact::v1::DataQualityRules>(raw);
}

absl::StatusOr<int64_t> ContactProjection::QualityRulesVersion(std::string_view tenant) const {
  ASSIGN_OR_RETURN(std::optional<std::string> raw,
                   store_->Get(Cf::kState, keys::Settings(tenant, "version")));
  return raw ? store::DecodeInt64(*raw) : 0;
}

absl::StatusOr<Page<Contact>> ContactProjection::IncompleteContacts(
    std::string_view tenant, const crm::contact::v1::DataQualityRules& rules, int below,
    std::string_view resume_after, size_t page_size) const {
  // The groups that exist, each with its completeness under the current rules.
  struct Group {
    int completeness;
    std::string prefix;
  };
  std::vector<Group> groups;
  const std::string root = keys::TenantPrefix('y', tenant);
  std::string seek = root;
  for (;;) {
    std::optional<std::string> found;
    RETURN_IF_ERROR(
        store_->Scan(Cf::kIndex, root, seek, [&](std::string_view key, std::string_view) {
          found = std::string(key.substr(0, root.size() + 5));  // root + 4 bytes of bits + \0
          return false;
        }));
    if (!found) break;
    CheckBits bits;
    bits.applicable = static_cast<uint16_t>(store::GetBigEndian(found->substr(root.size()), 2));
    bits.missing = static_cast<uint16_t>(store::GetBigEndian(found->substr(root.size() + 2), 2));
    const int completeness = Completeness(bits, rules);
    if (completeness < below) groups.push_back({completeness, *found});
    seek = *found;
    seek.back() = '\x01';  // Past every key of this group.
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return a.completeness != b.completeness ? a.completeness < b.completeness : a.prefix < b.prefix;
  });
  // resume_after = group prefix (without root) + contact id of the last one returned.
  size_t first = 0;
  std::string start;
  if (!resume_after.empty()) {
    const std::string resume_prefix = root + std::string(resume_after.substr(0, 5));
    while (first < groups.size() && groups[first].prefix != resume_prefix) ++first;
    start = root + std::string(resume_after);
    start.push_back('\0');
  }
  Page<Contact> page;
  absl::Status error;
  std::string last_group;
  for (size_t g = first; g < groups.size() && page.resume_after.empty(); ++g) {
    const std::string& prefix = groups[g].prefix;
    RETURN_IF_ERROR(store_->Scan(
        Cf::kIndex, prefix, g == first ? start : "", [&](std::string_view key, std::string_view) {
          if (page.items.size() >= page_size) {
            const Contact& last = page.items.back();
            page.resume_after = last_group.substr(root.size()) + last.id();
            return false;
          }
          const std::string id(key.substr(prefix.size()));
          absl::StatusOr<std::optional<Contact>> c = GetContact(tenant, id);
          if (!c.ok()) {
            error = c.status();
            return false;
          }
          if (*c) {
            page.items.push_back(std::move(**c));
            last_group = prefix;
          }
          return true;
        }));
    RETURN_IF_ERROR(error);
  }
  return page;
}

absl::StatusOr<std::vector<Relationship>> ContactProjection::IncomingRelationships(
    std::string_view tenant, std::string_view company_id) const {
  std::vector<Relationship> out;
  absl::Status error;
  RETURN_IF_ERROR(
      store_->Scan(Cf::kIndex, keys::Prefix2('r', tenant, company_id), "",
                   [&](std::string_view, std::string_view value) {
                     Relationship r;
                     if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                       error = absl::DataLossError("corrupt relationship");
                       return false;
                     }
                     out.push_back(std::move(r));
                     return true;
                   }));
  RETURN_IF_ERROR(error);
  return out;
}

// --- Import -----------------------------------------------------------------------------------

absl::StatusOr<std::optional<Contact>> ContactProjection::FindByEmail(
    std::string_view tenant, std::string_view email) const {
  return FindInBlock(tenant, "e:" + std::string(email));
}

absl::StatusOr<std::optional<Contact>> ContactProjection::FindByPhone(
    std::string_view tenant, std::string_view phone) const {
  return FindInBlock(tenant, "p:" + std::string(phone));
}

// Duplicate blocks hold live contacts only, in id (creation) order.
absl::StatusOr<std::optional<Contact>> ContactProjection::FindInBlock(
    std::string_view tenant, const std::string& block) const {
  std::string first;
  const std::string prefix = keys::Prefix2('x', tenant, block);
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view) {
    first = std::string(key.substr(prefix.size()));
    return first.empty();  // the block's member count, kept while it is over the limit: past it
  }));
  if (first.empty()) return std::nullopt;
  return GetContact(tenant, first);
}

absl::StatusOr<std::optional<Company>> ContactProjection::FindCompanyByDomain(
    std::string_view tenant, std::string_view domain) const {
  // Companies are indexed by the words of their domain: read those under its first word.
  const std::vector<std::string> words = validation::SplitWords(std::string(domain));
  if (words.empty()) return std::nullopt;
  constexpr size_t kMaxExamined = 1000;
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(Cf::kIndex, keys::SearchTermPrefix('n', tenant, words[0] + '\0'), "",
                               [&](std::string_view key, std::string_view) {
                                 ids.emplace_back(key.substr(key.rfind('\0') + 1));
                                 return ids.size() < kMaxExamined;
                               }));
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<Company> company, GetCompany(tenant, id));
    if (company && !company->archived() && company->domain() == domain) return company;
  }
  return std::nullopt;
}

absl::Status ContactProjection::ScanImport(
    std::string_view tenant, std::string_view import_id,
    const std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>& fn)
    const {
  return projection::ScanImport(store_->Latest(), keys::kImportKind, tenant, import_id, fn);
}

}  // namespace crm::contact
