#include "common/eventlog/embedded_event_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/eventlog/embedded_format.h"
#include "common/process/thread_name.h"
#include "common/status/status_macros.h"
#include "common/store/memory.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace crm::eventlog {
namespace {

using embedded::PartitionPrefix;
using embedded::RecordKey;

// A key's partition: "r<topic>\0<partition>" of a record key (PartitionPrefix, then the offset),
// the whole key otherwise. A partition's records arrive at ever higher offsets, so the memtable
// keeps, per partition, where its last insert went and starts the next one there, rather than
// from the top of the skip list: an append batch interleaves partitions, and without a hint each
// insert searched the whole list.
class PartitionOfKey final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "crm.LogPartition"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const std::string_view k(key.data(), key.size());
    const size_t nul = k.find('\0');
    const size_t end = nul == std::string_view::npos ? k.size() : std::min(k.size(), nul + 5);
    return rocksdb::Slice(key.data(), end);
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("embedded log: ", std::string(what), ": ", s.ToString()));
}

}  // namespace

class EmbeddedEventLog::Reader final : public LogReader {
 public:
  // The most a reused record string keeps between polls (PollInto).
  static constexpr size_t kKeptCapacity = 64 * 1024;

  Reader(EmbeddedEventLog* log, std::map<TopicPartition, int64_t> next)
      : log_(log), next_(std::move(next)) {}

  absl::Status PollInto(std::vector<LogRecord>& out, size_t max_records,
                        absl::Duration timeout) override {
    // The records of `out` before `used` are this poll's; those after it are last poll's,
    // whose strings are assigned to (keeping their capacity) rather than made anew — except a
    // string one large record grew past kKeptCapacity, which is not kept for small ones.
    size_t used = 0;
    auto set = [](std::string& s, std::string_view v) {
      if (s.capacity() > kKeptCapacity && v.size() <= kKeptCapacity) std::string().swap(s);
      s.assign(v);
    };
    auto put = [&](const std::string& topic, int32_t partition, int64_t offset,
                   std::string_view key, std::string_view value) {
      if (used == out.size()) out.emplace_back();
      LogRecord& r = out[used++];
      set(r.topic, topic);
      r.partition = partition;
      r.offset = offset;
      set(r.key, key);
      set(r.value, value);
    };
    const size_t n = next_.size();
    if (n == 0) {
      out.clear();
      return absl::OkStatus();
    }
    // Partitions whose next records are no longer in memory, with the end to read them to.
    std::vector<std::pair<std::map<TopicPartition, int64_t>::iterator, int64_t>> behind;
    {
      absl::MutexLock lock(&log_->mu_);
      log_->WaitForRecordsLocked(next_, absl::Now() + timeout);
      // Visit partitions round-robin from a rotating start so no partition starves.
      auto it = next_.begin();
      std::advance(it, static_cast<long>(rotation_++ % n));
      for (size_t visited = 0; visited < n && used < max_records; ++visited) {
        auto& [tp, next] = *it;
        const int64_t end = log_->EndLocked(tp);
        if (next < end) {
          const auto tail = log_->tails_.find(tp);
          if (tail != log_->tails_.end() && !tail->second.records.empty() &&
              tail->second.records.front().offset <= next) {
            const auto& records = tail->second.records;
            for (auto r = records.begin() + (next - records.front().offset);
                 r != records.end() && used < max_records; ++r) {
              put(tp.first, tp.second, r->offset, r->key, r->value);
              next = r->offset + 1;
            }
          } else {
            behind.emplace_back(it, end);
          }
        }
        if (++it == next_.end()) it = next_.begin();
      }
    }
    // One iterator serves every partition behind: it sees at least what `end` promises, because
    // the writer publishes an end only after the records are written.
    std::unique_ptr<rocksdb::Iterator> iter;
    absl::Status status;
    for (auto& [entry, end] : behind) {
      if (used >= max_records || !status.ok()) break;
      auto& [tp, next] = *entry;
      if (iter == nullptr) iter.reset(log_->db_->NewIterator(rocksdb::ReadOptions()));
      const std::string prefix = PartitionPrefix('r', tp.first, tp.second);
      for (iter->Seek(RecordKey(tp.first, tp.second, next));
           iter->Valid() && used < max_records && next < end; iter->Next()) {
        const std::string_view k(iter->key().data(), iter->key().size());
        if (!k.starts_with(prefix)) break;
        absl::StatusOr<int64_t> offset = embedded::DecodeRecordOffset(k, prefix);
        absl::StatusOr<std::pair<std::string_view, std::string_view>> record =
            offset.ok() ? embedded::DecodeRecord(
                              std::string_view(iter->value().data(), iter->value().size()))
                        : offset.status();
        if (!record.ok()) {
          status = record.status();
          break;
        }
        put(tp.first, tp.second, *offset, record->first, record->second);
        next = *offset + 1;
      }
      if (status.ok()) status = FromRocks(iter->status(), "read");
    }
    // A damaged record fails the poll that reaches it with nothing read before it: the records
    // this poll read before it are returned (their positions have moved past them) and the next
    // poll starts at the damaged one.
    out.resize(used);
    return used > 0 ? absl::OkStatus() : status;
  }

 private:
  EmbeddedEventLog* const log_;
  std::map<TopicPartition, int64_t> next_;
  size_t rotation_ = 0;
};

absl::StatusOr<std::unique_ptr<EmbeddedEventLog>> EmbeddedEventLog::Open(
    const EmbeddedEventLogOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("embedded log: path is empty");
  if (options.partitions < 1 || options.partitions > 1024) {
    return absl::InvalidArgumentError("embedded log: partitions must be 1 to 1024");
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::BlockBasedTableOptions table;
  store::UseSharedMemory(db_options, table);
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  db_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<PartitionOfKey>();
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, options.path, &raw),
                            absl::StrCat("open ", options.path)));
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string stored;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), embedded::kPartitionsKey, &stored);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(
        db->Put(wo, embedded::kPartitionsKey, embedded::EncodePartitionCount(options.partitions)),
        "write partition count"));
  } else {
    RETURN_IF_ERROR(FromRocks(s, "read partition count"));
    ASSIGN_OR_RETURN(const int32_t existing, embedded::DecodePartitionCount(stored));
    if (existing != options.partitions) {
      return absl::FailedPreconditionError(absl::StrCat(
          "embedded log at ", options.path, " has ", existing, " partitions per topic, but ",
          options.partitions, " were configured; the partition count cannot change"));
    }
  }

  std::map<TopicPartition, int64_t> ends;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("e"); it->Valid() && it->key().starts_with("e"); it->Next()) {
    ASSIGN_OR_RETURN(TopicPartition tp,
                     embedded::DecodeEndKey(std::string_view(it->key().data(), it->key().size())));
    ASSIGN_OR_RETURN(
        ends[tp], embedded::DecodeOffset(std::string_view(it->value().data(), it->value().size())));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan end offsets"));
  it.reset();
  return std::unique_ptr<EmbeddedEventLog>(
      new EmbeddedEventLog(std::move(db), options, std::move(ends)));
}

EmbeddedEventLog::EmbeddedEventLog(std::unique_ptr<rocksdb::DB> db,
                                   const EmbeddedEventLogOptions& options,
                                   std::map<TopicPartition, int64_t> ends)
    : db_(std::move(db)),
      partitions_(options.partitions),
      tail_records_(options.tail_records),
      tail_bytes_(options.tail_bytes),
      ends_(std::move(ends)) {
  writer_ = std::thread([this] {
    process::NameThisThread("log-writer");
    WriterLoop();
  });
}

EmbeddedEventLog::~EmbeddedEventLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
  (void)db_->SyncWAL();
  (void)db_->Close();
}

int32_t EmbeddedEventLog::PartitionFor(std::string_view key, int32_t partitions) {
  // FNV-1a: stable across processes, platforms and releases.
  uint32_t h = 2166136261u;
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return static_cast<int32_t>(h % static_cast<uint32_t>(partitions));
}

void EmbeddedEventLog::AppendRaw(std::string_view topic, std::string_view key,
                                 std::string_view value, AppendCallback done) {
  if (topic.empty()) {
    done(absl::InvalidArgumentError("embedded log: topic is empty"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      ++appends_in_flight_;
      queue_.push_back(Pending{std::string(topic), PartitionFor(key, partitions_), std::string(key),
                               std::string(value), std::move(done)});
      return;
    }
  }
  done(absl::UnavailableError("embedded log is shutting down"));
}

void EmbeddedEventLog::WriterLoop() {
  for (;;) {
    std::deque<Pending> batch;
    std::map<TopicPartition, int64_t> ends;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](EmbeddedEventLog* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      for (const Pending& p : batch) ends.emplace(TopicPartition{p.topic, p.partition}, 0);
      for (auto& [tp, end] : ends) end = EndLocked(tp);
    }
    rocksdb::WriteBatch wb;
    std::vector<LogPosition> positions;
    positions.reserve(batch.size());
    for (const Pending& p : batch) {
      int64_t& end = ends[{p.topic, p.partition}];
      wb.Put(RecordKey(p.topic, p.partition, end), embedded::EncodeRecord(p.key, p.value));
      positions.push_back(LogPosition{p.topic, p.partition, end});
      ++end;
    }
    for (const auto& [tp, end] : ends) {
      wb.Put(PartitionPrefix('e', tp.first, tp.second), embedded::EncodeOffset(end));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const absl::Status written = FromRocks(db_->Write(wo, &wb), "append");
    if (written.ok()) {
      absl::MutexLock lock(&mu_);
      for (const auto& [tp, end] : ends) ends_[tp] = end;
      for (size_t i = 0; i < batch.size(); ++i) {
        AddToTailLocked({positions[i].topic, positions[i].partition}, positions[i].offset,
                        std::move(batch[i].key), std::move(batch[i].value));
      }
      for (const Pending& p : batch) ++published_[p.topic];
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (written.ok()) {
        batch[i].done(positions[i]);
      } else {
        batch[i].done(absl::UnavailableError(written.message()));
      }
    }
    absl::MutexLock lock(&mu_);
    appends_in_flight_ -= static_cast<int64_t>(batch.size());
  }
}

int64_t EmbeddedEventLog::EndLocked(const TopicPartition& tp) const {
  auto it = ends_.find(tp);
  return it == ends_.end() ? 0 : it->second;
}

void EmbeddedEventLog::AddToTailLocked(const TopicPartition& tp, int64_t offset, std::string key,
                                       std::string value) {
  if (tail_records_ == 0) return;
  Tail& tail = tails_[tp];
  tail.bytes += key.size() + value.size();
  tail.records.push_back(Tail::Record{offset, std::move(key), std::move(value)});
  while (tail.records.size() > tail_records_ ||
         (tail.bytes > tail_bytes_ && tail.records.size() > 1)) {
    tail.bytes -= tail.records.front().key.size() + tail.records.front().value.size();
    tail.records.pop_front();
  }
}

void EmbeddedEventLog::WaitForRecordsLocked(const std::map<TopicPartition, int64_t>& next,
                                            absl::Time deadline) {
  // Waits for the next publication to one of `next`'s topics, then looks whether it was for one
  // of its partitions. The wait's condition is evaluated on every unlock of mu_ (appends, other
  // readers), so it compares a count per topic, not the partitions' ends.
  struct Seen {
    const EmbeddedEventLog* log;
    std::vector<std::pair<const int64_t*, int64_t>> counts;  // a topic's count, as it was
  };
  Seen seen{this, {}};
  const std::string* last_topic = nullptr;  // `next` is in topic order
  for (const auto& [tp, offset] : next) {
    if (last_topic != nullptr && *last_topic == tp.first) continue;
    last_topic = &tp.first;
    seen.counts.emplace_back(&published_.try_emplace(tp.first, 0).first->second, 0);
  }
  for (bool woke = false;; woke = true) {
    if (stopping_) return;
    for (const auto& [tp, offset] : next) {
      if (EndLocked(tp) > offset) return;
    }
    if (woke) ++idle_wakeups_;
    for (auto& [count, was] : seen.counts) was = *count;
    ++waiting_readers_;
    const bool woken = mu_.AwaitWithDeadline(absl::Condition(
                                                 +[](Seen* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                                   if (s->log->stopping_) return true;
                                                   for (const auto& [count, was] : s->counts) {
                                                     if (*count != was) return true;
                                                   }
                                                   return false;
                                                 },
                                                 &seen),
                                             deadline);
    --waiting_readers_;
    if (!woken) return;
  }
}

int64_t EmbeddedEventLog::waiting_readers() {
  absl::MutexLock lock(&mu_);
  return waiting_readers_;
}

int64_t EmbeddedEventLog::idle_wakeups() {
  absl::MutexLock lock(&mu_);
  return idle_wakeups_;
}

absl::StatusOr<int32_t> EmbeddedEventLog::PartitionCount(std::string_view topic) {
  if (topic.empty()) return absl::InvalidArgumentError("embedded log: topic is empty");
  return partitions_;
}

absl::StatusOr<int64_t> EmbeddedEventLog::EndOffset(std::string_view topic, int32_t partition) {
  if (partition < 0 || partition >= partitions_) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedded log: partition ", partition, " is outside 0..", partitions_ - 1));
  }
  absl::MutexLock lock(&mu_);
  return EndLocked({std::string(topic), partition});
}

absl::StatusOr<std::unique_ptr<LogReader>> EmbeddedEventLog::OpenReader(
    std::vector<PartitionStart> starts) {
  std::map<TopicPartition, int64_t> next;
  for (PartitionStart& s : starts) {
    if (s.partition < 0 || s.partition >= partitions_ || s.offset < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("embedded log: bad start ", s.topic, "/", s.partition, "@", s.offset));
    }
    next[{std::move(s.topic), s.partition}] = s.offset;
  }
  return std::make_unique<Reader>(this, std::move(next));
}

absl::Status EmbeddedEventLog::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir), absl::StrCat("checkpoint to ", dir));
}

absl::Status EmbeddedEventLog::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return appends_in_flight_ == 0; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle), timeout)) {
    return absl::DeadlineExceededError("embedded log: appends still in flight");
  }
  return absl::OkStatus();
}

}  // namespace crm::eventlog
