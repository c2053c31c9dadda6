// The import ledger: what a projection records, in the same WriteBatch as the event, when it
// applies an event of a bulk import (source "import", the import id as correlation id) — per
// import and record, whether the import created it or the version it had before and the fields
// the import changed. UndoImport reads it back to archive what an import created and restore
// what it changed. Deterministic: it depends only on the event and what is already recorded.
//
//   key: kind "/" tenant \0 import_id \0 record_id  -> crm.common.v1.ImportLedgerEntry (kIndex)
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/projection/call_context.h"
#include "common/store/projection_store.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/common/v1/import.pb.h"

namespace crm::projection {

// The envelope source of import commands.
inline constexpr std::string_view kImportSource = "import";

// The request id of row `row` of import `import_id`: sending the row again (a resumed import)
// answers with its first outcome.
std::string ImportRequestId(std::string_view import_id, int64_t row);

// The result of row `row` from its write: `status` OK (created when `version` is 1, else updated),
// or why not (INVALID for INVALID_ARGUMENT, FAILED for any other refusal).
crm::common::v1::ImportRowResult RowResult(int64_t row, const absl::Status& status, std::string id,
                                           int64_t version, std::string matched_by);

// Records undone at a time by a service's UndoImport.
inline constexpr size_t kUndoWindow = 64;

// `ctx` with the import id as correlation id: the projection's import ledger keys on it.
inline CallContext ImportContext(const CallContext& ctx, const std::string& import_id) {
  CallContext c = ctx;
  c.correlation_id = import_id;
  return c;
}

// What the decision of an import row found, for its result.
struct ImportMatch {
  // How an existing record was found ("id", "email", ...); empty when none was.
  std::string matched_by;
  // Set when the matched record already held the row: (id, version); nothing is written.
  std::optional<std::pair<std::string, int64_t>> unchanged;
};

// What a decision returns for an unchanged row, after setting ImportMatch::unchanged (it never
// reaches a caller).
inline absl::Status Unchanged() { return absl::AlreadyExistsError("unchanged"); }

// A step that follows the creation of a record by an import row (archiving it, taking an order to
// its status): `done` gets the record after it.
template <typename T>
using ImportStep = std::function<void(const std::string& id, Done<T> done)>;

// The completion of an import row's write: the row's result from `match` and the record written,
// after `then` (if set) ran on a record the row created.
template <typename T>
Done<T> ImportRowDone(int64_t row, std::shared_ptr<ImportMatch> match, ImportStep<T> then,
                      Done<crm::common::v1::ImportRowResult> done) {
  return [row, match = std::move(match), then = std::move(then),
          done = std::move(done)](absl::StatusOr<T> record) {
    if (match->unchanged) {
      crm::common::v1::ImportRowResult result;
      result.set_row(row);
      result.set_outcome(crm::common::v1::IMPORT_OUTCOME_UNCHANGED);
      result.set_id(match->unchanged->first);
      result.set_version(match->unchanged->second);
      result.set_matched_by(match->matched_by);
      done(std::move(result));
      return;
    }
    if (record.ok() && record->version() == 1 && then) {
      // Created: the row's result is the record after the step.
      then(record->id(), [row, id = record->id(), done](absl::StatusOr<T> after) {
        crm::common::v1::ImportRowResult result =
            RowResult(row, after.status(), after.ok() ? after->id() : id,
                      after.ok() ? after->version() : 0, "");
        if (after.ok()) result.set_outcome(crm::common::v1::IMPORT_OUTCOME_CREATED);
        if (!after.ok()) result.set_id(id);
        done(std::move(result));
      });
      return;
    }
    if (!record.ok()) {
      done(RowResult(row, record.status(), "", 0, ""));
      return;
    }
    done(RowResult(row, absl::OkStatus(), record->id(), record->version(), match->matched_by));
  };
}

// Records `event` (applied, not refused) in the ledger under key kind `kind` if it belongs to an
// import; `paths` are the fields it changed (an update's mask; empty for a create). A record the
// import touches again keeps its first version and gains the new paths.
// `before` (optional) is the record before the event, kept for records without versions.
absl::Status RecordImport(store::ProjectionStore::Batch& batch, char kind,
                          const crm::common::v1::EventEnvelope& event,
                          const std::vector<std::string>& paths, const std::string& before = "");

// Every record of import `import_id` of `tenant` in `view`, in record id order, until `fn` returns
// false. DATA_LOSS if an entry does not decode.
absl::Status ScanImport(
    const store::ReadView& view, char kind, std::string_view tenant, std::string_view import_id,
    const std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>& fn);

using ImportLedgerFn =
    std::function<bool(std::string_view id, const crm::common::v1::ImportLedgerEntry&)>;

// A service's UndoImport: every record of import `import_id` in the caller's tenant (read with
// `scan`) undone by `undo_one` (true once undone, or why not), kUndoWindow at a time, summed up
// for `done`. NOT_FOUND naming import_id if `scan` finds no record (`what`: "contact or
// company").
void UndoAll(const CallContext& ctx, const std::string& import_id,
             const std::function<absl::Status(std::string_view tenant, std::string_view import_id,
                                              const ImportLedgerFn& fn)>& scan,
             std::function<void(const std::string& id, const crm::common::v1::ImportLedgerEntry&,
                                Done<bool> done)>
                 undo_one,
             const std::string& what, Done<crm::common::v1::ImportUndoSummary> done);

// Runs `step(i, next)` for i in [0, n), at most `window` at a time; each step calls `next` once
// when it is over (on any thread, possibly before `step` returns). `finished` runs once, after
// every step is over. Steps that finish at once do not deepen the stack.
void RunWindowed(size_t n, size_t window,
                 std::function<void(size_t i, std::function<void()> next)> step,
                 std::function<void()> finished);

// Runs `step(i, next)` for the rows of one import batch, each once, all at once except that a row
// sharing a key with an earlier row of the batch (`keys[i]`: its id, emails, phones, ...) starts
// only after that one is over — so two rows about one record are decided in order, the second
// seeing the first. `finished` runs once every row is over.
void RunRows(const std::vector<std::vector<std::string>>& keys,
             std::function<void(size_t i, std::function<void()> next)> step,
             std::function<void()> finished);

}  // namespace crm::projection
