// The contact service projection's key schema, in one place. Every key starts with a kind
// letter and the tenant.
//
// kState
//   "c/" tenant \0 contact_id                     -> Contact (deterministic protobuf)
//   "m/" tenant \0 company_id                     -> Company
//   "d/" tenant \0 "rules" | "version"            -> DataQualityRules | its version (BE64)
// kIndex
//   "s/" tenant \0 term \0 contact_id             -> field kind ('n' name, 'e' email, 'p' phone)
//   "n/" tenant \0 term \0 company_id             -> field kind ('n' name, 'd' domain)
//   "a/" tenant \0 company_id \0 contact_id       -> "" (affiliation: contacts by company)
//   "r/" tenant \0 related_id \0 company_id \0 t  -> Relationship (incoming, t = type byte)
//   "v/" tenant \0 id \0 time(BE64 ns) version(BE64) -> the record after that change, once a
//                                                   later one superseded it (as_of; the current
//                                                   state is its "c/" or "m/" key)
//   "h/" tenant \0 id \0 version(BE64)            -> HistoryEntry
//   "g/" tenant \0 contact_id \0 version(BE64)    -> EventEnvelope (a contact's own events while it
//                                                   holds merged contacts, after its state before
//                                                   the first at version 0, for unmerge to fold
//                                                   again; contact_fold.h)
//   "y/" tenant \0 applicable(BE16) missing(BE16) \0 contact_id -> "" (contacts by quality checks)
//   "x/" tenant \0 block key \0 contact_id        -> Contact (its DuplicateSignature: duplicate
//                                                   blocking, who to compare and with what)
//   "z/" tenant \0 block key                    -> its "x/" entries' count (BE64), kept only
//                                                   while over the cap (kMaxDuplicateBlock), so
//                                                   such a block is never scanned
//   "q/" tenant \0 contact_id \0 other_id          -> DuplicatePair (likely duplicates of one)
//   "w/" tenant \0 ~score(BE32) \0 low_id \0 high_id -> DuplicatePair (all pairs, best first)
//   "i/" tenant \0 import_id \0 id               -> ImportLedgerEntry (what an import did to a
//                                                   contact or company; import_ledger.h)
// (The projector's own keys, "o/..." in kIndex and "p/", "k/", "d/" in kLog, do not collide.)
//
// Ids sort by creation time, so a state scan lists oldest first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/store/big_endian.h"
#include "common/store/keys.h"

namespace crm::contact::keys {

inline std::string TenantPrefix(char kind, std::string_view tenant) {
  return store::KindPrefix(kind, tenant);
}

// kind/tenant\0a\0
inline std::string Prefix2(char kind, std::string_view tenant, std::string_view a) {
  return store::KindPrefix(kind, tenant, a);
}

inline std::string Contact(std::string_view tenant, std::string_view id) {
  std::string k = TenantPrefix('c', tenant);
  k.append(id);
  return k;
}

inline std::string Company(std::string_view tenant, std::string_view id) {
  std::string k = TenantPrefix('m', tenant);
  k.append(id);
  return k;
}

// Search entries: kind 's' for contacts, 'n' for companies.
inline std::string SearchTermPrefix(char kind, std::string_view tenant,
                                    std::string_view term_prefix) {
  std::string k = TenantPrefix(kind, tenant);
  k.append(term_prefix);
  return k;
}

inline std::string SearchEntry(char kind, std::string_view tenant, std::string_view term,
                               std::string_view id) {
  std::string k = SearchTermPrefix(kind, tenant, term);
  k.push_back('\0');
  k.append(id);
  return k;
}

inline std::string Affiliation(std::string_view tenant, std::string_view company_id,
                               std::string_view contact_id) {
  std::string k = Prefix2('a', tenant, company_id);
  k.append(contact_id);
  return k;
}

inline std::string IncomingRelationship(std::string_view tenant, std::string_view related_id,
                                        std::string_view company_id, int type) {
  std::string k = Prefix2('r', tenant, related_id);
  k.append(company_id);
  k.push_back('\0');
  k.push_back(static_cast<char>(type));
  return k;
}

// Point-in-time states (common/projection/as_of.h) use kind 'v'.
inline constexpr char kAsOfKind = 'v';
// The import ledger (common/projection/import_ledger.h) uses kind 'i'.
inline constexpr char kImportKind = 'i';

inline std::string History(std::string_view tenant, std::string_view id, int64_t version) {
  std::string k = Prefix2('h', tenant, id);
  store::PutBigEndian(k, static_cast<uint64_t>(version));
  return k;
}

inline std::string Settings(std::string_view tenant, std::string_view name) {
  std::string k = TenantPrefix('d', tenant);
  k.append(name);
  return k;
}

inline std::string QualityGroup(std::string_view tenant, uint16_t applicable, uint16_t missing) {
  std::string k = TenantPrefix('y', tenant);
  store::PutBigEndian(k, applicable, 2);
  store::PutBigEndian(k, missing, 2);
  k.push_back('\0');
  return k;
}

inline std::string DuplicateBlock(std::string_view tenant, std::string_view block,
                                  std::string_view id) {
  std::string k = Prefix2('x', tenant, block);
  k.append(id);
  return k;
}

// A block's member count, kept only while it is over the limit: the block's prefix itself, so
// the scan that reads a block meets it first (before every member, whose id follows the prefix)
// and no separate read is needed to learn whether to read the members at all.
inline std::string DuplicateBlockSize(std::string_view tenant, std::string_view block) {
  return Prefix2('x', tenant, block);
}

inline std::string DuplicateOf(std::string_view tenant, std::string_view id,
                               std::string_view other) {
  std::string k = Prefix2('q', tenant, id);
  k.append(other);
  return k;
}

// Scores are kept to 6 decimals; the complement makes the best pair sort first.
inline uint32_t ScoreRank(double score) {
  return 0xFFFFFFFFu - static_cast<uint32_t>(score * 1000000.0 + 0.5);
}

inline std::string DuplicateRanking(std::string_view tenant, double score, std::string_view a,
                                    std::string_view b) {
  std::string k = TenantPrefix('w', tenant);
  store::PutBigEndian(k, ScoreRank(score), 4);
  k.push_back('\0');
  k.append(a < b ? a : b);
  k.push_back('\0');
  k.append(a < b ? b : a);
  return k;
}

}  // namespace crm::contact::keys
