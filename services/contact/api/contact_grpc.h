// ContactGrpc: crm.contact.v1.ContactService over gRPC's callback API. A handler validates,
// hands the call to ContactService and finishes the reactor from the completion callback, so
// no thread waits while a write travels through the log.
#pragma once

#include <string>

#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "services/contact/contact_service.h"

namespace crm::contact {

class ContactGrpc final : public crm::contact::v1::ContactService::CallbackService {
 public:
  // `service` must outlive this object. `tenant` is the tenant every call works in until
  // credentials carry one.
  ContactGrpc(ContactService* service, std::string tenant)
      : service_(service), tenant_(std::move(tenant)) {}

  grpc::ServerUnaryReactor* CreateContact(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::CreateContactRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const crm::contact::v1::GetContactRequest* request,
                                       Contact* response) override;
  grpc::ServerUnaryReactor* UpdateContact(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::UpdateContactRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* DeleteContact(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::DeleteContactRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* ListContacts(grpc::CallbackServerContext* context,
                                         const crm::contact::v1::ListContactsRequest* request,
                                         crm::contact::v1::ListContactsResponse* response) override;
  grpc::ServerUnaryReactor* SearchContacts(
      grpc::CallbackServerContext* context, const crm::contact::v1::SearchContactsRequest* request,
      crm::contact::v1::SearchContactsResponse* response) override;

 private:
  CallContext Context(grpc::CallbackServerContext* context) const;

  ContactService* const service_;
  const std::string tenant_;
};

}  // namespace crm::contact
