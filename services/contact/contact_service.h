// ContactService: the contact service's application layer, what crm-contact and crm-node embed.
//
// It wires the domain (decide/apply), the projection and the log: writes decide against the
// projection, append through a CommandWriter and answer once the projection applied them;
// reads come from the projection alone. Handlers (api/contact_grpc.h) validate requests first;
// this layer takes validated, normalised input.
//
// Lifecycle: Open() -> Start() -> serve -> Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/eventlog/event_log.h"
#include "common/projection/command_writer.h"
#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/contact/projection/contact_projection.h"

namespace crm::contact {

// Who is calling, for which tenant, until when.
struct CallContext {
  std::string tenant;
  std::string actor;
  absl::Time deadline = absl::InfiniteFuture();
};

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

class ContactService {
 public:
  // Opens the projection under `projection_dir` (wiping it first if `rebuild`). `log` must
  // outlive the service.
  static absl::StatusOr<std::unique_ptr<ContactService>> Open(const std::string& projection_dir,
                                                              eventlog::EventLog* log,
                                                              bool rebuild);
  ~ContactService();

  // Starts applying the log; then waits until the projection has caught up with the log as it
  // was at the call, up to `catch_up_deadline` (DEADLINE_EXCEEDED past it; the projection keeps
  // applying).
  absl::Status Start(absl::Time catch_up_deadline);
  void Stop();

  // Writes. `done` runs once, possibly on another thread, and must not block.
  void Create(const CallContext& ctx, const Contact& contact, const std::string& request_id,
              Done<Contact> done);
  void Update(const CallContext& ctx, const Contact& values,
              const google::protobuf::FieldMask& mask, int64_t expected_version,
              const std::string& request_id, Done<Contact> done);
  void Delete(const CallContext& ctx, const std::string& id, int64_t expected_version,
              const std::string& request_id, Done<Contact> done);

  // Reads. NOT_FOUND for an unknown id.
  absl::StatusOr<Contact> Get(const CallContext& ctx, const std::string& id) const;
  absl::StatusOr<ListPage> List(const CallContext& ctx, const ListFilter& filter,
                                const std::string& resume_after, size_t page_size) const;
  absl::StatusOr<std::vector<SearchHit>> Search(const CallContext& ctx,
                                                const std::vector<std::string>& words,
                                                bool show_archived) const;

  projection::Projector* projector() { return &projector_; }

 private:
  ContactService(std::unique_ptr<store::ProjectionStore> store, eventlog::EventLog* log);
  // Answers a repeated request id with its first outcome. Returns true if it did.
  bool AnswerEarlier(const CallContext& ctx, const std::string& request_id,
                     const std::string& command, Done<Contact>& done);
  // Turns a recorded outcome into the caller's answer: the contact as it is now, or the error.
  void Finish(const CallContext& ctx, absl::StatusOr<crm::common::v1::CommandOutcome> outcome,
              Done<Contact>& done) const;
  void Submit(const CallContext& ctx, const std::string& command, const std::string& request_id,
              const std::string& id, int64_t expected_version, absl::Time now,
              const google::protobuf::Message& payload, Done<Contact> done);

  std::unique_ptr<store::ProjectionStore> store_;
  ContactProjection projection_;
  projection::Projector projector_;
  projection::CommandWriter writer_;
};

}  // namespace crm::contact
