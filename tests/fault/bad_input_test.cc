// Bad input, RPC by RPC, against a real crm-node: for every method of every CRM service a table
// of invalid requests (missing and malformed fields, too long, bad money and currencies, unknown
// enum values, too many entries, bad page tokens and field masks, ids of the wrong kind), each
// refused with the right code and a message naming the field — and the log's end does not move,
// so nothing was written. A method added without rows here fails the coverage check. What every
// method shares before its handler runs — a request that does not parse (invalid UTF-8 in a
// string field: INVALID_ARGUMENT naming the field) and one beyond the server's message-size
// limit — is tried in load_test.cc.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "crm/interaction/v1/interaction_service.pb.h"
#include "crm/sales/v1/sales_service.pb.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace pb = google::protobuf;

// The services whose every method must have rows.
// Links every service's descriptors into the generated pool.
const bool kLinked = FindMethod("ContactService/GetContact") != nullptr;

// A well-formed id that names nothing.
constexpr char kNoId[] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

struct Row {
  std::string method;   // "Service/Method", the service without its package
  std::string request;  // text format; $CONTACT, $DEAL, ... replaced by ids of existing records
  grpc::StatusCode code;
  std::string names;  // what the message must contain (the field)
};

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kLinked);
    node_ = StartServer("crm-node", {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("data")},
                        dir_.path());
    ASSERT_FALSE(node_.addr.empty());
    generic_ = std::make_unique<grpc::GenericStub>(node_.channel);
  }

  // Calls `method` with `request` (text format); the status.
  grpc::Status Call(const pb::MethodDescriptor& method, const std::string& request) {
    std::unique_ptr<pb::Message> message(
        pb::MessageFactory::generated_factory()->GetPrototype(method.input_type())->New());
    if (!pb::TextFormat::ParseFromString(request, message.get())) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "the test's request does not parse");
    }
    return CallRaw(method, message->SerializeAsString());
  }

  // Calls `method` with `bytes` as its request, whatever they hold; the status.
  grpc::Status CallRaw(const pb::MethodDescriptor& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1);
    grpc::ByteBuffer out;
    std::promise<grpc::Status> done;
    auto ctx = Ctx(absl::Seconds(10));
    generic_->UnaryCall(
        ctx.get(), absl::StrCat("/", method.service()->full_name(), "/", method.name()),
        grpc::StubOptions(), &in, &out, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }

  // Gives `call` every method of the four services once every projection has caught up;
  // `call` says whether it tried the method. More than 80 must have been tried, and nothing
  // appended to the log.
  void ForEveryMethod(const std::function<bool(const pb::MethodDescriptor&)>& call) {
    for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
      ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), p)) << p;
    }
    const int64_t end = LogEnd();
    int tried = 0;
    for (const char* service : kServices) {
      const pb::ServiceDescriptor* s =
          pb::DescriptorPool::generated_pool()->FindServiceByName(service);
      ASSERT_NE(s, nullptr) << service;
      for (int i = 0; i < s->method_count(); ++i) tried += call(*s->method(i)) ? 1 : 0;
    }
    RecordProperty("methods_tried", tried);
    EXPECT_GT(tried, 80);
    EXPECT_EQ(LogEnd(), end);
  }

  // The sum of every projection's log end offsets: moves with any append.
  int64_t LogEnd() {
    int64_t end = 0;
    for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
      crm::admin::v1::GetProjectionStatusResponse status;
      EXPECT_TRUE(ProjectionStatus(node_, &status, p).ok()) << p;
      for (const auto& partition : status.partitions()) end += partition.end_offset();
    }
    return end;
  }

  TempDir dir_;
  Server node_;
  std::unique_ptr<grpc::GenericStub> generic_;
};

// Appends `value` as a protobuf varint.
void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// The encoding of a `type` message whose first string field (depth first, through message
// fields, at most three levels down) holds invalid UTF-8, and that field; {"", nullptr} if the
// message has no string field.
std::pair<std::string, const pb::FieldDescriptor*> WithInvalidUtf8(const pb::Descriptor& type,
                                                                   int depth = 0) {
  for (int i = 0; i < type.field_count(); ++i) {
    const pb::FieldDescriptor* f = type.field(i);
    std::string inner;
    const pb::FieldDescriptor* named = nullptr;
    if (f->type() == pb::FieldDescriptor::TYPE_STRING) {
      inner = "\xff\xfe";
      named = f;
    } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && depth < 3) {
      std::tie(inner, named) = WithInvalidUtf8(*f->message_type(), depth + 1);
    }
    if (named == nullptr) continue;
    std::string out;
    PutVarint(out, (static_cast<uint64_t>(f->number()) << 3) | 2);  // length-delimited
    PutVarint(out, inner.size());
    return {out + inner, named};
  }
  return {"", nullptr};
}

// The rows. Fields are named as the message names them ("contact.personal.emails[0].address").
const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"ContactService/CreateContact", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "contact"},
      {"ContactService/CreateContact", R"pb(contact { job_title: "Buyer" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.personal"},
      {"ContactService/CreateContact",
       R"pb(contact { personal { given_name: "$LONG" family_name: "Lee" } })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.personal.given_name"},
      {"ContactService/CreateContact", R"pb(contact {
                                              personal {
                                                given_name: "Ann"
                                                family_name: "Lee"
                                                emails { address: "not an email" }
                                              }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.personal.emails[0].address"},
      {"ContactService/CreateContact", R"pb(contact {
                                              personal {
                                                given_name: "Ann"
                                                family_name: "Lee"
                                                phones { number: "call me" }
                                              }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.personal.phones[0].number"},
      {"ContactService/CreateContact", R"pb(contact {
                                              personal { given_name: "Ann" family_name: "Lee" }
                                              lifecycle_stage: 99
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.lifecycle_stage"},
      {"ContactService/CreateContact",
       R"pb(contact { personal { given_name: "Ann" family_name: "Lee" } $TAGS })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.tags"},
      {"ContactService/CreateContact",
       R"pb(contact {
              personal { given_name: "Ann" family_name: "Lee" }
              consents { channel: 77 status: CONSENT_STATUS_GRANTED }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.consents[0].channel"},
      {"ContactService/CreateContact", R"pb(contact {
                                              personal { given_name: "Ann" family_name: "Lee" }
                                              affiliations { company_id: "nope" }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact.affiliations[0].company_id"},
      {"ContactService/CreateContact",
       R"pb(contact { personal { given_name: "Ann" family_name: "Lee" } }
            request_id: "has spaces in it")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"ContactService/GetContact", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/GetContact", R"pb(id: "short")pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/GetContact", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "$NOID"},
      {"ContactService/GetContact", R"pb(id: "$CONTACT"
                                         as_of { seconds: -99999999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "as_of"},
      {"ContactService/UpdateContact", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "contact"},
      {"ContactService/UpdateContact", R"pb(contact { id: "$CONTACT" job_title: "Boss" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"ContactService/UpdateContact", R"pb(contact { id: "$CONTACT" }
                                            update_mask { paths: "no_such_field" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"ContactService/UpdateContact", R"pb(contact { id: "$CONTACT" job_title: "Boss" }
                                            update_mask { paths: "job_title" }
                                            expected_version: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"ContactService/UpdateContact", R"pb(contact { id: "$NOID" job_title: "Boss" }
                                            update_mask { paths: "job_title" })pb",
       grpc::StatusCode::NOT_FOUND, "$NOID"},
      {"ContactService/DeleteContact", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/DeleteContact", R"pb(id: "$COMPANY")pb", grpc::StatusCode::NOT_FOUND,
       "$COMPANY"},
      {"ContactService/EraseContact", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/EraseContact", R"pb(id: "not-an-id")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "id"},
      {"ContactService/EraseContact", R"pb(id: "$CONTACT" request_id: "$LONG")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"ContactService/EraseContact", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "$NOID"},
      {"ContactService/EraseContact", R"pb(id: "$COMPANY")pb", grpc::StatusCode::NOT_FOUND,
       "$COMPANY"},
      {"ContactService/ExportContactData", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/ExportContactData", R"pb(id: "not-an-id")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/ExportContactData", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND,
       "$NOID"},
      {"ContactService/ListContacts", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"ContactService/ListContacts", R"pb(page_size: 100000)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"ContactService/ListContacts", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/ListContacts", R"pb(lifecycle_stage: 42)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "lifecycle_stage"},
      {"ContactService/ListContacts", R"pb(company_id: "x")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "company_id"},
      {"ContactService/SearchContacts", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "query"},
      {"ContactService/SearchContacts", R"pb(query: "$LONG")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "query"},
      {"ContactService/SearchContacts", R"pb(query: "ann" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/GetContactHistory", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/GetContactHistory", R"pb(id: "$CONTACT" page_size: -5)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"ContactService/GetContactHistory", R"pb(id: "$CONTACT" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/FindDuplicates", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"ContactService/FindDuplicates", R"pb(contact_id: "$NOID")pb", grpc::StatusCode::NOT_FOUND,
       "$NOID"},
      {"ContactService/MergeContacts", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "survivor_id"},
      {"ContactService/MergeContacts", R"pb(survivor_id: "$CONTACT")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "merged_id"},
      {"ContactService/MergeContacts", R"pb(survivor_id: "$CONTACT" merged_id: "$CONTACT")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "merged_id"},
      {"ContactService/MergeContacts", R"pb(survivor_id: "$CONTACT" merged_id: "$NOID")pb",
       grpc::StatusCode::NOT_FOUND, "$NOID"},
      {"ContactService/UnmergeContacts", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "merged_id"},
      {"ContactService/UnmergeContacts", R"pb(merged_id: "$CONTACT")pb",
       grpc::StatusCode::FAILED_PRECONDITION, "merged"},
      {"ContactService/GetContactQuality", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"ContactService/GetContactQuality", R"pb(contact_id: "$NOID")pb",
       grpc::StatusCode::NOT_FOUND, "$NOID"},
      {"ContactService/GetCompanyQuality", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "company_id"},
      {"ContactService/GetCompanyQuality", R"pb(company_id: "$CONTACT")pb",
       grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"ContactService/ListIncompleteContacts", R"pb(page_size: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"ContactService/ListIncompleteContacts", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/GetDataQualityRules", R"pb()pb", grpc::StatusCode::OK, ""},
      {"ContactService/UpdateDataQualityRules", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "rules"},
      {"ContactService/UpdateDataQualityRules", R"pb(rules { weights { check: 99 weight: 1 } })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rules.weights[0].check"},
      {"ContactService/UpdateDataQualityRules", R"pb(rules { stale_after_days: -3 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rules.stale_after_days"},
      {"ContactService/ListDuplicateCandidates", R"pb(min_score: 7)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "min_score"},
      {"ContactService/ListDuplicateCandidates", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/CreateCompany", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "company"},
      {"ContactService/CreateCompany", R"pb(company {})pb", grpc::StatusCode::INVALID_ARGUMENT,
       "company.name"},
      {"ContactService/CreateCompany", R"pb(company { name: "Acme" domain: "not a domain!" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "company.domain"},
      {"ContactService/CreateCompany", R"pb(company { name: "Acme" employee_count: -4 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "company.employee_count"},
      {"ContactService/CreateCompany", R"pb(company {
                                              name: "Acme"
                                              address { country_code: "Narnia" }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "company.address.country_code"},
      {"ContactService/GetCompany", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/GetCompany", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"ContactService/UpdateCompany", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "company"},
      {"ContactService/UpdateCompany", R"pb(company { id: "$COMPANY" name: "X" }
                                            update_mask { paths: "nope" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"ContactService/DeleteCompany", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/DeleteCompany", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"ContactService/ListCompanies", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"ContactService/ListCompanies", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/SearchCompanies", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "query"},
      {"ContactService/SearchCompanies", R"pb(query: "acme" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/GetCompanyHistory", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"ContactService/GetCompanyHistory", R"pb(id: "$COMPANY" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"ContactService/AddRelationship", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "relationship"},
      {"ContactService/AddRelationship", R"pb(relationship {
                                                company_id: "$COMPANY"
                                                related_company_id: "$COMPANY"
                                                type: RELATIONSHIP_TYPE_SUPPLIER
                                              })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "related_company_id"},
      {"ContactService/AddRelationship",
       R"pb(relationship { company_id: "$COMPANY" related_company_id: "$NOID" type: 99 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "relationship.type"},
      {"ContactService/RemoveRelationship", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "relationship"},
      {"ContactService/ListRelationships", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "company_id"},
      {"ContactService/ListRelationships", R"pb(company_id: "$CONTACT")pb",
       grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"InteractionService/LogInteraction", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "interaction"},
      {"InteractionService/LogInteraction", R"pb(interaction {
                                                   channel: CHANNEL_CALL
                                                   direction: DIRECTION_INBOUND
                                                   occurred_at { seconds: 1700000000 }
                                                 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "interaction.contact_ids"},
      {"InteractionService/LogInteraction", R"pb(interaction {
                                                   contact_ids: "$CONTACT"
                                                   channel: 99
                                                   direction: DIRECTION_INBOUND
                                                   occurred_at { seconds: 1700000000 }
                                                 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "interaction.channel"},
      {"InteractionService/LogInteraction", R"pb(interaction {
                                                   contact_ids: "$CONTACT"
                                                   channel: CHANNEL_CALL
                                                   direction: DIRECTION_INBOUND
                                                   occurred_at { seconds: 1700000000 }
                                                   duration_seconds: -1
                                                 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "interaction.duration_seconds"},
      {"InteractionService/LogInteraction", R"pb(interaction {
                                                   contact_ids: "$CONTACT"
                                                   channel: CHANNEL_CALL
                                                   direction: DIRECTION_INBOUND
                                                   occurred_at { seconds: 1700000000 }
                                                   subject: "$LONG"
                                                 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "interaction.subject"},
      {"InteractionService/LogInteraction", R"pb(interaction {
                                                   contact_ids: "bad"
                                                   channel: CHANNEL_CALL
                                                   direction: DIRECTION_INBOUND
                                                   occurred_at { seconds: 1700000000 }
                                                 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "interaction.contact_ids[0]"},
      {"InteractionService/GetInteraction", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/GetInteraction", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/UpdateInteraction", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "interaction"},
      {"InteractionService/UpdateInteraction", R"pb(interaction { id: "$NOID" }
                                                    update_mask { paths: "nope" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"InteractionService/DeleteInteraction", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/DeleteInteraction", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/OpenCase", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "case"},
      {"InteractionService/OpenCase", R"pb(case { subject: "Broken" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "case.contact_id"},
      {"InteractionService/OpenCase",
       R"pb(case { subject: "Broken" contact_id: "$CONTACT" priority: 42 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "case.priority"},
      {"InteractionService/OpenCase",
       R"pb(case { subject: "Broken" contact_id: "$CONTACT" description: "$HUGE" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "case.description"},
      {"InteractionService/GetCase", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/GetCase", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/AssignCase", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/AssignCase", R"pb(id: "$NOID" owner: "no spaces allowed")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "owner"},
      {"InteractionService/CommentOnCase", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/CommentOnCase", R"pb(id: "$NOID")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "comment"},
      {"InteractionService/ChangeCasePriority", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "id"},
      {"InteractionService/ChangeCasePriority", R"pb(id: "$NOID" priority: 42)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "priority"},
      {"InteractionService/ChangeCaseStatus", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/ChangeCaseStatus", R"pb(id: "$NOID" status: 42)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "status"},
      {"InteractionService/ListCases", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"InteractionService/ListCases", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"InteractionService/CreateTask", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "task"},
      {"InteractionService/CreateTask",
       R"pb(task { title: "Call back" kind: 42 assignee: "ann" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "task.kind"},
      {"InteractionService/CreateTask", R"pb(task { title: "$LONG" assignee: "ann" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "task.title"},
      {"InteractionService/GetTask", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/GetTask", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/CompleteTask", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/CompleteTask", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/RescheduleTask", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/RescheduleTask", R"pb(id: "$NOID")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "due_time"},
      {"InteractionService/CancelTask", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"InteractionService/CancelTask", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"InteractionService/ListTasks", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "assignee"},
      {"InteractionService/ListTasks", R"pb(assignee: "ann" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"InteractionService/ExportContactData", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_ids"},
      {"InteractionService/ExportContactData", R"pb(contact_ids: "$CONTACT" contact_ids: "bad")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact_ids[1]"},
      {"SalesService/ExportContactData", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_ids"},
      {"SalesService/ExportContactData", R"pb(contact_ids: "$CONTACT" contact_ids: "bad")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact_ids[1]"},
      {"AnalyticsService/ExportContactData", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_ids"},
      {"AnalyticsService/ExportContactData", R"pb(contact_ids: "$CONTACT" contact_ids: "bad")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact_ids[1]"},
      {"InteractionService/ListTimeline", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"InteractionService/ListTimeline", R"pb(contact_id: "$CONTACT" company_id: "$COMPANY")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact_id"},
      {"InteractionService/ListTimeline", R"pb(contact_id: "$CONTACT" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"SalesService/CreateProduct", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "product"},
      {"SalesService/CreateProduct", R"pb(product {
                                            name: "Widget"
                                            unit_price { currency_code: "EUR" minor_units: 100 }
                                          })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "product.sku"},
      {"SalesService/CreateProduct", R"pb(product {
                                            sku: "W-1"
                                            name: "Widget"
                                            unit_price { currency_code: "XXY" minor_units: 100 }
                                          })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "product.unit_price.currency_code"},
      {"SalesService/CreateProduct", R"pb(product {
                                            sku: "W-1"
                                            name: "Widget"
                                            unit_price { currency_code: "EUR" minor_units: -100 }
                                          })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "product.unit_price"},
      {"SalesService/GetProduct", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/GetProduct", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/UpdateProduct", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "product"},
      {"SalesService/UpdateProduct", R"pb(product { id: "$NOID" }
                                          update_mask { paths: "nope" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"SalesService/DeactivateProduct", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/DeactivateProduct", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"SalesService/ListProducts", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"SalesService/ListProducts", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"SalesService/CreatePipeline", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "pipeline"},
      {"SalesService/CreatePipeline", R"pb(pipeline { id: "p1" name: "P" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "pipeline.stages"},
      {"SalesService/CreatePipeline", R"pb(pipeline {
                                             id: "p1"
                                             name: "P"
                                             stages { id: "a" name: "A" probability_bp: 20000 }
                                           })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "pipeline.stages[0].probability_bp"},
      {"SalesService/GetPipeline", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/GetPipeline", R"pb(id: "no-such-pipeline")pb", grpc::StatusCode::NOT_FOUND,
       "no-such-pipeline"},
      {"SalesService/UpdatePipeline", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "pipeline"},
      {"SalesService/UpdatePipeline", R"pb(pipeline { id: "default" }
                                           update_mask { paths: "nope" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"SalesService/ListPipelines", R"pb()pb", grpc::StatusCode::OK, ""},  // takes no input
      {"SalesService/CreateDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "deal"},
      {"SalesService/CreateDeal", R"pb(deal {
                                         contact_id: "$CONTACT"
                                         amount { currency_code: "EUR" minor_units: 100 }
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "deal.title"},
      {"SalesService/CreateDeal", R"pb(deal {
                                         title: "Big"
                                         contact_id: "$CONTACT"
                                         amount { currency_code: "eur" minor_units: 100 }
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "deal.amount.currency_code"},
      {"SalesService/CreateDeal",
       R"pb(deal {
              title: "Big"
              contact_id: "$CONTACT"
              amount { currency_code: "EUR" minor_units: 9223372036854775807 }
              line_items {
                product_id: "$NOID"
                quantity: 9223372036854775807
                unit_price { currency_code: "EUR" minor_units: 9223372036854775807 }
              }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "deal"},
      {"SalesService/CreateDeal", R"pb(deal {
                                         title: "Big"
                                         contact_id: "$CONTACT"
                                         amount { currency_code: "EUR" minor_units: 100 }
                                         probability_bp: -1
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "deal.probability_bp"},
      {"SalesService/GetDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/GetDeal", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/UpdateDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "deal"},
      {"SalesService/UpdateDeal", R"pb(deal { id: "$NOID" }
                                       update_mask { paths: "nope" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"SalesService/MoveDealStage", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/MoveDealStage", R"pb(id: "$NOID")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "stage_id"},
      {"SalesService/WinDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/WinDeal", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/LoseDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/LoseDeal", R"pb(id: "$NOID" reason: "$LONG")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "reason"},
      {"SalesService/ReopenDeal", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/ReopenDeal", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/ListDeals", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"SalesService/ListDeals", R"pb(page_token: "garbage")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_token"},
      {"SalesService/PlaceOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "order"},
      {"SalesService/PlaceOrder", R"pb(order { contact_id: "$CONTACT" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "order.line_items"},
      {"SalesService/PlaceOrder", R"pb(order {
                                         contact_id: "$CONTACT"
                                         line_items {
                                           product_id: "$NOID"
                                           quantity: 0
                                           unit_price { currency_code: "EUR" minor_units: 100 }
                                         }
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "order.line_items[0].quantity"},
      {"SalesService/PlaceOrder", R"pb(order {
                                         contact_id: "$CONTACT"
                                         line_items {
                                           product_id: "$NOID"
                                           quantity: 1
                                           unit_price { currency_code: "ZZZ" minor_units: 100 }
                                         }
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "order.line_items[0].unit_price.currency_code"},
      {"SalesService/PlaceOrder", R"pb(order {
                                         contact_id: "$CONTACT"
                                         line_items {
                                           product_id: "$NOID"
                                           quantity: 1
                                           unit_price { currency_code: "EUR" minor_units: 100 }
                                           discount_bp: 10001
                                         }
                                       })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "order.line_items[0].discount_bp"},
      {"SalesService/PlaceOrder", R"pb(order { contact_id: "$CONTACT" $LINES })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "order.line_items"},
      {"SalesService/GetOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/GetOrder", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/PayOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/PayOrder", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND, "$CONTACT"},
      {"SalesService/FulfillOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/FulfillOrder", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"SalesService/CancelOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/CancelOrder", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"SalesService/RefundOrder", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"SalesService/RefundOrder", R"pb(id: "$NOID"
                                        amount { currency_code: "EUR" minor_units: -5 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "amount"},
      {"SalesService/ListOrders", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "contact_id"},
      {"SalesService/ListOrders", R"pb(contact_id: "$CONTACT" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"SalesService/GetForecast", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "period_start"},
      {"SalesService/GetForecast", R"pb(period_start { seconds: 1800000000 }
                                        period_end { seconds: 1700000000 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "period_end"},
      {"AnalyticsService/GetCustomer360", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"AnalyticsService/GetCustomer360", R"pb(contact_id: "$COMPANY")pb",
       grpc::StatusCode::NOT_FOUND, "$COMPANY"},
      {"AnalyticsService/GetCustomerMetrics", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"AnalyticsService/GetCustomerMetrics", R"pb(contact_id: "$CONTACT" currency_code: "EURO")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "currency_code"},
      {"AnalyticsService/GetCustomerMetrics", R"pb(contact_id: "$CONTACT" horizon_days: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "horizon_days"},
      {"AnalyticsService/ListProductAssociations", R"pb(page_size: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"AnalyticsService/ListProductAssociations", R"pb(product_id: "x")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "product_id"},
      {"AnalyticsService/GetRecommendations", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"AnalyticsService/GetRecommendations", R"pb(contact_id: "$CONTACT" min_orders: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "min_orders"},
      {"AnalyticsService/GetRetention", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "cohorts_from"},
      {"AnalyticsService/GetRetention", R"pb(cohorts_from { seconds: 1700000000 }
                                             inactivity_days: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "inactivity_days"},
      {"AnalyticsService/GetSalesReport", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "period_start"},
      {"AnalyticsService/GetSalesReport", R"pb(period_start { seconds: 1700000000 }
                                               period_end { seconds: 1800000000 }
                                               currency_code: "XYZW")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "currency_code"},
      {"AnalyticsService/GetServiceReport", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "period_start"},
      {"AnalyticsService/GetServiceReport", R"pb(period_start { seconds: 1800000000 }
                                                 period_end { seconds: 1700000000 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "period_end"},
      {"AnalyticsService/GetEngagementTrend", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "contact_id"},
      {"AnalyticsService/GetEngagementTrend", R"pb(contact_id: "$CONTACT" months: 10000)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "months"},
      {"AnalyticsService/CreateSegment", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "segment"},
      {"AnalyticsService/CreateSegment", R"pb(segment {})pb", grpc::StatusCode::INVALID_ARGUMENT,
       "segment.name"},
      {"AnalyticsService/CreateSegment", R"pb(segment {
                                                name: "S"
                                                filter { bought_in_month: 13 }
                                              })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "segment.filter.bought_in_month"},
      {"AnalyticsService/GetSegment", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AnalyticsService/GetSegment", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"AnalyticsService/ListSegments", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"AnalyticsService/ListSegments", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AnalyticsService/DeleteSegment", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AnalyticsService/DeleteSegment", R"pb(id: "$CONTACT")pb", grpc::StatusCode::NOT_FOUND,
       "$CONTACT"},
      {"AnalyticsService/ListSegmentMembers", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AnalyticsService/ListSegmentMembers", R"pb(id: "$NOID" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AnalyticsService/ListSeasonalBuyers", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "product_id"},
      {"AnalyticsService/ListSeasonalBuyers", R"pb(category: "Tea" month: 13)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "month"},
      {"AnalyticsService/SuggestCampaign", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT,
       "product_id"},
      {"AnalyticsService/SuggestCampaign",
       R"pb(category: "Tea" month: 5 currency_code: "EUR" channel: 99)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "channel"},
      {"AnalyticsService/GetModel", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "currency_code"},
      {"AnalyticsService/GetModel", R"pb(currency_code: "EUR")pb", grpc::StatusCode::NOT_FOUND,
       "EUR"},
      {"AnalyticsService/FitModel", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "currency_code"},
      {"AnalyticsService/FitModel", R"pb(currency_code: "EUR" request_id: "has spaces in it")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"AdminService/GetProjectionStatus", R"pb()pb", grpc::StatusCode::NOT_FOUND, "projection"},
      {"AdminService/GetProjectionStatus", R"pb(projection: "billing")pb",
       grpc::StatusCode::NOT_FOUND, "billing"},
      {"AdminService/ListDeadLetters", R"pb()pb", grpc::StatusCode::NOT_FOUND, "projection"},
      {"AdminService/ListDeadLetters", R"pb(projection: "contact" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AdminService/CreateApiKey", R"pb(scopes: "contacts.read")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "name"},
      {"AdminService/CreateApiKey", R"pb(name: "k")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "scopes"},
      {"AdminService/CreateApiKey", R"pb(name: "k" scopes: "root")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "scopes[0]"},
      {"AdminService/CreateApiKey", R"pb(name: "k"
                                         scopes: "admin"
                                         expire_time { seconds: 1 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expire_time"},
      {"AdminService/RevokeApiKey", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AdminService/RevokeApiKey", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"AdminService/ReadLog", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "topic"},
      {"AdminService/ReadLog", R"pb(topic: "no such/topic")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "topic"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" partition: 99)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "partition"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" partition: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "partition"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" offset: -5)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "offset"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" max_records: 5000)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "max_records"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" aggregate_id: "$LONG")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "aggregate_id"},
      {"AdminService/ReadLog", R"pb(topic: "crm.contact.v1" page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AdminService/RebuildProjection", R"pb()pb", grpc::StatusCode::NOT_FOUND, "projection"},
      {"AdminService/RebuildProjection", R"pb(projection: "billing")pb",
       grpc::StatusCode::NOT_FOUND, "billing"},
      {"AdminService/CreateCheckpoint", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "name"},
      {"AdminService/CreateCheckpoint", R"pb(name: "../etc")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "name"},
      {"AdminService/CreateCheckpoint", R"pb(name: "$LONG")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "name"},
      // Bulk import: what is wrong with a batch as a whole ends the stream (a bad row is that
      // row's result; crmctl_test checks those).
      {"ContactService/ImportRecords", R"pb(rows {
                                              row: 1
                                              contact { job_title: "x" }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "import_id"},
      {"ContactService/ImportRecords", R"pb(import_id: "a b"
                                            rows {
                                              row: 1
                                              contact { job_title: "x" }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "import_id"},
      {"ContactService/ImportRecords", R"pb(import_id: "$LONG"
                                            rows { row: 1 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "import_id"},
      {"ContactService/ImportRecords", R"pb(import_id: "i1")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "rows"},
      {"ContactService/ImportRecords", R"pb(import_id: "i1"
                                            rows {
                                              row: 0
                                              contact { job_title: "x" }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rows[0].row"},
      {"ContactService/ImportRecords",
       R"pb(import_id: "i1"
            rows {
              row: 7
              contact { job_title: "x" }
            }
            rows {
              row: 7
              company { name: "y" }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rows[1].row"},
      {"SalesService/ImportRecords", R"pb(rows {
                                            row: 1
                                            product { sku: "X" }
                                          })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "import_id"},
      {"SalesService/ImportRecords", R"pb(import_id: "i1")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "rows"},
      {"SalesService/ImportRecords", R"pb(import_id: "i1"
                                          rows {
                                            row: -1
                                            product { sku: "X" }
                                          })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rows[0].row"},
      {"SalesService/ImportRecords",
       R"pb(import_id: "i1"
            rows {
              row: 2
              product { sku: "X" }
            }
            rows {
              row: 2
              product { sku: "Y" }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rows[1].row"},
      {"SalesService/UndoImport", R"pb(import_id: "")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "import_id"},
      {"SalesService/UndoImport", R"pb(import_id: "never-imported")pb", grpc::StatusCode::NOT_FOUND,
       "import_id"},
      {"ContactService/UndoImport", R"pb()pb", grpc::StatusCode::INVALID_ARGUMENT, "import_id"},
      {"ContactService/UndoImport", R"pb(import_id: "a/b")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "import_id"},
      {"ContactService/UndoImport", R"pb(import_id: "never-imported")pb",
       grpc::StatusCode::NOT_FOUND, "import_id"},
      {"ContactService/Subscribe", R"pb(event_types: "crm.sales.v1.OrderPlaced")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"ContactService/Subscribe", R"pb(event_types: "crm.contact.v1.NoSuchEvent")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"ContactService/Subscribe", R"pb(event_types: "")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "event_types[0]"},
      {"ContactService/Subscribe", R"pb(aggregate_types: "Contact!")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "aggregate_types[0]"},
      {"ContactService/Subscribe", R"pb(cursor: "not-a-cursor")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"ContactService/Subscribe", R"pb(start_time { seconds: -99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"InteractionService/Subscribe", R"pb(event_types: "crm.contact.v1.ContactCreated")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"InteractionService/Subscribe", R"pb(event_types: "crm.interaction.v1.NoSuchEvent")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"InteractionService/Subscribe", R"pb(event_types: "")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "event_types[0]"},
      {"InteractionService/Subscribe", R"pb(aggregate_types: "Contact!")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "aggregate_types[0]"},
      {"InteractionService/Subscribe", R"pb(cursor: "not-a-cursor")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"InteractionService/Subscribe", R"pb(start_time { seconds: -99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"SalesService/Subscribe", R"pb(event_types: "crm.contact.v1.ContactCreated")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"SalesService/Subscribe", R"pb(event_types: "crm.sales.v1.NoSuchEvent")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"SalesService/Subscribe", R"pb(event_types: "")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "event_types[0]"},
      {"SalesService/Subscribe", R"pb(aggregate_types: "Contact!")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "aggregate_types[0]"},
      {"SalesService/Subscribe", R"pb(cursor: "not-a-cursor")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"SalesService/Subscribe", R"pb(start_time { seconds: -99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"AnalyticsService/Subscribe", R"pb(event_types: "crm.sales.v1.OrderPlaced")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"AnalyticsService/Subscribe", R"pb(event_types: "crm.analytics.v1.NoSuchEvent")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "event_types[0]"},
      {"AnalyticsService/Subscribe", R"pb(event_types: "")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "event_types[0]"},
      {"AnalyticsService/Subscribe", R"pb(aggregate_types: "Contact!")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "aggregate_types[0]"},
      {"AnalyticsService/Subscribe", R"pb(cursor: "not-a-cursor")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"AnalyticsService/Subscribe", R"pb(start_time { seconds: -99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"ContactService/Subscribe", R"pb(cursor: "ZmVlZDF8Y3JtLnNhbGVzLnYxfDA9MA==")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"ContactService/Subscribe", R"pb(cursor: "ZmVlZDF8Y3JtLmNvbnRhY3QudjF8OTk5PTA=")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      // Webhooks. This node was not started with --webhook-allow-http.
      {"WebhookService/CreateWebhook", "", grpc::StatusCode::INVALID_ARGUMENT, "webhook"},
      {"WebhookService/CreateWebhook", R"pb(webhook { event_types: "crm.sales.v1.OrderPlaced" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: is required"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook { url: "ftp://partner.example/x" event_types: "crm.sales.v1.OrderPlaced" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: must be an absolute https"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook { url: "http://127.0.0.1:9/x" event_types: "crm.sales.v1.OrderPlaced" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: must be an https:// URL"},
      {"WebhookService/CreateWebhook", R"pb(webhook {
                                              url: "https://u:p@partner.example/x"
                                              event_types: "crm.sales.v1.OrderPlaced"
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: must not carry credentials"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook { url: "https:///x" event_types: "crm.sales.v1.OrderPlaced" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: has no host"},
      {"WebhookService/CreateWebhook", R"pb(webhook {
                                              url: "https://partner.example/a b"
                                              event_types: "crm.sales.v1.OrderPlaced"
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.url: must not contain spaces"},
      {"WebhookService/CreateWebhook", R"pb(webhook { url: "https://partner.example/x" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.event_types: name at least one"},
      {"WebhookService/CreateWebhook", R"pb(webhook {
                                              url: "https://partner.example/x"
                                              event_types: "crm.sales.v1.NoSuchEvent"
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.event_types[0]"},
      {"WebhookService/CreateWebhook", R"pb(webhook {
                                              url: "https://partner.example/x"
                                              event_types: "crm.keys.v1.DataKeyIssued"
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.event_types[0]"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook {
              url: "https://partner.example/x"
              event_types: "crm.analytics.v1.WebhookDeliveryAttempted"
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.event_types[0]: webhook events are not"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook {
              url: "https://partner.example/x"
              event_types: "crm.sales.v1.OrderPlaced"
              event_types: "crm.sales.v1.OrderPlaced"
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.event_types[1]"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook {
              url: "https://partner.example/x"
              event_types: "crm.sales.v1.OrderPlaced"
              secret: "short"
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.secret"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook {
              url: "https://partner.example/x"
              event_types: "crm.sales.v1.OrderPlaced"
              description: "$LONG"
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.description"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook {
              id: "$NOID"
              url: "https://partner.example/x"
              event_types: "crm.sales.v1.OrderPlaced"
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook.id"},
      {"WebhookService/CreateWebhook",
       R"pb(webhook { url: "https://partner.example/x" event_types: "crm.sales.v1.OrderPlaced" }
            request_id: "has space")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"WebhookService/GetWebhook", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"WebhookService/GetWebhook", R"pb(id: "nope")pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"WebhookService/GetWebhook", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"WebhookService/ListWebhooks", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"WebhookService/ListWebhooks", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"WebhookService/DeleteWebhook", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"WebhookService/DeleteWebhook", R"pb(id: "$NOID" expected_version: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"WebhookService/DeleteWebhook", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"WebhookService/ListWebhookDeliveries", "", grpc::StatusCode::INVALID_ARGUMENT,
       "webhook_id"},
      {"WebhookService/ListWebhookDeliveries", R"pb(webhook_id: "$NOID" state: 99)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "state"},
      {"WebhookService/ListWebhookDeliveries", R"pb(webhook_id: "$NOID" page_size: 5000)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"WebhookService/ListWebhookDeliveries", R"pb(webhook_id: "$NOID" page_token: "x")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"WebhookService/ListWebhookDeliveries", R"pb(webhook_id: "$NOID")pb",
       grpc::StatusCode::NOT_FOUND, "webhook_id"},
      {"WebhookService/ReplayWebhookDelivery", R"pb(delivery_id: "$NOID")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "webhook_id"},
      {"WebhookService/ReplayWebhookDelivery", R"pb(webhook_id: "$NOID")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "delivery_id"},
      {"WebhookService/ReplayWebhookDelivery", R"pb(webhook_id: "$NOID"
                                                    delivery_id: "$NOID"
                                                    request_id: "a b")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"WebhookService/ReplayWebhookDelivery", R"pb(webhook_id: "$NOID" delivery_id: "$NOID")pb",
       grpc::StatusCode::NOT_FOUND, "webhook_id"},
      // Automation rules.
      {"AutomationService/CreateRule", "", grpc::StatusCode::INVALID_ARGUMENT, "rule"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              trigger { order_placed {} }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.name"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              id: "$NOID"
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              enabled: true
                                              trigger { order_placed {} }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.enabled"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { deal_stage_entered {} }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.deal_stage_entered.stage_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed { product_ids: "a b" } }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.order_placed.product_ids[0]"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed { categories: "" } }
                                              actions { create_task { title: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.order_placed.categories[0]"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed { min_total { currency_code: "XXQ" minor_units: 1 } } }
              actions { create_task { title: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.order_placed.min_total"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed { min_total { currency_code: "EUR" minor_units: -5 } } }
              actions { create_task { title: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "min_total"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions {}
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0]"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { create_task {} }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].create_task.title"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed {} }
              actions { create_task { title: "t" due_in_days: 4000 } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].create_task.due_in_days"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { create_task { title: "t" assignee: "a b" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].create_task.assignee"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { create_task { title: "t" } }
                                            }
                                            request_id: "has space")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { tag_contact {} }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].tag_contact.tag"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { set_lifecycle_stage {} }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].set_lifecycle_stage.stage"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed {} }
              actions { set_lifecycle_stage { stage: 77 } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].set_lifecycle_stage.stage"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger {
                order_placed {}
                delay { seconds: 1 nanos: 5 }
              }
              actions { create_task { title: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.delay"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger {
                order_placed {}
                delay { seconds: 400000000 }
              }
              actions { create_task { title: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.delay"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { notify_partners {} }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].notify_partners.label"},
      {"AutomationService/GetRule", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/GetRule", R"pb(id: "nope")pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/GetRule", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"AutomationService/UpdateRule", R"pb(update_mask { paths: "name" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule"},
      {"AutomationService/UpdateRule", R"pb(rule { name: "x" }
                                            update_mask { paths: "name" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.id"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" name: "x" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" name: "x" }
                                            update_mask { paths: "enabled" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" name: "x" }
                                            update_mask { paths: "name" paths: "name" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" }
                                            update_mask { paths: "name" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.name"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" }
                                            update_mask { paths: "trigger" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" }
                                            update_mask { paths: "actions" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" name: "x" }
                                            update_mask { paths: "name" }
                                            expected_version: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"AutomationService/UpdateRule", R"pb(rule { id: "$NOID" name: "x" }
                                            update_mask { paths: "name" })pb",
       grpc::StatusCode::NOT_FOUND, "rule.id"},
      {"AutomationService/EnableRule", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/EnableRule", R"pb(id: "$NOID" request_id: "a b")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"AutomationService/EnableRule", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"AutomationService/DisableRule", R"pb(id: "x")pb", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/DisableRule", R"pb(id: "$NOID" expected_version: -2)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"AutomationService/DisableRule", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"AutomationService/ListRules", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"AutomationService/ListRules", R"pb(page_token: "garbage")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AutomationService/TestRule", R"pb(start_time { seconds: 1 }
                                          end_time { seconds: 2 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule_id"},
      {"AutomationService/TestRule",
       R"pb(rule_id: "$NOID"
            rule { name: "r" }
            start_time { seconds: 1 }
            end_time { seconds: 2 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule_id"},
      {"AutomationService/TestRule", R"pb(rule { name: "r" }
                                          start_time { seconds: 1 }
                                          end_time { seconds: 2 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          end_time { seconds: 2 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          start_time { seconds: 2 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "end_time"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          start_time { seconds: 5 }
                                          end_time { seconds: 5 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "end_time"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          start_time { nanos: -1 }
                                          end_time { seconds: 5 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          start_time { seconds: 1 }
                                          end_time { seconds: 5 }
                                          max_customers: 1001)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "max_customers"},
      {"AutomationService/TestRule", R"pb(rule_id: "$NOID"
                                          start_time { seconds: 1 }
                                          end_time { seconds: 5 })pb",
       grpc::StatusCode::NOT_FOUND, "rule_id"},
      {"AutomationService/ListRuleRuns", "", grpc::StatusCode::INVALID_ARGUMENT, "rule_id"},
      {"AutomationService/ListRuleRuns", R"pb(rule_id: "$NOID" state: 42)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "state"},
      {"AutomationService/ListRuleRuns", R"pb(rule_id: "$NOID" page_size: 1001)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"AutomationService/ListRuleRuns", R"pb(rule_id: "$NOID" page_token: "x")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AutomationService/ListRuleRuns", R"pb(rule_id: "$NOID")pb", grpc::StatusCode::NOT_FOUND,
       "rule_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { order_placed {} }
                                              actions { send_message { body: "hi" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].send_message.channel"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed {} }
              actions { send_message { channel: CONSENT_CHANNEL_POST body: "hi" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].send_message.channel"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed {} }
              actions { send_message { channel: CONSENT_CHANNEL_EMAIL } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].send_message.body"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { order_placed {} }
              actions { send_message { channel: CONSENT_CHANNEL_SMS subject: "s" body: "hi" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.actions[0].send_message.subject"},
      {"AutomationService/UpdateMessagingPolicy", "", grpc::StatusCode::INVALID_ARGUMENT, "policy"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy { time_zone: "Mars/Olympus" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.time_zone"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy { quiet_hours_start: "21:00" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.quiet_hours_end"},
      {"AutomationService/UpdateMessagingPolicy",
       R"pb(policy { quiet_hours_start: "25:00" quiet_hours_end: "08:00" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.quiet_hours_start"},
      {"AutomationService/UpdateMessagingPolicy",
       R"pb(policy { quiet_hours_start: "21:00" quiet_hours_end: "8am" })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.quiet_hours_end"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy { max_messages_per_customer: -1 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.max_messages_per_customer"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy { max_messages_per_customer: 3 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.cap_period"},
      {"AutomationService/UpdateMessagingPolicy",
       R"pb(policy {
              max_messages_per_customer: 3
              cap_period { seconds: 60 }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.cap_period"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy { cap_period { seconds: 86400 } })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "policy.cap_period"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy {}
                                                       expected_version: -1)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "expected_version"},
      {"AutomationService/UpdateMessagingPolicy", R"pb(policy {}
                                                       expected_version: 7)pb",
       grpc::StatusCode::ABORTED, "expected_version"},
      {"AutomationService/GetMessage", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/GetMessage", R"pb(id: "has space")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "id"},
      {"AutomationService/GetMessage", R"pb(id: "$NOID:$NOID:0")pb", grpc::StatusCode::NOT_FOUND,
       "id"},
      {"AutomationService/ListMessages", R"pb(contact_id: "nope")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "contact_id"},
      {"AutomationService/ListMessages", R"pb(rule_id: "nope")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule_id"},
      {"AutomationService/ListMessages", R"pb(page_size: -1)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "page_size"},
      {"AutomationService/ListMessages", R"pb(page_token: "x")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AutomationService/ReportMessageStatus", R"pb(state: MESSAGE_STATE_DELIVERED)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "message_id"},
      {"AutomationService/ReportMessageStatus", R"pb(message_id: "m")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "state"},
      {"AutomationService/ReportMessageStatus",
       R"pb(message_id: "m" state: MESSAGE_STATE_QUEUED)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "state"},
      {"AutomationService/ReportMessageStatus",
       R"pb(message_id: "m" state: MESSAGE_STATE_FAILED)pb", grpc::StatusCode::INVALID_ARGUMENT,
       "detail"},
      {"AutomationService/ReportMessageStatus", R"pb(message_id: "m"
                                                     state: MESSAGE_STATE_OPENED
                                                     time { seconds: 99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "time"},
      {"AutomationService/ReportMessageStatus", R"pb(message_id: "m"
                                                     state: MESSAGE_STATE_OPENED
                                                     request_id: "has space")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "request_id"},
      {"AutomationService/ReportMessageStatus", R"pb(message_id: "$NOID:$NOID:0"
                                                     state: MESSAGE_STATE_DELIVERED)pb",
       grpc::StatusCode::NOT_FOUND, "message_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { no_purchase {} }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.no_purchase.days"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { no_purchase { days: 4000 } }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.no_purchase.days"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { anniversary {} }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.anniversary.kind"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { anniversary { kind: 9 } }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.anniversary.kind"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { case_sla_breach { target: 7 } }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.case_sla_breach.target"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { churn_risk {} }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.churn_risk.threshold_bp"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { churn_risk { threshold_bp: 10001 } }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.churn_risk.threshold_bp"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger { segment_change { segment_id: "$NOID" } }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.segment_change.change"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { segment_change { change: SEGMENT_CHANGE_LEFT } }
              actions { tag_contact { tag: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.segment_change.segment_id"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger { segment_change { segment_id: "$NOID" change: SEGMENT_CHANGE_JOINED } }
              actions { tag_contact { tag: "t" } }
            })pb",
       grpc::StatusCode::NOT_FOUND, "rule.trigger.segment_change.segment_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger {
                                                order_placed {}
                                                customer_segment_id: "has space"
                                              }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.customer_segment_id"},
      {"AutomationService/CreateRule",
       R"pb(rule {
              name: "r"
              trigger {
                segment_change { segment_id: "$NOID" change: SEGMENT_CHANGE_JOINED }
                customer_segment_id: "$NOID"
              }
              actions { tag_contact { tag: "t" } }
            })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "rule.trigger.customer_segment_id"},
      {"AutomationService/CreateRule", R"pb(rule {
                                              name: "r"
                                              trigger {
                                                order_placed {}
                                                customer_segment_id: "$NOID"
                                              }
                                              actions { tag_contact { tag: "t" } }
                                            })pb",
       grpc::StatusCode::NOT_FOUND, "rule.trigger.customer_segment_id"},
      {"AutomationService/ListMessages", R"pb(campaign_id: "nope")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign_id"},
      {"AutomationService/LaunchCampaign", "", grpc::StatusCode::INVALID_ARGUMENT, "campaign"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.segment_id"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  segment_id: "$NOID"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.segment_id"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "x"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.contact_ids[0]"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.name"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_PHONE
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.channel"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.body"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  holdout_percent: 60
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.holdout_percent"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.attribution_window"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 8640000 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.attribution_window"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  id: "$NOID"
                                                  name: "c"
                                                  contact_ids: "$CONTACT"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "campaign.id"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  segment_id: "$NOID"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::NOT_FOUND, "campaign.segment_id"},
      {"AutomationService/LaunchCampaign", R"pb(campaign {
                                                  name: "c"
                                                  contact_ids: "$NOID"
                                                  channel: CONSENT_CHANNEL_EMAIL
                                                  body: "b"
                                                  attribution_window { seconds: 86400 }
                                                })pb",
       grpc::StatusCode::NOT_FOUND, "campaign.contact_ids[0]"},
      {"AutomationService/GetCampaign", "", grpc::StatusCode::INVALID_ARGUMENT, "id"},
      {"AutomationService/GetCampaign", R"pb(id: "nope")pb", grpc::StatusCode::INVALID_ARGUMENT,
       "id"},
      {"AutomationService/GetCampaign", R"pb(id: "$NOID")pb", grpc::StatusCode::NOT_FOUND, "id"},
      {"AutomationService/ListCampaigns", R"pb(page_size: 1001)pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"AutomationService/ListCampaigns", R"pb(page_token: "x")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"AutomationService/StreamOutboundMessages", R"pb(cursor: "not-a-cursor")pb",
       grpc::StatusCode::INVALID_ARGUMENT, "cursor"},
      {"AutomationService/StreamOutboundMessages", R"pb(start_time { seconds: -99999999999 })pb",
       grpc::StatusCode::INVALID_ARGUMENT, "start_time"},
  };
  return rows;
}

TEST_F(BadInputTest, EveryMethodHasRows) {
  std::set<std::string> covered;
  for (const Row& row : Rows()) {
    EXPECT_NE(FindMethod(row.method), nullptr) << row.method << " is not a method";
    covered.insert(row.method);
  }
  for (const char* service : kServices) {
    const pb::ServiceDescriptor* s =
        pb::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(s, nullptr) << service;
    for (int i = 0; i < s->method_count(); ++i) {
      if (s->method(i)->input_type()->field_count() == 0) continue;  // nothing to get wrong
      EXPECT_TRUE(covered.contains(absl::StrCat(s->name(), "/", s->method(i)->name())))
          << s->full_name() << "/" << s->method(i)->name() << " has no bad-input rows";
    }
  }
}

TEST_F(BadInputTest, EveryBadRequestIsRefusedByNameAndWritesNothing) {
  Contact contact;
  ASSERT_TRUE(CreateContact(node_, "Bad", "Input", "", &contact).ok());
  crm::contact::v1::CreateCompanyRequest create_company;
  create_company.mutable_company()->set_name("Bad Input Ltd");
  crm::contact::v1::Company company;
  ASSERT_TRUE(node_.contacts->CreateCompany(Ctx().get(), create_company, &company).ok());
  std::string tags;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&tags, "tags: \"t", i, "\" ");
  std::string lines;
  for (int i = 0; i < 1001; ++i) {
    absl::StrAppend(&lines, "line_items { product_id: \"", kNoId,
                    "\" quantity: 1 unit_price { currency_code: \"EUR\" minor_units: 1 } } ");
  }
  const std::map<std::string, std::string> values = {{"$CONTACT", contact.id()},
                                                     {"$COMPANY", company.id()},
                                                     {"$NOID", kNoId},
                                                     {"$LONG", std::string(5000, 'x')},
                                                     {"$HUGE", std::string(70000, 'x')},
                                                     {"$TAGS", tags},
                                                     {"$LINES", lines}};
  auto fill = [&](std::string text) {
    for (const auto& [name, value] : values) text = absl::StrReplaceAll(text, {{name, value}});
    return text;
  };
  for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
    ASSERT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), p)) << p;
  }
  const int64_t end = LogEnd();
  for (const Row& row : Rows()) {
    const pb::MethodDescriptor* method = FindMethod(row.method);
    ASSERT_NE(method, nullptr) << row.method;
    const grpc::Status status = Call(*method, fill(row.request));
    const std::string names = fill(row.names);
    EXPECT_EQ(status.error_code(), row.code)
        << row.method << " " << row.request << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(names), std::string::npos)
        << row.method << " " << row.request << ": \"" << status.error_message()
        << "\" does not name " << names;
    ASSERT_EQ(LogEnd(), end) << row.method << " " << row.request << " appended to the log";
  }
}

TEST_F(BadInputTest, InvalidUtf8IsRefusedByNameInEveryMethodAndWritesNothing) {
  ForEveryMethod([&](const pb::MethodDescriptor& method) {
    const auto [bytes, field] = WithInvalidUtf8(*method.input_type());
    if (field == nullptr) return false;  // no string to get wrong
    const grpc::Status status = CallRaw(method, bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method.full_name() << ": " << status.error_message();
    EXPECT_EQ(status.error_message(),
              field->full_name() + ": not valid UTF-8 (string fields must be UTF-8)")
        << method.full_name();
    return true;
  });
}

// Bytes that are not protobuf at all, to every unary method — those gRPC parses and those served
// raw (grpcutil::ParseRequest) alike: the same INVALID_ARGUMENT, and nothing written.
TEST_F(BadInputTest, DamagedBytesAreRefusedInEveryUnaryMethodAndWriteNothing) {
  ForEveryMethod([&](const pb::MethodDescriptor& method) {
    if (method.client_streaming() || method.server_streaming()) return false;
    const grpc::Status status = CallRaw(method, std::string("\xff\xff\xff\xff", 4));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method.full_name() << ": " << status.error_message();
    EXPECT_EQ(status.error_message(),
              "request: cannot be parsed as this method's request message (damaged or not "
              "protobuf)")
        << method.full_name();
    return true;
  });
}

}  // namespace
}  // namespace crm::testing
