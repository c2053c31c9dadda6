#include "common/projection/import_ledger.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status/status_macros.h"
#include "common/store/keys.h"

namespace crm::projection {

using crm::common::v1::ImportLedgerEntry;
using store::Cf;

std::string ImportRequestId(std::string_view import_id, int64_t row) {
  return absl::StrCat("import:", std::string(import_id), ":", row);
}

crm::common::v1::ImportRowResult RowResult(int64_t row, const absl::Status& status, std::string id,
                                           int64_t version, std::string matched_by) {
  crm::common::v1::ImportRowResult result;
  result.set_row(row);
  if (status.ok()) {
    result.set_outcome(version == 1 ? crm::common::v1::IMPORT_OUTCOME_CREATED
                                    : crm::common::v1::IMPORT_OUTCOME_UPDATED);
    result.set_id(std::move(id));
    result.set_version(version);
    if (version != 1) result.set_matched_by(std::move(matched_by));
    return result;
  }
  result.set_outcome(status.code() == absl::StatusCode::kInvalidArgument
                         ? crm::common::v1::IMPORT_OUTCOME_INVALID
                         : crm::common::v1::IMPORT_OUTCOME_FAILED);
  result.set_code(absl::StatusCodeToString(status.code()));
  result.set_error(std::string(status.message()));
  return result;
}

absl::Status RecordImport(store::ProjectionStore::Batch& batch, char kind,
                          const crm::common::v1::EventEnvelope& event,
                          const std::vector<std::string>& paths, const std::string& before) {
  if (event.source() != kImportSource || event.correlation_id().empty()) return absl::OkStatus();
  const std::string key =
      store::KindPrefix(kind, event.tenant(), event.correlation_id()).append(event.aggregate_id());
  absl::StatusOr<std::optional<std::string>> raw = batch.Get(Cf::kIndex, key);
  if (!raw.ok()) return raw.status();
  ImportLedgerEntry entry;
  if (*raw) {
    if (!entry.ParseFromString(**raw)) return absl::DataLossError("import ledger entry: corrupt");
  } else {
    entry.set_aggregate_type(event.aggregate_type());
    entry.set_created(event.expected_version() == 0);
    entry.set_version_before(event.expected_version());
    if (!entry.created()) entry.set_before(before);
  }
  if (!entry.created()) {
    for (const std::string& path : paths) {
      if (std::find(entry.paths().begin(), entry.paths().end(), path) == entry.paths().end()) {
        entry.add_paths(path);
      }
    }
  }
  std::string value;
  entry.SerializeToString(&value);  // plain fields only: the encoding is deterministic
  batch.Put(Cf::kIndex, key, value);
  return absl::OkStatus();
}

absl::Status ScanImport(
    const store::ReadView& view, char kind, std::string_view tenant, std::string_view import_id,
    const std::function<bool(std::string_view id, const ImportLedgerEntry&)>& fn) {
  const std::string prefix = store::KindPrefix(kind, tenant, import_id);
  absl::Status error;
  RETURN_IF_ERROR(
      view.Scan(Cf::kIndex, prefix, "", [&](std::string_view key, std::string_view value) {
        ImportLedgerEntry entry;
        if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(absl::StrCat(
              "import ledger entry ", std::string(key.substr(prefix.size())), ": corrupt"));
          return false;
        }
        return fn(key.substr(prefix.size()), entry);
      }));
  return error;
}

namespace {

struct Windowed {
  size_t n;
  std::function<void(size_t, std::function<void()>)> step;
  std::function<void()> finished;
  std::atomic<size_t> next{0};
  std::atomic<size_t> lanes{0};
};

// One lane: takes the next step until none is left; a step that finishes later resumes the
// lane on its own thread.
void Lane(const std::shared_ptr<Windowed>& w) {
  while (true) {
    const size_t i = w->next.fetch_add(1);
    if (i >= w->n) {
      if (w->lanes.fetch_sub(1) == 1) w->finished();
      return;
    }
    // 0: running; 1: finished inside step; 2: step returned first.
    auto state = std::make_shared<std::atomic<int>>(0);
    w->step(i, [w, state] {
      if (state->exchange(1) == 2) Lane(w);
    });
    if (state->exchange(2) == 1) continue;
    return;
  }
}

}  // namespace

void UndoAll(
    const CallContext& ctx, const std::string& import_id,
    const std::function<absl::Status(std::string_view tenant, std::string_view import_id,
                                     const ImportLedgerFn& fn)>& scan,
    std::function<void(const std::string& id, const ImportLedgerEntry&, Done<bool> done)> undo_one,
    const std::string& what, Done<crm::common::v1::ImportUndoSummary> done) {
  auto entries = std::make_shared<std::vector<std::pair<std::string, ImportLedgerEntry>>>();
  if (absl::Status s = scan(ctx.tenant, import_id,
                            [&](std::string_view id, const ImportLedgerEntry& entry) {
                              entries->emplace_back(std::string(id), entry);
                              return true;
                            });
      !s.ok()) {
    return done(s);
  }
  if (entries->empty()) {
    return done(absl::NotFoundError(
        absl::StrCat("import_id: import ", import_id, " wrote no ", what, " here")));
  }
  struct Tally {
    absl::Mutex mu;
    crm::common::v1::ImportUndoSummary summary ABSL_GUARDED_BY(mu);
  };
  auto tally = std::make_shared<Tally>();
  {
    absl::MutexLock lock(&tally->mu);
    tally->summary.set_records(static_cast<int64_t>(entries->size()));
  }
  RunWindowed(
      entries->size(), kUndoWindow,
      [entries, tally, undo_one = std::move(undo_one)](size_t i, std::function<void()> next) {
        const auto& [id, entry] = (*entries)[i];
        undo_one(
            id, entry,
            [tally, id = id, created = entry.created(), next](absl::StatusOr<bool> undone) {
              {
                absl::MutexLock lock(&tally->mu);
                auto& s = tally->summary;
                if (undone.ok()) {
                  created ? s.set_archived(s.archived() + 1) : s.set_restored(s.restored() + 1);
                } else {
                  auto* failure = s.add_failures();
                  failure->set_id(id);
                  failure->set_error(absl::StrCat(absl::StatusCodeToString(undone.status().code()),
                                                  ": ", undone.status().message()));
                }
              }
              next();
            });
      },
      [tally, done] {
        absl::MutexLock lock(&tally->mu);
        done(std::move(tally->summary));
      });
}

void RunWindowed(size_t n, size_t window,
                 std::function<void(size_t i, std::function<void()> next)> step,
                 std::function<void()> finished) {
  auto w = std::make_shared<Windowed>();
  w->n = n;
  w->step = std::move(step);
  w->finished = std::move(finished);
  const size_t lanes = std::max<size_t>(1, std::min(window, n));
  w->lanes = lanes;
  for (size_t l = 0; l < lanes; ++l) Lane(w);
}

namespace {

// Runs wave `w` of `waves`, then the next.
void RunWave(std::shared_ptr<std::vector<std::vector<size_t>>> waves, size_t w,
             std::function<void(size_t i, std::function<void()> next)> step,
             std::function<void()> finished) {
  if (w == waves->size()) {
    finished();
    return;
  }
  const size_t n = (*waves)[w].size();
  RunWindowed(
      n, n, [waves, w, step](size_t i, std::function<void()> next) { step((*waves)[w][i], next); },
      [waves, w, step, finished] { RunWave(waves, w + 1, step, finished); });
}

}  // namespace

void RunRows(const std::vector<std::vector<std::string>>& keys,
             std::function<void(size_t i, std::function<void()> next)> step,
             std::function<void()> finished) {
  // A row's wave: one after the latest wave of an earlier row with one of its keys.
  std::map<std::string, size_t> last_wave;
  auto waves = std::make_shared<std::vector<std::vector<size_t>>>();
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t wave = 0;
    for (const std::string& k : keys[i]) {
      if (auto it = last_wave.find(k); it != last_wave.end()) wave = std::max(wave, it->second + 1);
    }
    for (const std::string& k : keys[i]) last_wave[k] = wave;
    if (waves->size() <= wave) waves->resize(wave + 1);
    (*waves)[wave].push_back(i);
  }
  RunWave(std::move(waves), 0, std::move(step), std::move(finished));
}

}  // namespace crm::projection
