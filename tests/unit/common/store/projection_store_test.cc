#include "common/store/projection_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/store/checkpoint.h"
#include "common/store/memory.h"
#include "common/store/read_cache.h"
#include "common/store/read_recorder.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "tests/testing/testing.h"

namespace crm::store {
namespace {

// Bytes in the write-ahead log files of the store at `path` (a file RocksDB deletes meanwhile
// counts nothing).
uint64_t WriteAheadLogBytes(const std::string& path) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    std::error_code gone;
    const uintmax_t size = entry.file_size(gone);
    if (entry.path().extension() == ".log" && !gone) bytes += size;
  }
  return bytes;
}

TEST(ProjectionStore, BatchReadsItsOwnWritesAndCommitsAtomically) {
  testing::TempDir dir;
  auto store = ProjectionStore::Open(dir.Sub("p"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto batch = (*store)->NewBatch();
  batch.Put(Cf::kState, "a", "1");
  batch.Put(Cf::kLog, "pos", "7");
  EXPECT_EQ(*batch.Get(Cf::kState, "a"), std::optional<std::string>("1"));
  // Nothing is visible before the commit.
  EXPECT_EQ(*(*store)->Get(Cf::kState, "a"), std::nullopt);
  ASSERT_TRUE((*store)->Commit(batch).ok());
  EXPECT_EQ(*(*store)->Get(Cf::kState, "a"), std::optional<std::string>("1"));
  EXPECT_EQ(*(*store)->Get(Cf::kLog, "pos"), std::optional<std::string>("7"));
  // Column families are separate key spaces.
  EXPECT_EQ(*(*store)->Get(Cf::kIndex, "a"), std::nullopt);
}

// Commit writes each key's last write in key order: a key rewritten, deleted after a put or put
// after a delete in one batch ends as its last write said, and counts once.
TEST(ProjectionStore, CommitKeepsTheLastWriteOfEachKey) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto first = store->NewBatch();
  for (const char* k : {"gone", "back", "same"}) first.Put(Cf::kIndex, k, "old");
  ASSERT_TRUE(store->Commit(first).ok());
  EXPECT_EQ(store->keys_written(), 3u);

  auto batch = store->NewBatch();
  batch.Put(Cf::kLog, "pos", "1");
  batch.Put(Cf::kIndex, "z", "1");
  batch.Put(Cf::kLog, "pos", "2");
  batch.Put(Cf::kIndex, "new-then-gone", "x");
  batch.Delete(Cf::kIndex, "new-then-gone");
  batch.Delete(Cf::kIndex, "back");
  batch.Put(Cf::kIndex, "back", "again");
  batch.Put(Cf::kIndex, "gone", "x");
  batch.Delete(Cf::kIndex, "gone");
  batch.Put(Cf::kIndex, "a", "1");
  batch.Put(Cf::kLog, "pos", "3");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(*store->Get(Cf::kLog, "pos"), std::optional<std::string>("3"));
  EXPECT_EQ(*store->Get(Cf::kIndex, "new-then-gone"), std::nullopt);
  EXPECT_EQ(*store->Get(Cf::kIndex, "gone"), std::nullopt);
  EXPECT_EQ(*store->Get(Cf::kIndex, "back"), std::optional<std::string>("again"));
  EXPECT_EQ(*store->Get(Cf::kIndex, "same"), std::optional<std::string>("old"));
  std::vector<std::string> keys;
  ASSERT_TRUE(store
                  ->Scan(Cf::kIndex, "", "",
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "back", "same", "z"}));
  // pos, z, new-then-gone, back, gone, a: six keys, each once.
  EXPECT_EQ(store->keys_written(), 3u + 6u);
}

TEST(ProjectionStore, ScanStaysInsideThePrefixFromTheStart) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto batch = store->NewBatch();
  for (const char* k : {"a/1", "a/2", "a/3", "b/1"}) batch.Put(Cf::kIndex, k, k);
  ASSERT_TRUE(store->Commit(batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->Scan(Cf::kIndex, "a/", "a/2",
                         [&](std::string_view k, std::string_view) {
                           seen.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/2", "a/3"}));
}

TEST(ProjectionStore, ChecksumCoversStateAndIndexOnly) {
  testing::TempDir dir;
  auto one = *ProjectionStore::Open(dir.Sub("one"));
  auto two = *ProjectionStore::Open(dir.Sub("two"));
  for (auto* s : {one.get(), two.get()}) {
    auto b = s->NewBatch();
    b.Put(Cf::kState, "k", "v");
    b.Put(Cf::kIndex, "i", "x");
    ASSERT_TRUE(s->Commit(b).ok());
  }
  auto b = two->NewBatch();
  b.Put(Cf::kLog, "position", "99");  // Bookkeeping does not change the checksum.
  ASSERT_TRUE(two->Commit(b).ok());
  EXPECT_EQ(*one->Latest().Checksum(), *two->Latest().Checksum());
  auto c = two->NewBatch();
  c.Put(Cf::kState, "k", "w");
  ASSERT_TRUE(two->Commit(c).ok());
  EXPECT_NE(*one->Latest().Checksum(), *two->Latest().Checksum());
}

TEST(ProjectionStore, SnapshotDoesNotSeeLaterCommits) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto b = store->NewBatch();
  b.Put(Cf::kState, "k", "old");
  ASSERT_TRUE(store->Commit(b).ok());
  ReadView snapshot = store->Snapshot();
  const std::string before = *snapshot.Checksum();
  auto c = store->NewBatch();
  c.Put(Cf::kState, "k", "new");
  ASSERT_TRUE(store->Commit(c).ok());
  EXPECT_EQ(*snapshot.Get(Cf::kState, "k"), std::optional<std::string>("old"));
  EXPECT_EQ(*snapshot.Checksum(), before);
}

TEST(ProjectionStore, SurvivesReopenAndDestroyWipes) {
  testing::TempDir dir;
  {
    auto store = *ProjectionStore::Open(dir.Sub("p"));
    auto b = store->NewBatch();
    b.Put(Cf::kState, "k", "v");
    ASSERT_TRUE(store->Commit(b).ok());
  }
  {
    auto store = *ProjectionStore::Open(dir.Sub("p"));
    EXPECT_EQ(*store->Get(Cf::kState, "k"), std::optional<std::string>("v"));
  }
  ASSERT_TRUE(ProjectionStore::Destroy(dir.Sub("p")).ok());
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  EXPECT_EQ(*store->Get(Cf::kState, "k"), std::nullopt);
}

// Writes k=v through a store opened for `layout` and says whether a k was already there.
bool OpenProjectionKept(const std::string& path, std::string_view layout, bool rebuild = false) {
  auto store = ProjectionStore::OpenProjection(path, layout, rebuild);
  EXPECT_TRUE(store.ok()) << store.status();
  const bool kept = (*store)->Get(Cf::kIndex, "k")->has_value();
  auto b = (*store)->NewBatch();
  b.Put(Cf::kIndex, "k", "v");
  EXPECT_TRUE((*store)->Commit(b).ok());
  return kept;
}

TEST(ProjectionStore, AnotherLayoutOrARebuildEmptiesTheStore) {
  testing::TempDir dir;
  const std::string path = dir.Sub("p");
  EXPECT_FALSE(OpenProjectionKept(path, "x/1"));
  EXPECT_TRUE(OpenProjectionKept(path, "x/1"));
  EXPECT_FALSE(OpenProjectionKept(path, "x/2"));  // a new layout: rebuilt from the log
  EXPECT_TRUE(OpenProjectionKept(path, "x/2"));
  EXPECT_FALSE(OpenProjectionKept(path, "x/2", /*rebuild=*/true));
  EXPECT_TRUE(OpenProjectionKept(path, "x/2"));
  // The layout is outside the projection's checksum: an emptied store equals a new one.
  {
    auto fresh = *ProjectionStore::OpenProjection(dir.Sub("q"), "x/2", false);
    auto b = fresh->NewBatch();
    b.Put(Cf::kIndex, "k", "v");
    ASSERT_TRUE(fresh->Commit(b).ok());
    auto again = *ProjectionStore::OpenProjection(path, "x/2", false);
    EXPECT_EQ(*again->Latest().Checksum(), *fresh->Latest().Checksum());
  }
  // Data written before layouts were recorded counts as another layout.
  {
    auto old = *ProjectionStore::Open(dir.Sub("r"));
    auto b = old->NewBatch();
    b.Put(Cf::kState, "k", "v");
    ASSERT_TRUE(old->Commit(b).ok());
  }
  auto reopened = *ProjectionStore::OpenProjection(dir.Sub("r"), "x/1", false);
  EXPECT_EQ(*reopened->Get(Cf::kState, "k"), std::nullopt);
}

}  // namespace
}  // namespace crm::store

namespace crm::store {
namespace {

TEST(ProjectionStoreBatch, ScanSeesCommittedAndPendingWritesMerged) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto b = store->NewBatch();
  b.Put(Cf::kIndex, "x/1", "db");
  b.Put(Cf::kIndex, "x/3", "db");
  ASSERT_TRUE(store->Commit(b).ok());
  auto pending = store->NewBatch();
  pending.Put(Cf::kIndex, "x/2", "batch");
  pending.Delete(Cf::kIndex, "x/3");
  pending.Put(Cf::kIndex, "x/1", "overwritten");
  std::vector<std::string> seen;
  ASSERT_TRUE(pending
                  .Scan(Cf::kIndex, "x/",
                        [&](std::string_view k, std::string_view v) {
                          seen.push_back(std::string(k) + "=" + std::string(v));
                          return true;
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"x/1=overwritten", "x/2=batch"}));
}

// Record-shaped keys (kind/tenant\0id\0rest, the scans' prefix mode) and plain ones.
std::vector<std::string> ModelKeys() {
  std::vector<std::string> keys;
  for (const char* id : {"a", "ab", "b"}) {
    for (const char* rest : {"", "1", "2", "20", "3"}) {
      keys.push_back(std::string("x/t\0", 4) + id + std::string(1, '\0') + rest);
    }
  }
  for (const char* k : {"y", "y/1", "y/2", "y0", "z"}) keys.emplace_back(k);
  return keys;
}

// Every key's Get and every prefix's Scan through `batch` (stopped after one, two and all) give
// what `model` holds.
void ExpectReadsMatch(ProjectionStore::Batch& batch, const std::vector<std::string>& keys,
                      const std::map<std::string, std::string>& model, const std::string& when) {
  for (const std::string& key : keys) {
    const auto found = model.find(key);
    const auto want = found != model.end() ? std::optional(found->second) : std::nullopt;
    EXPECT_EQ(*batch.Get(Cf::kIndex, key), want) << when << " " << key;
  }
  for (const std::string& prefix :
       {std::string("x/t\0a\0", 6), std::string("x/t\0ab\0", 7), std::string("x/"),
        std::string("y"), std::string("y/"), std::string("")}) {
    std::vector<std::pair<std::string, std::string>> want;
    for (const auto& [k, v] : model) {
      if (k.starts_with(prefix)) want.emplace_back(k, v);
    }
    for (size_t stop : {size_t{1}, size_t{2}, want.size() + 1}) {
      std::vector<std::pair<std::string, std::string>> seen;
      ASSERT_TRUE(batch
                      .Scan(Cf::kIndex, prefix,
                            [&](std::string_view k, std::string_view v) {
                              seen.emplace_back(k, v);
                              return seen.size() < stop;
                            })
                      .ok());
      const auto expected = std::vector(want.begin(), want.begin() + std::min(stop, want.size()));
      EXPECT_EQ(seen, expected) << when << " prefix " << absl::CEscape(prefix) << " stop " << stop;
    }
  }
}

// Reads about half of `keys` ahead (kIndex) into `batch`, and a key no one writes.
void ReadAboutHalfAhead(ProjectionStore::Batch& batch, const std::vector<std::string>& keys,
                        std::mt19937& rng) {
  std::vector<std::string> ahead = {"x/never"};
  for (const std::string& k : keys) {
    if (rng() % 2 == 0) ahead.push_back(k);
  }
  ASSERT_TRUE(batch.ReadAhead(Cf::kIndex, std::move(ahead)).ok());
}

// `n` random puts and deletes of `keys` into `batch`, each also made to `model`; the reads
// checked every 50, and about half the keys read ahead (ProjectionStore::Batch::ReadAhead) every
// 50 too, between the checks: what was read ahead must not hide what the batch (or the batch
// below, or its commit) wrote since. `midway`, if given, runs after the first half.
void WriteAtRandom(ProjectionStore::Batch& batch, const std::vector<std::string>& keys,
                   std::map<std::string, std::string>& model, std::mt19937& rng, int n,
                   std::set<std::string>* written = nullptr,
                   const std::function<void()>& midway = nullptr) {
  for (int i = 0; i < n; ++i) {
    if (i % 50 == 25) ReadAboutHalfAhead(batch, keys, rng);
    if (i == n / 2 && midway) midway();
    const std::string& k = keys[rng() % keys.size()];
    if (written != nullptr) written->insert(k);
    if (rng() % 3 == 0) {
      batch.Delete(Cf::kIndex, k);
      model.erase(k);
    } else {
      const std::string v = "batch:" + std::to_string(rng());
      batch.Put(Cf::kIndex, k, v);
      model[k] = v;
    }
    if (i % 50 == 49) ExpectReadsMatch(batch, keys, model, "write " + std::to_string(i));
  }
}

// Commits about half of `keys` to kIndex (each as "db:<key>"), and makes them to `model`.
void CommitAboutHalf(ProjectionStore& store, const std::vector<std::string>& keys,
                     std::map<std::string, std::string>& model, std::mt19937& rng) {
  auto batch = store.NewBatch();
  for (const std::string& k : keys) {
    if (rng() % 2 == 0) continue;
    batch.Put(Cf::kIndex, k, "db:" + k);
    model[k] = "db:" + k;
  }
  ASSERT_TRUE(store.Commit(batch).ok());
}

// What the store holds in kIndex.
std::map<std::string, std::string> IndexOf(const ProjectionStore& store) {
  std::map<std::string, std::string> stored;
  EXPECT_TRUE(store
                  .Scan(Cf::kIndex, "", "",
                        [&](std::string_view k, std::string_view v) {
                          stored.emplace(k, v);
                          return true;
                        })
                  .ok());
  return stored;
}

// The batch against a model (std::map) over many random writes on top of committed data: every
// read through the batch, point or scan, whole prefix or stopped early, sees the model's state;
// the column families stay apart; Count is the number of distinct keys written.
TEST(ProjectionStoreBatch, ReadsThroughTheBatchMatchAModel) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  std::mt19937 rng(7);
  const std::vector<std::string> keys = ModelKeys();
  std::map<std::string, std::string> model;
  CommitAboutHalf(*store, keys, model, rng);
  auto other = store->NewBatch();
  other.Put(Cf::kState, "y/1", "other family");
  ASSERT_TRUE(store->Commit(other).ok());

  auto batch = store->NewBatch();
  std::set<std::string> written;
  WriteAtRandom(batch, keys, model, rng, 400, &written);
  EXPECT_EQ(batch.Count(), written.size());
  EXPECT_EQ(*batch.Get(Cf::kState, "y/1"), std::optional<std::string>("other family"));
  EXPECT_EQ(*batch.Get(Cf::kLog, "y/1"), std::nullopt);
  // And committed, the store holds the model.
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(IndexOf(*store), model);
}

// A batch built while the one below it is committed (Projector's pipelined commits) reads its
// own writes over the batch below's over the database — before that commit, after it, and with
// either batch deleting what another holds — and, committed after it, leaves the store as the
// model.
TEST(ProjectionStoreBatch, ReadsThroughTheBatchBelowMatchAModelBeforeAndAfterItsCommit) {
  for (const unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    testing::TempDir dir;
    auto store = *ProjectionStore::Open(dir.Sub("p"));
    std::mt19937 rng(seed);
    const std::vector<std::string> keys = ModelKeys();
    std::map<std::string, std::string> model;
    CommitAboutHalf(*store, keys, model, rng);
    auto below = store->NewBatch();
    WriteAtRandom(below, keys, model, rng, 100);
    const std::map<std::string, std::string> with_below = model;

    auto batch = store->NewBatch();
    batch.ReadThrough(&below);
    ReadAboutHalfAhead(batch, keys, rng);  // before the batch below is committed
    ExpectReadsMatch(batch, keys, model, "before any write");
    WriteAtRandom(batch, keys, model, rng, 400, nullptr,
                  [&] { ASSERT_TRUE(store->Commit(below).ok()); });
    EXPECT_EQ(IndexOf(*store), with_below);  // the batch below, committed midway
    batch.ReadThrough(nullptr);
    ASSERT_TRUE(store->Commit(batch).ok());
    EXPECT_EQ(IndexOf(*store), model);
  }
}

// What was read ahead answers the batch's reads of those keys without a single lookup, found
// and absent alike, in its own column family only; a key read ahead and then written is read
// as written; a key not read ahead is looked up alone.
TEST(ProjectionStoreBatch, ReadAheadAnswersLaterReadsWithoutASingleLookup) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto seed = store->NewBatch();
  seed.Put(Cf::kState, "r/1", "one");
  seed.Put(Cf::kState, "r/2", "two");
  seed.Put(Cf::kIndex, "r/1", "index one");
  ASSERT_TRUE(store->Commit(seed).ok());

  auto batch = store->NewBatch();
  ASSERT_TRUE(batch.ReadAhead(Cf::kState, {"r/2", "r/1", "r/absent", "r/1"}).ok());
  const uint64_t before = store->single_reads(Cf::kState);
  EXPECT_EQ(*batch.Get(Cf::kState, "r/1"), std::optional<std::string>("one"));
  EXPECT_EQ(*batch.Get(Cf::kState, "r/2"), std::optional<std::string>("two"));
  EXPECT_EQ(*batch.Get(Cf::kState, "r/absent"), std::nullopt);
  EXPECT_EQ(store->single_reads(Cf::kState), before);
  batch.Put(Cf::kState, "r/1", "one, rewritten");
  batch.Delete(Cf::kState, "r/2");
  batch.Put(Cf::kState, "r/absent", "made");
  EXPECT_EQ(*batch.Get(Cf::kState, "r/1"), std::optional<std::string>("one, rewritten"));
  EXPECT_EQ(*batch.Get(Cf::kState, "r/2"), std::nullopt);
  EXPECT_EQ(*batch.Get(Cf::kState, "r/absent"), std::optional<std::string>("made"));
  EXPECT_EQ(store->single_reads(Cf::kState), before);
  // Another column family's key of the same name, and a key not read ahead: one lookup each.
  const uint64_t index_before = store->single_reads(Cf::kIndex);
  EXPECT_EQ(*batch.Get(Cf::kIndex, "r/1"), std::optional<std::string>("index one"));
  EXPECT_EQ(store->single_reads(Cf::kIndex), index_before + 1);
  EXPECT_EQ(*batch.Get(Cf::kState, "r/3"), std::nullopt);
  EXPECT_EQ(store->single_reads(Cf::kState), before + 1);
  // A later read-ahead replaces the earlier one.
  ASSERT_TRUE(batch.ReadAhead(Cf::kState, {"r/3"}).ok());
  EXPECT_EQ(*batch.Get(Cf::kState, "r/3"), std::nullopt);
  EXPECT_EQ(store->single_reads(Cf::kState), before + 1);
  ASSERT_TRUE(batch.ReadAhead(Cf::kState, {}).ok());
  EXPECT_EQ(*batch.Get(Cf::kState, "r/3"), std::nullopt);
  EXPECT_EQ(store->single_reads(Cf::kState), before + 2);
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(*store->Get(Cf::kState, "r/1"), std::optional<std::string>("one, rewritten"));
  EXPECT_EQ(*store->Get(Cf::kState, "r/2"), std::nullopt);
}

TEST(ProjectionStore, ClearEmptiesEverythingButTheLayoutAndWritesTheMark) {
  testing::TempDir dir;
  auto store = *ProjectionStore::OpenProjection(dir.Sub("p"), "notes/1", false);
  auto batch = store->NewBatch();
  for (Cf cf : {Cf::kState, Cf::kIndex, Cf::kLog}) {
    batch.Put(cf, "a", "1");
    batch.Put(cf, std::string("\xff\xff", 2), "2");  // keys at both ends
  }
  ASSERT_TRUE(store->Commit(batch).ok());
  ASSERT_TRUE(store->Clear("mark", "1").ok());
  for (Cf cf : {Cf::kState, Cf::kIndex, Cf::kLog}) {
    int left = 0;
    ASSERT_TRUE(store
                    ->Scan(cf, "", "",
                           [&](std::string_view k, std::string_view) {
                             left += k == "mark" ? 0 : 1;
                             return true;
                           })
                    .ok());
    EXPECT_EQ(left, 0) << static_cast<int>(cf);
  }
  EXPECT_EQ(*store->Get(Cf::kLog, "mark"), std::optional<std::string>("1"));
  // The layout stayed: reopening with it keeps the store.
  store.reset();
  store = *ProjectionStore::OpenProjection(dir.Sub("p"), "notes/1", false);
  EXPECT_EQ(*store->Get(Cf::kLog, "mark"), std::optional<std::string>("1"));
}

TEST(ProjectionStore, AnUnavailableStoreRefusesCheckedReadsOnly) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto batch = store->NewBatch();
  batch.Put(Cf::kState, "a", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  store->SetUnavailable("projection p is being rebuilt");
  EXPECT_FALSE(store->available());
  for (const ReadView& view : {store->Latest(), store->Snapshot()}) {
    const auto got = view.Get(Cf::kState, "a");
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(got.status().message(), "projection p is being rebuilt");
    EXPECT_EQ(view.Scan(Cf::kState, "", "", [](auto, auto) { return true; }).code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(view.FindLastAtOrBefore(Cf::kState, "", "z").status().code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(view.Checksum().status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(*store->Unchecked().Get(Cf::kState, "a"), std::optional<std::string>("1"));
  EXPECT_TRUE(store->UncheckedSnapshot().Checksum().ok());
  // Writes go on (the projector rebuilds through them).
  auto more = store->NewBatch();
  more.Put(Cf::kState, "b", "2");
  ASSERT_TRUE(store->Commit(more).ok());
  store->SetAvailable();
  EXPECT_EQ(*store->Get(Cf::kState, "b"), std::optional<std::string>("2"));
}

// Reads of records are kept: a second read of a key is a hit (found or absent alike) until a
// commit writes the key; indexes, snapshots and unchecked reads are not kept; a store being
// rebuilt still refuses, and one emptied keeps nothing it held.
TEST(ProjectionStoreReadCache, KeepsRecordsUntilACommitWritesThem) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto put = [&](Cf cf, const std::string& key, std::optional<std::string> value) {
    auto batch = store->NewBatch();
    if (value) {
      batch.Put(cf, key, *value);
    } else {
      batch.Delete(cf, key);
    }
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  auto get = [&](const std::string& key) { return *store->Get(Cf::kState, key); };
  put(Cf::kState, "a", "1");
  put(Cf::kIndex, "i", "1");
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(store->read_cache_hits(), 0u);
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get("absent"), std::nullopt);
  EXPECT_EQ(get("absent"), std::nullopt);
  EXPECT_EQ(store->read_cache_hits(), 2u);
  EXPECT_EQ(store->read_cache_misses(), 2u);

  const ReadView before = store->Snapshot();
  put(Cf::kState, "a", "2");
  put(Cf::kState, "absent", "now");
  EXPECT_EQ(get("a"), "2");
  EXPECT_EQ(get("absent"), "now");
  EXPECT_EQ(*before.Get(Cf::kState, "a"), "1");
  put(Cf::kState, "a", std::nullopt);
  EXPECT_EQ(get("a"), std::nullopt);
  EXPECT_EQ(store->read_cache_hits(), 2u);

  // Not kept: indexes, unchecked reads.
  const uint64_t misses = store->read_cache_misses();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(*store->Get(Cf::kIndex, "i"), "1");
    EXPECT_EQ(*store->Unchecked().Get(Cf::kState, "absent"), "now");
  }
  EXPECT_EQ(store->read_cache_hits(), 2u);
  EXPECT_EQ(store->read_cache_misses(), misses);

  EXPECT_EQ(get("absent"), "now");  // kept
  store->SetUnavailable("being rebuilt");
  EXPECT_EQ(store->Get(Cf::kState, "absent").status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  store->SetAvailable();
  EXPECT_EQ(get("absent"), std::nullopt);
}

// Two readers racing 3,000 commits that write 1, 2, ... at `key`: how many of `read`'s answers
// (nullopt: none, or not a number) were older than the last commit made before the read began;
// `reads` gets how many reads there were.
int OlderAnswersRacingCommits(ProjectionStore& store, Cf cf, const std::string& key,
                              const std::function<std::optional<int>()>& read, int* reads) {
  std::atomic<int> committed{0};
  std::atomic<bool> done{false};
  std::atomic<int> older{0};
  std::atomic<int> count{0};
  auto commit = [&](int v) {
    auto batch = store.NewBatch();
    batch.Put(cf, key, std::to_string(v));
    EXPECT_TRUE(store.Commit(batch).ok());
    committed = v;
  };
  commit(0);
  auto reader = [&] {
    while (!done) {
      const int before = committed.load();
      const std::optional<int> v = read();
      if (!v || *v < before) ++older;
      ++count;
    }
  };
  std::thread reader1(reader);
  std::thread reader2(reader);
  for (int v = 1; v <= 3000; ++v) commit(v);
  done = true;
  reader1.join();
  reader2.join();
  *reads = count;
  return older;
}

// Readers racing commits of one key: a read that begins after a commit never answers an older
// value, though a read that began before it may end after it.
TEST(ProjectionStoreReadCache, AReadNeverAnswersAValueOlderThanTheLastCommit) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  int reads = 0;
  const int older = OlderAnswersRacingCommits(
      *store, Cf::kState, "k",
      [&]() -> std::optional<int> {
        absl::StatusOr<std::optional<std::string>> got = store->Get(Cf::kState, "k");
        int v = 0;
        if (!got.ok() || !got->has_value() || !absl::SimpleAtoi(**got, &v)) return std::nullopt;
        return v;
      },
      &reads);
  EXPECT_EQ(older, 0) << "of " << reads << " reads";
  EXPECT_GT(store->read_cache_hits(), 0u);
}

// More than cache_bytes() read: every read still right, the records read least recently
// pushed out, one read again and again kept.
TEST(ProjectionStoreReadCache, StaysWithinItsBytes) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  const std::string big(64 << 10, 'x');
  const int n = static_cast<int>(store->cache_bytes() / big.size()) + 20;
  auto batch = store->NewBatch();
  for (int i = 0; i < n; ++i) batch.Put(Cf::kState, absl::StrCat("k", i), absl::StrCat(i, big));
  ASSERT_TRUE(store->Commit(batch).ok());
  // A record read again every 100 reads stays kept throughout: what is read again while the
  // others come and go is not pushed out.
  batch = store->NewBatch();
  batch.Put(Cf::kState, "hot", "h");
  ASSERT_TRUE(store->Commit(batch).ok());
  ASSERT_EQ(*store->Get(Cf::kState, "hot"), "h");
  int hot_misses = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(*store->Get(Cf::kState, absl::StrCat("k", i)), absl::StrCat(i, big)) << i;
      if (i % 100 == 0) {
        const uint64_t before = store->read_cache_misses();
        ASSERT_EQ(*store->Get(Cf::kState, "hot"), "h");
        hot_misses += static_cast<int>(store->read_cache_misses() - before);
      }
    }
  }
  EXPECT_EQ(hot_misses, 0);
  // Both rounds overflowed the bytes: the last keys read are kept, the first are not.
  const uint64_t hits = store->read_cache_hits();
  const uint64_t misses = store->read_cache_misses();
  EXPECT_EQ(*store->Get(Cf::kState, absl::StrCat("k", n - 1)), absl::StrCat(n - 1, big));
  EXPECT_EQ(store->read_cache_hits(), hits + 1);
  EXPECT_EQ(*store->Get(Cf::kState, "k0"), absl::StrCat(0, big));
  EXPECT_EQ(store->read_cache_misses(), misses + 1);
  // A commit drops what it writes from either half.
  batch = store->NewBatch();
  for (int i = 0; i < n; ++i) batch.Put(Cf::kState, absl::StrCat("k", i), "new");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_LT(store->read_cache_bytes(), 1024u);  // "hot" alone left, in either half or both
  for (int i = 0; i < n; ++i) ASSERT_EQ(*store->Get(Cf::kState, absl::StrCat("k", i)), "new") << i;
}

// What a scan of `prefix` visits, as "rest of the key=value", stopping after `most` entries.
std::vector<std::string> Visit(const ReadView& view, Cf cf, std::string_view prefix,
                               std::string_view start = "", size_t most = SIZE_MAX) {
  std::vector<std::string> out;
  const absl::Status s = view.Scan(cf, prefix, start, [&](std::string_view k, std::string_view v) {
    out.push_back(std::string(k.substr(prefix.size())).append("=").append(v));
    return out.size() < most;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Scans from a prefix's start are kept: a second scan is a hit, and reads no memtable, until a
// commit writes a key under the prefix (in the same column family); later starts, snapshots and
// unchecked scans are not kept; a store being rebuilt refuses, one emptied keeps nothing.
TEST(ProjectionStoreScanCache, KeepsAScanUntilACommitWritesUnderItsPrefix) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto write = [&](Cf cf, std::map<std::string, std::optional<std::string>> writes) {
    auto batch = store->NewBatch();
    for (const auto& [k, v] : writes) v ? batch.Put(cf, k, *v) : batch.Delete(cf, k);
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  const std::string a("t/a\0", 4);
  const std::string b("t/b\0", 4);
  write(Cf::kIndex, {{a + "1", "x"}, {a + "2", "y"}, {b + "1", "z"}});
  const ReadView latest = store->Latest();
  using Lines = std::vector<std::string>;
  EXPECT_EQ(Visit(latest, Cf::kIndex, a), (Lines{"1=x", "2=y"}));
  EXPECT_EQ(store->scan_cache_misses(), 1u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  EXPECT_EQ(Visit(latest, Cf::kIndex, a), (Lines{"1=x", "2=y"}));
  EXPECT_EQ(rocksdb::get_perf_context()->seek_on_memtable_count, 0u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  EXPECT_EQ(store->scan_cache_hits(), 1u);

  // Writes elsewhere keep it; writes under it, puts and deletes, drop it.
  write(Cf::kIndex, {{b + "2", "w"}});
  write(Cf::kState, {{a + "1", "s"}});
  EXPECT_EQ(Visit(latest, Cf::kIndex, a), (Lines{"1=x", "2=y"}));
  EXPECT_EQ(store->scan_cache_hits(), 2u);
  EXPECT_EQ(Visit(latest, Cf::kState, a), (Lines{"1=s"}));
  write(Cf::kIndex, {{a + "0", "w"}});
  EXPECT_EQ(Visit(latest, Cf::kIndex, a), (Lines{"0=w", "1=x", "2=y"}));
  write(Cf::kIndex, {{a + "1", std::nullopt}});
  EXPECT_EQ(Visit(latest, Cf::kIndex, a), (Lines{"0=w", "2=y"}));
  // A wider prefix, dropped by a write under a narrower one it holds.
  EXPECT_EQ(Visit(latest, Cf::kIndex, "t/"),
            (Lines{"a" + std::string(1, '\0') + "0=w", "a" + std::string(1, '\0') + "2=y",
                   "b" + std::string(1, '\0') + "1=z", "b" + std::string(1, '\0') + "2=w"}));
  write(Cf::kIndex, {{b + "3", "v"}});
  EXPECT_EQ(Visit(latest, Cf::kIndex, "t/").size(), 5u);
  EXPECT_EQ(Visit(latest, Cf::kIndex, b), (Lines{"1=z", "2=w", "3=v"}));

  // Not kept: a later start, a snapshot, an unchecked view.
  const uint64_t hits = store->scan_cache_hits();
  const uint64_t misses = store->scan_cache_misses();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Visit(latest, Cf::kIndex, b, b + "2"), (Lines{"2=w", "3=v"}));
    EXPECT_EQ(Visit(store->Snapshot(), Cf::kIndex, b).size(), 3u);
    EXPECT_EQ(Visit(store->Unchecked(), Cf::kIndex, b).size(), 3u);
  }
  EXPECT_EQ(store->scan_cache_hits(), hits);
  EXPECT_EQ(store->scan_cache_misses(), misses);

  EXPECT_EQ(Visit(latest, Cf::kIndex, b).size(), 3u);  // kept
  store->SetUnavailable("being rebuilt");
  EXPECT_EQ(latest.Scan(Cf::kIndex, b, "", [](auto, auto) { return true; }).code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  store->SetAvailable();
  EXPECT_EQ(Visit(latest, Cf::kIndex, b), Lines{});
}

// A prefix with more entries than a scan keeps: a scan that wants more goes on in the database
// after the last entry kept; one that stopped early kept a few more than it visited.
TEST(ProjectionStoreScanCache, GoesOnInTheDatabasePastWhatItKept) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto batch = store->NewBatch();
  std::vector<std::string> all;
  const int n = static_cast<int>(ProjectionStore::kScanRunEntries) * 2;
  for (int i = 0; i < n; ++i) {
    const std::string k = absl::StrCat(absl::Dec(i, absl::kZeroPad3));
    batch.Put(Cf::kIndex, "c/" + k, k);
    all.push_back(absl::StrCat(k, "=", k));
  }
  batch.Put(Cf::kIndex, "d/1", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  const ReadView latest = store->Latest();
  EXPECT_EQ(Visit(latest, Cf::kIndex, "c/"), all);
  EXPECT_EQ(Visit(latest, Cf::kIndex, "c/"), all);
  EXPECT_EQ(Visit(latest, Cf::kIndex, "c/", "", 3),
            std::vector<std::string>(all.begin(), all.begin() + 3));
  const size_t past = ProjectionStore::kScanRunEntries + 3;
  EXPECT_EQ(Visit(latest, Cf::kIndex, "c/", "", past),
            std::vector<std::string>(all.begin(), all.begin() + past));
  EXPECT_EQ(store->scan_cache_hits(), 3u);

  // A scan that stops after one of a few entries keeps them all: the next reads no memtable.
  batch = store->NewBatch();
  for (int i = 0; i < 5; ++i) batch.Put(Cf::kIndex, absl::StrCat("e/", i), "v");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(Visit(latest, Cf::kIndex, "e/", "", 1).size(), 1u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  EXPECT_EQ(Visit(latest, Cf::kIndex, "e/").size(), 5u);
  EXPECT_EQ(rocksdb::get_perf_context()->seek_on_memtable_count, 0u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
}

// Random commits and scans of prefixes of several lengths, some with more entries than a scan
// keeps and some values large: every scan of the latest state visits what an uncached scan does.
TEST(ProjectionStoreScanCache, AnswersWhatTheDatabaseHolds) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::string nul(1, '\0');
  auto key = [&] {
    return absl::StrCat("p/", std::string(1, static_cast<char>('a' + pick(2))), nul,
                        std::string(1 + pick(2), static_cast<char>('x' + pick(2))), nul, pick(120));
  };
  const std::vector<std::string> prefixes = {"p/",
                                             "p/a",
                                             "p/a" + nul,
                                             "p/b" + nul,
                                             "p/a" + nul + "x",
                                             "p/a" + nul + "x" + nul,
                                             "p/b" + nul + "yy" + nul,
                                             "q/"};
  for (int op = 0; op < 3000; ++op) {
    if (pick(3) == 0) {
      auto batch = store->NewBatch();
      for (int i = 1 + pick(4); i > 0; --i) {
        if (pick(4) == 0) {
          batch.Delete(Cf::kIndex, key());
        } else {
          batch.Put(Cf::kIndex, key(), std::string(pick(20) == 0 ? 20000 : 8, 'v'));
        }
      }
      ASSERT_TRUE(store->Commit(batch).ok());
      continue;
    }
    const std::string& prefix = prefixes[pick(static_cast<int>(prefixes.size()))];
    const size_t most = pick(3) == 0 ? SIZE_MAX : 1 + pick(100);
    ASSERT_EQ(Visit(store->Latest(), Cf::kIndex, prefix, "", most),
              Visit(store->Unchecked(), Cf::kIndex, prefix, "", most))
        << "op " << op << " prefix " << absl::CEscape(prefix) << " most " << most;
  }
  EXPECT_GT(store->scan_cache_hits(), 500u);
}

// Readers scanning a prefix while commits rewrite the key under it: a scan that begins after a
// commit never visits an older value.
TEST(ProjectionStoreScanCache, AScanNeverVisitsAValueOlderThanTheLastCommit) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  int scans = 0;
  const int older = OlderAnswersRacingCommits(
      *store, Cf::kIndex, "s/k",
      [&]() -> std::optional<int> {
        const std::vector<std::string> seen = Visit(store->Latest(), Cf::kIndex, "s/");
        int v = 0;
        if (seen.size() != 1 || !absl::SimpleAtoi(seen[0].substr(2), &v)) return std::nullopt;
        return v;
      },
      &scans);
  EXPECT_EQ(older, 0) << "of " << scans << " scans";
  EXPECT_GT(store->scan_cache_hits(), 0u);
}

// The bytes both caches hold: what reads kept, less what commits dropped; none once emptied.
TEST(ProjectionStoreScanCache, BothCachesCountTheBytesTheyHold) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto put = [&](std::map<std::string, std::string> writes) {
    auto batch = store->NewBatch();
    for (const auto& [k, v] : writes)
      batch.Put(k.starts_with("i/") ? Cf::kIndex : Cf::kState, k, v);
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  put({{"a", std::string(1000, 'a')}, {"i/1", "x"}});
  EXPECT_EQ(store->read_cache_bytes(), 0u);
  EXPECT_EQ(store->scan_cache_bytes(), 0u);
  ASSERT_TRUE(store->Get(Cf::kState, "a").ok());
  const size_t one = store->read_cache_bytes();
  EXPECT_GT(one, 1000u);
  ASSERT_TRUE(store->Get(Cf::kState, "absent").ok());
  EXPECT_GT(store->read_cache_bytes(), one);
  EXPECT_EQ(Visit(store->Latest(), Cf::kIndex, "i/").size(), 1u);
  EXPECT_GT(store->scan_cache_bytes(), 0u);
  put({{"a", "new"}});
  EXPECT_LT(store->read_cache_bytes(), one);  // "absent" only
  put({{"absent", "now"}, {"i/2", "y"}});
  EXPECT_EQ(store->read_cache_bytes(), 0u);
  EXPECT_EQ(store->scan_cache_bytes(), 0u);
  ASSERT_TRUE(store->Get(Cf::kState, "a").ok());
  EXPECT_EQ(Visit(store->Latest(), Cf::kIndex, "i/").size(), 2u);
  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  EXPECT_EQ(store->read_cache_bytes(), 0u);
  EXPECT_EQ(store->scan_cache_bytes(), 0u);
}

TEST(Checkpoint, CopiesAStoreConsistentlyAndRestoresItOnce) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("data"));
  auto store = *ProjectionStore::Open(dir.Sub("data/notes"));
  auto batch = store->NewBatch();
  batch.Put(Cf::kState, "a", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  const std::string at_checkpoint = *store->Latest().Checksum();
  std::vector<CheckpointPart> parts = {
      {"notes", [&](const std::string& d) { return store->Checkpoint(d); }},
      {"nothing", [](const std::string&) { return absl::OkStatus(); }}};
  auto written = WriteCheckpoint(dir.Sub("backups"), "first", parts);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->path, dir.Sub("backups") + "/first");
  EXPECT_EQ(written->parts, std::vector<std::string>{"notes"});  // "nothing" wrote nothing
  EXPECT_EQ(WriteCheckpoint(dir.Sub("backups"), "first", parts).status().code(),
            absl::StatusCode::kAlreadyExists);
  for (const char* bad : {"", "Upper", ".hidden", "a/b", "has space"}) {
    const auto refused = WriteCheckpoint(dir.Sub("backups"), bad, parts);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("name"), std::string::npos) << bad;
  }
  // A part that fails leaves nothing behind.
  std::vector<CheckpointPart> failing = {
      {"broken", [](const std::string&) { return absl::InternalError("disk on fire"); }}};
  const auto failed = WriteCheckpoint(dir.Sub("backups"), "second", failing);
  EXPECT_NE(failed.status().message().find("broken: disk on fire"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("backups/second")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("backups/.second.partial")));

  auto later = store->NewBatch();
  later.Put(Cf::kState, "b", "2");
  ASSERT_TRUE(store->Commit(later).ok());
  store.reset();

  auto restored = RestoreCheckpoint(written->path, dir.Sub("data"), {"notes", "log"});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, std::vector<std::string>{"notes"});
  store = *ProjectionStore::Open(dir.Sub("data/notes"));
  EXPECT_EQ(*store->Latest().Checksum(), at_checkpoint);
  auto after = store->NewBatch();
  after.Put(Cf::kState, "c", "3");
  ASSERT_TRUE(store->Commit(after).ok());
  store.reset();
  // Restoring the same checkpoint again (the setting left in place) changes nothing.
  restored = RestoreCheckpoint(written->path, dir.Sub("data"), {"notes", "log"});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(restored->empty());
  store = *ProjectionStore::Open(dir.Sub("data/notes"));
  EXPECT_EQ(*store->Get(Cf::kState, "c"), std::optional<std::string>("3"));
}

TEST(Checkpoint, RestoreRefusesWhatIsNotACheckpointOrHoldsNothingOfUs) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("empty"));
  auto refused = RestoreCheckpoint(dir.Sub("empty"), dir.Sub("data"), {"notes"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("--restore-from"), std::string::npos);
  { std::ofstream(dir.Sub("empty/CHECKPOINT")) << "{not json"; }
  refused = RestoreCheckpoint(dir.Sub("empty"), dir.Sub("data"), {"notes"});
  EXPECT_NE(refused.status().message().find("damaged"), std::string::npos) << refused.status();
  auto store = *ProjectionStore::Open(dir.Sub("src"));
  auto written =
      WriteCheckpoint(dir.Sub("backups"), "x",
                      {{"sales", [&](const std::string& d) { return store->Checkpoint(d); }}});
  ASSERT_TRUE(written.ok());
  refused = RestoreCheckpoint(written->path, dir.Sub("data"), {"notes"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("holds: sales"), std::string::npos) << refused.status();
}

// A point read of a key the memtable does not hold is answered by the memtable's bloom filter
// instead of a search of its skip list (most of a projection's reads are such misses: a new
// event's outcome key, a new record); a key it holds still reads through, in the batch too.
// What a recorded answer was read from (read_recorder.h): every record and scan it read is
// watched by the mark of the cache entry that answered it, set by the commit that writes under it
// (before Commit returns) and by the store's emptying; a commit elsewhere leaves it.
TEST(ProjectionStoreRecorder, MarksAreSetByTheCommitThatWritesWhatWasRead) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto put = [&](Cf cf, const std::string& key) {
    auto batch = store->NewBatch();
    batch.Put(cf, key, "v");
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  put(Cf::kState, "rec");
  put(Cf::kIndex, "pre/1");
  // Each read recorded on its own, twice: from the database (kept), then from the cache.
  auto watch = [&](const std::function<void()>& read) {
    std::vector<Dependencies> out;
    for (int i = 0; i < 2; ++i) {
      ReadRecorder recorder;
      read();
      EXPECT_FALSE(recorder.spoiled());
      out.push_back(std::move(recorder).Take());
      EXPECT_EQ(out.back().marks.size(), 1u);
    }
    return out;
  };
  auto record = watch([&] { ASSERT_TRUE(store->Get(Cf::kState, "rec").ok()); });
  auto absent = watch([&] { ASSERT_EQ(*store->Get(Cf::kState, "absent"), std::nullopt); });
  auto scan = watch([&] {
    ASSERT_TRUE(store->Scan(Cf::kIndex, "pre/", "", [](auto, auto) { return true; }).ok());
  });
  auto holds = [](const std::vector<Dependencies>& d) { return d[0].Hold() && d[1].Hold(); };
  auto dropped = [](const std::vector<Dependencies>& d) { return !d[0].Hold() && !d[1].Hold(); };
  EXPECT_TRUE(holds(record) && holds(absent) && holds(scan));

  put(Cf::kState, "elsewhere");
  put(Cf::kIndex, "pref");  // not under "pre/"
  EXPECT_TRUE(holds(record) && holds(absent) && holds(scan));

  put(Cf::kIndex, "pre/2");  // a new entry under the scanned prefix
  EXPECT_TRUE(dropped(scan));
  EXPECT_TRUE(holds(record) && holds(absent));
  put(Cf::kState, "absent");  // what was read as absent is there now
  EXPECT_TRUE(dropped(absent));
  EXPECT_TRUE(holds(record));
  put(Cf::kState, "rec");
  EXPECT_TRUE(dropped(record));

  auto again = watch([&] { ASSERT_TRUE(store->Get(Cf::kState, "rec").ok()); });
  EXPECT_TRUE(holds(again));
  ASSERT_TRUE(store->Clear("rebuilding", "1").ok());
  EXPECT_TRUE(dropped(again));

  // An entry kept by a read no recorder saw has no mark; a recorded read of it makes one, which
  // the commit that writes it sets.
  put(Cf::kState, "plain");
  ASSERT_TRUE(store->Get(Cf::kState, "plain").ok());  // kept, unrecorded
  const uint64_t hits = store->read_cache_hits();
  Dependencies plain;
  {
    ReadRecorder recorder;
    ASSERT_TRUE(store->Get(Cf::kState, "plain").ok());
    EXPECT_FALSE(recorder.spoiled());
    plain = std::move(recorder).Take();
  }
  EXPECT_EQ(store->read_cache_hits(), hits + 1);
  ASSERT_EQ(plain.marks.size(), 1u);
  EXPECT_TRUE(plain.Hold());
  put(Cf::kState, "plain");
  EXPECT_FALSE(plain.Hold());
}

// A read that no kept entry answers cannot be watched: the recording is spoiled.
TEST(ProjectionStoreRecorder, ReadsNoMarkWatchesSpoilTheRecording) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto batch = store->NewBatch();
  batch.Put(Cf::kState, "a", "1");
  batch.Put(Cf::kIndex, "i/1", "1");
  ASSERT_TRUE(store->Commit(batch).ok());
  const std::vector<std::pair<std::string, std::function<void()>>> reads = {
      {"an index", [&] { ASSERT_TRUE(store->Get(Cf::kIndex, "i/1").ok()); }},
      {"a snapshot", [&] { ASSERT_TRUE(store->Snapshot().Get(Cf::kState, "a").ok()); }},
      {"unchecked", [&] { ASSERT_TRUE(store->Unchecked().Get(Cf::kState, "a").ok()); }},
      {"a scan from a later key",
       [&] {
         ASSERT_TRUE(store->Scan(Cf::kIndex, "i/", "i/0", [](auto, auto) { return true; }).ok());
       }},
      {"the last entry before a key",
       [&] { ASSERT_TRUE(store->Latest().FindLastAtOrBefore(Cf::kIndex, "i/", "i/2").ok()); }},
  };
  for (const auto& [what, read] : reads) {
    ReadRecorder recorder;
    ASSERT_TRUE(store->Get(Cf::kState, "a").ok());  // watched
    EXPECT_FALSE(recorder.spoiled()) << what;
    read();
    EXPECT_TRUE(recorder.spoiled()) << what;
    EXPECT_TRUE(std::move(recorder).Take().marks.empty()) << what;
  }
  // Not recorded while paused; a recorder inside another spoils the outer one.
  {
    ReadRecorder recorder;
    {
      ReadRecorder::Paused paused;
      EXPECT_EQ(paused.paused(), &recorder);
      ASSERT_TRUE(store->Get(Cf::kIndex, "i/1").ok());
    }
    EXPECT_FALSE(recorder.spoiled());
    { ReadRecorder inner; }
    EXPECT_TRUE(recorder.spoiled());
  }
  EXPECT_EQ(ReadRecorder::Current(), nullptr);
}

// The cache's own dropping: an entry pushed out with the older half has its mark set, unless it
// was read again (its copy among the newer shares the mark); Put replaces an entry, setting the
// old one's mark; a value too large to keep spoils the recording.
TEST(ReadCacheMarks, AreSetWhenAnEntryLeavesTheCacheAndOnlyThen) {
  ReadCache<std::string> cache(64 * 100, [](std::string_view, const std::string&) { return 100; });
  auto keep = [&](const std::string& key) {
    uint64_t generation = 0;
    EXPECT_FALSE(cache.Find(key, &generation).has_value()) << key;
    ReadRecorder recorder;
    cache.Keep(key, "v", generation);
    EXPECT_FALSE(recorder.spoiled());
    return std::move(recorder).Take();
  };
  auto find = [&](const std::string& key) {
    uint64_t generation = 0;
    ReadRecorder recorder;
    EXPECT_TRUE(cache.Find(key, &generation).has_value()) << key;
    return std::move(recorder).Take();
  };
  // Halves of 32 entries each.
  std::vector<Dependencies> first;
  for (int i = 0; i < 32; ++i) first.push_back(keep(absl::StrCat("k", i)));
  const Dependencies read_again = find("k0");                // still among the newer: the same mark
  for (int i = 32; i < 64; ++i) keep(absl::StrCat("k", i));  // the first 32 are now the older
  const Dependencies from_older = find("k1");  // kept again among the newer, the same mark
  for (int i = 64; i < 96; ++i) keep(absl::StrCat("k", i));  // the first 32 go
  EXPECT_FALSE(first[2].Hold());                             // gone
  EXPECT_FALSE(first[0].Hold());  // gone too: read again only while it was among the newer
  EXPECT_FALSE(read_again.Hold());
  EXPECT_TRUE(first[1].Hold());  // read from the older: its copy among the newer stays
  EXPECT_TRUE(from_older.Hold());
  EXPECT_TRUE(find("k1").Hold());

  cache.Put("k1", "replaced");
  EXPECT_FALSE(first[1].Hold());
  uint64_t generation = 0;
  EXPECT_EQ(cache.Find("k1", &generation), "replaced");

  ReadCache<std::string> small(64 * 10,
                               [](std::string_view, const std::string& v) { return v.size(); });
  ReadRecorder recorder;
  ASSERT_FALSE(small.Find("big", &generation).has_value());
  small.Keep("big", std::string(11, 'x'), generation);  // more than a 64th of the budget
  EXPECT_TRUE(recorder.spoiled());
}

TEST(ProjectionStore, TheMemtableBloomFilterAnswersMisses) {
  testing::TempDir dir;
  auto store = *ProjectionStore::Open(dir.Sub("p"));
  auto batch = store->NewBatch();
  for (int i = 0; i < 100; ++i) batch.Put(Cf::kIndex, "k/" + std::to_string(i), "v");
  ASSERT_TRUE(store->Commit(batch).ok());
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  auto reads = store->NewBatch();
  for (int i = 100; i < 200; ++i) {
    EXPECT_EQ(*reads.Get(Cf::kIndex, "k/" + std::to_string(i)), std::nullopt);
  }
  const uint64_t misses = rocksdb::get_perf_context()->bloom_memtable_miss_count;
  EXPECT_EQ(*reads.Get(Cf::kIndex, "k/7"), std::optional<std::string>("v"));
  EXPECT_EQ(*store->Get(Cf::kIndex, "k/8"), std::optional<std::string>("v"));
  EXPECT_GE(rocksdb::get_perf_context()->bloom_memtable_hit_count, 2u);
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  // A 10-bit-per-key filter lets a few per cent through.
  EXPECT_GE(misses, 90u);
}

// The write-ahead log stays within four memtables' worth although the default column family
// (the layout's) is written only once: RocksDB flushes what holds the oldest log instead of
// keeping the log for it.
TEST(ProjectionStoreMemory, TheWriteAheadLogStaysWithinFourMemtables) {
  SetMemoryBudget(size_t{32} << 20);  // 4 MiB memtables: a 16 MiB log
  testing::TempDir dir;
  auto store = ProjectionStore::OpenProjection(dir.Sub("p"), "test/1", /*rebuild=*/false);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string value(1000, 'v');
  uint64_t most = 0;
  for (int round = 0; round < 64; ++round) {  // 64 MiB in all
    auto batch = (*store)->NewBatch();
    for (int i = 0; i < 1024; ++i) {
      batch.Put(Cf::kState, "key" + std::to_string(round * 1024 + i), value);
    }
    ASSERT_TRUE((*store)->Commit(batch).ok());
    most = std::max(most, WriteAheadLogBytes(dir.Sub("p")));
  }
  SetMemoryBudget(kDefaultMemoryBudget);
  EXPECT_LT(most, uint64_t{32} << 20);
}

// Compact leaves each column family in one sorted run with the same contents; once cancelled,
// a compaction is refused with CANCELLED.
TEST(ProjectionStore, CompactLeavesOneSortedRunAndCanBeCancelledAndResumed) {
  testing::TempDir dir;
  auto store = ProjectionStore::Open(dir.Sub("p"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->SortedRuns(Cf::kState), 0);
  for (int round = 0; round < 3; ++round) {
    auto batch = (*store)->NewBatch();
    for (int i = 0; i < 100; ++i) {
      batch.Put(Cf::kState, "key" + std::to_string(i), "value" + std::to_string(round));
    }
    ASSERT_TRUE((*store)->Commit(batch).ok());
    // A checkpoint flushes the memtables: one more level-0 file.
    ASSERT_TRUE((*store)->Checkpoint(dir.Sub("copy" + std::to_string(round))).ok());
    EXPECT_EQ((*store)->SortedRuns(Cf::kState), round + 1);
  }
  const std::string before = *(*store)->Latest().Checksum();
  ASSERT_TRUE((*store)->Compact().ok());
  EXPECT_EQ((*store)->SortedRuns(Cf::kState), 1);
  EXPECT_EQ(*(*store)->Latest().Checksum(), before);
  EXPECT_EQ(*(*store)->Get(Cf::kState, "key7"), std::optional<std::string>("value2"));

  auto batch = (*store)->NewBatch();
  batch.Put(Cf::kState, "key7", "value3");
  ASSERT_TRUE((*store)->Commit(batch).ok());
  ASSERT_TRUE((*store)->Checkpoint(dir.Sub("copy3")).ok());
  (*store)->CancelCompaction();
  EXPECT_EQ((*store)->Compact().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*store)->SortedRuns(Cf::kState), 2);
  EXPECT_EQ(*(*store)->Get(Cf::kState, "key7"), std::optional<std::string>("value3"));
  // Resumed (a rebuild cancels the compaction of the data it empties, then compacts anew).
  (*store)->ResumeCompaction();
  ASSERT_TRUE((*store)->Compact().ok());
  EXPECT_EQ((*store)->SortedRuns(Cf::kState), 1);
  EXPECT_EQ(*(*store)->Get(Cf::kState, "key7"), std::optional<std::string>("value3"));
}

// A projection store's memtables are a sixteenth of the process's RocksDB budget, within 4 to
// 64 MiB, so that the busy stores flush at their own size before the shared budget is reached.
TEST(ProjectionStoreMemory, MemtablesAreASixteenthOfTheBudgetWithinBounds) {
  SetMemoryBudget(kDefaultMemoryBudget);
  EXPECT_EQ(ProjectionMemtableBytes(), size_t{16} << 20);
  SetMemoryBudget(size_t{1} << 30);
  EXPECT_EQ(ProjectionMemtableBytes(), size_t{64} << 20);
  SetMemoryBudget(size_t{4} << 30);
  EXPECT_EQ(ProjectionMemtableBytes(), size_t{64} << 20);
  SetMemoryBudget(size_t{32} << 20);
  EXPECT_EQ(ProjectionMemtableBytes(), size_t{4} << 20);
  SetMemoryBudget(kDefaultMemoryBudget);
}

// The process's storage counters see a store's flush, a data block read from its file (a
// miss), the same block read again from the cache (a hit) and a lookup its bloom filter
// answered; the memory gauges show the budget and what it holds.
TEST(ProjectionStoreMemory, CountersSeeFlushesCacheMissesHitsAndFilters) {
  testing::TempDir dir;
  auto store = ProjectionStore::Open(dir.Sub("p"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto batch = (*store)->NewBatch();
  for (int i = 0; i < 100; ++i) batch.Put(Cf::kState, "key" + std::to_string(i), "value");
  ASSERT_TRUE((*store)->Commit(batch).ok());
  const StorageCounters before = ReadStorageCounters();
  // A checkpoint flushes the memtables: the keys are in a table file from now on.
  ASSERT_TRUE((*store)->Checkpoint(dir.Sub("copy")).ok());
  const StorageCounters flushed = ReadStorageCounters();
  EXPECT_GT(flushed.flush_write_bytes, before.flush_write_bytes);

  EXPECT_EQ(*(*store)->Get(Cf::kState, "key7"), std::optional<std::string>("value"));
  const StorageCounters first = ReadStorageCounters();
  EXPECT_EQ(first.block_cache_misses, flushed.block_cache_misses + 1);
  EXPECT_EQ(first.block_cache_hits, flushed.block_cache_hits);

  EXPECT_EQ(*(*store)->Get(Cf::kState, "key8"), std::optional<std::string>("value"));
  const StorageCounters second = ReadStorageCounters();
  EXPECT_EQ(second.block_cache_misses, first.block_cache_misses);
  EXPECT_EQ(second.block_cache_hits, first.block_cache_hits + 1);

  EXPECT_EQ(*(*store)->Get(Cf::kState, "absent"), std::nullopt);
  const StorageCounters absent = ReadStorageCounters();
  EXPECT_EQ(absent.bloom_filter_useful, second.bloom_filter_useful + 1);
  EXPECT_EQ(absent.block_cache_misses + absent.block_cache_hits,
            second.block_cache_misses + second.block_cache_hits);

  EXPECT_GT(absent.cache_capacity_bytes, 0u);
  EXPECT_GT(absent.cache_usage_bytes, 0u);
  EXPECT_LE(absent.cache_usage_bytes, absent.cache_capacity_bytes);
}

}  // namespace
}  // namespace crm::store
