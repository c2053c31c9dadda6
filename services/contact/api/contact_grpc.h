// ContactGrpc: crm.contact.v1.ContactService over gRPC's callback API. A handler validates,
// hands the call to ContactService and finishes the reactor from the completion callback, so
// no thread waits while a write travels through the log.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "services/contact/contact_service.h"

namespace crm::contact {

class ContactGrpc final : public crm::contact::v1::ContactService::CallbackService {
 public:
  // `service` must outlive this object. `tenant` is the tenant every call works in until
  // credentials carry one.
  ContactGrpc(ContactService* service, std::string tenant)
      : service_(service), tenant_(std::move(tenant)) {}

  // The other services whose part of an export (ExportContactData) this process can give: the
  // node adds interaction, sales and analytics; a separate crm-contact lists them as unavailable.
  // Call before serving.
  void AddExportPart(std::string service, projection::PersonalDataExport part) {
    export_parts_.emplace_back(std::move(service), std::move(part));
  }

  grpc::ServerBidiReactor<crm::contact::v1::ImportRecordsRequest,
                          crm::contact::v1::ImportRecordsResponse>*
  ImportRecords(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UndoImport(grpc::CallbackServerContext* context,
                                       const crm::contact::v1::UndoImportRequest* request,
                                       crm::contact::v1::UndoImportResponse* response) override;
  grpc::ServerUnaryReactor* CreateContact(
      grpc::CallbackServerContext* context, const crm::contact::v1::CreateContactRequest* request,
      crm::contact::v1::CreateContactResponse* response) override;
  grpc::ServerUnaryReactor* MergeContacts(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::MergeContactsRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* UnmergeContacts(
      grpc::CallbackServerContext* context, const crm::contact::v1::UnmergeContactsRequest* request,
      crm::contact::v1::UnmergeContactsResponse* response) override;
  grpc::ServerUnaryReactor* GetContactQuality(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::GetContactQualityRequest* request,
      crm::contact::v1::DataQuality* response) override;
  grpc::ServerUnaryReactor* GetCompanyQuality(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::GetCompanyQualityRequest* request,
      crm::contact::v1::DataQuality* response) override;
  grpc::ServerUnaryReactor* ListIncompleteContacts(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::ListIncompleteContactsRequest* request,
      crm::contact::v1::ListIncompleteContactsResponse* response) override;
  grpc::ServerUnaryReactor* GetDataQualityRules(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::GetDataQualityRulesRequest* request,
      crm::contact::v1::DataQualityRules* response) override;
  grpc::ServerUnaryReactor* UpdateDataQualityRules(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::UpdateDataQualityRulesRequest* request,
      crm::contact::v1::DataQualityRules* response) override;
  grpc::ServerUnaryReactor* FindDuplicates(
      grpc::CallbackServerContext* context, const crm::contact::v1::FindDuplicatesRequest* request,
      crm::contact::v1::FindDuplicatesResponse* response) override;
  grpc::ServerUnaryReactor* ListDuplicateCandidates(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::ListDuplicateCandidatesRequest* request,
      crm::contact::v1::ListDuplicateCandidatesResponse* response) override;
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const crm::contact::v1::GetContactRequest* request,
                                       Contact* response) override;
  grpc::ServerUnaryReactor* UpdateContact(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::UpdateContactRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* DeleteContact(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::DeleteContactRequest* request,
                                          Contact* response) override;
  grpc::ServerUnaryReactor* EraseContact(grpc::CallbackServerContext* context,
                                         const crm::contact::v1::EraseContactRequest* request,
                                         Contact* response) override;
  grpc::ServerUnaryReactor* ExportContactData(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::ExportContactDataRequest* request,
      crm::contact::v1::ExportContactDataResponse* response) override;
  grpc::ServerWriteReactor<crm::contact::v1::ExportRecordsResponse>* ExportRecords(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::ExportRecordsRequest* request) override;
  grpc::ServerWriteReactor<crm::contact::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* ListContacts(grpc::CallbackServerContext* context,
                                         const crm::contact::v1::ListContactsRequest* request,
                                         crm::contact::v1::ListContactsResponse* response) override;
  grpc::ServerUnaryReactor* SearchContacts(
      grpc::CallbackServerContext* context, const crm::contact::v1::SearchContactsRequest* request,
      crm::contact::v1::SearchContactsResponse* response) override;
  grpc::ServerUnaryReactor* GetContactHistory(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::GetContactHistoryRequest* request,
      crm::contact::v1::GetContactHistoryResponse* response) override;
  grpc::ServerUnaryReactor* CreateCompany(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::CreateCompanyRequest* request,
                                          Company* response) override;
  grpc::ServerUnaryReactor* GetCompany(grpc::CallbackServerContext* context,
                                       const crm::contact::v1::GetCompanyRequest* request,
                                       Company* response) override;
  grpc::ServerUnaryReactor* UpdateCompany(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::UpdateCompanyRequest* request,
                                          Company* response) override;
  grpc::ServerUnaryReactor* DeleteCompany(grpc::CallbackServerContext* context,
                                          const crm::contact::v1::DeleteCompanyRequest* request,
                                          Company* response) override;
  grpc::ServerUnaryReactor* ListCompanies(
      grpc::CallbackServerContext* context, const crm::contact::v1::ListCompaniesRequest* request,
      crm::contact::v1::ListCompaniesResponse* response) override;
  grpc::ServerUnaryReactor* SearchCompanies(
      grpc::CallbackServerContext* context, const crm::contact::v1::SearchCompaniesRequest* request,
      crm::contact::v1::SearchCompaniesResponse* response) override;
  grpc::ServerUnaryReactor* GetCompanyHistory(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::GetCompanyHistoryRequest* request,
      crm::contact::v1::GetCompanyHistoryResponse* response) override;
  grpc::ServerUnaryReactor* AddRelationship(grpc::CallbackServerContext* context,
                                            const crm::contact::v1::AddRelationshipRequest* request,
                                            Company* response) override;
  grpc::ServerUnaryReactor* RemoveRelationship(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::RemoveRelationshipRequest* request, Company* response) override;
  grpc::ServerUnaryReactor* ListRelationships(
      grpc::CallbackServerContext* context,
      const crm::contact::v1::ListRelationshipsRequest* request,
      crm::contact::v1::ListRelationshipsResponse* response) override;

 private:
  CallContext Context(grpc::CallbackServerContext* context) const;

  ContactService* const service_;
  const std::string tenant_;
  std::vector<std::pair<std::string, projection::PersonalDataExport>> export_parts_;
};

}  // namespace crm::contact
