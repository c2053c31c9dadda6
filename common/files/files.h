// Files named by settings (keys, certificates, secrets), read whole.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crm::files {

// The content of the file at `path`; INVALID_ARGUMENT "<setting> "<path>": cannot be read".
absl::StatusOr<std::string> ReadSettingFile(const std::string& path, std::string_view setting);

// The same without trailing newlines: a secret written with `echo > file` is the line only.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view setting);

}  // namespace crm::files
