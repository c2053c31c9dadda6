// CSV as RFC 4180 has it: fields separated by commas, records by CRLF (LF accepted), a field
// holding a comma, quote or line break quoted with doubled quotes inside. For crmctl export
// (writing) and import (reading).
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace crm::ctl {

// `value` as one CSV field, quoted when it must be.
std::string CsvCell(const std::string& value);

// Reads the next record of `in` into `fields`. False at the end of the input (fields empty) or
// on a malformed record (`error` says why: an unterminated quote, text after a closing quote).
// `lines` counts the physical lines consumed, so errors can name one.
bool ReadCsvRecord(std::istream& in, std::vector<std::string>& fields, std::string& error,
                   int64_t& lines);

}  // namespace crm::ctl
