// Folding text for search: lower case, Latin accents removed, split into words.
//
//   FoldText("José Ñúñez")       == "jose nunez"
//   SplitWords("jose nunez-diaz") == {"jose", "nunez", "diaz"}
//
// Folding covers ASCII, Latin-1 Supplement and Latin Extended-A (the letters of Western, Central
// and Northern European languages); other scripts pass through unchanged, so they still match
// exactly. Full Unicode case folding would need ICU, which we do not depend on.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace crm::validation {

// Returns `text` lower-cased with Latin diacritics removed ("Straße" -> "strasse").
// Invalid UTF-8 bytes are dropped.
std::string FoldText(absl::string_view text);

// Folds `text` and splits it into words at every character that is not a letter or digit
// (non-ASCII code points count as letters). Empty words are dropped.
std::vector<std::string> SplitWords(absl::string_view text);

}  // namespace crm::validation
