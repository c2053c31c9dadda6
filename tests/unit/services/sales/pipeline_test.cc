// Pipelines: creation, the built-in default's first change, stage removal, races.
#include "services/sales/domain/pipeline.h"

#include <gtest/gtest.h>

#include "tests/testing/events.h"

namespace crm::sales {
namespace {

namespace v1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, const std::string& id,
                    int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, id, expected, seconds);
}

const StageInUse kNoneInUse = [](const std::string&) { return false; };

Pipeline Lean() {
  Pipeline p;
  p.set_id("lean");
  p.set_name("Lean");
  for (const char* id : {"pitch", "close"}) {
    auto* s = p.add_stages();
    s->set_id(id);
    s->set_name(id);
    s->set_probability_bp(5000);
  }
  return p;
}

google::protobuf::FieldMask Mask(const char* path) {
  google::protobuf::FieldMask m;
  m.add_paths(path);
  return m;
}

TEST(Pipeline, CreatedOnceAndTheDefaultAlwaysExists) {
  auto created = DecidePipelineCreate(std::nullopt, Lean());
  ASSERT_TRUE(created.ok());
  const Pipeline lean = *ApplyPipeline(std::nullopt, Event(*created, "lean", 0, 100));
  EXPECT_EQ(lean.version(), 1);
  EXPECT_EQ(lean.create_time().seconds(), 100);
  EXPECT_EQ(DecidePipelineCreate(lean, Lean()).status().code(), absl::StatusCode::kAlreadyExists);
  // Two creations raced: the second is refused at apply, on every replica alike.
  EXPECT_EQ(ApplyPipeline(lean, Event(*created, "lean", 0, 101)).status().code(),
            absl::StatusCode::kAlreadyExists);
  // The default exists before any event: a creation of it is refused at apply too.
  Pipeline named_default = Lean();
  named_default.set_id(kDefaultPipelineId);
  v1::PipelineCreated sneaky;
  *sneaky.mutable_pipeline() = named_default;
  EXPECT_EQ(ApplyPipeline(std::nullopt, Event(sneaky, kDefaultPipelineId, 0, 100)).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(Pipeline, TheDefaultsFirstChangeCarriesTheWholePipeline) {
  Pipeline values;
  values.set_id(kDefaultPipelineId);
  values.set_name("Direct");
  auto update = DecidePipelineUpdate(DefaultPipeline(), values, Mask("name"),
                                     /*expected_version=*/0, kNoneInUse);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->pipeline().stages_size(), 4);  // Apply needs no built-in.
  const Pipeline next = *ApplyPipeline(std::nullopt, Event(*update, kDefaultPipelineId, 0, 100));
  EXPECT_EQ(next.name(), "Direct");
  EXPECT_EQ(next.stages_size(), 4);
  EXPECT_EQ(next.version(), 1);
  // Another pipeline cannot be changed before it is created.
  EXPECT_EQ(ApplyPipeline(std::nullopt, Event(*update, "lean", 0, 100)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Pipeline, AStageWithOpenDealsStays) {
  const Pipeline lean = *ApplyPipeline(
      std::nullopt, Event(*DecidePipelineCreate(std::nullopt, Lean()), "lean", 0, 100));
  Pipeline values = Lean();
  values.mutable_stages()->DeleteSubrange(1, 1);  // drop "close"
  std::vector<std::string> asked;
  const StageInUse close_in_use = [&](const std::string& stage) {
    asked.push_back(stage);
    return stage == "close";
  };
  const absl::Status s =
      DecidePipelineUpdate(lean, values, Mask("stages"), 0, close_in_use).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(s.message()).rfind("pipeline.stages: stage \"close\"", 0), 0u) << s;
  EXPECT_EQ(asked, std::vector<std::string>{"close"});  // Only removed stages are looked up.
  auto update = DecidePipelineUpdate(lean, values, Mask("stages"), 1, kNoneInUse);
  ASSERT_TRUE(update.ok());
  const Pipeline next = *ApplyPipeline(lean, Event(*update, "lean", 1, 200));
  EXPECT_EQ(next.stages_size(), 1);
  EXPECT_EQ(next.name(), "Lean");  // Not in the mask.
  EXPECT_EQ(DecidePipelineUpdate(next, values, Mask("name"), 1, kNoneInUse).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(ApplyPipeline(next, Event(*update, "lean", 1, 300)).status().code(),
            absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace crm::sales
