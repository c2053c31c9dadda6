#include "common/files/files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace crm::files {

absl::StatusOr<std::string> ReadSettingFile(const std::string& path, std::string_view setting) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(setting), " \"", path, "\": cannot be read"));
  }
  return content.str();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view setting) {
  absl::StatusOr<std::string> secret = ReadSettingFile(path, setting);
  if (!secret.ok()) return secret;
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) {
    secret->pop_back();
  }
  return secret;
}

}  // namespace crm::files
