// Pipelines: ordered stages with default win probabilities. Pure decide and apply.
//
// A pipeline's aggregate id is its id ("default", "enterprise"), chosen by the caller, so two
// creations of one id address one aggregate and the log decides which came first. The pipeline
// "default" exists in every tenant before any event: until its first change, reads see
// DefaultPipeline() at version 0, and that change is decided against it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace crm::sales {

using crm::sales::v1::Pipeline;
using crm::sales::v1::Stage;

inline constexpr char kPipelineAggregateType[] = "pipeline";
inline constexpr char kDefaultPipelineId[] = "default";

// The built-in pipeline "default": qualification 10 %, discovery 20 %, proposal 50 %,
// negotiation 75 %.
const Pipeline& DefaultPipeline();

// The stage of `pipeline`, or nullptr.
const Stage* FindStage(const Pipeline& pipeline, const std::string& stage_id);

// Resolves a pipeline id ("" = default): the pipeline, or NOT_FOUND naming `field`.
using PipelineLookup =
    std::function<absl::StatusOr<Pipeline>(const std::string& field, const std::string& id)>;

// Whether a stage of the pipeline being changed still holds open deals.
using StageInUse = std::function<absl::StatusOr<bool>(const std::string& stage_id)>;

// ALREADY_EXISTS if a pipeline with the id exists (the default always does).
absl::StatusOr<crm::sales::v1::PipelineCreated> DecidePipelineCreate(
    const std::optional<Pipeline>& existing, const Pipeline& requested);

// Changes name and/or stages (`mask`). FAILED_PRECONDITION if a removed stage holds open deals.
absl::StatusOr<crm::sales::v1::PipelineUpdated> DecidePipelineUpdate(
    const std::optional<Pipeline>& current, const Pipeline& values,
    const google::protobuf::FieldMask& mask, int64_t expected_version, const StageInUse& in_use);

// ALREADY_EXISTS when a creation meets an existing pipeline; ABORTED on a version race;
// NOT_FOUND for an update of a pipeline never created (other than the default).
absl::StatusOr<Pipeline> ApplyPipeline(const std::optional<Pipeline>& current,
                                       const crm::common::v1::EventEnvelope& event);

bool IsPipelineEvent(std::string_view event_type);

}  // namespace crm::sales
