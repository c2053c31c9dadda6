// One contract, both implementations: every EventLog behaves the same to its users.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <set>

#include "common/eventlog/embedded_event_log.h"
#include "common/eventlog/embedded_format.h"
#include "common/eventlog/event_log.h"
#include "common/eventlog/kafka_event_log.h"
#include "common/eventlog/mock_cluster.h"
#include "rocksdb/db.h"
#include "tests/testing/testing.h"

namespace crm::eventlog {
namespace {

constexpr char kTopic[] = "crm.test.v1";
constexpr int kPartitions = 4;

// Creates the log under test; Reopen() simulates a process restart on the same data.
class LogFactory {
 public:
  virtual ~LogFactory() = default;
  virtual std::unique_ptr<EventLog> Open() = 0;
};

class EmbeddedFactory : public LogFactory {
 public:
  std::unique_ptr<EventLog> Open() override {
    auto log = EmbeddedEventLog::Open({dir_.Sub("log"), kPartitions});
    EXPECT_TRUE(log.ok()) << log.status();
    return std::move(*log);
  }

 private:
  testing::TempDir dir_;
};

class KafkaFactory : public LogFactory {
 public:
  KafkaFactory() {
    auto cluster = MockKafkaCluster::Start(1);
    EXPECT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    EXPECT_TRUE(cluster_->CreateTopic(kTopic, kPartitions).ok());
  }
  std::unique_ptr<EventLog> Open() override {
    KafkaEventLogOptions options;
    options.brokers = cluster_->bootstrap_servers();
    auto log = KafkaEventLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status();
    return std::move(*log);
  }

 private:
  std::unique_ptr<MockKafkaCluster> cluster_;
};

crm::common::v1::EventEnvelope Event(const std::string& aggregate, int version) {
  crm::common::v1::EventEnvelope e;
  e.set_event_id(aggregate + "-" + std::to_string(version));
  e.set_tenant("t");
  e.set_aggregate_type("thing");
  e.set_aggregate_id(aggregate);
  e.set_expected_version(version - 1);
  e.set_aggregate_version(version);
  e.set_request_id("req-" + std::to_string(version));
  return e;
}

std::vector<LogRecord> ReadAll(EventLog& log, size_t want, std::vector<PartitionStart> starts) {
  auto reader = log.OpenReader(std::move(starts));
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<LogRecord> out;
  testing::WaitFor([&] {
    auto batch = (*reader)->Poll(100, absl::Milliseconds(50));
    if (batch.ok()) out.insert(out.end(), batch->begin(), batch->end());
    return out.size() >= want;
  });
  return out;
}

std::vector<PartitionStart> AllFromStart() {
  std::vector<PartitionStart> s;
  for (int p = 0; p < kPartitions; ++p) s.push_back({kTopic, p, 0});
  return s;
}

class EventLogContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "embedded") {
      factory_ = std::make_unique<EmbeddedFactory>();
    } else {
      factory_ = std::make_unique<KafkaFactory>();
    }
    log_ = factory_->Open();
    ASSERT_NE(log_, nullptr);
  }
  std::unique_ptr<LogFactory> factory_;
  std::unique_ptr<EventLog> log_;
};

TEST_P(EventLogContract, ReportsPartitionsAndEmptyEnds) {
  auto partitions = log_->PartitionCount(kTopic);
  ASSERT_TRUE(partitions.ok()) << partitions.status();
  EXPECT_EQ(*partitions, kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    auto end = log_->EndOffset(kTopic, p);
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_EQ(*end, 0);
  }
}

TEST_P(EventLogContract, AppendAcknowledgesPositionAndEnvelopeReadsBack) {
  const auto event = Event("a1", 1);
  auto pos = AppendAndWait(*log_, kTopic, event);
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(pos->topic, kTopic);
  EXPECT_EQ(pos->offset, 0);
  auto end = log_->EndOffset(kTopic, pos->partition);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 1);

  auto records = ReadAll(*log_, 1, AllFromStart());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "a1");
  EXPECT_EQ(records[0].partition, pos->partition);
  crm::common::v1::EventEnvelope read;
  ASSERT_TRUE(read.ParseFromString(records[0].value));
  EXPECT_EQ(read.event_id(), "a1-1");
  EXPECT_EQ(read.expected_version(), 0);
  EXPECT_EQ(read.request_id(), "req-1");
}

TEST_P(EventLogContract, OneKeyStaysInOnePartitionInOrder) {
  std::vector<std::future<absl::StatusOr<LogPosition>>> acks;
  for (int v = 1; v <= 50; ++v) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
    acks.push_back(promise->get_future());
    log_->Append(kTopic, Event("same", v),
                 [promise](absl::StatusOr<LogPosition> p) { promise->set_value(std::move(p)); });
  }
  std::set<int32_t> partitions;
  int64_t last = -1;
  for (auto& f : acks) {
    auto pos = f.get();
    ASSERT_TRUE(pos.ok()) << pos.status();
    partitions.insert(pos->partition);
    EXPECT_GT(pos->offset, last);
    last = pos->offset;
  }
  EXPECT_EQ(partitions.size(), 1u);
  auto records = ReadAll(*log_, 50, AllFromStart());
  ASSERT_EQ(records.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    crm::common::v1::EventEnvelope e;
    ASSERT_TRUE(e.ParseFromString(records[i].value));
    EXPECT_EQ(e.aggregate_version(), i + 1);
  }
}

TEST_P(EventLogContract, ReaderStartsAtTheGivenOffset) {
  LogPosition first;
  for (int v = 1; v <= 5; ++v) {
    auto pos = AppendAndWait(*log_, kTopic, Event("k", v));
    ASSERT_TRUE(pos.ok());
    if (v == 1) first = *pos;
  }
  auto records = ReadAll(*log_, 2, {{kTopic, first.partition, first.offset + 3}});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].offset, first.offset + 3);
  EXPECT_EQ(records[1].offset, first.offset + 4);
}

TEST_P(EventLogContract, ReaderSeesRecordsAppendedAfterItOpened) {
  auto reader = log_->OpenReader(AllFromStart());
  ASSERT_TRUE(reader.ok());
  auto empty = (*reader)->Poll(10, absl::Milliseconds(20));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(AppendAndWait(*log_, kTopic, Event("late", 1)).ok());
  std::vector<LogRecord> got;
  ASSERT_TRUE(testing::WaitFor([&] {
    auto batch = (*reader)->Poll(10, absl::Milliseconds(50));
    if (batch.ok()) got.insert(got.end(), batch->begin(), batch->end());
    return !got.empty();
  }));
  EXPECT_EQ(got[0].key, "late");
}

TEST_P(EventLogContract, RawRecordsAreKeptAsWritten) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
  auto future = promise->get_future();
  log_->AppendRaw(kTopic, "raw", std::string("\xff\x00garbage", 9),
                  [promise](absl::StatusOr<LogPosition> p) { promise->set_value(std::move(p)); });
  auto pos = future.get();
  ASSERT_TRUE(pos.ok()) << pos.status();
  auto records = ReadAll(*log_, 1, AllFromStart());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, std::string("\xff\x00garbage", 9));
}

TEST_P(EventLogContract, AcknowledgedAppendsSurviveReopen) {
  for (int v = 1; v <= 3; ++v) ASSERT_TRUE(AppendAndWait(*log_, kTopic, Event("d", v)).ok());
  ASSERT_TRUE(log_->Flush(absl::Seconds(5)).ok());
  log_.reset();
  log_ = factory_->Open();
  auto records = ReadAll(*log_, 3, AllFromStart());
  EXPECT_EQ(records.size(), 3u);
  // Appends continue after the existing records, never over them.
  auto pos = AppendAndWait(*log_, kTopic, Event("d", 4));
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->offset, 3);
}

// Polling again and again into one vector (as the projector does) replaces its records each
// time — longer and shorter keys and values than the strings it reuses, fewer records than the
// poll before, none when nothing came — and every record is read once, in order.
TEST_P(EventLogContract, PollingIntoOneVectorReplacesItsRecordsEachTime) {
  std::map<std::pair<int32_t, int64_t>, std::pair<std::string, std::string>> appended;
  for (int i = 0; i < 12; ++i) {
    const std::string key = i % 2 == 0 ? "k" : "a-much-longer-key-" + std::to_string(i);
    const std::string value(static_cast<size_t>(i % 3 == 0 ? 3 : 300 - 20 * i), 'a' + i);
    auto promise = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
    auto future = promise->get_future();
    log_->AppendRaw(kTopic, key, value,
                    [promise](absl::StatusOr<LogPosition> p) { promise->set_value(std::move(p)); });
    const absl::StatusOr<LogPosition> pos = future.get();
    ASSERT_TRUE(pos.ok()) << pos.status();
    appended[{pos->partition, pos->offset}] = {key, value};
  }
  auto reader = log_->OpenReader(AllFromStart());
  ASSERT_TRUE(reader.ok()) << reader.status();
  // What a caller's vector holds before its first poll is replaced too.
  std::vector<LogRecord> polled(5, LogRecord{"old", 9, 99, std::string(100, 'x'), "old"});
  std::map<int32_t, int64_t> next;
  size_t read = 0;
  testing::WaitFor([&] {
    const absl::Status s = (*reader)->PollInto(polled, 5, absl::Milliseconds(50));
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_LE(polled.size(), 5u);
    for (const LogRecord& r : polled) {
      EXPECT_EQ(r.topic, kTopic);
      EXPECT_EQ(r.offset, next[r.partition]) << "partition " << r.partition;
      next[r.partition] = r.offset + 1;
      const auto it = appended.find({r.partition, r.offset});
      if (it == appended.end()) {
        ADD_FAILURE() << "no record was appended at " << r.partition << "/" << r.offset;
        continue;
      }
      EXPECT_EQ(r.key, it->second.first);
      EXPECT_EQ(r.value, it->second.second);
      ++read;
    }
    return read >= appended.size();
  });
  EXPECT_EQ(read, appended.size());
  // Nothing more: the vector is emptied.
  ASSERT_TRUE((*reader)->PollInto(polled, 5, absl::Milliseconds(20)).ok());
  EXPECT_TRUE(polled.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, EventLogContract, ::testing::Values("embedded", "kafka"),
                         [](const auto& info) { return info.param; });

TEST(EmbeddedEventLog, RefusesAChangedPartitionCount) {
  testing::TempDir dir;
  ASSERT_TRUE(EmbeddedEventLog::Open({dir.Sub("log"), 4}).ok());
  auto again = EmbeddedEventLog::Open({dir.Sub("log"), 8});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Reads with `max` records per poll until `want` records came or the deadline passed.
std::vector<LogRecord> ReadInPolls(LogReader& reader, size_t want, size_t max) {
  std::vector<LogRecord> out;
  testing::WaitFor([&] {
    auto batch = reader.Poll(max, absl::Milliseconds(50));
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (batch.ok()) out.insert(out.end(), batch->begin(), batch->end());
    return out.size() >= want;
  });
  return out;
}

// Every partition's records, in the order read, must be its offsets from `from` on, each once,
// with the value appended at that offset.
void ExpectEachPartitionInOrder(const std::vector<LogRecord>& records,
                                const std::map<std::pair<int32_t, int64_t>, std::string>& appended,
                                std::map<int32_t, int64_t> from) {
  for (const LogRecord& r : records) {
    ASSERT_EQ(r.offset, from[r.partition]) << "partition " << r.partition;
    ++from[r.partition];
    const auto it = appended.find({r.partition, r.offset});
    ASSERT_NE(it, appended.end());
    EXPECT_EQ(r.value, it->second) << "partition " << r.partition << " offset " << r.offset;
  }
}

// A reader that keeps up takes the newest records from memory; one further behind than the
// memory holds reads the stored records and then continues from memory, across the boundary,
// with neither gaps nor repeats, whichever mix of partitions one poll touches.
TEST(EmbeddedEventLog, ReadersBehindAndAtTheTailSeeEveryRecordOnce) {
  for (const size_t tail_records : {size_t{0}, size_t{1}, size_t{4}, size_t{256}}) {
    SCOPED_TRACE(::testing::Message() << "tail_records " << tail_records);
    testing::TempDir dir;
    EmbeddedEventLogOptions options{dir.Sub("log"), kPartitions};
    options.tail_records = tail_records;
    auto log = EmbeddedEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    std::map<std::pair<int32_t, int64_t>, std::string> appended;
    auto append = [&](const std::string& key, int version) {
      auto e = Event(key, version);
      auto pos = AppendAndWait(**log, kTopic, e);
      ASSERT_TRUE(pos.ok()) << pos.status();
      appended[{pos->partition, pos->offset}] = e.SerializeAsString();
    };
    auto keep_up = (*log)->OpenReader(AllFromStart());
    ASSERT_TRUE(keep_up.ok());
    std::vector<LogRecord> kept;
    for (int v = 1; v <= 30; ++v) {
      append("hot", v);
      if (v % 3 == 1) append("other-" + std::to_string(v), 1);
      // Reads as it goes, a few at a time.
      const auto more = ReadInPolls(**keep_up, 1, 2);
      kept.insert(kept.end(), more.begin(), more.end());
    }
    const size_t total = appended.size();
    auto rest = ReadInPolls(**keep_up, total - kept.size(), 3);
    kept.insert(kept.end(), rest.begin(), rest.end());
    EXPECT_EQ(kept.size(), total);
    ExpectEachPartitionInOrder(kept, appended, {});

    // From the start, long after: the oldest records are only on disk.
    auto late = (*log)->OpenReader(AllFromStart());
    ASSERT_TRUE(late.ok());
    const auto all = ReadInPolls(**late, total, 5);
    EXPECT_EQ(all.size(), total);
    ExpectEachPartitionInOrder(all, appended, {});

    // From the middle of the hot partition: inside memory when it holds enough.
    const int32_t hot = EmbeddedEventLog::PartitionFor("hot", kPartitions);
    auto middle = (*log)->OpenReader({{kTopic, hot, 27}});
    ASSERT_TRUE(middle.ok());
    size_t in_hot = 0;
    for (const auto& [at, value] : appended) in_hot += at.first == hot ? 1 : 0;
    const auto tail = ReadInPolls(**middle, in_hot - 27, 100);
    EXPECT_EQ(tail.size(), in_hot - 27);
    ExpectEachPartitionInOrder(tail, appended, {{hot, 27}});

    // After a restart memory is empty; new appends continue the offsets and are read after the
    // stored ones.
    log->reset();
    log = EmbeddedEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    append("hot", 31);
    auto reopened = (*log)->OpenReader({{kTopic, hot, 20}});
    ASSERT_TRUE(reopened.ok());
    const auto after = ReadInPolls(**reopened, in_hot + 1 - 20, 4);
    EXPECT_EQ(after.size(), in_hot + 1 - 20);
    ExpectEachPartitionInOrder(after, appended, {{hot, 20}});
  }
}

// A damaged stored record fails the poll that reaches it, and only that one: the records before
// it in the same partition are read (not skipped), and the reader stays at the damaged record.
TEST(EmbeddedEventLog, ADamagedRecordFailsThePollThatReachesItAfterTheRecordsBefore) {
  testing::TempDir dir;
  EmbeddedEventLogOptions options{dir.Sub("log"), kPartitions};
  options.tail_records = 0;  // read from the stored records
  int32_t partition = 0;
  {
    auto log = EmbeddedEventLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int v = 1; v <= 5; ++v) {
      auto pos = AppendAndWait(**log, kTopic, Event("d", v));
      ASSERT_TRUE(pos.ok()) << pos.status();
      partition = pos->partition;
    }
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), options.path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    // Its framing says the key is longer than the record.
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), embedded::RecordKey(kTopic, partition, 3),
                        std::string("\xff\xff\xff\xff!", 5))
                    .ok());
  }
  auto log = EmbeddedEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  auto reader = (*log)->OpenReader({{kTopic, partition, 0}});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<LogRecord> polled;
  ASSERT_TRUE((*reader)->PollInto(polled, 100, absl::Seconds(5)).ok());
  std::vector<int64_t> offsets;
  for (const LogRecord& r : polled) offsets.push_back(r.offset);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2}));
  for (int attempt = 0; attempt < 2; ++attempt) {
    const absl::Status s = (*reader)->PollInto(polled, 100, absl::Milliseconds(20));
    EXPECT_TRUE(absl::IsDataLoss(s)) << s;
    EXPECT_TRUE(polled.empty());
  }
}

// A record string one large record grew is not kept for the small records polled after it: a
// reader polling into one vector holds on to no more than a poll of ordinary records needs.
TEST(EmbeddedEventLog, ALargeRecordsBufferIsNotKeptForTheSmallOnesAfterIt) {
  testing::TempDir dir;
  auto log = EmbeddedEventLog::Open({dir.Sub("log"), kPartitions});
  ASSERT_TRUE(log.ok()) << log.status();
  auto reader = (*log)->OpenReader(AllFromStart());
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<LogRecord> polled;
  for (const size_t size : {size_t{300 * 1024}, size_t{200}}) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<LogPosition>>>();
    auto future = promise->get_future();
    (*log)->AppendRaw(
        kTopic, "k", std::string(size, 'v'),
        [promise](absl::StatusOr<LogPosition> p) { promise->set_value(std::move(p)); });
    ASSERT_TRUE(future.get().ok());
    ASSERT_TRUE((*reader)->PollInto(polled, 1, absl::Seconds(5)).ok());
    ASSERT_EQ(polled.size(), 1u);
    EXPECT_EQ(polled[0].value, std::string(size, 'v'));
  }
  EXPECT_LT(polled[0].value.capacity(), size_t{100 * 1024});
}

// A tail larger than its byte bound keeps only its newest record: reads stay complete.
TEST(EmbeddedEventLog, TheMemoryTailKeepsToItsByteBound) {
  testing::TempDir dir;
  EmbeddedEventLogOptions options{dir.Sub("log"), 1};
  options.tail_bytes = 1;
  auto log = EmbeddedEventLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  std::map<std::pair<int32_t, int64_t>, std::string> appended;
  for (int v = 1; v <= 10; ++v) {
    auto e = Event("k", v);
    auto pos = AppendAndWait(**log, kTopic, e);
    ASSERT_TRUE(pos.ok()) << pos.status();
    appended[{pos->partition, pos->offset}] = e.SerializeAsString();
  }
  auto reader = (*log)->OpenReader({{kTopic, 0, 0}});
  ASSERT_TRUE(reader.ok());
  const auto all = ReadInPolls(**reader, 10, 3);
  EXPECT_EQ(all.size(), 10u);
  ExpectEachPartitionInOrder(all, appended, {});
}

// A reader waiting for records sleeps through appends to topics it does not read, and wakes for
// each topic it does, one never written before it began waiting included.
TEST(EmbeddedEventLog, AWaitingReaderWakesOnlyForItsTopics) {
  testing::TempDir dir;
  auto opened = EmbeddedEventLog::Open({dir.Sub("log"), 2});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EmbeddedEventLog& log = **opened;
  const std::vector<std::string> topics = {"crm.a.v1", "crm.b.v1"};
  std::vector<PartitionStart> starts;
  for (const std::string& topic : topics) {
    for (int32_t p = 0; p < 2; ++p) starts.push_back({topic, p, 0});
  }
  auto reader = log.OpenReader(starts);
  ASSERT_TRUE(reader.ok()) << reader.status();
  int version = 0;
  for (const std::string& topic : topics) {
    SCOPED_TRACE(topic);
    auto polled =
        std::async(std::launch::async, [&] { return (*reader)->Poll(10, absl::Seconds(60)); });
    ASSERT_TRUE(testing::WaitFor([&] { return log.waiting_readers() == 1; }));
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(AppendAndWait(log, "crm.other.v1", Event("o", ++version)).ok());
    }
    EXPECT_EQ(log.idle_wakeups(), 0);
    EXPECT_EQ(log.waiting_readers(), 1);
    ASSERT_TRUE(AppendAndWait(log, topic, Event("k", 1)).ok());
    ASSERT_EQ(polled.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    const auto records = polled.get();
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), 1u);
    EXPECT_EQ((*records)[0].topic, topic);
  }
  EXPECT_EQ(log.idle_wakeups(), 0);
  EXPECT_EQ(log.waiting_readers(), 0);
}

TEST(KafkaEventLog, UnknownTopicIsNotFound) {
  auto cluster = MockKafkaCluster::Start(1);
  ASSERT_TRUE(cluster.ok());
  KafkaEventLogOptions options;
  options.brokers = (*cluster)->bootstrap_servers();
  auto log = KafkaEventLog::Open(options);
  ASSERT_TRUE(log.ok());
  auto count = (*log)->PartitionCount("crm.nothing.v1");
  EXPECT_EQ(count.status().code(), absl::StatusCode::kNotFound) << count.status();
}

TEST(KafkaEventLog, AppendFailsWithinTheDeliveryTimeoutWhenTheBrokerIsDown) {
  auto cluster = MockKafkaCluster::Start(1);
  ASSERT_TRUE(cluster.ok());
  ASSERT_TRUE((*cluster)->CreateTopic(kTopic, 1).ok());
  KafkaEventLogOptions options;
  options.brokers = (*cluster)->bootstrap_servers();
  options.delivery_timeout = absl::Seconds(2);
  auto log = KafkaEventLog::Open(options);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(AppendAndWait(**log, kTopic, Event("x", 1)).ok());
  ASSERT_TRUE((*cluster)->BrokerDown(1).ok());
  const absl::Time start = absl::Now();
  auto pos = AppendAndWait(**log, kTopic, Event("x", 2));
  EXPECT_FALSE(pos.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(pos.status()) || absl::IsUnavailable(pos.status()))
      << pos.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// The records of one partition a reader returns within `deadline`, until it has `count`.
std::vector<LogRecord> ReadUntil(LogReader& reader, size_t count, absl::Time deadline) {
  std::vector<LogRecord> out;
  while (out.size() < count && absl::Now() < deadline) {
    auto polled = reader.Poll(count - out.size(), absl::Milliseconds(100));
    if (!polled.ok()) continue;  // UNAVAILABLE: retried, as a projector does
    for (LogRecord& r : *polled) out.push_back(std::move(r));
  }
  return out;
}

// A mock broker with kTopic in one partition, and logs on it (each as another process would).
class OnePartition : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockKafkaCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopic(kTopic, 1).ok());
  }
  std::unique_ptr<KafkaEventLog> Open() {
    KafkaEventLogOptions options;
    options.brokers = cluster_->bootstrap_servers();
    auto log = KafkaEventLog::Open(options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::unique_ptr<MockKafkaCluster> cluster_;
};
using KafkaOwnAppends = OnePartition;

// A reader in the appending process takes its acknowledged appends from memory: it has them
// while no fetch succeeds.
TEST_F(KafkaOwnAppends, AReaderInTheAppendingProcessHasThemWithoutAFetch) {
  std::unique_ptr<KafkaEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  auto reader = log->OpenReader({{kTopic, 0, 0}});
  ASSERT_TRUE(reader.ok());
  // Every fetch fails for far longer than the reads below wait (each failure is followed by the
  // consumer's 20 ms fetch.error.backoff.ms).
  ASSERT_TRUE(cluster_->FailFetches(2000, 6 /* NOT_LEADER_OR_FOLLOWER */).ok());
  auto first = AppendAndWait(*log, kTopic, Event("a", 1));
  ASSERT_TRUE(first.ok()) << first.status();
  std::vector<LogRecord> got = ReadUntil(**reader, 1, absl::Now() + absl::Seconds(5));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, first->offset);
  EXPECT_EQ(got[0].key, "a");
  // A reader waiting when the append is acknowledged is woken for it (its wait is far longer).
  auto waiting =
      std::async(std::launch::async, [&] { return (*reader)->Poll(10, absl::Seconds(60)); });
  auto second = AppendAndWait(*log, kTopic, Event("a", 2));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto woken = waiting.get();
  ASSERT_TRUE(woken.ok()) << woken.status();
  ASSERT_EQ(woken->size(), 1u);
  EXPECT_EQ((*woken)[0].offset, second->offset);
}

// Another process's records come from fetches, in offset order with the appending process's own;
// each record once, whichever way it came.
TEST_F(KafkaOwnAppends, ComeInOffsetOrderWithOtherProcessesOnce) {
  std::unique_ptr<KafkaEventLog> mine = Open();
  std::unique_ptr<KafkaEventLog> other = Open();
  ASSERT_TRUE(mine != nullptr && other != nullptr);
  // A reader of the partition in this process (a projection's), so that its appends are kept.
  auto projection = mine->OpenReader({{kTopic, 0, 0}});
  ASSERT_TRUE(projection.ok());
  std::vector<std::string> keys;
  for (int i = 0; i < 6; ++i) {  // other, mine, other, mine, ...
    const std::string key = (i % 2 == 0 ? "other-" : "mine-") + std::to_string(i);
    auto pos = AppendAndWait(i % 2 == 0 ? *other : *mine, kTopic, Event(key, 1));
    ASSERT_TRUE(pos.ok()) << pos.status();
    ASSERT_EQ(pos->offset, i);
    keys.push_back(key);
  }
  for (int64_t start : {0, 3}) {
    SCOPED_TRACE(start);
    auto reader = mine->OpenReader({{kTopic, 0, start}});
    ASSERT_TRUE(reader.ok());
    std::vector<LogRecord> got = ReadUntil(**reader, 6 - start, absl::Now() + absl::Seconds(10));
    ASSERT_EQ(got.size(), static_cast<size_t>(6 - start));
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].offset, start + static_cast<int64_t>(i));
      EXPECT_EQ(got[i].key, keys[start + i]);
    }
    // Nothing more: the fetched copies of the records taken from memory are passed over.
    auto rest = (*reader)->Poll(10, absl::Milliseconds(300));
    ASSERT_TRUE(rest.ok());
    EXPECT_TRUE(rest->empty()) << rest->size() << " more, the first at " << (*rest)[0].offset;
  }
}

}  // namespace
}  // namespace crm::eventlog
