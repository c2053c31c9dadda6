// Identifiers: sortable, random, 26 characters of Crockford base32 (the ULID layout: 48 bits of
// milliseconds since the epoch, then 80 random bits). Ids sort by creation time, which makes
// list order stable and keys cluster by age.
#pragma once

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::ids {

// Returns a new id for `now`. Thread-safe. Randomness comes from OpenSSL's CSPRNG (RandomBytes).
std::string NewId(absl::Time now = absl::Now());

// Returns an id of the same shape derived from `seed` (SHA-256): the same seed always gives the
// same id. For aggregates whose identity is a natural key (a product's SKU), so that two
// creations of the same key meet on one aggregate and the log decides between them.
std::string IdFor(std::string_view seed);

// Returns true if `id` has the shape of an id made by NewId (26 characters of the alphabet).
bool IsWellFormed(std::string_view id);

}  // namespace crm::ids
