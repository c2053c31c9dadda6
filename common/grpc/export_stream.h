// ExportRecords, every service's export of what a tenant holds, served as a gRPC server stream
// from ExportSources (common/projection/export_source.h): one record per message, source after
// source, page by page. Writes go one at a time, so a slow reader holds one page in memory and
// nothing else back. The auth interceptor masks personal data and logs access per message.
//
//   return grpcutil::ServeExport<ExportRecordsResponse>(service_->ExportSources(Context(context)));
#pragma once

#include <grpcpp/grpcpp.h>

#include <utility>
#include <vector>

#include "common/grpc/status.h"
#include "common/projection/export_source.h"

namespace crm::grpcutil {

template <typename Response>
class ExportStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit ExportStream(std::vector<projection::ExportSource<Response>> sources)
      : sources_(std::move(sources)) {
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    ++next_;
    Next();
  }
  void OnDone() override { delete this; }

 private:
  // Writes the next record, reading the next page when this one is done; finishes at the end.
  void Next() {
    while (next_ >= page_.size()) {
      if (source_ >= sources_.size()) {
        this->Finish(grpc::Status::OK);
        return;
      }
      absl::StatusOr<std::vector<Response>> page = sources_[source_]();
      if (!page.ok()) {
        this->Finish(ToGrpcStatus(page.status()));
        return;
      }
      if (page->empty()) {
        ++source_;
        continue;
      }
      page_ = *std::move(page);
      next_ = 0;
    }
    this->StartWrite(&page_[next_]);
  }

  std::vector<projection::ExportSource<Response>> sources_;
  size_t source_ = 0;
  std::vector<Response> page_;
  size_t next_ = 0;
};

// The stream for `sources` (an error status from one of them ends it with that status).
template <typename Response>
grpc::ServerWriteReactor<Response>* ServeExport(
    std::vector<projection::ExportSource<Response>> sources) {
  return new ExportStream<Response>(std::move(sources));
}

}  // namespace crm::grpcutil
