// Companies, affiliations, relationships, history and as_of over gRPC on the real crm-node, and
// on crm-contact over the dev broker: restart and rebuild keep all of it.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace v1 = crm::contact::v1;
using v1::Company;
using v1::Contact;

class CompanyTest : public ::testing::Test {
 protected:
  void StartNode(std::vector<std::string> extra = {}) {
    server_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(server_.addr.empty());
  }

  Company CreateCompany(const std::string& name, const std::string& domain) {
    v1::CreateCompanyRequest req;
    req.mutable_company()->set_name(name);
    req.mutable_company()->set_domain(domain);
    Company out;
    grpc::Status s = server_.contacts->CreateCompany(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  Contact CreateAffiliated(const std::string& given, const std::string& company_id) {
    v1::CreateContactRequest req;
    req.mutable_contact()->mutable_personal()->set_given_name(given);
    auto* a = req.mutable_contact()->add_affiliations();
    a->set_company_id(company_id);
    a->set_role("Buyer");
    v1::CreateContactResponse created;
    grpc::Status s = server_.contacts->CreateContact(Ctx().get(), req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created.contact();
  }

  // Exercises every new RPC; returns the company and contact ids for later checks.
  std::pair<std::string, std::string> Scenario() {
    Company acme = CreateCompany("Acme Rockets", "https://www.acme.example");
    EXPECT_EQ(acme.domain(), "acme.example");
    Company beta = CreateCompany("Beta Labs", "beta.example");
    Contact wile = CreateAffiliated("Wile", acme.id());

    v1::AddRelationshipRequest add;
    add.mutable_relationship()->set_company_id(acme.id());
    add.mutable_relationship()->set_related_company_id(beta.id());
    add.mutable_relationship()->set_type(v1::RELATIONSHIP_TYPE_CUSTOMER);
    Company after;
    EXPECT_TRUE(server_.contacts->AddRelationship(Ctx().get(), add, &after).ok());
    EXPECT_EQ(after.relationships_size(), 1);
    EXPECT_EQ(server_.contacts->AddRelationship(Ctx().get(), add, &after).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);

    v1::UpdateCompanyRequest update;
    update.mutable_company()->set_id(acme.id());
    update.mutable_company()->set_industry("Aerospace");
    update.mutable_update_mask()->add_paths("industry");
    EXPECT_TRUE(server_.contacts->UpdateCompany(Ctx().get(), update, &after).ok());
    EXPECT_EQ(after.version(), 3);

    // A duplicate of Wile, merged into him and out again, and another merged for good.
    Contact twin = CreateAffiliated("Wyle", beta.id());
    Contact other = CreateAffiliated("Wiley", beta.id());
    v1::MergeContactsRequest merge;
    merge.set_survivor_id(wile.id());
    merge.set_merged_id(twin.id());
    merge.set_request_id("merge-twin");
    Contact survivor;
    EXPECT_TRUE(server_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
    v1::UnmergeContactsRequest unmerge;
    unmerge.set_merged_id(twin.id());
    v1::UnmergeContactsResponse unmerged;
    EXPECT_TRUE(server_.contacts->UnmergeContacts(Ctx().get(), unmerge, &unmerged).ok());
    merge.set_merged_id(other.id());
    merge.set_request_id("merge-other");
    EXPECT_TRUE(server_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
    return {acme.id(), wile.id()};
  }

  TempDir dir_;
  Server server_;
};

TEST_F(CompanyTest, CompaniesAffiliationsRelationshipsHistoryAndAsOf) {
  StartNode();
  auto [acme, wile] = Scenario();

  v1::ListRelationshipsRequest rels;
  rels.set_company_id(acme);
  v1::ListRelationshipsResponse rel_out;
  ASSERT_TRUE(server_.contacts->ListRelationships(Ctx().get(), rels, &rel_out).ok());
  ASSERT_EQ(rel_out.outgoing_size(), 1);
  const std::string beta = rel_out.outgoing(0).related_company_id();
  rels.set_company_id(beta);
  ASSERT_TRUE(server_.contacts->ListRelationships(Ctx().get(), rels, &rel_out).ok());
  ASSERT_EQ(rel_out.incoming_size(), 1);
  EXPECT_EQ(rel_out.incoming(0).company_id(), acme);

  // Contacts by company, and found by the company's name.
  v1::ListContactsRequest list;
  list.set_company_id(acme);
  v1::ListContactsResponse listed;
  ASSERT_TRUE(server_.contacts->ListContacts(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.contacts_size(), 1);
  EXPECT_EQ(listed.contacts(0).id(), wile);
  v1::SearchContactsRequest search;
  search.set_query("rocket");
  v1::SearchContactsResponse found;
  ASSERT_TRUE(server_.contacts->SearchContacts(Ctx().get(), search, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);
  v1::SearchCompaniesRequest company_search;
  company_search.set_query("acme");
  v1::SearchCompaniesResponse company_found;
  ASSERT_TRUE(server_.contacts->SearchCompanies(Ctx().get(), company_search, &company_found).ok());
  ASSERT_EQ(company_found.matches_size(), 1);
  v1::ListCompaniesRequest list_companies;
  list_companies.set_industry("aerospace");
  v1::ListCompaniesResponse companies;
  ASSERT_TRUE(server_.contacts->ListCompanies(Ctx().get(), list_companies, &companies).ok());
  ASSERT_EQ(companies.companies_size(), 1);

  // The audit trail and time travel.
  v1::GetCompanyHistoryRequest history;
  history.set_id(acme);
  v1::GetCompanyHistoryResponse trail;
  ASSERT_TRUE(server_.contacts->GetCompanyHistory(Ctx().get(), history, &trail).ok());
  ASSERT_EQ(trail.entries_size(), 3);
  EXPECT_EQ(trail.entries(2).changes(0).path(), "industry");
  EXPECT_EQ(trail.entries(2).changes(0).after(), "\"Aerospace\"");
  EXPECT_EQ(trail.entries(2).source(), v1::CHANGE_SOURCE_API);

  v1::GetCompanyRequest get;
  get.set_id(acme);
  *get.mutable_as_of() = trail.entries(1).time();
  Company then;
  ASSERT_TRUE(server_.contacts->GetCompany(Ctx().get(), get, &then).ok());
  EXPECT_EQ(then.version(), 2);
  EXPECT_EQ(then.industry(), "");
  get.mutable_as_of()->set_seconds(trail.entries(0).time().seconds() - 1);
  EXPECT_EQ(server_.contacts->GetCompany(Ctx().get(), get, &then).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::GetContactHistoryRequest contact_history;
  contact_history.set_id(wile);
  v1::GetContactHistoryResponse contact_trail;
  ASSERT_TRUE(
      server_.contacts->GetContactHistory(Ctx().get(), contact_history, &contact_trail).ok());
  // Wile: created, absorbed the twin, gave it back, absorbed the other; the other: created,
  // merged into Wile. The twin's own trail left with it.
  EXPECT_EQ(contact_trail.entries_size(), 6);
}

TEST_F(CompanyTest, RestartAndRebuildKeepEverything) {
  StartNode();
  auto [acme, wile] = Scenario();
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(server_, &before).ok());
  ASSERT_EQ(server_.process->Stop(SIGTERM), 0);
  StartNode({"--rebuild"});
  ASSERT_TRUE(WaitCaughtUp(server_));
  ASSERT_TRUE(ProjectionStatus(server_, &after).ok());
  EXPECT_EQ(after.checksum(), before.checksum());
  v1::GetCompanyHistoryRequest history;
  history.set_id(acme);
  v1::GetCompanyHistoryResponse trail;
  ASSERT_TRUE(server_.contacts->GetCompanyHistory(Ctx().get(), history, &trail).ok());
  EXPECT_EQ(trail.entries_size(), 3);
}

TEST_F(CompanyTest, ContactServiceOnTheDevBrokerRebuildsCompaniesIdentically) {
  const DevBroker broker = StartDevBroker(dir_.path());
  const std::string& brokers = broker.brokers;
  ASSERT_FALSE(brokers.empty());
  const std::vector<std::string> args = {"--listen",        "127.0.0.1:0", "--data-dir",
                                         dir_.Sub("kafka"), "--log",       "kafka",
                                         "--kafka-brokers", brokers};
  server_ = StartServer("crm-contact", args, dir_.path());
  ASSERT_FALSE(server_.addr.empty());
  Scenario();
  crm::admin::v1::GetProjectionStatusResponse before, after;
  ASSERT_TRUE(ProjectionStatus(server_, &before).ok());
  ASSERT_EQ(server_.process->Stop(SIGTERM), 0);
  std::vector<std::string> rebuild = args;
  rebuild.push_back("--rebuild");
  server_ = StartServer("crm-contact", rebuild, dir_.path());
  ASSERT_TRUE(WaitCaughtUp(server_));
  ASSERT_TRUE(ProjectionStatus(server_, &after).ok());
  EXPECT_EQ(after.checksum(), before.checksum());
}

TEST_F(CompanyTest, DuplicatesAreReportedOnCreateFoundAndListed) {
  StartNode();
  v1::CreateContactRequest first;
  first.mutable_contact()->mutable_personal()->set_given_name("Robert");
  first.mutable_contact()->mutable_personal()->set_family_name("Marley");
  v1::CreateContactResponse a;
  ASSERT_TRUE(server_.contacts->CreateContact(Ctx().get(), first, &a).ok());
  EXPECT_EQ(a.likely_duplicates_size(), 0);
  v1::CreateContactRequest second;
  second.mutable_contact()->mutable_personal()->set_given_name("Bob");
  second.mutable_contact()->mutable_personal()->set_family_name("Marly");
  v1::CreateContactResponse b;
  ASSERT_TRUE(server_.contacts->CreateContact(Ctx().get(), second, &b).ok());
  ASSERT_EQ(b.likely_duplicates_size(), 1);
  EXPECT_EQ(b.likely_duplicates(0).contact().id(), a.contact().id());
  EXPECT_EQ(b.likely_duplicates(0).reasons(0), v1::DUPLICATE_REASON_SIMILAR_NAME);

  v1::FindDuplicatesRequest find;
  find.set_contact_id(a.contact().id());
  v1::FindDuplicatesResponse found;
  ASSERT_TRUE(server_.contacts->FindDuplicates(Ctx().get(), find, &found).ok());
  ASSERT_EQ(found.matches_size(), 1);
  EXPECT_EQ(found.matches(0).contact().id(), b.contact().id());

  v1::ListDuplicateCandidatesRequest list;
  v1::ListDuplicateCandidatesResponse pairs;
  ASSERT_TRUE(server_.contacts->ListDuplicateCandidates(Ctx().get(), list, &pairs).ok());
  ASSERT_EQ(pairs.pairs_size(), 1);
  EXPECT_GE(pairs.pairs(0).score(), 0.5);

  // Bad input for both RPCs.
  find.set_contact_id("nope");
  EXPECT_EQ(server_.contacts->FindDuplicates(Ctx().get(), find, &found).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  find.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(server_.contacts->FindDuplicates(Ctx().get(), find, &found).error_code(),
            grpc::StatusCode::NOT_FOUND);
  list.set_min_score(0.2);
  grpc::Status bad = server_.contacts->ListDuplicateCandidates(Ctx().get(), list, &pairs);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().rfind("min_score", 0), 0u) << bad.error_message();
}

TEST_F(CompanyTest, MergeAndUnmergeOverGrpc) {
  StartNode();
  Company acme = CreateCompany("Acme", "acme.example");
  Company beta = CreateCompany("Beta", "beta.example");
  Contact s = CreateAffiliated("Sam", acme.id());
  Contact m = CreateAffiliated("Samuel", beta.id());
  v1::UpdateContactRequest job;
  job.mutable_contact()->set_id(m.id());
  job.mutable_contact()->set_job_title("Director");
  job.mutable_update_mask()->add_paths("job_title");
  Contact updated;
  ASSERT_TRUE(server_.contacts->UpdateContact(Ctx().get(), job, &updated).ok());

  v1::MergeContactsRequest merge;
  merge.set_survivor_id(s.id());
  merge.set_merged_id(m.id());
  merge.mutable_update_mask()->add_paths("job_title");
  merge.set_request_id("merge-1");
  Contact survivor;
  ASSERT_TRUE(server_.contacts->MergeContacts(Ctx().get(), merge, &survivor).ok());
  EXPECT_EQ(survivor.job_title(), "Director");
  EXPECT_EQ(survivor.affiliations_size(), 2);
  ASSERT_EQ(survivor.merged_ids_size(), 1);
  // Repeating the request changes nothing.
  Contact again;
  ASSERT_TRUE(server_.contacts->MergeContacts(Ctx().get(), merge, &again).ok());
  EXPECT_EQ(again.version(), survivor.version());

  // The merged id says where it went.
  Contact pointer;
  ASSERT_TRUE(GetContact(server_, m.id(), &pointer).ok());
  EXPECT_EQ(pointer.merged_into(), s.id());
  // The survivor's trail holds both records'.
  v1::GetContactHistoryRequest history;
  history.set_id(s.id());
  v1::GetContactHistoryResponse trail;
  ASSERT_TRUE(server_.contacts->GetContactHistory(Ctx().get(), history, &trail).ok());
  std::set<std::string> records;
  bool merge_source = false;
  for (const auto& e : trail.entries()) {
    records.insert(e.record_id());
    merge_source |= e.source() == v1::CHANGE_SOURCE_MERGE;
  }
  EXPECT_EQ(records, (std::set<std::string>{s.id(), m.id()}));
  EXPECT_TRUE(merge_source);
  // Search and lists show only the survivor.
  v1::ListContactsRequest list;
  list.set_company_id(beta.id());
  v1::ListContactsResponse listed;
  ASSERT_TRUE(server_.contacts->ListContacts(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.contacts_size(), 1);
  EXPECT_EQ(listed.contacts(0).id(), s.id());

  v1::UnmergeContactsRequest unmerge;
  unmerge.set_merged_id(m.id());
  unmerge.set_request_id("unmerge-1");
  v1::UnmergeContactsResponse unmerged;
  ASSERT_TRUE(server_.contacts->UnmergeContacts(Ctx().get(), unmerge, &unmerged).ok());
  EXPECT_EQ(unmerged.survivor().job_title(), "");
  EXPECT_EQ(unmerged.survivor().affiliations_size(), 1);
  EXPECT_TRUE(unmerged.restored().merged_into().empty());
  EXPECT_EQ(unmerged.restored().job_title(), "Director");
  v1::UnmergeContactsResponse repeated;
  ASSERT_TRUE(server_.contacts->UnmergeContacts(Ctx().get(), unmerge, &repeated).ok());
  EXPECT_EQ(repeated.survivor().id(), s.id());

  // Bad input and refusals.
  merge.set_merged_id(s.id());
  merge.set_request_id("");
  grpc::Status self = server_.contacts->MergeContacts(Ctx().get(), merge, &survivor);
  EXPECT_EQ(self.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(self.error_message().rfind("merged_id", 0), 0u);
  merge.set_merged_id(m.id());
  merge.mutable_update_mask()->add_paths("personal.emails");
  grpc::Status mask = server_.contacts->MergeContacts(Ctx().get(), merge, &survivor);
  EXPECT_EQ(mask.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(mask.error_message().rfind("update_mask", 0), 0u);
  unmerge.set_merged_id("bad");
  EXPECT_EQ(server_.contacts->UnmergeContacts(Ctx().get(), unmerge, &unmerged).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  unmerge.set_merged_id(s.id());
  unmerge.set_request_id("");
  EXPECT_EQ(server_.contacts->UnmergeContacts(Ctx().get(), unmerge, &unmerged).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CompanyTest, DataQualityViewsAndTheWorkList) {
  StartNode();
  v1::CreateContactRequest bare;
  bare.mutable_contact()->mutable_personal()->set_given_name("Bare");
  v1::CreateContactResponse created;
  ASSERT_TRUE(server_.contacts->CreateContact(Ctx().get(), bare, &created).ok());
  const std::string bare_id = created.contact().id();
  v1::CreateContactRequest fuller;
  fuller.mutable_contact()->mutable_personal()->set_given_name("Fuller");
  fuller.mutable_contact()->mutable_personal()->add_emails()->set_address("f@x.io");
  ASSERT_TRUE(server_.contacts->CreateContact(Ctx().get(), fuller, &created).ok());

  v1::GetContactQualityRequest get;
  get.set_contact_id(bare_id);
  v1::DataQuality quality;
  ASSERT_TRUE(server_.contacts->GetContactQuality(Ctx().get(), get, &quality).ok());
  EXPECT_EQ(quality.completeness(), 33);
  EXPECT_FALSE(quality.stale());
  EXPECT_EQ(quality.issues_size(), 3);

  v1::ListIncompleteContactsRequest list;
  v1::ListIncompleteContactsResponse incomplete;
  ASSERT_TRUE(server_.contacts->ListIncompleteContacts(Ctx().get(), list, &incomplete).ok());
  ASSERT_EQ(incomplete.contacts_size(), 2);
  EXPECT_EQ(incomplete.contacts(0).contact().id(), bare_id);
  EXPECT_LT(incomplete.contacts(0).quality().completeness(),
            incomplete.contacts(1).quality().completeness());

  // Expect only a name: both become complete.
  v1::UpdateDataQualityRulesRequest update;
  for (auto check :
       {v1::QUALITY_CHECK_REACHABLE, v1::QUALITY_CHECK_CONSENT, v1::QUALITY_CHECK_OWNER}) {
    auto* w = update.mutable_rules()->add_weights();
    w->set_check(check);
    w->set_weight(0);
  }
  v1::DataQualityRules rules;
  ASSERT_TRUE(server_.contacts->UpdateDataQualityRules(Ctx().get(), update, &rules).ok());
  ASSERT_TRUE(server_.contacts->ListIncompleteContacts(Ctx().get(), list, &incomplete).ok());
  EXPECT_EQ(incomplete.contacts_size(), 0);
  v1::GetDataQualityRulesRequest get_rules;
  ASSERT_TRUE(server_.contacts->GetDataQualityRules(Ctx().get(), get_rules, &rules).ok());
  EXPECT_EQ(rules.weights_size(), 3);

  Company acme = CreateCompany("Acme", "acme.example");
  v1::GetCompanyQualityRequest company;
  company.set_company_id(acme.id());
  ASSERT_TRUE(server_.contacts->GetCompanyQuality(Ctx().get(), company, &quality).ok());
  // Domain 2 of 3 (industry 1 missing; owners count 0 under the new rules).
  EXPECT_EQ(quality.completeness(), 66);

  // Bad input for each quality RPC.
  get.set_contact_id("x");
  EXPECT_EQ(server_.contacts->GetContactQuality(Ctx().get(), get, &quality).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  company.set_company_id("");
  EXPECT_EQ(server_.contacts->GetCompanyQuality(Ctx().get(), company, &quality).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.set_below(101);
  grpc::Status below = server_.contacts->ListIncompleteContacts(Ctx().get(), list, &incomplete);
  EXPECT_EQ(below.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(below.error_message().rfind("below", 0), 0u);
  update.mutable_rules()->mutable_weights(0)->set_weight(11);
  grpc::Status weight = server_.contacts->UpdateDataQualityRules(Ctx().get(), update, &rules);
  EXPECT_EQ(weight.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(weight.error_message().rfind("rules.weights[0].weight", 0), 0u);
}

// One bad input for every new RPC: INVALID_ARGUMENT naming the field; unknown ids: NOT_FOUND.
TEST_F(CompanyTest, BadInputForEveryCompanyRpc) {
  StartNode();
  Company company;
  v1::CreateCompanyRequest create;
  create.mutable_company()->set_domain("acme.example");
  ExpectInvalid(server_.contacts->CreateCompany(Ctx().get(), create, &company), "company.name");
  v1::GetCompanyRequest get;
  get.set_id("x");
  ExpectInvalid(server_.contacts->GetCompany(Ctx().get(), get, &company), "id");
  v1::UpdateCompanyRequest update;
  update.mutable_company()->set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(server_.contacts->UpdateCompany(Ctx().get(), update, &company), "update_mask");
  v1::DeleteCompanyRequest del;
  ExpectInvalid(server_.contacts->DeleteCompany(Ctx().get(), del, &company), "id");
  v1::ListCompaniesRequest list;
  list.set_page_token("nope");
  v1::ListCompaniesResponse list_out;
  ExpectInvalid(server_.contacts->ListCompanies(Ctx().get(), list, &list_out), "page_token");
  v1::SearchCompaniesRequest search;
  v1::SearchCompaniesResponse search_out;
  ExpectInvalid(server_.contacts->SearchCompanies(Ctx().get(), search, &search_out), "query");
  v1::GetCompanyHistoryRequest history;
  v1::GetCompanyHistoryResponse history_out;
  ExpectInvalid(server_.contacts->GetCompanyHistory(Ctx().get(), history, &history_out), "id");
  v1::GetContactHistoryRequest contact_history;
  contact_history.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  contact_history.set_page_size(-1);
  v1::GetContactHistoryResponse contact_history_out;
  ExpectInvalid(
      server_.contacts->GetContactHistory(Ctx().get(), contact_history, &contact_history_out),
      "page_size");
  v1::AddRelationshipRequest add;
  add.mutable_relationship()->set_company_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  add.mutable_relationship()->set_related_company_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ExpectInvalid(server_.contacts->AddRelationship(Ctx().get(), add, &company),
                "relationship.related_company_id");
  v1::RemoveRelationshipRequest remove;
  ExpectInvalid(server_.contacts->RemoveRelationship(Ctx().get(), remove, &company),
                "relationship");
  v1::ListRelationshipsRequest rels;
  v1::ListRelationshipsResponse rels_out;
  ExpectInvalid(server_.contacts->ListRelationships(Ctx().get(), rels, &rels_out), "company_id");

  // Well-formed but unknown.
  get.set_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(server_.contacts->GetCompany(Ctx().get(), get, &company).error_code(),
            grpc::StatusCode::NOT_FOUND);
  contact_history.set_page_size(0);
  EXPECT_EQ(server_.contacts->GetContactHistory(Ctx().get(), contact_history, &contact_history_out)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A contact cannot be affiliated with a company that does not exist; nothing is written.
  v1::CreateContactRequest contact;
  contact.mutable_contact()->mutable_personal()->set_given_name("Orphan");
  contact.mutable_contact()->add_affiliations()->set_company_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  v1::CreateContactResponse created;
  grpc::Status orphan = server_.contacts->CreateContact(Ctx().get(), contact, &created);
  EXPECT_EQ(orphan.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(orphan.error_message().find("contact.affiliations[0].company_id"), std::string::npos);
  crm::admin::v1::GetProjectionStatusResponse status;
  ASSERT_TRUE(ProjectionStatus(server_, &status).ok());
  EXPECT_EQ(status.events_seen(), 0);
}

}  // namespace
}  // namespace crm::testing
