#include "services/sales/domain/pipeline.h"

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;

const Pipeline& DefaultPipeline() {
  static const auto* p = [] {
    auto* pipeline = new Pipeline();
    pipeline->set_id(kDefaultPipelineId);
    pipeline->set_name("Sales");
    for (const auto& [id, name, bp] : {std::tuple{"qualification", "Qualification", 1000},
                                       {"discovery", "Discovery", 2000},
                                       {"proposal", "Proposal", 5000},
                                       {"negotiation", "Negotiation", 7500}}) {
      auto* s = pipeline->add_stages();
      s->set_id(id);
      s->set_name(name);
      s->set_probability_bp(bp);
    }
    return pipeline;
  }();
  return *p;
}

const Stage* FindStage(const Pipeline& pipeline, const std::string& stage_id) {
  for (const Stage& s : pipeline.stages()) {
    if (s.id() == stage_id) return &s;
  }
  return nullptr;
}

absl::StatusOr<v1::PipelineCreated> DecidePipelineCreate(const std::optional<Pipeline>& existing,
                                                         const Pipeline& requested) {
  if (existing) {
    return absl::AlreadyExistsError(
        absl::StrCat("pipeline.id: pipeline \"", requested.id(), "\" exists"));
  }
  v1::PipelineCreated event;
  Pipeline& p = *event.mutable_pipeline();
  p.set_id(requested.id());
  p.set_name(requested.name());
  *p.mutable_stages() = requested.stages();
  return event;
}

absl::StatusOr<v1::PipelineUpdated> DecidePipelineUpdate(const std::optional<Pipeline>& current,
                                                         const Pipeline& values,
                                                         const google::protobuf::FieldMask& mask,
                                                         int64_t expected_version,
                                                         const StageInUse& in_use) {
  RETURN_IF_ERROR(
      projection::CheckExpectedVersion(current, "pipeline", values.id(), expected_version));
  v1::PipelineUpdated event;
  Pipeline& p = *event.mutable_pipeline();
  p.set_id(current->id());
  p.set_name(current->name());
  *p.mutable_stages() = current->stages();
  for (const std::string& path : mask.paths()) {
    if (path == "name") p.set_name(values.name());
    if (path == "stages") *p.mutable_stages() = values.stages();
  }
  for (const Stage& old : current->stages()) {
    if (FindStage(p, old.id()) != nullptr) continue;
    ASSIGN_OR_RETURN(bool used, in_use(old.id()));
    if (used) {
      return absl::FailedPreconditionError(
          absl::StrCat("pipeline.stages: stage \"", old.id(),
                       "\" still holds open deals; move them before removing it"));
    }
  }
  return event;
}

bool IsPipelineEvent(std::string_view t) {
  return t == "crm.sales.v1.PipelineCreated" || t == "crm.sales.v1.PipelineUpdated";
}

absl::StatusOr<Pipeline> ApplyPipeline(const std::optional<Pipeline>& current,
                                       const EventEnvelope& event) {
  const std::string& type = event.event_type();
  if (type == "crm.sales.v1.PipelineCreated" &&
      (current || event.aggregate_id() == kDefaultPipelineId)) {
    return absl::AlreadyExistsError(
        absl::StrCat("pipeline.id: pipeline \"", event.aggregate_id(), "\" exists"));
  }
  RETURN_IF_ERROR(projection::CheckEventVersion(current, event, "pipeline"));
  const google::protobuf::Timestamp t = projection::EffectiveTime(current, event);
  Pipeline next;
  if (type == "crm.sales.v1.PipelineCreated") {
    v1::PipelineCreated created;
    if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad payload");
    next = std::move(*created.mutable_pipeline());
    *next.mutable_create_time() = t;
  } else if (type == "crm.sales.v1.PipelineUpdated") {
    if (!current && event.aggregate_id() != kDefaultPipelineId) {
      return absl::NotFoundError(
          absl::StrCat("pipeline ", event.aggregate_id(), " does not exist"));
    }
    v1::PipelineUpdated updated;
    if (!event.payload().UnpackTo(&updated)) return absl::InvalidArgumentError("bad payload");
    if (current) {
      next = *current;
    } else {
      *next.mutable_create_time() = t;  // the default's first change
    }
    next.set_name(updated.pipeline().name());
    *next.mutable_stages() = updated.pipeline().stages();
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not a pipeline event: ", type));
  }
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

}  // namespace crm::sales
