// Duplicate detection: how alike two contacts are, and the blocking keys that find candidates
// without comparing every pair. Pure functions.
//
// Reasons and their weights (combined as independent evidence, 1 - prod(1 - w)):
//   SAME_EMAIL              a normalised email in common                          0.95
//   SAME_PHONE              an E.164 phone in common                              0.90
//   SAME_NAME_SAME_COMPANY  the same folded full name and a company in common     0.85
//   SIMILAR_NAME            names alike despite typos, transposed letters, swapped
//                           given/family names, nicknames (Bob/Robert) or accents:
//                           0.6 x similarity, counted when similarity >= 0.85
// A pair is a candidate at score >= kDuplicateThreshold.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crm/contact/v1/contact_service.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

inline constexpr double kDuplicateThreshold = 0.5;

// A blocking key shared by more live contacts than this (a common name, a switchboard phone)
// finds no pairs: it is no evidence, and comparing against all of them would make every write
// cost O(block). Exact full names have a key of their own, so "Maria Garcia" twice still meets
// when "n:gar|m" is too common.
inline constexpr size_t kMaxDuplicateBlock = 100;

struct DuplicateScore {
  double score = 0;
  std::vector<crm::contact::v1::DuplicateReason> reasons;
};

// How likely `a` and `b` are the same person.
DuplicateScore ScoreDuplicate(const Contact& a, const Contact& b);

// What ScoreDuplicate and BlockingKeys read of a contact, and nothing else: its id, names, email
// addresses, phone numbers and affiliated companies. Kept in the duplicate-blocking index, so a
// new contact is scored against its block without reading each member's record.
Contact DuplicateSignature(const Contact& contact);

// Keys that two likely duplicates share at least one of: "e:<email>", "p:<phone>", name blocks
// "n:<first 3 letters of one name>|<initial of the other>" (both orders, nicknames resolved),
// so typos after the third letter and swapped names still meet, and "f:<given>|<family>" for
// the exact full name (nickname resolved).
std::vector<std::string> BlockingKeys(const Contact& contact);

// Which kind of blocking key `key` is. A full-name block holds only contacts that are in both
// name blocks of each of its members too (the keys come from the same folded names): whoever has
// read one of those name blocks has read every member of the full-name block, and knows the
// full-name block is no larger.
inline bool IsNameBlock(std::string_view key) { return key.starts_with("n:"); }
inline bool IsFullNameBlock(std::string_view key) { return key.starts_with("f:"); }

// Similarity of two names in [0, 1]: 1 - Damerau-Levenshtein distance / longer length, on
// folded names with nicknames resolved.
double NameSimilarity(std::string_view a, std::string_view b);

// The formal given name for a nickname ("bob" -> "robert"), else the folded name itself.
std::string CanonicalGivenName(std::string_view given);

}  // namespace crm::contact
