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

namespace crm::sales {

using crm::sales::v1::Deal;
using crm::sales::v1::Pipeline;
using crm::sales::v1::Stage;

inline constexpr char kDealAggregateType[] = "deal";

// The built-in pipeline "default": qualification 10 %, discovery 20 %, proposal 50 %,
// negotiation 75 %.
const Pipeline& DefaultPipeline();
// The pipeline named `id` ("" = default), or NOT_FOUND naming `field`.
absl::StatusOr<Pipeline> FindPipeline(const std::string& field, const std::string& id);
// The stage of `pipeline`, or nullptr.
const Stage* FindStage(const Pipeline& pipeline, const std::string& stage_id);

// The sum of the line items (quantity × unit price less discount). INVALID_ARGUMENT naming
// `field` if they mix currencies; OUT_OF_RANGE on overflow.
absl::StatusOr<crm::common::v1::Money> LineTotal(const Deal& deal, const std::string& field);

using ContactCheck = std::function<absl::Status(const std::string& field, const std::string& id)>;

absl::StatusOr<crm::sales::v1::DealCreated> DecideCreateDeal(const Deal& requested,
                                                             const std::string& id,
                                                             const ContactCheck& check_contact);
absl::StatusOr<crm::sales::v1::DealUpdated> DecideUpdateDeal(
    const std::optional<Deal>& current, const Deal& values, const google::protobuf::FieldMask& mask,
    int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealStageMoved> DecideMoveStage(const std::optional<Deal>& current,
                                                               const std::string& id,
                                                               const std::string& stage_id,
                                                               int32_t probability_bp,
                                                               int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealWon> DecideWin(const std::optional<Deal>& current,
                                                  const std::string& id, int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealLost> DecideLose(const std::optional<Deal>& current,
                                                    const std::string& id,
                                                    const std::string& reason,
                                                    int64_t expected_version);
absl::StatusOr<crm::sales::v1::DealReopened> DecideReopen(const std::optional<Deal>& current,
                                                          const std::string& id,
                                                          const std::string& stage_id,
                                                          int64_t expected_version);

absl::StatusOr<Deal> ApplyDeal(const std::optional<Deal>& current,
                               const crm::common::v1::EventEnvelope& event);

bool IsDealEvent(std::string_view event_type);

}  // namespace crm::sales
