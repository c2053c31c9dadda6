// crmctl: the CRM command line, over gRPC.
//
//   crmctl contact create --given-name Ada --family-name Lovelace --email ada@example.com
//   crmctl contact search ada
//   crmctl --json contact get 01J...
//
// --addr / CRM_ADDR names the server (default 127.0.0.1:7070). Tables for people, --json for
// scripts (one JSON object per response, proto field names). Exit code 0 on success, 1 when the
// server refused the call (the status code and message go to stderr), 2 for bad usage.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <iomanip>
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/admin/v1/admin_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"

namespace {

using crm::contact::v1::Contact;

struct Globals {
  std::string addr = "127.0.0.1:7070";
  bool json = false;
  double timeout_seconds = 30;
};

// Fields a create or update can set from flags; `given` records which were set.
struct ContactFlags {
  std::string given_name, family_name, job_title, owner, stage;
  std::vector<std::string> emails, phones, tags, attrs, consents;
  std::string request_id;
  int64_t expected_version = 0;
};

const std::map<std::string, crm::contact::v1::LifecycleStage>& Stages() {
  static const auto* m = new std::map<std::string, crm::contact::v1::LifecycleStage>{
      {"subscriber", crm::contact::v1::LIFECYCLE_STAGE_SUBSCRIBER},
      {"lead", crm::contact::v1::LIFECYCLE_STAGE_LEAD},
      {"prospect", crm::contact::v1::LIFECYCLE_STAGE_PROSPECT},
      {"customer", crm::contact::v1::LIFECYCLE_STAGE_CUSTOMER},
      {"churned", crm::contact::v1::LIFECYCLE_STAGE_CHURNED}};
  return *m;
}

std::string StageName(crm::contact::v1::LifecycleStage s) {
  for (const auto& [name, value] : Stages()) {
    if (value == s) return name;
  }
  return "";
}

[[noreturn]] void UsageError(const std::string& message) {
  std::cerr << "crmctl: " << message << std::endl;
  std::exit(2);
}

void AddContactFlags(CLI::App* cmd, ContactFlags& f) {
  cmd->add_option("--given-name", f.given_name, "given (first) name");
  cmd->add_option("--family-name", f.family_name, "family (last) name");
  cmd->add_option("--email", f.emails, "email address (repeat for several; first is primary)");
  cmd->add_option("--phone", f.phones, "phone number with country code (repeatable)");
  cmd->add_option("--job-title", f.job_title, "job title");
  cmd->add_option("--owner", f.owner, "owning user id");
  cmd->add_option("--stage", f.stage, "subscriber, lead, prospect, customer or churned");
  cmd->add_option("--tag", f.tags, "tag (repeatable)");
  cmd->add_option("--attr", f.attrs, "custom attribute key=value (repeatable)");
  cmd->add_option("--consent", f.consents,
                  "channel=status, e.g. email=granted (channels email, sms, phone, post)");
  cmd->add_option("--request-id", f.request_id, "idempotency key (a retry with it is safe)");
}

// Fills `c` from the flags that were given and returns the update-mask paths they set.
std::vector<std::string> FillContact(CLI::App* cmd, const ContactFlags& f, Contact& c) {
  std::vector<std::string> paths;
  auto given = [cmd](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--given-name")) {
    c.mutable_personal()->set_given_name(f.given_name);
    paths.push_back("personal.given_name");
  }
  if (given("--family-name")) {
    c.mutable_personal()->set_family_name(f.family_name);
    paths.push_back("personal.family_name");
  }
  if (given("--email")) {
    for (const auto& e : f.emails) c.mutable_personal()->add_emails()->set_address(e);
    paths.push_back("personal.emails");
  }
  if (given("--phone")) {
    for (const auto& p : f.phones) c.mutable_personal()->add_phones()->set_number(p);
    paths.push_back("personal.phones");
  }
  if (given("--job-title")) {
    c.set_job_title(f.job_title);
    paths.push_back("job_title");
  }
  if (given("--owner")) {
    c.set_owner(f.owner);
    paths.push_back("owner");
  }
  if (given("--stage")) {
    auto it = Stages().find(absl::AsciiStrToLower(f.stage));
    if (it == Stages().end()) {
      UsageError("--stage must be subscriber, lead, prospect, customer or churned");
    }
    c.set_lifecycle_stage(it->second);
    paths.push_back("lifecycle_stage");
  }
  if (given("--tag")) {
    for (const auto& t : f.tags) c.add_tags(t);
    paths.push_back("tags");
  }
  if (given("--attr")) {
    for (const auto& a : f.attrs) {
      std::vector<std::string> kv = absl::StrSplit(a, absl::MaxSplits('=', 1));
      if (kv.size() != 2) UsageError("--attr must be key=value");
      (*c.mutable_attributes())[kv[0]] = kv[1];
    }
    paths.push_back("attributes");
  }
  if (given("--consent")) {
    static const std::map<std::string, crm::contact::v1::ConsentChannel> channels = {
        {"email", crm::contact::v1::CONSENT_CHANNEL_EMAIL},
        {"sms", crm::contact::v1::CONSENT_CHANNEL_SMS},
        {"phone", crm::contact::v1::CONSENT_CHANNEL_PHONE},
        {"post", crm::contact::v1::CONSENT_CHANNEL_POST}};
    for (const auto& s : f.consents) {
      std::vector<std::string> kv =
          absl::StrSplit(absl::AsciiStrToLower(s), absl::MaxSplits('=', 1));
      if (kv.size() != 2 || !channels.contains(kv[0]) ||
          (kv[1] != "granted" && kv[1] != "denied")) {
        UsageError(
            "--consent must be channel=granted|denied, channel one of email, sms, phone, post");
      }
      auto* consent = c.add_consents();
      consent->set_channel(channels.at(kv[0]));
      consent->set_status(kv[1] == "granted" ? crm::contact::v1::CONSENT_STATUS_GRANTED
                                             : crm::contact::v1::CONSENT_STATUS_DENIED);
      consent->set_source("crmctl");
    }
    paths.push_back("consents");
  }
  return paths;
}

std::string PrimaryEmail(const Contact& c) {
  for (const auto& e : c.personal().emails()) {
    if (e.primary()) return e.address();
  }
  return "";
}

std::string PrimaryPhone(const Contact& c) {
  for (const auto& p : c.personal().phones()) {
    if (p.primary()) return p.number();
  }
  return "";
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  std::cout << out << std::endl;
}

void PrintContact(const Contact& c) {
  using google::protobuf::util::TimeUtil;
  auto row = [](const std::string& k, const std::string& v) {
    if (!v.empty()) std::cout << std::left << std::setw(14) << k << v << "\n";
  };
  row("id", c.id());
  row("name", absl::StrJoin({c.personal().given_name(), c.personal().family_name()}, " "));
  std::vector<std::string> emails, phones;
  for (const auto& e : c.personal().emails())
    emails.push_back(e.address() + (e.primary() ? "*" : ""));
  for (const auto& p : c.personal().phones())
    phones.push_back(p.number() + (p.primary() ? "*" : ""));
  row("emails", absl::StrJoin(emails, ", "));
  row("phones", absl::StrJoin(phones, ", "));
  row("job title", c.job_title());
  row("owner", c.owner());
  row("stage", StageName(c.lifecycle_stage()));
  row("tags", absl::StrJoin(c.tags(), ", "));
  std::vector<std::string> attrs;
  for (const auto& [k, v] : c.attributes()) attrs.push_back(k + "=" + v);
  std::sort(attrs.begin(), attrs.end());
  row("attributes", absl::StrJoin(attrs, ", "));
  row("archived", c.archived() ? "yes" : "");
  row("version", std::to_string(c.version()));
  if (c.has_update_time()) row("updated", TimeUtil::ToString(c.update_time()));
  std::cout << std::flush;
}

void PrintContactRows(const std::vector<const Contact*>& contacts,
                      const std::vector<double>* scores) {
  std::cout << std::left << std::setw(28) << "ID" << std::setw(28) << "NAME" << std::setw(30)
            << "EMAIL" << std::setw(18) << "PHONE" << std::setw(11) << "STAGE"
            << "VERSION" << (scores ? "  SCORE" : "") << "\n";
  for (size_t i = 0; i < contacts.size(); ++i) {
    const Contact& c = *contacts[i];
    std::string name = absl::StrJoin({c.personal().given_name(), c.personal().family_name()}, " ");
    if (c.archived()) name += " (archived)";
    std::cout << std::setw(28) << c.id() << std::setw(28) << name << std::setw(30)
              << PrimaryEmail(c) << std::setw(18) << PrimaryPhone(c) << std::setw(11)
              << StageName(c.lifecycle_stage()) << std::setw(7) << c.version();
    if (scores) std::cout << "  " << (*scores)[i];
    std::cout << "\n";
  }
  std::cout << std::flush;
}

int Fail(const grpc::Status& s) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(s.error_code());
  std::cerr << "crmctl: " << (code >= 0 && code <= 16 ? kNames[code] : "ERROR") << ": "
            << s.error_message() << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("crmctl: command line for the CRM", "crmctl");
  app.require_subcommand(1);
  Globals g;
  app.add_option("--addr", g.addr, "server host:port")->envname("CRM_ADDR")->capture_default_str();
  app.add_flag("--json", g.json, "print JSON instead of tables");
  app.add_option("--timeout", g.timeout_seconds, "seconds to wait for an answer")
      ->capture_default_str();

  CLI::App* contact =
      app.add_subcommand("contact", "contacts: create, get, update, delete, list, search");
  contact->require_subcommand(1);

  ContactFlags create_flags;
  CLI::App* create = contact->add_subcommand("create", "create a contact");
  AddContactFlags(create, create_flags);

  std::string id;
  CLI::App* get = contact->add_subcommand("get", "show a contact");
  get->add_option("id", id, "contact id")->required();

  ContactFlags update_flags;
  CLI::App* update = contact->add_subcommand("update", "change the fields given as flags");
  update->add_option("id", id, "contact id")->required();
  AddContactFlags(update, update_flags);
  update->add_option("--expected-version", update_flags.expected_version,
                     "fail with ABORTED unless the contact is at this version");

  ContactFlags delete_flags;
  CLI::App* del = contact->add_subcommand("delete", "archive a contact");
  del->add_option("id", id, "contact id")->required();
  del->add_option("--expected-version", delete_flags.expected_version, "as for update");
  del->add_option("--request-id", delete_flags.request_id, "idempotency key");

  crm::contact::v1::ListContactsRequest list_req;
  std::string list_owner, list_tag, list_stage, updated_since;
  int list_page_size = 0;
  std::string list_token;
  bool list_archived = false;
  CLI::App* list = contact->add_subcommand("list", "list contacts");
  list->add_option("--owner", list_owner, "only this owner's contacts");
  list->add_option("--tag", list_tag, "only contacts with this tag");
  list->add_option("--stage", list_stage, "only this lifecycle stage");
  list->add_option("--updated-since", updated_since, "RFC 3339 time, e.g. 2026-01-01T00:00:00Z");
  list->add_option("--page-size", list_page_size, "contacts per page (1-1000)");
  list->add_option("--page-token", list_token, "continue from a previous page");
  list->add_flag("--show-archived", list_archived, "include archived contacts");

  std::string query;
  int search_page_size = 0;
  std::string search_token;
  bool search_archived = false;
  CLI::App* search = contact->add_subcommand("search", "find contacts by name, email or phone");
  search->add_option("query", query, "words to find (prefixes match)")->required();
  search->add_option("--page-size", search_page_size, "results per page (1-100)");
  search->add_option("--page-token", search_token, "continue from a previous page");
  search->add_flag("--show-archived", search_archived, "include archived contacts");

  CLI::App* admin = app.add_subcommand("admin", "operator tools");
  admin->require_subcommand(1);
  std::string projection = "contact";
  CLI::App* status = admin->add_subcommand("status", "projection positions and checksum");
  status->add_option("--projection", projection, "projection name")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  auto channel = grpc::CreateChannel(g.addr, grpc::InsecureChannelCredentials());
  auto make_context = [&g]() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(g.timeout_seconds * 1000)));
    return ctx;
  };
  auto stub = crm::contact::v1::ContactService::NewStub(channel);

  auto show = [&g](const Contact& c) {
    if (g.json) {
      PrintJson(c);
    } else {
      PrintContact(c);
    }
  };

  if (create->parsed()) {
    crm::contact::v1::CreateContactRequest req;
    FillContact(create, create_flags, *req.mutable_contact());
    req.set_request_id(create_flags.request_id);
    Contact out;
    auto ctx = make_context();
    grpc::Status s = stub->CreateContact(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    show(out);
  } else if (get->parsed()) {
    crm::contact::v1::GetContactRequest req;
    req.set_id(id);
    Contact out;
    auto ctx = make_context();
    grpc::Status s = stub->GetContact(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    show(out);
  } else if (update->parsed()) {
    crm::contact::v1::UpdateContactRequest req;
    req.mutable_contact()->set_id(id);
    for (const auto& p : FillContact(update, update_flags, *req.mutable_contact())) {
      req.mutable_update_mask()->add_paths(p);
    }
    req.set_expected_version(update_flags.expected_version);
    req.set_request_id(update_flags.request_id);
    Contact out;
    auto ctx = make_context();
    grpc::Status s = stub->UpdateContact(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    show(out);
  } else if (del->parsed()) {
    crm::contact::v1::DeleteContactRequest req;
    req.set_id(id);
    req.set_expected_version(delete_flags.expected_version);
    req.set_request_id(delete_flags.request_id);
    Contact out;
    auto ctx = make_context();
    grpc::Status s = stub->DeleteContact(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    show(out);
  } else if (list->parsed()) {
    crm::contact::v1::ListContactsRequest req;
    req.set_owner(list_owner);
    req.set_tag(list_tag);
    if (!list_stage.empty()) {
      auto it = Stages().find(absl::AsciiStrToLower(list_stage));
      if (it == Stages().end())
        UsageError("--stage must be subscriber, lead, prospect, customer or churned");
      req.set_lifecycle_stage(it->second);
    }
    if (!updated_since.empty() &&
        !google::protobuf::util::TimeUtil::FromString(updated_since, req.mutable_updated_since())) {
      UsageError("--updated-since must be an RFC 3339 time such as 2026-01-01T00:00:00Z");
    }
    req.set_page_size(list_page_size);
    req.set_page_token(list_token);
    req.set_show_archived(list_archived);
    crm::contact::v1::ListContactsResponse out;
    auto ctx = make_context();
    grpc::Status s = stub->ListContacts(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    if (g.json) {
      PrintJson(out);
    } else {
      std::vector<const Contact*> rows;
      for (const auto& c : out.contacts()) rows.push_back(&c);
      PrintContactRows(rows, nullptr);
      if (!out.next_page_token().empty())
        std::cout << "next page: --page-token " << out.next_page_token() << "\n";
    }
  } else if (search->parsed()) {
    crm::contact::v1::SearchContactsRequest req;
    req.set_query(query);
    req.set_page_size(search_page_size);
    req.set_page_token(search_token);
    req.set_show_archived(search_archived);
    crm::contact::v1::SearchContactsResponse out;
    auto ctx = make_context();
    grpc::Status s = stub->SearchContacts(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    if (g.json) {
      PrintJson(out);
    } else {
      std::vector<const Contact*> rows;
      std::vector<double> scores;
      for (const auto& m : out.matches()) {
        rows.push_back(&m.contact());
        scores.push_back(m.score());
      }
      PrintContactRows(rows, &scores);
      if (!out.next_page_token().empty())
        std::cout << "next page: --page-token " << out.next_page_token() << "\n";
    }
  } else if (status->parsed()) {
    auto admin_stub = crm::admin::v1::AdminService::NewStub(channel);
    crm::admin::v1::GetProjectionStatusRequest req;
    req.set_projection(projection);
    crm::admin::v1::GetProjectionStatusResponse out;
    auto ctx = make_context();
    grpc::Status s = admin_stub->GetProjectionStatus(ctx.get(), req, &out);
    if (!s.ok()) return Fail(s);
    if (g.json) {
      PrintJson(out);
    } else {
      std::cout << "projection    " << out.projection() << "\nchecksum      " << out.checksum()
                << "\nevents seen   " << out.events_seen() << "\nunknown       "
                << out.unknown_events() << "\ndead letters  " << out.dead_letters() << "\n";
      for (const auto& p : out.partitions()) {
        std::cout << "  " << p.topic() << "/" << p.partition() << "  applied to " << p.next_offset()
                  << " of " << p.end_offset() << "\n";
      }
    }
  }
  return 0;
}
