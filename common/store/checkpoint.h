// Checkpoints: consistent copies of a process's stores, and restoring one at start-up.
//
// A checkpoint is a directory <backup dir>/<name> holding one subdirectory per part (a
// projection's store, named after the projection, and "log" for the embedded log) and a
// CHECKPOINT file (JSON: id, name, created, parts). It is written under a temporary name and
// renamed once complete, so a checkpoint that exists is whole.
//
//   ASSIGN_OR_RETURN(WrittenCheckpoint written, WriteCheckpoint(backup_dir, "before-upgrade",
//   parts));
//   ... later, before the stores are opened:
//   ASSIGN_OR_RETURN(auto restored, RestoreCheckpoint(path, data_dir, {"contact", "log"}));
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::store {

// One thing a checkpoint holds: `write` copies it to the directory it is given (which does
// not exist yet). A part that writes nothing there is left out of the checkpoint.
struct CheckpointPart {
  std::string name;
  std::function<absl::Status(const std::string& dir)> write;
};

// INVALID_ARGUMENT naming `name` unless it is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'
// starting with a letter or digit.
absl::Status ValidateCheckpointName(const std::string& name);

struct WrittenCheckpoint {
  std::string path;
  std::vector<std::string> parts;  // what it holds, in order
};

// Writes every part, in order, into <backup_dir>/<name>.
// ALREADY_EXISTS if it exists; INTERNAL if a part cannot be written (nothing is left behind).
absl::StatusOr<WrittenCheckpoint> WriteCheckpoint(const std::string& backup_dir,
                                                  const std::string& name,
                                                  const std::vector<CheckpointPart>& parts);

// Replaces, for each part in `parts` that the checkpoint at `checkpoint` holds, the directory
// <data_dir>/<part> with the checkpoint's copy. Runs once per checkpoint: a RESTORED file in
// `data_dir` remembers the last one restored, and restoring it again does nothing (so the
// setting may stay in a pod's configuration across restarts). Returns the parts restored, empty
// when already done. INVALID_ARGUMENT if `checkpoint` is not a checkpoint or holds none of
// `parts`; INTERNAL if a copy fails (restarting retries it).
absl::StatusOr<std::vector<std::string>> RestoreCheckpoint(const std::string& checkpoint,
                                                           const std::string& data_dir,
                                                           const std::vector<std::string>& parts);

}  // namespace crm::store
