#include "services/sales/domain/product.h"

#include "absl/strings/str_cat.h"
#include "common/ids/ids.h"
#include "common/projection/aggregate.h"
#include "google/protobuf/util/field_mask_util.h"

namespace crm::sales {

using crm::common::v1::EventEnvelope;

namespace {

absl::Status CheckWritable(const std::optional<Product>& current, const std::string& id,
                           int64_t expected_version) {
  if (!current) return absl::NotFoundError(absl::StrCat("product ", id, " does not exist"));
  if (!current->active()) {
    return absl::FailedPreconditionError(absl::StrCat("product ", id, " is deactivated"));
  }
  if (expected_version != 0 && expected_version != current->version()) {
    return absl::AbortedError(absl::StrCat("product ", id, " is at version ", current->version(),
                                           ", not expected_version ", expected_version));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ProductId(std::string_view tenant, std::string_view sku) {
  std::string seed = "product\0";
  seed.append(tenant);
  seed.push_back('\0');
  seed.append(sku);
  return ids::IdFor(seed);
}

absl::StatusOr<ProductCreated> DecideCreateProduct(const std::optional<Product>& existing,
                                                   const Product& requested,
                                                   const std::string& id) {
  if (existing) {
    return absl::AlreadyExistsError(
        absl::StrCat("product.sku: ", requested.sku(), " is taken by product ", existing->id()));
  }
  ProductCreated event;
  *event.mutable_product() = requested;
  event.mutable_product()->set_id(id);
  return event;
}

absl::StatusOr<ProductUpdated> DecideUpdateProduct(const std::optional<Product>& current,
                                                   const Product& values,
                                                   const google::protobuf::FieldMask& mask,
                                                   int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, values.id(), expected_version); !s.ok()) return s;
  ProductUpdated event;
  *event.mutable_product() = values;
  *event.mutable_update_mask() = mask;
  return event;
}

absl::StatusOr<ProductDeactivated> DecideDeactivateProduct(const std::optional<Product>& current,
                                                           const std::string& id,
                                                           int64_t expected_version) {
  if (absl::Status s = CheckWritable(current, id, expected_version); !s.ok()) return s;
  return ProductDeactivated();
}

bool IsProductEvent(std::string_view t) {
  return t == "crm.sales.v1.ProductCreated" || t == "crm.sales.v1.ProductUpdated" ||
         t == "crm.sales.v1.ProductDeactivated";
}

absl::StatusOr<Product> ApplyProduct(const std::optional<Product>& current,
                                     const EventEnvelope& event) {
  const std::string& type = event.event_type();
  const bool creates = type == "crm.sales.v1.ProductCreated";
  if (creates && current) {
    return absl::AlreadyExistsError(
        absl::StrCat("product.sku: ", current->sku(), " is taken by product ", current->id()));
  }
  if (absl::Status s = projection::CheckEventVersion(current, event, "product"); !s.ok()) return s;
  const google::protobuf::Timestamp t = projection::EffectiveTime(current, event);
  Product next;
  if (creates) {
    ProductCreated created;
    if (!event.payload().UnpackTo(&created)) return absl::InvalidArgumentError("bad payload");
    next = std::move(*created.mutable_product());
    next.set_active(true);
    *next.mutable_create_time() = t;
  } else {
    if (!current) {
      return absl::NotFoundError(absl::StrCat("product ", event.aggregate_id(), " does not exist"));
    }
    if (!current->active()) {
      return absl::FailedPreconditionError(
          absl::StrCat("product ", event.aggregate_id(), " is deactivated"));
    }
    next = *current;
    if (type == "crm.sales.v1.ProductUpdated") {
      ProductUpdated updated;
      if (!event.payload().UnpackTo(&updated)) return absl::InvalidArgumentError("bad payload");
      google::protobuf::util::FieldMaskUtil::MergeOptions options;
      options.set_replace_message_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(updated.product(),
                                                            updated.update_mask(), options, &next);
    } else if (type == "crm.sales.v1.ProductDeactivated") {
      next.set_active(false);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("not a product event: ", type));
    }
  }
  next.set_id(event.aggregate_id());
  next.set_version(event.aggregate_version());
  *next.mutable_update_time() = t;
  return next;
}

std::pair<Product, google::protobuf::FieldMask> ImportProductChanges(const Product& current,
                                                                     const Product& row) {
  Product values;
  values.set_id(current.id());
  google::protobuf::FieldMask mask;
  if (!row.name().empty() && row.name() != current.name()) {
    values.set_name(row.name());
    mask.add_paths("name");
  }
  if (!row.category().empty() && row.category() != current.category()) {
    values.set_category(row.category());
    mask.add_paths("category");
  }
  if (row.has_unit_price() &&
      (row.unit_price().currency_code() != current.unit_price().currency_code() ||
       row.unit_price().minor_units() != current.unit_price().minor_units())) {
    *values.mutable_unit_price() = row.unit_price();
    mask.add_paths("unit_price");
  }
  return {std::move(values), std::move(mask)};
}

}  // namespace crm::sales
