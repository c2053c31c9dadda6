// Products: the catalog. Pure decide and apply.
//
// A product's id is derived from its tenant and SKU (ids::IdFor), so two creations of the same
// SKU address the same aggregate and the log decides which came first; no cross-aggregate
// uniqueness check is needed at apply.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "crm/common/v1/envelope.pb.h"
#include "crm/sales/v1/events.pb.h"
#include "crm/sales/v1/resources.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace crm::sales {

using crm::sales::v1::Product;
using crm::sales::v1::ProductCreated;
using crm::sales::v1::ProductDeactivated;
using crm::sales::v1::ProductUpdated;

inline constexpr char kTopic[] = "crm.sales.v1";
inline constexpr char kProductAggregateType[] = "product";

// The id of the product with `sku` in `tenant`.
std::string ProductId(std::string_view tenant, std::string_view sku);

absl::StatusOr<ProductCreated> DecideCreateProduct(const std::optional<Product>& existing,
                                                   const Product& requested, const std::string& id);
absl::StatusOr<ProductUpdated> DecideUpdateProduct(const std::optional<Product>& current,
                                                   const Product& values,
                                                   const google::protobuf::FieldMask& mask,
                                                   int64_t expected_version);
absl::StatusOr<ProductDeactivated> DecideDeactivateProduct(const std::optional<Product>& current,
                                                           const std::string& id,
                                                           int64_t expected_version);

// The values and mask of the update that gives `current` an import row's name, category and
// price (each when the row has one and it differs); an empty mask when nothing would change.
std::pair<Product, google::protobuf::FieldMask> ImportProductChanges(const Product& current,
                                                                     const Product& row);

// ALREADY_EXISTS when a creation meets an existing product (the SKU is taken); ABORTED on a
// version race; NOT_FOUND; FAILED_PRECONDITION when changing a deactivated product.
absl::StatusOr<Product> ApplyProduct(const std::optional<Product>& current,
                                     const crm::common::v1::EventEnvelope& event);

bool IsProductEvent(std::string_view event_type);

}  // namespace crm::sales
