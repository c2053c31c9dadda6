// Deals through the pipeline: creation, updates, stage moves with their history, win, loss,
// reopening. Pure. Amounts are exact money: line items must share the deal's currency.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/sales/domain/pipeline.h"

namespace crm::sales {

using crm::sales::v1::Deal;

inline constexpr char kDealAggregateType[] = "deal";

// The sum of the line items (quantity × unit price less discount). INVALID_ARGUMENT naming
// `field` if they mix currencies; OUT_OF_RANGE on overflow.
absl::StatusOr<crm::common::v1::Money> LineTotal(const Deal& deal, const std::string& field);
// One line's amount: quantity × unit price less its discount, in the unit price's currency.
// OUT_OF_RANGE on overflow.
absl::StatusOr<crm::common::v1::Money> LineAmount(const crm::sales::v1::LineItem& line);

// A contact or company check: `kind` says which the id must name.
enum class Link { kContact, kCompany };
using LinkCheck =
    std::function<absl::Status(const std::string& field, const std::string& id, Link kind)>;

absl::StatusOr<crm::sales::v1::DealCreated> DecideCreateDeal(const Deal& requested,
                                                             const std::string& id,
                                                             const PipelineLookup& pipelines,
                                                             const LinkCheck& check_link);
absl::StatusOr<crm::sales::v1::DealUpdated> DecideUpdateDeal(
    const std::optional<Deal>& current, const Deal& values, const google::protobuf::FieldMask& mask,
    int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealStageMoved> DecideMoveStage(
    const std::optional<Deal>& current, const std::string& id, const PipelineLookup& pipelines,
    const std::string& stage_id, int32_t probability_bp, int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealWon> DecideWin(const std::optional<Deal>& current,
                                                  const std::string& id, int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealLost> DecideLose(const std::optional<Deal>& current,
                                                    const std::string& id,
                                                    const std::string& reason,
                                                    int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealReopened> DecideReopen(const std::optional<Deal>& current,
                                                          const std::string& id,
                                                          const PipelineLookup& pipelines,
                                                          const std::string& stage_id,
                                                          int64_t expected_version);

absl::StatusOr<Deal> ApplyDeal(const std::optional<Deal>& current,
                               const crm::common::v1::EventEnvelope& event);

bool IsDealEvent(std::string_view event_type);

// Sets each stage visit's duration: to its leave time, or to `now` for the stage the deal is in
// (never negative). A read-time view: apply does not store it, as it depends on the clock.
void FillStageDurations(Deal& deal, const google::protobuf::Timestamp& now);

}  // namespace crm::sales
