// ImportRecords, the bulk import of every service that imports, served as a bidirectional gRPC
// stream: read one batch of rows, have `batch` answer it, write the answer, read the next. One
// batch is in flight, so a client that sends faster than the service writes waits on gRPC's flow
// control and the service holds one batch in memory. A batch refused as a whole (its import id
// or row numbers) ends the stream with that status; a client that half-closes ends it OK.
//
//   return grpcutil::ServeImport<ImportRecordsRequest, ImportRecordsResponse>(
//       [this, context](const ImportRecordsRequest& r, auto done) { ...; done(response); });
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc/reactor.h"
#include "common/grpc/status.h"
#include "common/projection/call_context.h"
#include "common/projection/import_ledger.h"

namespace crm::grpcutil {

template <typename Request, typename Response>
using ImportBatch =
    std::function<void(const Request& request, std::function<void(absl::StatusOr<Response>)> done)>;

template <typename Request, typename Response>
class ImportStream final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit ImportStream(ImportBatch<Request, Response> batch) : batch_(std::move(batch)) {
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::OK);  // the client is done sending (or went away)
      return;
    }
    batch_(request_, [this](absl::StatusOr<Response> answer) {
      if (!answer.ok()) {
        this->Finish(ToGrpcStatus(answer.status()));
        return;
      }
      response_ = *std::move(answer);
      this->StartWrite(&response_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    request_.Clear();
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  ImportBatch<Request, Response> batch_;
  Request request_;
  Response response_;
};

template <typename Request, typename Response>
grpc::ServerBidiReactor<Request, Response>* ServeImport(ImportBatch<Request, Response> batch) {
  return new ImportStream<Request, Response>(std::move(batch));
}

// The ImportRecords every service serves: each batch validated by `validate` into items (an
// Item has `row`, `keys`, `invalid` and `skip`: see the contact service's ImportItem), the valid
// ones handed to `import` with the call's context made for the batch by `make_ctx`, rows that
// share a key in order (projection::RunRows), and the batch answered with every row's result in
// the order sent.
template <typename Request, typename Response, typename Item>
grpc::ServerBidiReactor<Request, Response>* ServeImportRows(
    std::function<projection::CallContext()> make_ctx,
    std::function<absl::StatusOr<std::vector<Item>>(const Request&)> validate,
    std::function<void(const projection::CallContext& ctx, const std::string& import_id,
                       const Item& item, projection::Done<crm::common::v1::ImportRowResult> done)>
        import) {
  return ServeImport<Request, Response>(
      [make_ctx = std::move(make_ctx), validate = std::move(validate), import = std::move(import)](
          const Request& request, std::function<void(absl::StatusOr<Response>)> done) {
        absl::StatusOr<std::vector<Item>> items = validate(request);
        if (!items.ok()) return done(items.status());
        // Each batch waits for its own writes, within the usual bound from now.
        const projection::CallContext ctx = make_ctx();
        auto shared = std::make_shared<std::vector<Item>>(*std::move(items));
        auto response = std::make_shared<Response>();
        std::vector<std::vector<std::string>> keys;
        for (const Item& item : *shared) {
          keys.push_back(item.keys);
          response->add_results()->set_row(item.row);
        }
        projection::RunRows(
            keys,
            [ctx, shared, response, import, import_id = request.import_id()](
                size_t i, std::function<void()> next) {
              const Item& item = (*shared)[i];
              // Rows answer on their own threads, each into its own slot.
              auto answer = [response, i,
                             next](absl::StatusOr<crm::common::v1::ImportRowResult> r) {
                if (r.ok()) *response->mutable_results(static_cast<int>(i)) = *std::move(r);
                next();
              };
              if (!item.skip.empty()) {
                crm::common::v1::ImportRowResult skipped;
                skipped.set_row(item.row);
                skipped.set_outcome(crm::common::v1::IMPORT_OUTCOME_SKIPPED);
                skipped.set_error(item.skip);
                return answer(std::move(skipped));
              }
              if (!item.invalid.ok()) {
                return answer(projection::RowResult(item.row, item.invalid, "", 0, ""));
              }
              import(ctx, import_id, item, answer);
            },
            [response, done] { done(std::move(*response)); });
      });
}

// A service's UndoImport: `undo(ctx, import_id, done)` once the request is `valid`, the summary
// into `response`. Undoing a large import takes as long as the caller lets it (an hour at most);
// undoing again goes on where it stopped.
template <typename Response, typename Undo>
grpc::ServerUnaryReactor* ServeUndoImport(grpc::CallbackServerContext* context,
                                          const std::string& tenant, const absl::Status& valid,
                                          const std::string& import_id, Response* response,
                                          Undo undo) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  undo(MakeCallContext(context, tenant, absl::Hours(1)), import_id,
       [reactor, response](absl::StatusOr<crm::common::v1::ImportUndoSummary> s) {
         if (s.ok()) *response->mutable_summary() = *std::move(s);
         reactor->Finish(ToGrpcStatus(s.status()));
       });
  return reactor;
}

}  // namespace crm::grpcutil
