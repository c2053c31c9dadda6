#include "tools/crmctl/csv.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace crm::ctl {

std::string CsvCell(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  return absl::StrCat("\"", absl::StrReplaceAll(value, {{"\"", "\"\""}}), "\"");
}

bool ReadCsvRecord(std::istream& in, std::vector<std::string>& fields, std::string& error,
                   int64_t& lines) {
  fields.clear();
  error.clear();
  std::string field;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field was quoted (and closed)
  bool any = false;         // read anything of this record
  for (int c = in.get(); c != EOF; c = in.get()) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get();
          field.push_back('"');
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        if (c == '\n') ++lines;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\r' && in.peek() == '\n') {
      continue;  // CRLF: the LF ends the record
    } else if (c == '\n') {
      ++lines;
      fields.push_back(std::move(field));
      return true;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
    } else if (was_quoted) {
      error = "text after a closing quote";
      std::string rest;
      std::getline(in, rest);
      ++lines;
      return false;
    } else {
      field.push_back(static_cast<char>(c));
    }
  }
  if (quoted) {
    error = "a quoted field is not closed before the end of the file";
    return false;
  }
  if (!any) return false;
  ++lines;
  fields.push_back(std::move(field));
  return true;
}

}  // namespace crm::ctl
