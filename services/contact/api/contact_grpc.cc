#include "services/contact/api/contact_grpc.h"

#include "common/grpc/status.h"
#include "services/contact/api/validation.h"

namespace crm::contact {

using grpcutil::ToGrpcStatus;

namespace {

// A write with no deadline still gives up waiting for its projection after this long.
constexpr absl::Duration kMaxWait = absl::Seconds(30);

// Finishes `reactor` with `result`, copying the contact into `response` on success.
Done<Contact> Finisher(grpc::ServerUnaryReactor* reactor, Contact* response) {
  return [reactor, response](absl::StatusOr<Contact> result) {
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  };
}

}  // namespace

CallContext ContactGrpc::Context(grpc::CallbackServerContext* context) const {
  CallContext ctx;
  ctx.tenant = tenant_;
  const absl::Time deadline = absl::FromChrono(context->deadline());
  ctx.deadline = std::min(deadline, absl::Now() + kMaxWait);
  return ctx;
}

grpc::ServerUnaryReactor* ContactGrpc::CreateContact(
    grpc::CallbackServerContext* context, const crm::contact::v1::CreateContactRequest* request,
    Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Contact> contact = ValidateCreate(*request);
  if (!contact.ok()) {
    reactor->Finish(ToGrpcStatus(contact.status()));
    return reactor;
  }
  service_->Create(Context(context), *contact, request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::GetContact(
    grpc::CallbackServerContext* context, const crm::contact::v1::GetContactRequest* request,
    Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGet(*request); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  Finisher(reactor, response)(service_->Get(Context(context), request->id()));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::UpdateContact(
    grpc::CallbackServerContext* context, const crm::contact::v1::UpdateContactRequest* request,
    Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidUpdate> update = ValidateUpdate(*request);
  if (!update.ok()) {
    reactor->Finish(ToGrpcStatus(update.status()));
    return reactor;
  }
  service_->Update(Context(context), update->values, update->mask, request->expected_version(),
                   request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::DeleteContact(
    grpc::CallbackServerContext* context, const crm::contact::v1::DeleteContactRequest* request,
    Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDelete(*request); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  service_->Delete(Context(context), request->id(), request->expected_version(),
                   request->request_id(), Finisher(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::ListContacts(
    grpc::CallbackServerContext* context, const crm::contact::v1::ListContactsRequest* request,
    crm::contact::v1::ListContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidList> list = ValidateList(*request);
  if (!list.ok()) {
    reactor->Finish(ToGrpcStatus(list.status()));
    return reactor;
  }
  absl::StatusOr<ListPage> page =
      service_->List(Context(context), list->filter, list->resume_after, list->page_size);
  if (page.ok()) {
    for (Contact& c : page->contacts) *response->add_contacts() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(ListPageToken(*request, page->resume_after));
    }
  }
  reactor->Finish(ToGrpcStatus(page.status()));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::SearchContacts(
    grpc::CallbackServerContext* context, const crm::contact::v1::SearchContactsRequest* request,
    crm::contact::v1::SearchContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidSearch> search = ValidateSearch(*request);
  if (!search.ok()) {
    reactor->Finish(ToGrpcStatus(search.status()));
    return reactor;
  }
  absl::StatusOr<std::vector<SearchHit>> hits =
      service_->Search(Context(context), search->words, search->show_archived);
  if (hits.ok()) {
    const size_t end = std::min(hits->size(), search->offset + search->page_size);
    for (size_t i = search->offset; i < end; ++i) {
      auto* match = response->add_matches();
      *match->mutable_contact() = std::move((*hits)[i].contact);
      match->set_score((*hits)[i].score);
    }
    if (end < hits->size()) response->set_next_page_token(SearchPageToken(*request, end));
  }
  reactor->Finish(ToGrpcStatus(hits.status()));
  return reactor;
}

}  // namespace crm::contact
