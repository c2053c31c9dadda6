#include "common/store/checkpoint.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::store {
namespace {

namespace fs = std::filesystem;

constexpr char kManifest[] = "CHECKPOINT";
constexpr char kRestored[] = "RESTORED";

// Writes `text` to `path` through a temporary file and a rename, so readers see all or nothing.
absl::Status WriteFileAtomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::Status ValidateCheckpointName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError("name: must be 1 to 64 characters");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
      return absl::InvalidArgumentError(
          absl::StrCat("name: \"", name,
                       "\" may hold only a-z, 0-9, '.', '_' and '-', and must start with a letter "
                       "or digit"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<WrittenCheckpoint> WriteCheckpoint(const std::string& backup_dir,
                                                  const std::string& name,
                                                  const std::vector<CheckpointPart>& parts) {
  if (absl::Status s = ValidateCheckpointName(name); !s.ok()) return s;
  const fs::path final_dir = fs::path(backup_dir) / name;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: a checkpoint \"", name, "\" exists at ", final_dir.string()));
  }
  const fs::path partial = fs::path(backup_dir) / ("." + name + ".partial");
  fs::remove_all(partial, ec);  // what an interrupted attempt left
  fs::create_directories(partial, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", partial.string(), ": ", ec.message()));
  }
  auto fail = [&](const absl::Status& s) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    return s;
  };
  nlohmann::json manifest;
  absl::BitGen random;
  manifest["id"] = absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(random), absl::kZeroPad16),
                                absl::Hex(absl::Uniform<uint64_t>(random), absl::kZeroPad16));
  manifest["name"] = name;
  manifest["created"] = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  WrittenCheckpoint written;
  for (const CheckpointPart& part : parts) {
    if (absl::Status s = part.write((partial / part.name).string()); !s.ok()) {
      return fail(absl::Status(s.code(), absl::StrCat(part.name, ": ", s.message())));
    }
    if (fs::exists(partial / part.name, ec)) written.parts.push_back(part.name);
  }
  manifest["parts"] = written.parts;
  if (absl::Status s = WriteFileAtomically(partial / kManifest, manifest.dump(2) + "\n"); !s.ok()) {
    return fail(s);
  }
  fs::rename(partial, final_dir, ec);
  if (ec) {
    return fail(
        absl::InternalError(absl::StrCat("cannot rename ", partial.string(), ": ", ec.message())));
  }
  written.path = final_dir.string();
  return written;
}

absl::StatusOr<std::vector<std::string>> RestoreCheckpoint(const std::string& checkpoint,
                                                           const std::string& data_dir,
                                                           const std::vector<std::string>& parts) {
  constexpr char kSetting[] = "--restore-from/CRM_RESTORE_FROM";
  absl::StatusOr<std::string> text = ReadFile(fs::path(checkpoint) / kManifest);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kSetting, " \"", checkpoint, "\" is not a checkpoint: it has no ", kManifest, " file"));
  }
  const nlohmann::json manifest = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || !manifest.contains("id") || !manifest["id"].is_string() ||
      !manifest.contains("parts") || !manifest["parts"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSetting, " \"", checkpoint, "\": its ", kManifest, " file is damaged"));
  }
  const std::string id = manifest["id"].get<std::string>();
  absl::StatusOr<std::string> restored = ReadFile(fs::path(data_dir) / kRestored);
  if (restored.ok() && *restored == id + "\n") {
    spdlog::info("{} {}: restored before; starting from the data directory as it is", kSetting,
                 checkpoint);
    return std::vector<std::string>{};
  }
  std::set<std::string> held;
  for (const auto& part : manifest["parts"]) {
    if (part.is_string()) held.insert(part.get<std::string>());
  }
  std::vector<std::string> todo;
  for (const std::string& part : parts) {
    if (held.count(part) > 0) todo.push_back(part);
  }
  if (todo.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSetting, " \"", checkpoint, "\" holds none of what this process keeps (",
                     absl::StrJoin(parts, ", "), "); it holds: ", absl::StrJoin(held, ", ")));
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  for (const std::string& part : todo) {
    const fs::path target = fs::path(data_dir) / part;
    const fs::path incoming = fs::path(data_dir) / (part + ".restoring");
    fs::remove_all(incoming, ec);
    fs::copy(fs::path(checkpoint) / part, incoming, fs::copy_options::recursive, ec);
    if (!ec) fs::remove_all(target, ec);
    if (!ec) fs::rename(incoming, target, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(kSetting, ": cannot restore ", part, " into ",
                                              target.string(), ": ", ec.message(),
                                              "; restarting tries again"));
    }
    spdlog::warn("{}: {} restored from {}", kSetting, part, checkpoint);
  }
  if (absl::Status s = WriteFileAtomically(fs::path(data_dir) / kRestored, id + "\n"); !s.ok()) {
    return s;
  }
  return todo;
}

}  // namespace crm::store
