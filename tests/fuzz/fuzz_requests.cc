// libFuzzer target: request validation of every service. The first byte picks the request type,
// the rest is its protobuf encoding. Validation must never crash, hang or read out of bounds on
// any bytes, and what it accepts must be accepted again (validation is a pure function).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "services/analytics/api/validation.h"
#include "services/contact/api/validation.h"
#include "services/interaction/api/validation.h"
#include "services/sales/api/validation.h"
#include "tests/fuzz/quiet_protobuf.h"

namespace {

template <typename Request, typename Validate>
void Check(const uint8_t* data, size_t size, Validate validate) {
  Request request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return;
  const auto first = validate(request);
  const auto second = validate(request);
  if (first.ok() != second.ok()) __builtin_trap();  // validation must be deterministic
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t kind = data[0];
  ++data;
  --size;
  namespace cv1 = crm::contact::v1;
  namespace iv1 = crm::interaction::v1;
  namespace sv1 = crm::sales::v1;
  namespace av1 = crm::analytics::v1;
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  switch (kind % 16) {
    case 0:
      Check<cv1::CreateContactRequest>(data, size, crm::contact::ValidateCreate);
      break;
    case 1:
      Check<cv1::UpdateContactRequest>(data, size, crm::contact::ValidateUpdate);
      break;
    case 2:
      Check<cv1::ListContactsRequest>(data, size, crm::contact::ValidateList);
      break;
    case 3:
      Check<cv1::SearchContactsRequest>(data, size, crm::contact::ValidateSearch);
      break;
    case 4:
      Check<cv1::MergeContactsRequest>(data, size, crm::contact::ValidateMerge);
      break;
    case 5:
      Check<cv1::CreateCompanyRequest>(data, size, crm::contact::ValidateCreateCompany);
      break;
    case 6:
      Check<cv1::UpdateDataQualityRulesRequest>(data, size, crm::contact::ValidateQualityRules);
      break;
    case 7:
      Check<iv1::LogInteractionRequest>(
          data, size, [now](const auto& r) { return crm::interaction::ValidateLog(r, now); });
      break;
    case 8:
      Check<iv1::ListTimelineRequest>(data, size, crm::interaction::ValidateTimeline);
      break;
    case 9:
      Check<iv1::OpenCaseRequest>(data, size, crm::interaction::ValidateOpenCase);
      break;
    case 10:
      Check<iv1::CreateTaskRequest>(data, size, crm::interaction::ValidateCreateTask);
      break;
    case 11:
      Check<sv1::CreateProductRequest>(data, size, crm::sales::ValidateCreateProduct);
      break;
    case 12:
      Check<sv1::CreateDealRequest>(data, size, crm::sales::ValidateCreateDeal);
      break;
    case 13:
      Check<sv1::PlaceOrderRequest>(data, size, crm::sales::ValidatePlaceOrder);
      break;
    case 14:
      Check<sv1::ListOrdersRequest>(data, size, crm::sales::ValidateListOrders);
      break;
    case 15:
      Check<av1::CreateSegmentRequest>(data, size, crm::analytics::ValidateCreateSegment);
      break;
  }
  return 0;
}
