#include "services/sales/sales_service.h"

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace crm::sales {
namespace {

using Decided = projection::CommandWriter::Decision;
using Payload = projection::CommandWriter::Payload;
using projection::Take;

constexpr size_t kMaxListScan = 10000;

}  // namespace

absl::StatusOr<std::unique_ptr<SalesService>> SalesService::Open(const std::string& projection_dir,
                                                                 eventlog::EventLog* log,
                                                                 bool rebuild) {
  if (rebuild) RETURN_IF_ERROR(store::ProjectionStore::Destroy(projection_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<store::ProjectionStore> store,
                   store::ProjectionStore::Open(projection_dir));
  return std::unique_ptr<SalesService>(new SalesService(std::move(store), log));
}

SalesService::SalesService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log)
    : store_(std::move(store)),
      projection_(store_.get()),
      projector_(
          projection::ProjectorOptions{
              .name = "sales", .topics = {kTopic, directory::kContactTopic}, .own_topic = kTopic},
          log, store_.get(), &projection_),
      writer_(log, &projector_, kTopic, kProductAggregateType) {}

SalesService::~SalesService() { Stop(); }

void SalesService::Stop() { projector_.Stop(); }

void SalesService::WriteProduct(
    const CallContext& ctx, const std::string& command, const std::string& id,
    const std::string& request_id,
    const std::function<Decided(const std::optional<Product>&, Payload&)>& decide,
    Done<Product> done) {
  projection::CommandWriter::Command cmd;
  cmd.tenant = ctx.tenant;
  cmd.actor = ctx.actor;
  cmd.request_id = request_id;
  cmd.command = command;
  cmd.aggregate_type = kProductAggregateType;
  cmd.deadline = ctx.deadline;
  writer_.Run<Product>(
      std::move(cmd),
      [&](absl::Time, Payload& payload) -> Decided {
        ASSIGN_OR_RETURN(std::optional<Product> current, projection_.GetProduct(ctx.tenant, id));
        return decide(current, payload);
      },
      [this, ctx](const std::string& product_id) { return GetProduct(ctx, product_id); },
      std::move(done));
}

void SalesService::CreateProduct(const CallContext& ctx, const Product& product,
                                 const std::string& request_id, Done<Product> done) {
  const std::string id = ProductId(ctx.tenant, product.sku());
  WriteProduct(
      ctx, "CreateProduct", id, request_id,
      [&](const std::optional<Product>& existing, Payload& payload) {
        return Take(DecideCreateProduct(existing, product, id), payload, id, 0);
      },
      std::move(done));
}

void SalesService::UpdateProduct(const CallContext& ctx, const Product& values,
                                 const google::protobuf::FieldMask& mask, int64_t expected_version,
                                 const std::string& request_id, Done<Product> done) {
  WriteProduct(
      ctx, "UpdateProduct", values.id(), request_id,
      [&](const std::optional<Product>& current, Payload& payload) {
        return Take(DecideUpdateProduct(current, values, mask, expected_version), payload,
                    values.id(), current ? current->version() : 0);
      },
      std::move(done));
}

void SalesService::DeactivateProduct(const CallContext& ctx, const std::string& id,
                                     int64_t expected_version, const std::string& request_id,
                                     Done<Product> done) {
  WriteProduct(
      ctx, "DeactivateProduct", id, request_id,
      [&](const std::optional<Product>& current, Payload& payload) {
        return Take(DecideDeactivateProduct(current, id, expected_version), payload, id,
                    current ? current->version() : 0);
      },
      std::move(done));
}

absl::StatusOr<Product> SalesService::GetProduct(const CallContext& ctx,
                                                 const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<Product> p, projection_.GetProduct(ctx.tenant, id));
  if (!p) return absl::NotFoundError(absl::StrCat("id: product ", id, " does not exist"));
  return *std::move(p);
}

absl::StatusOr<ProductPage> SalesService::ListProducts(const CallContext& ctx,
                                                       const std::string& category,
                                                       bool show_inactive,
                                                       const std::string& resume_after,
                                                       size_t page_size) const {
  return projection_.ListProducts(ctx.tenant, category, show_inactive, resume_after, page_size,
                                  kMaxListScan);
}

}  // namespace crm::sales
