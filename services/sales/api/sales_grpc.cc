#include "services/sales/api/sales_grpc.h"

#include "common/grpc/reactor.h"
#include "services/sales/api/validation.h"

namespace crm::sales {

using grpcutil::FinishNow;
using grpcutil::FinishWith;
namespace v1 = crm::sales::v1;

namespace {
constexpr absl::Duration kMaxWait = absl::Seconds(30);
}  // namespace

CallContext SalesGrpc::Context(grpc::CallbackServerContext* context) const {
  CallContext ctx;
  ctx.tenant = tenant_;
  ctx.deadline = grpcutil::CallDeadline(context, kMaxWait);
  return ctx;
}

grpc::ServerUnaryReactor* SalesGrpc::CreateProduct(grpc::CallbackServerContext* context,
                                                   const v1::CreateProductRequest* request,
                                                   Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Product> valid = ValidateCreateProduct(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->CreateProduct(Context(context), *valid, request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::GetProduct(grpc::CallbackServerContext* context,
                                                const v1::GetProductRequest* request,
                                                Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetProduct(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetProduct(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::UpdateProduct(grpc::CallbackServerContext* context,
                                                   const v1::UpdateProductRequest* request,
                                                   Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidProductUpdate> valid = ValidateUpdateProduct(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  service_->UpdateProduct(Context(context), valid->values, valid->mask, request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::DeactivateProduct(grpc::CallbackServerContext* context,
                                                       const v1::DeactivateProductRequest* request,
                                                       Product* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDeactivateProduct(*request); !s.ok()) return FinishNow(reactor, s);
  service_->DeactivateProduct(Context(context), request->id(), request->expected_version(),
                              request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* SalesGrpc::ListProducts(grpc::CallbackServerContext* context,
                                                  const v1::ListProductsRequest* request,
                                                  v1::ListProductsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidProductList> valid = ValidateListProducts(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<ProductPage> page =
      service_->ListProducts(Context(context), valid->category, valid->show_inactive,
                             valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& p : page->products) *response->add_products() = std::move(p);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(ProductsPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

}  // namespace crm::sales
