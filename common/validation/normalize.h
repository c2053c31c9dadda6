// Normalisation of contact points, shared by every service that accepts them.
//
// Each function returns the canonical form, or INVALID_ARGUMENT with a message that says what is
// wrong with the value (the caller prefixes the field name):
//
//   ASSIGN_OR_RETURN(std::string email, NormalizeEmail(" Ann@Example.COM "));  // ann@example.com
//   ASSIGN_OR_RETURN(std::string phone, NormalizePhone("+49 (30) 123-456"));   // +4930123456
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::validation {

// Trims, lower-cases and checks an email address: one "@", a local part of 1 to 64 printable
// characters without spaces, a domain of dot-separated labels of letters, digits and hyphens with
// at least one dot; at most 254 characters in all.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw);

// Normalises a phone number to E.164: "+" then 8 to 15 digits, the first not 0. Accepts spaces,
// dashes, dots, slashes and parentheses as separators and "00" for "+". Numbers without a
// country code are refused (there is no default region).
absl::StatusOr<std::string> NormalizePhone(absl::string_view raw);

// Normalises an internet domain: trims, lower-cases, drops a scheme ("https://"), a leading
// "www.", a path and a trailing dot; then checks dot-separated labels of letters, digits and
// hyphens (at least two labels, at most 253 characters).
absl::StatusOr<std::string> NormalizeDomain(absl::string_view raw);

// Returns true if `s` is valid UTF-8 with no control characters other than tab and newline.
bool IsCleanUtf8(absl::string_view s);

// Counts the code points of valid UTF-8 `s`.
size_t CodePointCount(absl::string_view s);

}  // namespace crm::validation
