#include "common/grpc/admin_service.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/grpc/reactor.h"
#include "common/grpc/status.h"
#include "common/status/status_macros.h"
#include "common/store/checkpoint.h"
#include "common/validation/request_fields.h"

namespace crm::grpcutil {

absl::StatusOr<projection::Projector*> AdminServiceImpl::Find(const std::string& name) const {
  const auto it = projectors_.find(name);
  if (it != projectors_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [known, _] : projectors_) names.push_back(known);
  return absl::NotFoundError(absl::StrCat(
      "projection: \"", name, "\" is not held here; known: ", absl::StrJoin(names, ", ")));
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetProjectionStatus(
    grpc::CallbackServerContext* context, const crm::admin::v1::GetProjectionStatusRequest* request,
    crm::admin::v1::GetProjectionStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<projection::Projector*> projector = Find(request->projection());
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> status =
      projector.ok() ? (*projector)->Status() : projector.status();
  if (status.ok()) *response = std::move(*status);
  reactor->Finish(ToGrpcStatus(status.status()));
  return reactor;
}

namespace {

absl::Status ListDeadLettersOf(const projection::Projector& projector,
                               const crm::admin::v1::ListDeadLettersRequest& request,
                               crm::admin::v1::ListDeadLettersResponse& response) {
  ASSIGN_OR_RETURN(const size_t page_size, validation::PageSize(request.page_size(), 1000, 100));
  std::string after;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(after, validation::ReadPageToken(request.page_token(), 'D',
                                                      validation::PagingIdentity(request)));
  }
  // One more than a page says whether another page follows.
  ASSIGN_OR_RETURN(auto found, projector.DeadLetters(after, page_size + 1));
  const bool more = found.size() > page_size;
  if (more) found.resize(page_size);
  for (auto& [key, dead_letter] : found) *response.add_dead_letters() = std::move(dead_letter);
  if (more) {
    response.set_next_page_token(
        validation::MakePageToken('D', validation::PagingIdentity(request), found.back().first));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::ListDeadLetters(
    grpc::CallbackServerContext* context, const crm::admin::v1::ListDeadLettersRequest* request,
    crm::admin::v1::ListDeadLettersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<projection::Projector*> projector = Find(request->projection());
  absl::Status status =
      projector.ok() ? ListDeadLettersOf(**projector, *request, *response) : projector.status();
  if (!status.ok()) response->Clear();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListProjections(
    grpc::CallbackServerContext* context, const crm::admin::v1::ListProjectionsRequest* /*request*/,
    crm::admin::v1::ListProjectionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  for (const auto& [name, projector] : projectors_) {
    absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> progress = projector->Progress();
    if (!progress.ok()) {
      response->Clear();
      return FinishNow(reactor, progress.status());
    }
    *response->add_projections() = std::move(*progress);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

namespace {

// How many records one ReadLog call looks at, at most, and for how long: a filter that matches
// little must not hold a call (or the log) for long; the token continues where it stopped.
constexpr size_t kReadLogScanBudget = 10000;
constexpr absl::Duration kReadLogMaxTime = absl::Seconds(5);

}  // namespace

absl::Status ValidateReadLog(const crm::admin::v1::ReadLogRequest& r) {
  if (r.topic().empty()) {
    return absl::InvalidArgumentError("topic: required, e.g. \"crm.contact.v1\"");
  }
  const bool name_ok =
      r.topic().size() <= 249 && std::all_of(r.topic().begin(), r.topic().end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
  if (!name_ok) {
    return absl::InvalidArgumentError(
        "topic: not a topic name (at most 249 characters of a-z, A-Z, 0-9, '.', '_', '-')");
  }
  if (r.has_partition() && r.partition() < 0) {
    return absl::InvalidArgumentError("partition: must be 0 or more");
  }
  if (r.offset() < 0) return absl::InvalidArgumentError("offset: must be 0 or more");
  if (r.aggregate_id().size() > 256) {
    return absl::InvalidArgumentError("aggregate_id: at most 256 characters");
  }
  if (r.event_type().size() > 256) {
    return absl::InvalidArgumentError("event_type: at most 256 characters");
  }
  if (r.max_records() < 0 || r.max_records() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_records: ", r.max_records(), " is out of range (0 to 1000)"));
  }
  return absl::OkStatus();
}

namespace {

// Reads what `request` asks for from `log`, until `deadline` at the latest.
absl::Status ReadLogInto(eventlog::EventLog& log, const crm::admin::v1::ReadLogRequest& request,
                         absl::Time deadline, crm::admin::v1::ReadLogResponse& response) {
  RETURN_IF_ERROR(ValidateReadLog(request));
  const size_t max_records = request.max_records() == 0 ? 100 : request.max_records();
  crm::admin::v1::ReadLogRequest identity = request;
  identity.clear_page_token();
  identity.clear_max_records();
  identity.clear_offset();

  absl::StatusOr<int32_t> count = log.PartitionCount(request.topic());
  if (!count.ok()) {
    return absl::Status(count.status().code(), absl::StrCat("topic: \"", request.topic(),
                                                            "\": ", count.status().message()));
  }
  if (request.has_partition() && request.partition() >= *count) {
    return absl::InvalidArgumentError(absl::StrCat("partition: ", request.partition(),
                                                   " is out of range: ", request.topic(), " has ",
                                                   *count, " partitions"));
  }
  std::map<int32_t, int64_t> next;
  for (int32_t p = 0; p < *count; ++p) {
    if (!request.has_partition() || request.partition() == p) next[p] = request.offset();
  }
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(const std::string position,
                     validation::ReadPageToken(request.page_token(), 'G', identity));
    using Positions = std::map<int32_t, int64_t>;
    absl::StatusOr<Positions> resumed = eventlog::DecodePositions(position);
    if (!resumed.ok() || resumed->size() != next.size() ||
        !std::all_of(resumed->begin(), resumed->end(),
                     [&](const auto& kv) { return next.count(kv.first) > 0; })) {
      return absl::InvalidArgumentError("page_token: not a token of this request");
    }
    next = *std::move(resumed);
  }
  std::map<int32_t, int64_t> end;
  std::vector<eventlog::PartitionStart> starts;
  for (const auto& [p, offset] : next) {
    ASSIGN_OR_RETURN(end[p], log.EndOffset(request.topic(), p));
    if (offset < end[p]) starts.push_back({request.topic(), p, offset});
  }
  if (!starts.empty()) {
    ASSIGN_OR_RETURN(std::unique_ptr<eventlog::LogReader> reader,
                     log.OpenReader(std::move(starts)));
    size_t scanned = 0;
    auto done = [&] {
      if (static_cast<size_t>(response.entries_size()) >= max_records) return true;
      if (scanned >= kReadLogScanBudget || absl::Now() >= deadline) return true;
      return std::all_of(next.begin(), next.end(),
                         [&](const auto& kv) { return kv.second >= end[kv.first]; });
    };
    while (!done()) {
      ASSIGN_OR_RETURN(std::vector<eventlog::LogRecord> records,
                       reader->Poll(std::min<size_t>(512, kReadLogScanBudget - scanned),
                                    absl::Milliseconds(100)));
      for (eventlog::LogRecord& r : records) {
        if (static_cast<size_t>(response.entries_size()) >= max_records) break;
        ++scanned;
        next[r.partition] = r.offset + 1;
        if (!request.aggregate_id().empty() && r.key != request.aggregate_id()) continue;
        crm::admin::v1::LogEntry entry;
        const bool decoded =
            entry.mutable_event()->ParseFromString(r.value) && !entry.event().event_id().empty();
        if (!request.event_type().empty() &&
            (!decoded || entry.event().event_type() != request.event_type())) {
          continue;
        }
        entry.set_topic(r.topic);
        entry.set_partition(r.partition);
        entry.set_offset(r.offset);
        entry.set_key(std::move(r.key));
        if (!decoded) {
          entry.clear_event();
          entry.set_value(std::move(r.value));
          entry.set_error("not an event envelope");
        }
        *response.add_entries() = std::move(entry);
      }
    }
  }
  response.set_at_end(std::all_of(next.begin(), next.end(),
                                  [&](const auto& kv) { return kv.second >= end[kv.first]; }));
  response.set_next_page_token(
      validation::MakePageToken('G', identity, eventlog::EncodePositions(next)));
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::ReadLog(grpc::CallbackServerContext* context,
                                                    const crm::admin::v1::ReadLogRequest* request,
                                                    crm::admin::v1::ReadLogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time deadline = CallDeadline(context, kReadLogMaxTime);
  absl::Status status = ReadLogInto(*log_, *request, deadline, *response);
  if (!status.ok()) response->Clear();
  return FinishNow(reactor, status);
}

grpc::ServerUnaryReactor* AdminServiceImpl::RebuildProjection(
    grpc::CallbackServerContext* context, const crm::admin::v1::RebuildProjectionRequest* request,
    crm::admin::v1::RebuildProjectionResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<projection::Projector*> projector = Find(request->projection());
  if (!projector.ok()) return FinishNow(reactor, projector.status());
  if (absl::Status s = (*projector)->RequestRebuild(CallDeadline(context, absl::Seconds(30)));
      !s.ok()) {
    return FinishNow(reactor, s);
  }
  absl::StatusOr<crm::admin::v1::GetProjectionStatusResponse> progress = (*projector)->Progress();
  if (progress.ok()) *response->mutable_status() = std::move(*progress);
  return FinishNow(reactor, progress.status());
}

absl::Status AdminServiceImpl::Checkpoint(const crm::admin::v1::CreateCheckpointRequest& request,
                                          crm::admin::v1::CreateCheckpointResponse& response) {
  RETURN_IF_ERROR(store::ValidateCheckpointName(request.name()));
  std::vector<store::CheckpointPart> parts;
  // The projections first, the log last: every position a projection holds is then within the
  // log the checkpoint holds.
  for (const auto& [name, projector] : projectors_) {
    parts.push_back({name, [projector = projector, &response](const std::string& dir) {
                       ASSIGN_OR_RETURN(*response.add_projections(), projector->Progress());
                       return projector->store().Checkpoint(dir);
                     }});
  }
  parts.insert(parts.end(), extra_parts_.begin(), extra_parts_.end());
  parts.push_back({"log", [this](const std::string& dir) {
                     absl::Status s = log_->Checkpoint(dir);
                     // A log kept outside the process (Kafka) is not part of the checkpoint.
                     return absl::IsUnimplemented(s) ? absl::OkStatus() : s;
                   }});
  ASSIGN_OR_RETURN(store::WrittenCheckpoint written,
                   store::WriteCheckpoint(backup_dir_, request.name(), parts));
  response.set_path(written.path);
  for (std::string& part : written.parts) response.add_parts(std::move(part));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminServiceImpl::CreateCheckpoint(
    grpc::CallbackServerContext* context, const crm::admin::v1::CreateCheckpointRequest* request,
    crm::admin::v1::CreateCheckpointResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = Checkpoint(*request, *response);
  if (!status.ok()) response->Clear();
  return FinishNow(reactor, status);
}

absl::StatusOr<access::ApiKeyStore*> AdminServiceImpl::Keys() const {
  if (api_keys_ == nullptr) return absl::UnimplementedError("this process keeps no API keys");
  return api_keys_;
}

// A key RPC's deadline: the call's, at most 30 s away.
constexpr absl::Duration kKeyWait = absl::Seconds(30);

grpc::ServerUnaryReactor* AdminServiceImpl::CreateApiKey(
    grpc::CallbackServerContext* context, const crm::admin::v1::CreateApiKeyRequest* request,
    crm::admin::v1::CreateApiKeyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<access::ApiKeyStore*> keys = Keys();
  if (!keys.ok()) return FinishNow(reactor, keys.status());
  const auth::Principal caller = CallerOf(*context, "default");
  // Blocks this thread until the key is on the log and applied here: rare, administrative.
  absl::StatusOr<access::NewKey> made =
      (*keys)->Create(caller.tenant, caller.subject, *request, CallDeadline(context, kKeyWait));
  if (made.ok()) {
    *response->mutable_api_key() = std::move(made->api_key);
    response->set_key(std::move(made->key));
  }
  return FinishNow(reactor, made.status());
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListApiKeys(
    grpc::CallbackServerContext* context, const crm::admin::v1::ListApiKeysRequest*,
    crm::admin::v1::ListApiKeysResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<access::ApiKeyStore*> keys = Keys();
  if (!keys.ok()) return FinishNow(reactor, keys.status());
  absl::StatusOr<std::vector<crm::admin::v1::ApiKey>> listed =
      (*keys)->List(CallerOf(*context, "default").tenant);
  if (listed.ok()) {
    for (auto& k : *listed) *response->add_api_keys() = std::move(k);
  }
  return FinishNow(reactor, listed.status());
}

grpc::ServerUnaryReactor* AdminServiceImpl::RevokeApiKey(
    grpc::CallbackServerContext* context, const crm::admin::v1::RevokeApiKeyRequest* request,
    crm::admin::v1::ApiKey* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<access::ApiKeyStore*> keys = Keys();
  if (!keys.ok()) return FinishNow(reactor, keys.status());
  const auth::Principal caller = CallerOf(*context, "default");
  absl::StatusOr<crm::admin::v1::ApiKey> revoked = (*keys)->Revoke(
      caller.tenant, caller.subject, request->id(), CallDeadline(context, kKeyWait));
  if (revoked.ok()) *response = std::move(*revoked);
  return FinishNow(reactor, revoked.status());
}

}  // namespace crm::grpcutil
