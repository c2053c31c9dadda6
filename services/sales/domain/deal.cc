#include "services/sales/domain/deal.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/money/money.h"
#include "common/projection/aggregate.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;
using crm::common::v1::Money;
using google::protobuf::Timestamp;

namespace {

absl::Status CheckDeal(const std::optional<Deal>& current, const std::string& id,
                       int64_t expected_version) {
  return projection::CheckExpectedVersion(current, "deal", id, expected_version);
}

absl::Status CheckOpen(const std::optional<Deal>& current, const std::string& id,
                       int64_t expected_version) {
  RETURN_IF_ERROR(CheckDeal(current, id, expected_version));
  if (current->status() != v1::DEAL_STATUS_OPEN) {
    return absl::FailedPreconditionError(
        absl::StrCat("deal ", id, " is closed (", v1::DealStatus_Name(current->status()), ")"));
  }
  return absl::OkStatus();
}

// The stage `stage_id` of the deal's pipeline (its first when empty).
absl::StatusOr<Stage> StageOf(const Deal& deal, const PipelineLookup& pipelines,
                              const std::string& stage_id, const std::string& field) {
  ASSIGN_OR_RETURN(Pipeline pipeline, pipelines("deal.pipeline_id", deal.pipeline_id()));
  const Stage* stage = stage_id.empty() ? &pipeline.stages(0) : FindStage(pipeline, stage_id);
  if (stage == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(field, ": pipeline ", pipeline.id(), " has no stage \"", stage_id, "\""));
  }
  return *stage;
}

void Enter(Deal& deal, const std::string& stage_id, const Timestamp& t) {
  if (!deal.stage_history().empty()) {
    auto* last = deal.mutable_stage_history(deal.stage_history_size() - 1);
    if (!last->has_leave_time()) *last->mutable_leave_time() = t;
  }
  auto* visit = deal.add_stage_history();
  visit->set_stage_id(stage_id);
  *visit->mutable_enter_time() = t;
  deal.set_stage_id(stage_id);
}

void Leave(Deal& deal, const Timestamp& t) {
  if (!deal.stage_history().empty()) {
    auto* last = deal.mutable_stage_history(deal.stage_history_size() - 1);
    if (!last->has_leave_time()) *last->mutable_leave_time() = t;
  }
}

}  // namespace

absl::StatusOr<Money> LineTotal(const Deal& deal, const std::string& field) {
  if (deal.line_items().empty() && deal.amount().currency_code().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": needs at least one line"));
  }
  Money total = money::Zero(deal.amount().currency_code().empty()
                                ? deal.line_items(0).unit_price().currency_code()
                                : deal.amount().currency_code());
  for (int i = 0; i < deal.line_items_size(); ++i) {
    const auto& line = deal.line_items(i);
    if (line.unit_price().currency_code() != total.currency_code()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "].unit_price: ", line.unit_price().currency_code(),
          " differs from the deal's ", total.currency_code(), "; one currency per deal"));
    }
    ASSIGN_OR_RETURN(Money net, LineAmount(line));
    ASSIGN_OR_RETURN(total, money::Add(total, net));
  }
  return total;
}

absl::StatusOr<Money> LineAmount(const v1::LineItem& line) {
  ASSIGN_OR_RETURN(Money gross, money::Multiply(line.unit_price(), line.quantity()));
  return money::ApplyDiscount(gross, line.discount_bp());
}

absl::StatusOr<v1::DealCreated> DecideCreateDeal(const Deal& requested, const std::string& id,
                                                 const PipelineLookup& pipelines,
                                                 const LinkCheck& check_link) {
  if (!requested.contact_id().empty()) {
    RETURN_IF_ERROR(check_link("deal.contact_id", requested.contact_id(), Link::kContact));
  }
  if (!requested.company_id().empty()) {
    RETURN_IF_ERROR(check_link("deal.company_id", requested.company_id(), Link::kCompany));
  }
  v1::DealCreated event;
  Deal& d = *event.mutable_deal();
  d = requested;
  d.set_id(id);
  if (d.pipeline_id().empty()) d.set_pipeline_id(kDefaultPipelineId);
  ASSIGN_OR_RETURN(const Stage stage, StageOf(d, pipelines, d.stage_id(), "deal.stage_id"));
  d.set_stage_id(stage.id());
  if (d.probability_bp() == 0) d.set_probability_bp(stage.probability_bp());
  if (!d.line_items().empty()) {
    ASSIGN_OR_RETURN(*d.mutable_amount(), LineTotal(d, "deal.line_items"));
  }
  return event;
}

absl::StatusOr<v1::DealUpdated> DecideUpdateDeal(const std::optional<Deal>& current,
                                                 const Deal& values,
                                                 const google::protobuf::FieldMask& mask,
                                                 int64_t expected_version) {
  RETURN_IF_ERROR(CheckOpen(current, values.id(), expected_version));
  v1::DealUpdated event;
  Deal& d = *event.mutable_deal();
  d = values;
  *event.mutable_update_mask() = mask;
  bool lines = false;
  bool amount = false;
  for (const std::string& p : mask.paths()) {
    lines |= p == "line_items";
    amount |= p == "amount";
  }
  const bool has_lines = lines ? !values.line_items().empty() : !current->line_items().empty();
  if (amount && has_lines) {
    return absl::InvalidArgumentError(
        "update_mask: amount follows the line items; change line_items instead");
  }
  if (lines && has_lines) {
    Deal probe = *current;
    *probe.mutable_line_items() = values.line_items();
    ASSIGN_OR_RETURN(*d.mutable_amount(), LineTotal(probe, "deal.line_items"));
    event.mutable_update_mask()->add_paths("amount");
  }
  return event;
}

absl::StatusOr<v1::DealStageMoved> DecideMoveStage(
    const std::optional<Deal>& current, const std::string& id, const PipelineLookup& pipelines,
    const std::string& stage_id, int32_t probability_bp, int64_t expected_version) {
  RETURN_IF_ERROR(CheckOpen(current, id, expected_version));
  if (current->stage_id() == stage_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("stage_id: deal ", id, " is already in ", stage_id));
  }
  ASSIGN_OR_RETURN(const Stage stage, StageOf(*current, pipelines, stage_id, "stage_id"));
  v1::DealStageMoved event;
  event.set_stage_id(stage.id());
  event.set_probability_bp(probability_bp == 0 ? stage.probability_bp() : probability_bp);
  return event;
}

absl::StatusOr<v1::DealWon> DecideWin(const std::optional<Deal>& current, const std::string& id,
                                      int64_t expected_version) {
  RETURN_IF_ERROR(CheckOpen(current, id, expected_version));
  return v1::DealWon();
}

absl::StatusOr<v1::DealLost> DecideLose(const std::optional<Deal>& current, const std::string& id,
                                        const std::string& reason, int64_t expected_version) {
  RETURN_IF_ERROR(CheckOpen(current, id, expected_version));
  v1::DealLost event;
  event.set_reason(reason);
  return event;
}

absl::StatusOr<v1::DealReopened> DecideReopen(const std::optional<Deal>& current,
                                              const std::string& id,
                                              const PipelineLookup& pipelines,
                                              const std::string& stage_id,
                                              int64_t expected_version) {
  RETURN_IF_ERROR(CheckDeal(current, id, expected_version));
  if (current->status() == v1::DEAL_STATUS_OPEN) {
    return absl::FailedPreconditionError(absl::StrCat("deal ", id, " is open"));
  }
  ASSIGN_OR_RETURN(const Stage stage, StageOf(*current, pipelines, stage_id, "stage_id"));
  v1::DealReopened event;
  event.set_stage_id(stage.id());
  event.set_probability_bp(stage.probability_bp());
  return event;
}

void FillStageDurations(Deal& deal, const Timestamp& now) {
  for (auto& visit : *deal.mutable_stage_history()) {
    const Timestamp& end = visit.has_leave_time() ? visit.leave_time() : now;
    const int64_t nanos = std::max<int64_t>(
        0, projection::TimestampNanos(end) - projection::TimestampNanos(visit.enter_time()));
    visit.mutable_duration()->set_seconds(nanos / 1000000000);
    visit.mutable_duration()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  }
}

bool IsDealEvent(std::string_view t) {
  return t == "crm.sales.v1.DealCreated" || t == "crm.sales.v1.DealUpdated" ||
         t == "crm.sales.v1.DealStageMoved" || t == "crm.sales.v1.DealWon" ||
         t == "crm.sales.v1.DealLost" || t == "crm.sales.v1.DealReopened";
}

absl::StatusOr<Deal> ApplyDeal(const std::optional<Deal>& current, const EventEnvelope& event) {
  RETURN_IF_ERROR(projection::CheckEventVersion(current, event, "deal"));
  const Timestamp t = projection::EffectiveTime(current, event);
  const std::string& type = event.event_type();
  Deal next;
  if (type == "crm.sales.v1.DealCreated") {
    v1::DealCreated created;
    if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad payload");
    next = std::move(*created.mutable_deal());
    next.set_status(v1::DEAL_STATUS_OPEN);
    next.clear_stage_history();
    Enter(next, next.stage_id(), t);
    *next.mutable_create_time() = t;
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("deal ", event.aggregate_id(), " does not exist"));
    }
    next = *current;
    const bool open = current->status() == v1::DEAL_STATUS_OPEN;
    if (type == "crm.sales.v1.DealReopened") {
      if (open) return absl::FailedPreconditionError("deal is open");
      v1::DealReopened reopened;
      if (!event.payload().UnpackTo(&reopened)) return absl::InvalidArgumentError("bad payload");
      next.set_status(v1::DEAL_STATUS_OPEN);
      next.clear_lost_reason();
      next.clear_close_time();
      next.set_probability_bp(reopened.probability_bp());
      Enter(next, reopened.stage_id(), t);
    } else if (!open) {
      return absl::FailedPreconditionError(
          absl::StrCat("deal ", event.aggregate_id(), " is closed"));
    } else if (type == "crm.sales.v1.DealUpdated") {
      v1::DealUpdated updated;
      if (!event.payload().UnpackTo(&updated)) return absl::InvalidArgumentError("bad payload");
      google::protobuf::util::FieldMaskUtil::MergeOptions options;
      options.set_replace_message_fields(true);
      options.set_replace_repeated_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(updated.deal(), updated.update_mask(),
                                                            options, &next);
    } else if (type == "crm.sales.v1.DealStageMoved") {
      v1::DealStageMoved moved;
      if (!event.payload().UnpackTo(&moved)) return absl::InvalidArgumentError("bad payload");
      next.set_probability_bp(moved.probability_bp());
      Enter(next, moved.stage_id(), t);
    } else if (type == "crm.sales.v1.DealWon") {
      next.set_status(v1::DEAL_STATUS_WON);
      next.set_probability_bp(10000);
      *next.mutable_close_time() = t;
      Leave(next, t);
    } else if (type == "crm.sales.v1.DealLost") {
      v1::DealLost lost;
      if (!event.payload().UnpackTo(&lost)) return absl::InvalidArgumentError("bad payload");
      next.set_status(v1::DEAL_STATUS_LOST);
      next.set_lost_reason(lost.reason());
      next.set_probability_bp(0);
      *next.mutable_close_time() = t;
      Leave(next, t);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not a deal event: ", type));
    }
  }
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

}  // namespace crm::sales
