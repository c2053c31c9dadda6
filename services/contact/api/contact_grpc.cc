#include "services/contact/api/contact_grpc.h"

#include <algorithm>

#include "absl/time/time.h"
#include "common/grpc/export_stream.h"
#include "common/grpc/feed_stream.h"
#include "common/grpc/import_stream.h"
#include "common/grpc/reactor.h"
#include "common/grpc/status.h"
#include "services/contact/api/validation.h"

namespace crm::contact {

using grpcutil::FinishNow;
using grpcutil::FinishWith;
using grpcutil::ToGrpcStatus;
namespace {

// A write with no deadline still gives up waiting for its projection after this long.
constexpr absl::Duration kMaxWait = absl::Seconds(30);
// Likely duplicates a create reports, and the most FindDuplicates returns.
constexpr size_t kMaxLikelyDuplicates = 10;
constexpr size_t kMaxDuplicates = 100;

OptionalTime AsOf(bool has, const google::protobuf::Timestamp& t) {
  return has ? OptionalTime(t) : std::nullopt;
}

// Fills a page of `hits` (best first) from `offset`, and the token for what follows.
template <typename T, typename Add>
std::optional<size_t> FillHits(std::vector<Hit<T>>& hits, const ValidSearch& search, Add add) {
  const size_t end = std::min(hits.size(), search.offset + search.page_size);
  for (size_t i = search.offset; i < end; ++i) add(std::move(hits[i].record), hits[i].score);
  if (end < hits.size()) return end;
  return std::nullopt;
}

}  // namespace

CallContext ContactGrpc::Context(grpc::CallbackServerContext* context) const {
  return grpcutil::MakeCallContext(context, tenant_, kMaxWait);
}

// --- Contacts ---------------------------------------------------------------------------------

grpc::ServerUnaryReactor* ContactGrpc::CreateContact(grpc::CallbackServerContext* context,
                                                     const v1::CreateContactRequest* request,
                                                     v1::CreateContactResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Contact> contact = ValidateCreate(*request);
  if (!contact.ok()) return FinishNow(reactor, contact.status());
  const CallContext ctx = Context(context);
  service_->Create(ctx, *contact, request->request_id(),
                   [this, ctx, reactor, response](absl::StatusOr<Contact> created) {
                     if (!created.ok()) {
                       reactor->Finish(ToGrpcStatus(created.status()));
                       return;
                     }
                     // The projection has applied the create, duplicates included.
                     absl::StatusOr<std::vector<v1::DuplicateMatch>> likely =
                         service_->FindDuplicatesOf(ctx, *created, kMaxLikelyDuplicates);
                     *response->mutable_contact() = std::move(*created);
                     if (likely.ok()) {
                       for (auto& m : *likely) *response->add_likely_duplicates() = std::move(m);
                     }
                     reactor->Finish(ToGrpcStatus(likely.status()));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::MergeContacts(grpc::CallbackServerContext* context,
                                                     const v1::MergeContactsRequest* request,
                                                     Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidMerge> merge = ValidateMerge(*request);
  if (!merge.ok()) return FinishNow(reactor, merge.status());
  service_->Merge(Context(context), request->survivor_id(), request->merged_id(), merge->mask,
                  request->survivor_expected_version(), request->merged_expected_version(),
                  request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::UnmergeContacts(grpc::CallbackServerContext* context,
                                                       const v1::UnmergeContactsRequest* request,
                                                       v1::UnmergeContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateUnmerge(*request); !s.ok()) return FinishNow(reactor, s);
  service_->Unmerge(Context(context), request->merged_id(), request->request_id(),
                    [reactor, response](absl::StatusOr<std::pair<Contact, Contact>> result) {
                      if (result.ok()) {
                        *response->mutable_survivor() = std::move(result->first);
                        *response->mutable_restored() = std::move(result->second);
                      }
                      reactor->Finish(ToGrpcStatus(result.status()));
                    });
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::GetContactQuality(
    grpc::CallbackServerContext* context, const v1::GetContactQualityRequest* request,
    v1::DataQuality* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateContactQuality(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->ContactQuality(Context(context), request->contact_id()));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::GetCompanyQuality(
    grpc::CallbackServerContext* context, const v1::GetCompanyQualityRequest* request,
    v1::DataQuality* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateCompanyQuality(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->CompanyQuality(Context(context), request->company_id()));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::ListIncompleteContacts(
    grpc::CallbackServerContext* context, const v1::ListIncompleteContactsRequest* request,
    v1::ListIncompleteContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidIncomplete> valid = ValidateListIncomplete(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<Page<v1::IncompleteContact>> page = service_->IncompleteContacts(
      Context(context), valid->below, valid->resume_after, valid->page_size);
  if (page.ok()) {
    for (auto& c : page->items) *response->add_contacts() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(IncompletePageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* ContactGrpc::GetDataQualityRules(grpc::CallbackServerContext* context,
                                                           const v1::GetDataQualityRulesRequest*,
                                                           v1::DataQualityRules* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishWith(reactor, response)(service_->QualityRules(Context(context)));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::UpdateDataQualityRules(
    grpc::CallbackServerContext* context, const v1::UpdateDataQualityRulesRequest* request,
    v1::DataQualityRules* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateQualityRules(*request); !s.ok()) return FinishNow(reactor, s);
  service_->UpdateQualityRules(Context(context), request->rules(), request->request_id(),
                               FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::FindDuplicates(grpc::CallbackServerContext* context,
                                                      const v1::FindDuplicatesRequest* request,
                                                      v1::FindDuplicatesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateFindDuplicates(*request); !s.ok()) return FinishNow(reactor, s);
  absl::StatusOr<std::vector<v1::DuplicateMatch>> matches =
      service_->FindDuplicates(Context(context), request->contact_id(), kMaxDuplicates);
  if (matches.ok()) {
    for (auto& m : *matches) *response->add_matches() = std::move(m);
  }
  return FinishNow(reactor, matches.status());
}

grpc::ServerUnaryReactor* ContactGrpc::ListDuplicateCandidates(
    grpc::CallbackServerContext* context, const v1::ListDuplicateCandidatesRequest* request,
    v1::ListDuplicateCandidatesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidDuplicateList> valid = ValidateListDuplicates(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<Page<v1::DuplicatePair>> page = service_->ListDuplicateCandidates(
      Context(context), valid->resume_after, valid->min_score, valid->page_size);
  if (page.ok()) {
    for (auto& p : page->items) *response->add_pairs() = std::move(p);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(DuplicatesPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* ContactGrpc::GetContact(grpc::CallbackServerContext* context,
                                                  const v1::GetContactRequest* request,
                                                  Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGet(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(
      service_->Get(Context(context), request->id(), AsOf(request->has_as_of(), request->as_of())));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::UpdateContact(grpc::CallbackServerContext* context,
                                                     const v1::UpdateContactRequest* request,
                                                     Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidUpdate<Contact>> update = ValidateUpdate(*request);
  if (!update.ok()) return FinishNow(reactor, update.status());
  service_->Update(Context(context), update->values, update->mask, request->expected_version(),
                   request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::DeleteContact(grpc::CallbackServerContext* context,
                                                     const v1::DeleteContactRequest* request,
                                                     Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDelete(*request); !s.ok()) return FinishNow(reactor, s);
  service_->Delete(Context(context), request->id(), request->expected_version(),
                   request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::EraseContact(grpc::CallbackServerContext* context,
                                                    const v1::EraseContactRequest* request,
                                                    Contact* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateErase(*request); !s.ok()) return FinishNow(reactor, s);
  service_->Erase(Context(context), request->id(), request->request_id(),
                  FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::ExportContactData(
    grpc::CallbackServerContext* context, const v1::ExportContactDataRequest* request,
    v1::ExportContactDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateExport(*request); !s.ok()) return FinishNow(reactor, s);
  const CallContext ctx = Context(context);
  std::vector<std::string> contact_ids;
  absl::StatusOr<nlohmann::json> mine =
      service_->ExportPersonalData(ctx, request->id(), contact_ids);
  if (!mine.ok()) return FinishNow(reactor, mine.status());
  nlohmann::json out = {
      {"contact_id", request->id()},
      {"exported_at", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())},
      {"services", {{"contact", *std::move(mine)}}},
      {"unavailable", nlohmann::json::array()}};
  for (const char* other : {"interaction", "sales", "analytics"}) {
    auto part = std::find_if(export_parts_.begin(), export_parts_.end(),
                             [&](const auto& p) { return p.first == other; });
    if (part == export_parts_.end()) {
      out["unavailable"].push_back(other);  // another process: ask it (not yet possible)
      continue;
    }
    absl::StatusOr<nlohmann::json> theirs = part->second(ctx, contact_ids);
    if (!theirs.ok()) return FinishNow(reactor, theirs.status());
    out["services"][other] = *std::move(theirs);
  }
  response->set_json(out.dump());
  return FinishNow(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* ContactGrpc::ListContacts(grpc::CallbackServerContext* context,
                                                    const v1::ListContactsRequest* request,
                                                    v1::ListContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidList> list = ValidateList(*request);
  if (!list.ok()) return FinishNow(reactor, list.status());
  absl::StatusOr<Page<Contact>> page =
      service_->List(Context(context), list->filter, list->resume_after, list->page_size);
  if (page.ok()) {
    for (Contact& c : page->items) *response->add_contacts() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(ListPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* ContactGrpc::SearchContacts(grpc::CallbackServerContext* context,
                                                      const v1::SearchContactsRequest* request,
                                                      v1::SearchContactsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidSearch> search = ValidateSearch(*request);
  if (!search.ok()) return FinishNow(reactor, search.status());
  absl::StatusOr<std::vector<Hit<Contact>>> hits =
      service_->Search(Context(context), search->words, search->show_archived,
                       search->offset + search->page_size + 1);  // one more: is there a next page?
  if (hits.ok()) {
    std::optional<size_t> next = FillHits(*hits, *search, [&](Contact&& c, double score) {
      auto* match = response->add_matches();
      *match->mutable_contact() = std::move(c);
      match->set_score(score);
    });
    if (next) response->set_next_page_token(SearchPageToken(*request, *next));
  }
  return FinishNow(reactor, hits.status());
}

grpc::ServerUnaryReactor* ContactGrpc::GetContactHistory(
    grpc::CallbackServerContext* context, const v1::GetContactHistoryRequest* request,
    v1::GetContactHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidHistory> valid = ValidateHistory(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<Page<HistoryEntry>> page = service_->History(
      Context(context), request->id(), /*company=*/false, valid->offset, valid->page_size);
  if (page.ok()) {
    for (HistoryEntry& e : page->items) *response->add_entries() = std::move(e);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(HistoryPageToken(*request, std::stoll(page->resume_after)));
    }
  }
  return FinishNow(reactor, page.status());
}

// --- Companies --------------------------------------------------------------------------------

grpc::ServerUnaryReactor* ContactGrpc::CreateCompany(grpc::CallbackServerContext* context,
                                                     const v1::CreateCompanyRequest* request,
                                                     Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Company> company = ValidateCreateCompany(*request);
  if (!company.ok()) return FinishNow(reactor, company.status());
  service_->CreateCompany(Context(context), *company, request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::GetCompany(grpc::CallbackServerContext* context,
                                                  const v1::GetCompanyRequest* request,
                                                  Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateGetCompany(*request); !s.ok()) return FinishNow(reactor, s);
  FinishWith(reactor, response)(service_->GetCompany(Context(context), request->id(),
                                                     AsOf(request->has_as_of(), request->as_of())));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::UpdateCompany(grpc::CallbackServerContext* context,
                                                     const v1::UpdateCompanyRequest* request,
                                                     Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidUpdate<Company>> update = ValidateUpdateCompany(*request);
  if (!update.ok()) return FinishNow(reactor, update.status());
  service_->UpdateCompany(Context(context), update->values, update->mask,
                          request->expected_version(), request->request_id(),
                          FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::DeleteCompany(grpc::CallbackServerContext* context,
                                                     const v1::DeleteCompanyRequest* request,
                                                     Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateDeleteCompany(*request); !s.ok()) return FinishNow(reactor, s);
  service_->DeleteCompany(Context(context), request->id(), request->expected_version(),
                          request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::ListCompanies(grpc::CallbackServerContext* context,
                                                     const v1::ListCompaniesRequest* request,
                                                     v1::ListCompaniesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidList> list = ValidateListCompanies(*request);
  if (!list.ok()) return FinishNow(reactor, list.status());
  absl::StatusOr<Page<Company>> page =
      service_->ListCompanies(Context(context), list->filter, list->resume_after, list->page_size);
  if (page.ok()) {
    for (Company& c : page->items) *response->add_companies() = std::move(c);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(ListCompaniesPageToken(*request, page->resume_after));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* ContactGrpc::SearchCompanies(grpc::CallbackServerContext* context,
                                                       const v1::SearchCompaniesRequest* request,
                                                       v1::SearchCompaniesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidSearch> search = ValidateSearchCompanies(*request);
  if (!search.ok()) return FinishNow(reactor, search.status());
  absl::StatusOr<std::vector<Hit<Company>>> hits =
      service_->SearchCompanies(Context(context), search->words, search->show_archived);
  if (hits.ok()) {
    std::optional<size_t> next = FillHits(*hits, *search, [&](Company&& c, double score) {
      auto* match = response->add_matches();
      *match->mutable_company() = std::move(c);
      match->set_score(score);
    });
    if (next) response->set_next_page_token(SearchCompaniesPageToken(*request, *next));
  }
  return FinishNow(reactor, hits.status());
}

grpc::ServerUnaryReactor* ContactGrpc::GetCompanyHistory(
    grpc::CallbackServerContext* context, const v1::GetCompanyHistoryRequest* request,
    v1::GetCompanyHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<ValidHistory> valid = ValidateCompanyHistory(*request);
  if (!valid.ok()) return FinishNow(reactor, valid.status());
  absl::StatusOr<Page<HistoryEntry>> page = service_->History(
      Context(context), request->id(), /*company=*/true, valid->offset, valid->page_size);
  if (page.ok()) {
    for (HistoryEntry& e : page->items) *response->add_entries() = std::move(e);
    if (!page->resume_after.empty()) {
      response->set_next_page_token(
          CompanyHistoryPageToken(*request, std::stoll(page->resume_after)));
    }
  }
  return FinishNow(reactor, page.status());
}

grpc::ServerUnaryReactor* ContactGrpc::AddRelationship(grpc::CallbackServerContext* context,
                                                       const v1::AddRelationshipRequest* request,
                                                       Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateAddRelationship(*request); !s.ok()) return FinishNow(reactor, s);
  service_->AddRelationship(Context(context), request->relationship(), request->expected_version(),
                            request->request_id(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::RemoveRelationship(
    grpc::CallbackServerContext* context, const v1::RemoveRelationshipRequest* request,
    Company* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateRemoveRelationship(*request); !s.ok()) return FinishNow(reactor, s);
  service_->RemoveRelationship(Context(context), request->relationship(),
                               request->expected_version(), request->request_id(),
                               FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ContactGrpc::ListRelationships(
    grpc::CallbackServerContext* context, const v1::ListRelationshipsRequest* request,
    v1::ListRelationshipsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateListRelationships(*request); !s.ok()) return FinishNow(reactor, s);
  absl::StatusOr<Relationships> rels =
      service_->ListRelationships(Context(context), request->company_id());
  if (rels.ok()) {
    for (auto& r : rels->outgoing) *response->add_outgoing() = std::move(r);
    for (auto& r : rels->incoming) *response->add_incoming() = std::move(r);
  }
  return FinishNow(reactor, rels.status());
}

grpc::ServerWriteReactor<crm::contact::v1::ExportRecordsResponse>* ContactGrpc::ExportRecords(
    grpc::CallbackServerContext* context, const crm::contact::v1::ExportRecordsRequest*) {
  return grpcutil::ServeExport<crm::contact::v1::ExportRecordsResponse>(
      service_->ExportSources(Context(context)));
}

grpc::ServerBidiReactor<crm::contact::v1::ImportRecordsRequest,
                        crm::contact::v1::ImportRecordsResponse>*
ContactGrpc::ImportRecords(grpc::CallbackServerContext* context) {
  return grpcutil::ServeImportRows<crm::contact::v1::ImportRecordsRequest,
                                   crm::contact::v1::ImportRecordsResponse, ImportItem>(
      [this, context] { return Context(context); }, &ValidateImport,
      [this](const CallContext& ctx, const std::string& import_id, const ImportItem& item,
             Done<crm::common::v1::ImportRowResult> done) {
        if (item.contact) {
          return service_->ImportContact(ctx, import_id, item.row, *item.contact, item.archived,
                                         std::move(done));
        }
        service_->ImportCompany(ctx, import_id, item.row, *item.company, item.archived,
                                std::move(done));
      });
}

grpc::ServerUnaryReactor* ContactGrpc::UndoImport(
    grpc::CallbackServerContext* context, const crm::contact::v1::UndoImportRequest* request,
    crm::contact::v1::UndoImportResponse* response) {
  return grpcutil::ServeUndoImport(context, tenant_, ValidateUndoImport(*request),
                                   request->import_id(), response,
                                   [this](const CallContext& ctx, const std::string& import_id,
                                          Done<crm::common::v1::ImportUndoSummary> done) {
                                     service_->UndoImport(ctx, import_id, std::move(done));
                                   });
}

grpc::ServerWriteReactor<crm::contact::v1::SubscribeResponse>* ContactGrpc::Subscribe(
    grpc::CallbackServerContext* context, const crm::contact::v1::SubscribeRequest* request) {
  return grpcutil::ServeFeed<crm::contact::v1::SubscribeResponse>(
      context, *request, service_->projector()->log(), crm::contact::kTopic, tenant_,
      [service = service_](const crm::common::v1::EventEnvelope& e) {
        return service->sealer().Open(e);
      });
}

}  // namespace crm::contact
