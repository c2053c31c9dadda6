// The projector's guarantees, on the real embedded log and a real RocksDB store, with a tiny
// applier: a "note" aggregate whose events set its text (google.protobuf.StringValue).
#include "common/projection/projector.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/eventlog/embedded_event_log.h"
#include "common/projection/command_writer.h"
#include "common/projection/records.h"
#include "tests/testing/testing.h"

namespace crm::projection {
namespace {

using crm::common::v1::CommandOutcome;
using crm::common::v1::EventEnvelope;
using store::Cf;

constexpr char kTopic[] = "crm.note.v1";

// State: "n/<id>" -> "<version>:<text>". Apply waits while the gate is closed, so a test can
// hold the projector in the middle of its work.
class NoteApplier : public EventApplier {
 public:
  void SetGate(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }
  // Whether an event waits at the closed gate.
  bool Holding() {
    absl::MutexLock lock(&mu_);
    return held_ > 0;
  }
  bool Handles(std::string_view type) const override {
    return type == "google.protobuf.StringValue" ||
           (handles_all_of_protobuf && type.starts_with("google.protobuf."));
  }
  // Takes every google.protobuf.* type, as an applier takes a whole prefix ("crm.contact.v1.").
  bool handles_all_of_protobuf = false;
  // A note refuses an event it has moved on from, so a second copy changes nothing: said of
  // these topics (read when the projector is made).
  bool SecondCopyChangesNothing(std::string_view topic) const override {
    return copies_change_nothing_in.contains(std::string(topic));
  }
  std::set<std::string> copies_change_nothing_in;
  // Names the note an event reads (EventApplier::WillRead) when set.
  bool read_ahead = false;
  void WillRead(const EventEnvelope& e, std::vector<std::string>& state_keys) const override {
    if (read_ahead) state_keys.push_back("n/" + e.aggregate_id());
  }
  absl::StatusOr<absl::Status> Apply(const EventEnvelope& e,
                                     store::ProjectionStore::Batch& batch) override {
    {
      absl::MutexLock lock(&mu_);
      ++held_;
      mu_.Await(absl::Condition(&open_));
      --held_;
    }
    auto current = batch.Get(Cf::kState, "n/" + e.aggregate_id());
    if (!current.ok()) return current.status();
    const int64_t version =
        *current ? std::stoll(current->value().substr(0, current->value().find(':'))) : 0;
    if (version != e.expected_version()) return absl::AbortedError("stale");
    google::protobuf::StringValue text;
    e.payload().UnpackTo(&text);
    batch.Put(Cf::kState, "n/" + e.aggregate_id(),
              std::to_string(e.aggregate_version()) + ":" + text.value());
    return absl::OkStatus();
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
};

EventEnvelope Note(const std::string& event_id, const std::string& id, int64_t expected,
                   const std::string& text, const std::string& request_id = "",
                   const std::string& command = "SetNote") {
  EventEnvelope e;
  e.set_event_id(event_id);
  e.set_tenant("t");
  e.set_aggregate_id(id);
  e.set_expected_version(expected);
  e.set_aggregate_version(expected + 1);
  e.set_request_id(request_id);
  e.set_command(command);
  google::protobuf::StringValue v;
  v.set_value(text);
  e.mutable_payload()->PackFrom(v);
  e.set_event_type("google.protobuf.StringValue");
  return e;
}

class ProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(*eventlog::EmbeddedEventLog::Open({dir_.Sub("log"), 2}));
    OpenProjection();
  }

  void OpenProjection(size_t max_batch = 512, int64_t compact_after_records = 100000,
                      bool pipelined_commits = true) {
    projector_.reset();
    store_.reset();
    store_ = std::move(*store::ProjectionStore::Open(dir_.Sub("projection")));
    projector_ = std::make_unique<Projector>(
        ProjectorOptions{.name = "note",
                         .topics = {kTopic},
                         .own_topic = kTopic,
                         .max_batch = max_batch,
                         .pipelined_commits = pipelined_commits,
                         .compact_after_records = compact_after_records},
        log_.get(), store_.get(), &applier_);
    ASSERT_TRUE(projector_->Start().ok());
  }

  // Appends and waits for the projection to apply; returns the outcome (kept in memory if
  // `expect_`, as for a CommandWriter's event, else read from the store).
  absl::StatusOr<CommandOutcome> AppendApplied(const EventEnvelope& e) {
    if (expect_) projector_->Expect(e.event_id());
    auto pos = eventlog::AppendAndWait(*log_, kTopic, e);
    if (!pos.ok()) return pos.status();
    return WaitApplied(*pos, e.event_id());
  }

  absl::StatusOr<CommandOutcome> WaitApplied(const eventlog::LogPosition& pos,
                                             const std::string& event_id) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<CommandOutcome>>>();
    auto future = promise->get_future();
    projector_->WhenApplied(pos, event_id, absl::Now() + absl::Seconds(10),
                            [promise](absl::StatusOr<CommandOutcome> o) { promise->set_value(o); });
    return future.get();
  }

  std::optional<std::string> Note(const std::string& id) {
    return *store_->Get(Cf::kState, "n/" + id);
  }

  crm::admin::v1::GetProjectionStatusResponse Status() { return *projector_->Status(); }

  // How many outcomes are recorded under an event id.
  int EventRecords() {
    int n = 0;
    EXPECT_TRUE(store_
                    ->Scan(Cf::kIndex, "o/e/", "",
                           [&](std::string_view, std::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  }

  testing::TempDir dir_;
  NoteApplier applier_;
  bool expect_ = false;
  std::unique_ptr<eventlog::EmbeddedEventLog> log_;
  std::unique_ptr<store::ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
};

// Equal messages give equal bytes whatever order their maps were filled in, and the bytes parse
// back to the message; a message without maps gives protobuf's own serialisation.
TEST(SerializeDeterministic, GivesEqualBytesForEqualMessagesAndParsesBack) {
  google::protobuf::Struct forward;
  google::protobuf::Struct backward;
  for (int i = 0; i < 50; ++i) {
    (*forward.mutable_fields())["key" + std::to_string(i)].set_number_value(i);
    (*backward.mutable_fields())["key" + std::to_string(49 - i)].set_number_value(49 - i);
  }
  (*forward.mutable_fields())["nested"].mutable_struct_value()->mutable_fields()->insert(
      {"inner", google::protobuf::Value()});
  (*backward.mutable_fields())["nested"].mutable_struct_value()->mutable_fields()->insert(
      {"inner", google::protobuf::Value()});
  const std::string bytes = SerializeDeterministic(forward);
  EXPECT_EQ(SerializeDeterministic(backward), bytes);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, forward));
  EXPECT_EQ(bytes.size(), forward.ByteSizeLong());

  google::protobuf::StringValue plain;
  plain.set_value(std::string(300, 'x'));
  EXPECT_EQ(SerializeDeterministic(plain), plain.SerializeAsString());
  EXPECT_EQ(SerializeDeterministic(google::protobuf::StringValue()), "");
}

// Envelopes parsed one after another into one envelope, the way a projector parses the records
// it reads, come out as each parsed on its own: no field of one is left in the next (strings,
// numbers, the payload and the time each present, then absent, then back), and damaged bytes
// are refused.
TEST(ParseEnvelope, GivesWhatAFreshParseGivesWhateverWasParsedIntoItBefore) {
  using crm::common::v1::EventEnvelope;
  EventEnvelope full;
  full.set_event_id("01J0000000000000000000000A");
  full.set_tenant("acme");
  full.set_aggregate_type("contact");
  full.set_aggregate_id(std::string(40, 'c'));
  full.set_expected_version(3);
  full.set_aggregate_version(4);
  full.set_event_type("crm.contact.v1.ContactUpdated");
  full.mutable_occurred_at()->set_seconds(1'700'000'000);
  full.mutable_occurred_at()->set_nanos(5);
  full.set_actor("user:ada");
  full.set_request_id("req-1");
  full.set_correlation_id("corr-1");
  full.set_causation_id("cause-1");
  google::protobuf::StringValue inner;
  inner.set_value(std::string(200, 'p'));
  full.mutable_payload()->PackFrom(inner);
  full.set_command("UpdateContact");
  full.set_source("import");
  full.set_rebasable(true);

  EventEnvelope bare;  // no payload, no time, nothing but an id
  bare.set_event_id("01J0000000000000000000000B");
  EventEnvelope other = full;  // other strings, a shorter payload, a time at a whole second
  other.set_tenant("globex");
  other.clear_actor();
  other.set_expected_version(0);
  other.set_rebasable(false);
  other.mutable_occurred_at()->set_nanos(0);
  inner.set_value("q");
  other.mutable_payload()->PackFrom(inner);
  EventEnvelope empty_parts = bare;  // a payload and a time present but empty: as absent
  empty_parts.mutable_payload();
  empty_parts.mutable_occurred_at();

  EventEnvelope into;
  for (const EventEnvelope* e : {&full, &bare, &other, &full, &empty_parts, &other, &bare}) {
    const std::string bytes = e->SerializeAsString();
    EventEnvelope fresh;
    ASSERT_TRUE(fresh.ParseFromString(bytes));
    ASSERT_TRUE(ParseEnvelope(bytes, into)) << e->event_id();
    EXPECT_EQ(into.SerializeAsString(), e == &empty_parts ? bare.SerializeAsString() : bytes);
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(into, e == &empty_parts ? bare : fresh));
    EXPECT_EQ(into.has_payload(), e->payload().ByteSizeLong() > 0);
    EXPECT_EQ(into.has_occurred_at(), e->occurred_at().ByteSizeLong() > 0);
  }
  std::string cut = full.SerializeAsString();
  cut.resize(cut.size() / 2);  // inside the payload
  ASSERT_FALSE(EventEnvelope().ParseFromString(cut));
  EXPECT_FALSE(ParseEnvelope(cut, into));
  EXPECT_FALSE(ParseEnvelope(std::string("\xff\xff\xff", 3), into));
  ASSERT_TRUE(ParseEnvelope(other.SerializeAsString(), into));  // and it parses on after that
  EXPECT_EQ(into.SerializeAsString(), other.SerializeAsString());
}

// How a waiter learns its event's outcome.
enum class Outcomes {
  kRecordedAndRead,  // recorded under the event id; the waiter did not Expect it
  kRecordedAndKept,  // recorded, and kept in memory for the waiter who Expected it
  kKeptOnly,         // the applier refuses a copy by itself: no record per event, kept in memory
};

// The outcome tests, run with each: the waiter's answers are the same.
class OutcomeTest : public ProjectorTest, public ::testing::WithParamInterface<Outcomes> {
 protected:
  void SetUp() override {
    if (GetParam() == Outcomes::kKeptOnly) applier_.copies_change_nothing_in = {kTopic};
    expect_ = GetParam() != Outcomes::kRecordedAndRead;
    ProjectorTest::SetUp();
  }
  void TearDown() override {
    // An event's outcome is recorded under its id exactly where the topic keeps such records.
    if (GetParam() == Outcomes::kKeptOnly) {
      EXPECT_EQ(EventRecords(), 0);
    } else {
      EXPECT_GT(EventRecords(), 0);
    }
  }
  bool recorded() const { return GetParam() != Outcomes::kKeptOnly; }
};

INSTANTIATE_TEST_SUITE_P(Waiters, OutcomeTest,
                         ::testing::Values(Outcomes::kRecordedAndRead, Outcomes::kRecordedAndKept,
                                           Outcomes::kKeptOnly),
                         [](const ::testing::TestParamInfo<Outcomes>& info) {
                           switch (info.param) {
                             case Outcomes::kRecordedAndRead:
                               return "RecordedAndRead";
                             case Outcomes::kRecordedAndKept:
                               return "RecordedAndKept";
                             case Outcomes::kKeptOnly:
                               return "KeptOnly";
                           }
                           return "";
                         });

TEST_P(OutcomeTest, AppliesAndAnswersWaitersAfterTheCommit) {
  auto outcome = AppendApplied(projection::Note("e1", "a", 0, "hello", "r1"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->code(), 0);
  EXPECT_EQ(outcome->version(), 1);
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:hello"));
}

TEST_P(OutcomeTest, StaleExpectedVersionIsRejectedAndChangesNothing) {
  ASSERT_TRUE(AppendApplied(projection::Note("e1", "a", 0, "one")).ok());
  auto outcome = AppendApplied(projection::Note("e2", "a", 0, "racer"));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:one"));
}

// A second copy is what a producer retry after a lost ack leaves behind. Where the topic keeps
// an outcome record per event, the record recognises it; where not, it reaches the applier,
// which refuses it (the note is past the version it expects).
TEST_P(OutcomeTest, AnEventInTheLogTwiceIsAppliedOnce) {
  const auto e = projection::Note("dup", "a", 0, "once");
  ASSERT_TRUE(AppendApplied(e).ok());
  auto second = AppendApplied(e);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->code(),
            static_cast<int>(recorded() ? absl::StatusCode::kOk : absl::StatusCode::kAborted));
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:once"));
  EXPECT_EQ(Status().events_seen(), recorded() ? 1 : 2);
}

// With a request id, the request's record recognises a copy, whatever the topic keeps.
TEST_P(OutcomeTest, ACopyOfAnEventWithARequestIdIsRecognisedByItsRequest) {
  const auto e = projection::Note("dup", "a", 0, "once", "req");
  ASSERT_TRUE(AppendApplied(e).ok());
  auto second = AppendApplied(e);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->code(), 0);
  EXPECT_EQ(second->version(), 1);
  EXPECT_EQ(second->event_id(), "dup");
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:once"));
  EXPECT_EQ(Status().events_seen(), 1);
}

// A topic's events keep no outcome record under their event id where the applier refuses a
// second copy of one by itself, and a copy changes nothing; it is said per topic, and a topic a
// CommandWriter writes to through the projector is no exception: the writer is told its outcome
// in memory, applied or refused. A request id keeps its record on the own topic either way.
TEST_F(ProjectorTest, ATopicsEventsKeepNoOutcomeRecordWhereTheApplierRefusesACopy) {
  constexpr char kOther[] = "crm.other.v1";
  constexpr char kWritten[] = "crm.written.v1";
  for (bool idempotent : {false, true}) {
    SCOPED_TRACE(idempotent ? "copies change nothing" : "not declared");
    testing::TempDir dir;
    auto log = std::move(*eventlog::EmbeddedEventLog::Open({dir.Sub("log"), 2}));
    auto store = std::move(*store::ProjectionStore::Open(dir.Sub("projection")));
    NoteApplier applier;
    if (idempotent) applier.copies_change_nothing_in = {kTopic, kOther, kWritten};
    Projector projector({.name = "note", .topics = {kTopic, kOther, kWritten}, .own_topic = kTopic},
                        log.get(), store.get(), &applier);
    CommandWriter writer(log.get(), &projector, kWritten, "note");
    ASSERT_TRUE(projector.Start().ok());
    const EventEnvelope theirs = projection::Note("theirs", "b", 0, "x");
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kOther, theirs).ok());
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kOther, projection::Note("later", "b", 1, "y")).ok());
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kOther, theirs).ok());  // a second copy
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kTopic, projection::Note("ours", "a", 0, "z")).ok());
    const EventEnvelope requested = projection::Note("asked", "c", 0, "r", "req-1");
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kTopic, requested).ok());
    ASSERT_TRUE(eventlog::AppendAndWait(*log, kTopic, requested).ok());  // a second copy
    ASSERT_TRUE(projector.WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
    EXPECT_EQ(*store->Get(Cf::kState, "n/b"), std::optional<std::string>("2:y"));
    EXPECT_EQ(*store->Get(Cf::kState, "n/c"), std::optional<std::string>("1:r"));
    for (const char* event_id : {"theirs", "later", "ours", "asked"}) {
      EXPECT_EQ(store->Get(Cf::kIndex, keys::EventOutcome(event_id))->has_value(), !idempotent)
          << event_id;
    }
    EXPECT_TRUE(store->Get(Cf::kIndex, keys::RequestOutcome("t", "req-1"))->has_value());
    CommandWriter::Command cmd;
    cmd.tenant = "t";
    cmd.command = "SetNote";
    cmd.aggregate_id = "w";
    cmd.deadline = absl::Now() + absl::Seconds(10);
    google::protobuf::StringValue text;
    text.set_value("written");
    EXPECT_TRUE(writer.WriteAndWait(cmd, text).ok());
    EXPECT_EQ(*store->Get(Cf::kState, "n/w"), std::optional<std::string>("1:written"));
    // Refused: the note is at version 1 now.
    EXPECT_EQ(writer.WriteAndWait(cmd, text).code(), absl::StatusCode::kAborted);
    EXPECT_EQ(*store->Get(Cf::kState, "n/w"), std::optional<std::string>("1:written"));
    projector.Stop();
  }
}

// A waiter on an event no one expected (Projector::Expect) is answered from the store: on a
// topic that keeps no record per event, with UNAVAILABLE (the event was applied; its outcome
// is not known).
TEST_F(ProjectorTest, AnUnexpectedEventsWaiterOnATopicWithoutRecordsIsTold) {
  applier_.copies_change_nothing_in = {kTopic};
  OpenProjection();
  auto outcome = AppendApplied(projection::Note("e1", "a", 0, "x"));
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:x"));
}

TEST_P(OutcomeTest, RepeatedRequestIdGetsTheFirstOutcomeAndNoEffect) {
  auto first = AppendApplied(projection::Note("e1", "a", 0, "first", "req"));
  ASSERT_TRUE(first.ok());
  auto repeat = AppendApplied(projection::Note("e2", "b", 0, "second", "req"));
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->event_id(), "e1");
  EXPECT_EQ(repeat->aggregate_id(), "a");
  EXPECT_EQ(Note("b"), std::nullopt);
  auto found = projector_->FindRequest("t", "req");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->event_id(), "e1");
}

TEST_P(OutcomeTest, RequestIdReusedForAnotherCommandIsRefused) {
  ASSERT_TRUE(AppendApplied(projection::Note("e1", "a", 0, "x", "req", "SetNote")).ok());
  auto other = AppendApplied(projection::Note("e2", "b", 0, "y", "req", "OtherCommand"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(other->message().find("request_id"), std::string::npos);
  EXPECT_EQ(Note("b"), std::nullopt);
}

TEST_F(ProjectorTest, UndecodableRecordBecomesADeadLetterAndTheProjectionMovesOn) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<eventlog::LogPosition>>>();
  auto future = promise->get_future();
  log_->AppendRaw(kTopic, "a", "\x0a\xff\xff not a protobuf",
                  [promise](absl::StatusOr<eventlog::LogPosition> p) { promise->set_value(p); });
  ASSERT_TRUE(future.get().ok());
  ASSERT_TRUE(AppendApplied(projection::Note("e1", "a", 0, "after")).ok());
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:after"));
  EXPECT_EQ(Status().dead_letters(), 1);
}

TEST_P(OutcomeTest, UnknownEventTypeIsSkippedAndCounted) {
  auto e = projection::Note("e1", "a", 0, "x");
  e.set_event_type("crm.future.v9.SomethingNew");
  auto outcome = AppendApplied(e);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->code(), static_cast<int>(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(Note("a"), std::nullopt);
  EXPECT_EQ(Status().unknown_events(), 1);
}

// A type under a prefix the applier takes whole that this build has no schema for (a newer
// producer's) is not applied, every time it comes: the projector keeps what it learnt of a type,
// and a known type beside it is applied.
TEST_P(OutcomeTest, ATypeUnderAHandledPrefixThatThisBuildLacksIsNeverApplied) {
  applier_.handles_all_of_protobuf = true;
  for (const std::string id : {"u1", "u2"}) {
    auto e = projection::Note(id, "a", 0, "from a newer producer");
    e.set_event_type("google.protobuf.NoSuchMessageYet");
    auto outcome = AppendApplied(e);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(outcome->code(), static_cast<int>(absl::StatusCode::kUnimplemented)) << id;
  }
  EXPECT_EQ(Note("a"), std::nullopt);
  auto known = AppendApplied(projection::Note("k1", "a", 0, "known"));
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(known->code(), 0);
  EXPECT_EQ(Note("a"), std::optional<std::string>("1:known"));
  EXPECT_EQ(Status().unknown_events(), 2);
}

TEST_F(ProjectorTest, RestartResumesWithoutApplyingTwice) {
  for (int v = 0; v < 20; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("e" + std::to_string(v), "a", v, "v")).ok());
  }
  const auto before = Status();
  OpenProjection();
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  const auto after = Status();
  EXPECT_EQ(after.events_seen(), 20);
  EXPECT_EQ(after.checksum(), before.checksum());
  EXPECT_EQ(Note("a"), std::optional<std::string>("20:v"));
}

// A batch that takes records of several partitions keeps where each of them ends: a restart
// resumes every partition there, applying nothing twice and skipping nothing.
TEST_F(ProjectorTest, ARestartAfterABatchOfSeveralPartitionsResumesEachWhereItEnded) {
  projector_.reset();  // the records wait in the log, to be taken in one batch
  std::set<int32_t> partitions;
  for (int v = 0; v < 3; ++v) {
    for (int a = 0; a < 10; ++a) {
      const std::string id = "p" + std::to_string(a);
      auto pos = eventlog::AppendAndWait(
          *log_, kTopic, projection::Note(absl::StrCat("e", a, "-", v), id, v, "v"));
      ASSERT_TRUE(pos.ok()) << pos.status();
      partitions.insert(pos->partition);
    }
  }
  ASSERT_EQ(partitions.size(), 2u);
  // Every partition's stored position is its end (what a restart resumes from).
  auto expect_at_the_ends = [&](const std::string& when) {
    const auto status = Status();
    ASSERT_EQ(status.partitions_size(), 2) << when;
    for (const auto& p : status.partitions()) {
      EXPECT_GT(p.end_offset(), 0) << when << " partition " << p.partition();
      EXPECT_EQ(p.next_offset(), p.end_offset()) << when << " partition " << p.partition();
    }
  };
  OpenProjection();
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(Status().events_seen(), 30);
  expect_at_the_ends("caught up");
  OpenProjection();
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(Status().events_seen(), 30);  // none read again
  expect_at_the_ends("restarted");
  ASSERT_TRUE(AppendApplied(projection::Note("e0-3", "p0", 3, "w")).ok());
  EXPECT_EQ(Status().events_seen(), 31);
  for (int a = 0; a < 10; ++a) {
    EXPECT_EQ(Note("p" + std::to_string(a)), std::optional<std::string>(a == 0 ? "4:w" : "3:v"));
  }
}

TEST_F(ProjectorTest, RebuildFromTheLogGivesTheSameChecksum) {
  for (int v = 0; v < 10; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("a" + std::to_string(v), "a", v, "x")).ok());
    ASSERT_TRUE(AppendApplied(projection::Note("b" + std::to_string(v), "b", 0, "race")).ok());
  }
  const std::string before = Status().checksum();
  projector_.reset();
  store_.reset();
  ASSERT_TRUE(store::ProjectionStore::Destroy(dir_.Sub("projection")).ok());
  OpenProjection();
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(Status().checksum(), before);
}

// A rebuild in full batches commits each while it applies the next, which reads through it:
// every note's version check sees the one before, wherever a batch ends, and the store ends as
// the one built an event at a time (and as a rebuild that commits each batch before the next).
TEST_F(ProjectorTest, ABatchAppliedWhileTheOneBeforeIsCommittedSeesItsWrites) {
  int event = 0;
  std::map<std::string, int> versions;
  for (int i = 0; i < 60; ++i) {
    for (const std::string id : {"a", "b", "c"}) {
      if ((i + id[0]) % 3 == 0) continue;  // the aggregates' events interleave unevenly
      const std::string event_id = "e" + std::to_string(++event);
      ASSERT_TRUE(AppendApplied(projection::Note(event_id, id, versions[id]++, event_id)).ok());
    }
    if (i % 7 == 0) {  // now and then a stale one, refused whichever batch it falls in
      ASSERT_TRUE(AppendApplied(projection::Note("s" + std::to_string(i), "a", 0, "stale")).ok());
    }
  }
  const std::string before = Status().checksum();
  const std::optional<std::string> a = Note("a");
  for (const bool pipelined : {true, false}) {
    SCOPED_TRACE(pipelined);
    projector_.reset();
    store_.reset();
    ASSERT_TRUE(store::ProjectionStore::Destroy(dir_.Sub("projection")).ok());
    OpenProjection(/*max_batch=*/4, /*compact_after_records=*/100000, pipelined);
    ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(20)).ok());
    EXPECT_EQ(Status().checksum(), before);
    EXPECT_EQ(Note("a"), a);
  }
}

// The records an applier names (WillRead) are read ahead for a run of records at a time, not
// one by one, and an event reading a record that an event before it in the same run wrote reads
// what that one wrote: the projection built with and without reading ahead is the same.
TEST_F(ProjectorTest, RecordsReadAheadAreReadOnceAndShowTheWritesBeforeThemInTheRun) {
  projector_->Stop();
  std::map<std::string, int> versions;
  for (int i = 0; i < 300; ++i) {
    const std::string id = std::string(1, static_cast<char>('a' + i % 7 % 3));
    const std::string event_id = "e" + std::to_string(i);
    // Unevenly interleaved aggregates, and now and then a stale event, refused.
    const int64_t expected = i % 11 == 0 ? 0 : versions[id]++;
    ASSERT_TRUE(
        eventlog::AppendAndWait(*log_, kTopic, projection::Note(event_id, id, expected, event_id))
            .ok());
  }
  std::map<bool, std::string> checksums;
  for (const bool read_ahead : {false, true}) {
    SCOPED_TRACE(read_ahead);
    applier_.read_ahead = read_ahead;
    projector_.reset();
    store_.reset();
    ASSERT_TRUE(store::ProjectionStore::Destroy(dir_.Sub("projection")).ok());
    OpenProjection();
    ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(20)).ok());
    checksums[read_ahead] = Status().checksum();
    const std::string a = Note("a").value_or("");
    EXPECT_EQ(a.substr(0, a.find(':')), std::to_string(versions["a"]));
    // One by one, each batch reads each note it has not written yet alone.
    if (read_ahead) {
      EXPECT_EQ(store_->single_reads(Cf::kState), 0u);
    } else {
      EXPECT_GE(store_->single_reads(Cf::kState), 3u);
    }
  }
  EXPECT_EQ(checksums[true], checksums[false]);
}

// A store built from an empty one in one go is compacted once the projection has caught up,
// so that its reads look in one sorted run; what it holds does not change.
TEST_F(ProjectorTest, AStoreBuiltFromEmptyIsCompactedIntoOneSortedRunOnceCaughtUp) {
  for (int v = 0; v < 150; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("a" + std::to_string(v), "a", v, "x")).ok());
  }
  // Below the threshold (the default): nothing compacted, all still in the memtables.
  EXPECT_EQ(store_->SortedRuns(Cf::kState), 0);
  const std::string before = Status().checksum();
  projector_.reset();
  store_.reset();
  ASSERT_TRUE(store::ProjectionStore::Destroy(dir_.Sub("projection")).ok());
  OpenProjection(/*max_batch=*/16, /*compact_after_records=*/100);
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    return store_->SortedRuns(Cf::kState) == 1 && store_->SortedRuns(Cf::kIndex) == 1 &&
           store_->SortedRuns(Cf::kLog) == 1;
  }));
  EXPECT_EQ(Status().checksum(), before);
  EXPECT_EQ(Note("a"), std::optional<std::string>("150:x"));
}

// The same after a rebuild in place; a restart on a store that is not empty compacts nothing.
TEST_F(ProjectorTest, ARebuildInPlaceIsCompactedOnceCaughtUpARestartIsNot) {
  for (int v = 0; v < 150; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("a" + std::to_string(v), "a", v, "x")).ok());
  }
  // Reopened, the store's write-ahead log is flushed into one level-0 file per column family.
  OpenProjection(/*max_batch=*/16, /*compact_after_records=*/100);
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_TRUE(AppendApplied(projection::Note("a150", "a", 150, "y")).ok());
  auto level0 = [&](Cf cf) { return store_->IntProperty(cf, "rocksdb.num-files-at-level0"); };
  EXPECT_EQ(level0(Cf::kState), 1u);
  const std::string before = Status().checksum();
  ASSERT_TRUE(projector_->RequestRebuild(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    return !projector_->rebuilding() && level0(Cf::kState) == 0u && level0(Cf::kIndex) == 0u &&
           store_->SortedRuns(Cf::kState) == 1 && store_->SortedRuns(Cf::kIndex) == 1;
  }));
  EXPECT_EQ(Status().checksum(), before);
  EXPECT_EQ(Note("a"), std::optional<std::string>("151:y"));
}

TEST_F(ProjectorTest, InPlaceRebuildRefusesReadsUntilCaughtUpThenMatches) {
  for (int v = 0; v < 10; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("a" + std::to_string(v), "a", v, "x")).ok());
  }
  const auto before = Status();
  applier_.SetGate(false);  // the replay stops at its first event
  ASSERT_TRUE(projector_->RequestRebuild(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(projector_->rebuilding());
  const auto read = store_->Get(Cf::kState, "n/a");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(read.status().message().find("note"), std::string::npos) << read.status();
  // The projector's own bookkeeping stays readable: progress shows the rebuild.
  const auto during = projector_->Progress();
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_TRUE(during->rebuilding());
  EXPECT_EQ(during->lag(), 10);
  // A write made meanwhile is answered once the replay reaches it, with its real outcome.
  auto pos = eventlog::AppendAndWait(*log_, kTopic, projection::Note("a10", "a", 10, "y"));
  ASSERT_TRUE(pos.ok());
  applier_.SetGate(true);
  auto outcome = WaitApplied(*pos, "a10");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->code(), 0);
  ASSERT_TRUE(testing::WaitFor([&] { return !projector_->rebuilding(); }));
  EXPECT_EQ(Note("a"), std::optional<std::string>("11:y"));
  EXPECT_EQ(Status().events_seen(), 11);
  EXPECT_EQ(before.events_seen(), 10);
}

TEST_F(ProjectorTest, RebuildGivesTheSameChecksumAndARestartPartWayContinuesIt) {
  for (int v = 0; v < 10; ++v) {
    ASSERT_TRUE(AppendApplied(projection::Note("a" + std::to_string(v), "a", v, "x")).ok());
    ASSERT_TRUE(AppendApplied(projection::Note("b" + std::to_string(v), "b", 0, "race")).ok());
  }
  const std::string before = Status().checksum();
  OpenProjection(/*max_batch=*/1);
  ASSERT_TRUE(projector_->WaitUntilCaughtUp(absl::Now() + absl::Seconds(10)).ok());
  applier_.SetGate(false);
  ASSERT_TRUE(projector_->RequestRebuild(absl::Now() + absl::Seconds(10)).ok());
  // Stop while the replay holds its first event, then let that one batch finish.
  ASSERT_TRUE(testing::WaitFor([&] { return applier_.Holding(); }));
  std::thread stop([&] { projector_->Stop(); });
  ASSERT_TRUE(testing::WaitFor([&] {
    // Once stopping, the projector refuses new waiters at once.
    auto refused = std::make_shared<std::atomic<bool>>(false);
    projector_->WhenApplied({kTopic, 0, 1 << 20}, "probe", absl::Now(),
                            [refused](absl::StatusOr<CommandOutcome> o) {
                              if (o.status().message().find("shutting down") != std::string::npos) {
                                *refused = true;
                              }
                            });
    return refused->load();
  }));
  applier_.SetGate(true);
  stop.join();
  ASSERT_TRUE(store_->Unchecked().Get(Cf::kLog, keys::Rebuilding())->has_value());
  applier_.SetGate(false);
  OpenProjection(/*max_batch=*/1);
  EXPECT_TRUE(projector_->rebuilding());
  EXPECT_EQ(store_->Get(Cf::kState, "n/a").status().code(), absl::StatusCode::kUnavailable);
  applier_.SetGate(true);
  ASSERT_TRUE(testing::WaitFor([&] { return !projector_->rebuilding(); }));
  EXPECT_EQ(Status().checksum(), before);
  EXPECT_EQ(Note("a"), std::optional<std::string>("10:x"));
  EXPECT_FALSE(store_->Unchecked().Get(Cf::kLog, keys::Rebuilding())->has_value());
}

TEST_F(ProjectorTest, RebuildOfAStoppedProjectorIsRefused) {
  projector_->Stop();
  EXPECT_EQ(projector_->RequestRebuild(absl::Now() + absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

// What Expect holds goes once its waiter is answered, whatever the answer: applied, refused,
// a position the projection does not read, the deadline, the projector stopping.
TEST_F(ProjectorTest, AnExpectedOutcomeIsHeldOnlyUntilItsWaiterIsAnswered) {
  applier_.copies_change_nothing_in = {kTopic};
  expect_ = true;
  OpenProjection();
  ASSERT_TRUE(AppendApplied(projection::Note("e1", "a", 0, "one")).ok());
  EXPECT_EQ(projector_->expecting(), 0u);
  auto refused = AppendApplied(projection::Note("e2", "a", 0, "stale"));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(projector_->expecting(), 0u);
  auto answer = [&](const eventlog::LogPosition& pos, const std::string& event_id,
                    absl::Duration wait) {
    projector_->Expect(event_id);
    EXPECT_EQ(projector_->expecting(), 1u);
    auto promise = std::make_shared<std::promise<absl::StatusOr<CommandOutcome>>>();
    auto future = promise->get_future();
    projector_->WhenApplied(pos, event_id, absl::Now() + wait,
                            [promise](absl::StatusOr<CommandOutcome> o) { promise->set_value(o); });
    return future;
  };
  EXPECT_EQ(answer({"crm.elsewhere.v1", 0, 0}, "x1", absl::Seconds(10)).get().status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(projector_->expecting(), 0u);
  EXPECT_EQ(answer({kTopic, 0, 1000}, "x2", absl::Milliseconds(100)).get().status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(projector_->expecting(), 0u);
  auto pending = answer({kTopic, 0, 2000}, "x3", absl::Seconds(30));
  projector_->Stop();
  EXPECT_EQ(pending.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(projector_->expecting(), 0u);
}

TEST_F(ProjectorTest, WaiterGetsDeadlineExceededWhenTheEventIsNotApplied) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<CommandOutcome>>>();
  auto future = promise->get_future();
  projector_->WhenApplied({kTopic, 0, 1000}, "never", absl::Now() + absl::Milliseconds(100),
                          [promise](absl::StatusOr<CommandOutcome> o) { promise->set_value(o); });
  EXPECT_EQ(future.get().status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_P(OutcomeTest, CommandWriterWritesAndReportsTheAppliedOutcome) {
  CommandWriter writer(log_.get(), projector_.get(), kTopic, "note");
  CommandWriter::Command cmd;
  cmd.tenant = "t";
  cmd.command = "SetNote";
  cmd.aggregate_id = "w";
  cmd.request_id = "rw";
  cmd.now = absl::Now();
  cmd.deadline = absl::Now() + absl::Seconds(10);
  google::protobuf::StringValue text;
  text.set_value("written");
  auto promise = std::make_shared<std::promise<absl::StatusOr<CommandOutcome>>>();
  auto future = promise->get_future();
  writer.Write(cmd, text, [promise](absl::StatusOr<CommandOutcome> o) { promise->set_value(o); });
  auto outcome = future.get();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(OutcomeStatus(*outcome).ok());
  EXPECT_EQ(Note("w"), std::optional<std::string>("1:written"));
  auto earlier = writer.FindEarlier("t", "rw", "SetNote");
  ASSERT_TRUE(earlier.ok() && earlier->has_value());
  EXPECT_EQ(writer.FindEarlier("t", "rw", "Other").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A client that retries while its first call is still running (its deadline passed, or it
// retried on another connection) gets the first call's outcome, and nothing is written twice:
// a creation decided again would have named a second aggregate.
TEST_P(OutcomeTest, ARepeatOfARequestStillRunningWaitsForItsOutcomeAndWritesNothing) {
  CommandWriter writer(log_.get(), projector_.get(), kTopic, "note");
  using Result = absl::StatusOr<std::string>;
  auto run = [&](const std::string& command, const std::string& id, std::atomic<int>* decided) {
    auto promise = std::make_shared<std::promise<Result>>();
    CommandWriter::Command cmd;
    cmd.tenant = "t";
    cmd.command = command;
    cmd.request_id = "create-once";
    cmd.deadline = absl::Now() + absl::Seconds(10);
    writer.Run<std::string>(
        cmd,
        [&, id](absl::Time, CommandWriter::Payload& payload) -> CommandWriter::Decision {
          ++*decided;
          auto text = std::make_unique<google::protobuf::StringValue>();
          text->set_value(id);
          payload = std::move(text);
          return std::make_pair(id, int64_t{0});
        },
        [](const std::string& id, int64_t version) -> Result {
          return id + "@" + std::to_string(version);
        },
        [promise](Result r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  };
  std::atomic<int> first_decided = 0, repeat_decided = 0, other_decided = 0;
  applier_.SetGate(false);
  auto first = run("CreateNote", "a1", &first_decided);
  ASSERT_TRUE(testing::WaitFor([&] { return applier_.Holding(); }));  // in the log, not applied
  auto repeat = run("CreateNote", "a2", &repeat_decided);
  auto other = run("DeleteNote", "a3", &other_decided);
  // Another command under the same request id is refused at once (the gate is still closed).
  const bool refused_at_once =
      other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  applier_.SetGate(true);
  ASSERT_TRUE(refused_at_once);
  EXPECT_EQ(other.get().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(first.get().value_or("refused"), "a1@1");
  EXPECT_EQ(repeat.get().value_or("refused"), "a1@1");
  EXPECT_EQ(first_decided, 1);
  EXPECT_EQ(repeat_decided + other_decided, 0);
  EXPECT_EQ(Note("a2"), std::nullopt);
  EXPECT_EQ(Status().events_seen(), 1);
  // Once it has its outcome, a repeat is answered from the projection, as before.
  EXPECT_EQ(run("CreateNote", "a4", &repeat_decided).get().value_or("refused"), "a1@1");
  EXPECT_EQ(repeat_decided, 0);
}

}  // namespace
}  // namespace crm::projection
