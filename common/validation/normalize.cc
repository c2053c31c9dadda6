#include "common/validation/normalize.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace crm::validation {
namespace {

bool IsDomainLabelChar(char c) { return absl::ascii_isalnum(c) || c == '-'; }

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw) {
  std::string email = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (email.empty()) return absl::InvalidArgumentError("must not be empty");
  if (email.size() > 254) return absl::InvalidArgumentError("must be at most 254 characters");
  const size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", email, "\" must contain exactly one @"));
  }
  const absl::string_view local(email.data(), at);
  const absl::string_view domain(email.data() + at + 1, email.size() - at - 1);
  if (local.empty() || local.size() > 64) {
    return absl::InvalidArgumentError("the part before @ must be 1 to 64 characters");
  }
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", email, "\" has a character not allowed before @"));
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos) {
    return absl::InvalidArgumentError("the part before @ must not start, end or repeat a dot");
  }
  if (domain.empty() || domain.find('.') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", email, "\" needs a domain with a dot after @"));
  }
  size_t label_start = 0;
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      const absl::string_view label = domain.substr(label_start, i - label_start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", email, "\" has an invalid domain after @"));
      }
      label_start = i + 1;
    } else if (!IsDomainLabelChar(domain[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", email, "\" has a character not allowed in the domain"));
    }
  }
  return email;
}

absl::StatusOr<std::string> NormalizeDomain(absl::string_view raw) {
  std::string d = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (const size_t scheme = d.find("://"); scheme != std::string::npos) d.erase(0, scheme + 3);
  if (const size_t slash = d.find('/'); slash != std::string::npos) d.erase(slash);
  if (d.rfind("www.", 0) == 0) d.erase(0, 4);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty()) return absl::InvalidArgumentError("must not be empty");
  if (d.size() > 253) return absl::InvalidArgumentError("must be at most 253 characters");
  if (d.find('.') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", d, "\" needs a dot, e.g. example.com"));
  }
  size_t label_start = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      const absl::string_view label(d.data() + label_start, i - label_start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return absl::InvalidArgumentError(absl::StrCat("\"", d, "\" is not a valid domain"));
      }
      label_start = i + 1;
    } else if (!IsDomainLabelChar(d[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", d, "\" may hold only letters, digits, hyphens and dots"));
    }
  }
  return d;
}

absl::StatusOr<std::string> NormalizePhone(absl::string_view raw) {
  absl::string_view s = absl::StripAsciiWhitespace(raw);
  if (s.empty()) return absl::InvalidArgumentError("must not be empty");
  if (s.size() > 64) return absl::InvalidArgumentError("must be at most 64 characters");
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && i == 0) {
      plus = true;
    } else if (absl::ascii_isdigit(c)) {
      digits.push_back(c);
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') {
      continue;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", s, "\" may hold only digits, a leading +, spaces, dashes, dots and parentheses"));
    }
  }
  if (!plus) {
    if (digits.size() > 2 && digits[0] == '0' && digits[1] == '0') {
      digits.erase(0, 2);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", s, "\" must be international: start with + (or 00) and the country code"));
    }
  }
  if (digits.empty() || digits[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" must have a country code after + (it cannot start with 0)"));
  }
  if (digits.size() < 8 || digits.size() > 15) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" must have 8 to 15 digits with the country code (E.164)"));
  }
  return absl::StrCat("+", digits);
}

bool IsCleanUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past Unicode are not valid UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || (cp >= 0x80 && cp < 0xA0)) {
      return false;
    }
    i += len;
  }
  return true;
}

size_t CodePointCount(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace crm::validation
