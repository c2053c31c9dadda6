#include "services/sales/domain/product.h"

#include <gtest/gtest.h>

#include "services/sales/api/validation.h"
#include "tests/testing/events.h"

namespace crm::sales {
namespace {

namespace v1 = crm::sales::v1;
using crm::common::v1::EventEnvelope;

EventEnvelope Event(const google::protobuf::Message& payload, const std::string& id,
                    int64_t expected, int64_t seconds) {
  return crm::testing::MakeTestEvent(payload, id, expected, seconds);
}

Product Widget() {
  Product p;
  p.set_sku("W-1");
  p.set_name("Widget");
  p.set_category("Tools");
  p.mutable_unit_price()->set_currency_code("EUR");
  p.mutable_unit_price()->set_minor_units(1999);
  return p;
}

TEST(Product, IdsComeFromTenantAndSku) {
  EXPECT_EQ(ProductId("t", "W-1"), ProductId("t", "W-1"));
  EXPECT_NE(ProductId("t", "W-1"), ProductId("u", "W-1"));
  EXPECT_NE(ProductId("t", "W-1"), ProductId("t", "W-2"));
}

TEST(Product, TwoCreationsOfOneSkuMeetAtApply) {
  const std::string id = ProductId("t", "W-1");
  auto created = DecideCreateProduct(std::nullopt, Widget(), id);
  ASSERT_TRUE(created.ok());
  auto first = ApplyProduct(std::nullopt, Event(*created, id, 0, 10));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->active());
  // A racing writer decided before the first was applied; at apply the SKU is taken.
  EXPECT_EQ(ApplyProduct(*first, Event(*created, id, 0, 11)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(DecideCreateProduct(*first, Widget(), id).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(Product, UpdateAndDeactivate) {
  const std::string id = ProductId("t", "W-1");
  Product p = *ApplyProduct(std::nullopt,
                            Event(*DecideCreateProduct(std::nullopt, Widget(), id), id, 0, 10));
  Product values;
  values.set_id(id);
  values.set_name("Widget Pro");
  google::protobuf::FieldMask mask;
  mask.add_paths("name");
  p = *ApplyProduct(p, Event(*DecideUpdateProduct(p, values, mask, 1), id, 1, 20));
  EXPECT_EQ(p.name(), "Widget Pro");
  EXPECT_EQ(p.unit_price().minor_units(), 1999);
  p = *ApplyProduct(p, Event(*DecideDeactivateProduct(p, id, 2), id, 2, 30));
  EXPECT_FALSE(p.active());
  EXPECT_EQ(DecideUpdateProduct(p, values, mask, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ProductValidation, NamesTheField) {
  v1::CreateProductRequest r;
  *r.mutable_product() = Widget();
  r.mutable_product()->set_sku(" w-1 ");
  auto ok = ValidateCreateProduct(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->sku(), "W-1");
  auto expect = [&](auto mutate, const std::string& field) {
    v1::CreateProductRequest bad = r;
    mutate(*bad.mutable_product());
    const absl::Status s = ValidateCreateProduct(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(s.message().substr(0, field.size()), field) << s;
  };
  expect([](Product& p) { p.set_sku("has space"); }, "product.sku");
  expect([](Product& p) { p.clear_name(); }, "product.name");
  expect([](Product& p) { p.clear_unit_price(); }, "product.unit_price");
  expect([](Product& p) { p.mutable_unit_price()->set_currency_code("XXX"); },
         "product.unit_price.currency_code");
  expect([](Product& p) { p.mutable_unit_price()->set_minor_units(-1); },
         "product.unit_price.minor_units");
  expect([](Product& p) { p.set_id("X"); }, "product.id");
  v1::UpdateProductRequest u;
  u.mutable_product()->set_id(ProductId("t", "W-1"));
  u.mutable_update_mask()->add_paths("sku");
  EXPECT_EQ(ValidateUpdateProduct(u).status().message().substr(0, 11), "update_mask");
}

}  // namespace
}  // namespace crm::sales
