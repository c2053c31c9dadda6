// The interaction service projection's key schema. Every key starts with a kind and the tenant.
//
// kState
//   "i/" tenant \0 interaction_id                      -> Interaction
//   "c/" tenant \0 case_id                             -> Case
//   "j/" tenant \0 task_id                             -> Task
// kIndex
//   "t/" tenant \0 contact_id \0 ~time(BE64) id        -> TimelineItem (newest first)
//   "u/" tenant \0 company_id \0 ~time(BE64) id        -> TimelineItem
//   "e/" tenant \0 contact_id \0 case_id              -> "" (cases by contact)
//   "a/" tenant \0 assignee \0 when(BE64) task_id     -> "" (open tasks by due time)
// A case's events show in timelines as "<case id>#<version>" entries.
// "k/" (kState) and "z/" (kIndex) belong to the contact directory (common/directory).
// ~time is 2^64-1 minus the nanoseconds since 1970, so a forward scan is newest first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/store/big_endian.h"
#include "common/store/keys.h"

namespace crm::interaction::keys {

inline std::string Prefix(char kind, std::string_view tenant) {
  return store::KindPrefix(kind, tenant);
}

inline std::string Prefix2(char kind, std::string_view tenant, std::string_view a) {
  return store::KindPrefix(kind, tenant, a);
}

inline std::string Interaction(std::string_view tenant, std::string_view id) {
  return Prefix('i', tenant).append(id);
}

inline std::string CaseKey(std::string_view tenant, std::string_view id) {
  return Prefix('c', tenant).append(id);
}

inline std::string CaseOfContact(std::string_view tenant, std::string_view contact,
                                 std::string_view case_id) {
  return Prefix2('e', tenant, contact).append(case_id);
}

inline std::string TaskKey(std::string_view tenant, std::string_view id) {
  return Prefix('j', tenant).append(id);
}

inline std::string OpenTask(std::string_view tenant, std::string_view assignee, int64_t nanos,
                            std::string_view id) {
  std::string k = Prefix2('a', tenant, assignee);
  store::PutBigEndian(k, static_cast<uint64_t>(nanos));
  return k.append(id);
}

// The position of an item in a timeline: newest first, then by id.
inline std::string TimelinePosition(int64_t nanos, std::string_view id) {
  std::string k;
  store::PutBigEndian(k, UINT64_MAX - static_cast<uint64_t>(nanos));
  k.append(id);
  return k;
}

// `kind` is 't' (contact) or 'u' (company).
inline std::string Timeline(char kind, std::string_view tenant, std::string_view owner_id,
                            int64_t nanos, std::string_view id) {
  return Prefix2(kind, tenant, owner_id).append(TimelinePosition(nanos, id));
}

}  // namespace crm::interaction::keys
