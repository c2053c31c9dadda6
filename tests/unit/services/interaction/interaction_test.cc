// The interaction service's domain, validation and timeline projection.
#include <gtest/gtest.h>

#include "common/store/projection_store.h"
#include "services/interaction/api/validation.h"
#include "services/interaction/domain/apply.h"
#include "services/interaction/domain/decide.h"
#include "services/interaction/projection/interaction_projection.h"
#include "tests/testing/testing.h"

namespace crm::interaction {
namespace {

namespace v1 = crm::interaction::v1;
using crm::common::v1::EventEnvelope;

constexpr char kAnn[] = "01ARZ3NDEKTSV4RRFFQ69G5FAA";
constexpr char kBob[] = "01ARZ3NDEKTSV4RRFFQ69G5FAB";

EventEnvelope Event(const google::protobuf::Message& payload, const std::string& id,
                    int64_t expected, int n) {
  EventEnvelope e;
  e.set_event_id("e" + std::to_string(n));
  e.set_tenant("t");
  e.set_aggregate_id(id);
  e.set_expected_version(expected);
  e.set_aggregate_version(expected + 1);
  e.set_event_type(payload.GetDescriptor()->full_name());
  e.mutable_payload()->PackFrom(payload);
  e.mutable_occurred_at()->set_seconds(1000 + n);
  return e;
}

Interaction Call(std::vector<std::string> contacts, int64_t seconds) {
  Interaction i;
  i.set_channel(v1::CHANNEL_CALL);
  for (auto& c : contacts) i.add_contact_ids(c);
  i.mutable_occurred_at()->set_seconds(seconds);
  i.set_subject("call at " + std::to_string(seconds));
  return i;
}

TEST(Validation, LogChecksEveryField) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  v1::LogInteractionRequest r;
  EXPECT_EQ(ValidateLog(r, now).status().message().substr(0, 11), "interaction");
  *r.mutable_interaction() = Call({kAnn}, 1700000000);
  EXPECT_TRUE(ValidateLog(r, now).ok());
  auto expect = [&](auto mutate, const std::string& field) {
    v1::LogInteractionRequest bad = r;
    mutate(*bad.mutable_interaction());
    const absl::Status s = ValidateLog(bad, now).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(s.message().substr(0, field.size()), field) << s;
  };
  expect([](Interaction& i) { i.set_id(kAnn); }, "interaction.id");
  expect([](Interaction& i) { i.set_direction(static_cast<v1::Direction>(9)); },
         "interaction.direction");
  expect([](Interaction& i) { i.set_subject(std::string(201, 's')); }, "interaction.subject");
  expect([](Interaction& i) { i.set_body(std::string(65537, 'b')); }, "interaction.body");
  expect([](Interaction& i) { i.clear_occurred_at(); }, "interaction.occurred_at");
  expect([](Interaction& i) { i.mutable_occurred_at()->set_seconds(-5); },
         "interaction.occurred_at");
  expect([](Interaction& i) { i.set_duration_seconds(-1); }, "interaction.duration_seconds");
  expect([](Interaction& i) { i.add_contact_ids(kAnn); }, "interaction.contact_ids[1]");
  expect([](Interaction& i) { i.set_company_id("acme"); }, "interaction.company_id");
  expect([](Interaction& i) { i.set_owner("two words"); }, "interaction.owner");
  expect([](Interaction& i) { i.set_case_id("has space"); }, "interaction.case_id");
}

TEST(Decide, NamesTheContactTheDirectoryRefuses) {
  const ContactCheck unknown = [](const std::string& field, const std::string& id) {
    return directory::CheckLinkable(std::nullopt, field, id);
  };
  auto refused = DecideLog(Call({kAnn}, 1), "I1", unknown);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(refused.status().message().find("interaction.contact_ids[0]"), std::string::npos);
}

TEST(Apply, UpdateDeleteAndVersions) {
  const ContactCheck ok = [](const std::string&, const std::string&) { return absl::OkStatus(); };
  auto logged = DecideLog(Call({kAnn}, 500), "I1", ok);
  auto i = Apply(std::nullopt, Event(*logged, "I1", 0, 1));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->version(), 1);
  Interaction values;
  values.set_id("I1");
  values.set_outcome("sold");
  google::protobuf::FieldMask mask;
  mask.add_paths("outcome");
  auto updated = DecideUpdate(*i, values, mask, 1, ok);
  auto next = Apply(*i, Event(*updated, "I1", 1, 2));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->outcome(), "sold");
  EXPECT_EQ(next->subject(), "call at 500");
  EXPECT_EQ(Apply(*next, Event(*updated, "I1", 1, 3)).status().code(), absl::StatusCode::kAborted);
  auto deleted = DecideDelete(*next, "I1", 0);
  auto gone = Apply(*next, Event(*deleted, "I1", 2, 4));
  EXPECT_TRUE(gone->deleted());
  EXPECT_EQ(DecideDelete(*gone, "I1", 0).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Timeline, MergesOwnersDedupesAndResumesAfterATruncatedScan) {
  testing::TempDir dir;
  auto store = std::move(*store::ProjectionStore::Open(dir.Sub("p")));
  InteractionProjection projection(store.get());
  const ContactCheck ok = [](const std::string&, const std::string&) { return absl::OkStatus(); };
  int n = 0;
  auto log = [&](std::vector<std::string> contacts, int64_t seconds) {
    const std::string id = "I" + std::to_string(10 + n);
    auto batch = store->NewBatch();
    ASSERT_TRUE(
        projection.Apply(Event(*DecideLog(Call(contacts, seconds), id, ok), id, 0, n++), batch)
            .ok());
    ASSERT_TRUE(store->Commit(batch).ok());
  };
  for (int k = 0; k < 6; ++k) log({kAnn}, 100 + k);
  log({kBob}, 103);
  log({kAnn, kBob}, 200);
  auto page = *projection.Timeline("t", 't', {kAnn, kBob}, TimelineFilter{}, "", 100, 1000);
  ASSERT_EQ(page.items.size(), 8u);  // The shared one once.
  EXPECT_EQ(ParseTimelineItem(page.items[0])->occurred_at().seconds(), 200);
  // With a scan bound of 2 per owner, pages come back short but complete in order.
  std::vector<int64_t> seconds;
  std::string resume;
  for (int pages = 0; pages < 20; ++pages) {
    auto p = *projection.Timeline("t", 't', {kAnn, kBob}, TimelineFilter{}, resume, 100, 2);
    for (const auto& item : p.items) {
      seconds.push_back(ParseTimelineItem(item)->occurred_at().seconds());
    }
    resume = p.resume_after;
    if (resume.empty()) break;
  }
  EXPECT_EQ(seconds, (std::vector<int64_t>{200, 105, 104, 103, 103, 102, 101, 100}));
}

}  // namespace
}  // namespace crm::interaction
