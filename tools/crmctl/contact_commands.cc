// crmctl contact ...: create, get, update, delete, list, search, history.
#include <google/protobuf/util/time_util.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::contact::v1;
using v1::Contact;

// Fields a create or update can set from flags.
struct ContactFlags {
  std::string given_name, family_name, job_title, owner, stage;
  std::vector<std::string> emails, phones, tags, attrs, consents, companies;
  std::string request_id;
  int64_t expected_version = 0;
};

const std::map<std::string, v1::LifecycleStage>& Stages() {
  static const auto* m =
      new std::map<std::string, v1::LifecycleStage>{{"subscriber", v1::LIFECYCLE_STAGE_SUBSCRIBER},
                                                    {"lead", v1::LIFECYCLE_STAGE_LEAD},
                                                    {"prospect", v1::LIFECYCLE_STAGE_PROSPECT},
                                                    {"customer", v1::LIFECYCLE_STAGE_CUSTOMER},
                                                    {"churned", v1::LIFECYCLE_STAGE_CHURNED}};
  return *m;
}

v1::LifecycleStage ParseStage(const std::string& s) {
  auto it = Stages().find(absl::AsciiStrToLower(s));
  if (it == Stages().end()) {
    UsageError("--stage must be subscriber, lead, prospect, customer or churned");
  }
  return it->second;
}

std::string StageName(v1::LifecycleStage s) {
  for (const auto& [name, value] : Stages()) {
    if (value == s) return name;
  }
  return "";
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
  cmd->add_option(
      "--company", f.companies,
      "company id, optionally with a role: ID or ID:role (repeatable; first is primary)");
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
    c.set_lifecycle_stage(ParseStage(f.stage));
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
    static const std::map<std::string, v1::ConsentChannel> channels = {
        {"email", v1::CONSENT_CHANNEL_EMAIL},
        {"sms", v1::CONSENT_CHANNEL_SMS},
        {"phone", v1::CONSENT_CHANNEL_PHONE},
        {"post", v1::CONSENT_CHANNEL_POST}};
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
      consent->set_status(kv[1] == "granted" ? v1::CONSENT_STATUS_GRANTED
                                             : v1::CONSENT_STATUS_DENIED);
      consent->set_source("crmctl");
    }
    paths.push_back("consents");
  }
  if (given("--company")) {
    for (const auto& spec : f.companies) {
      std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
      auto* a = c.add_affiliations();
      a->set_company_id(parts[0]);
      if (parts.size() == 2) a->set_role(parts[1]);
    }
    paths.push_back("affiliations");
  }
  return paths;
}

std::string Primary(const Contact& c, bool email) {
  if (email) {
    for (const auto& e : c.personal().emails()) {
      if (e.primary()) return e.address();
    }
  } else {
    for (const auto& p : c.personal().phones()) {
      if (p.primary()) return p.number();
    }
  }
  return "";
}

void PrintContact(const Contact& c) {
  PrintRow("id", c.id());
  PrintRow("name", absl::StrJoin({c.personal().given_name(), c.personal().family_name()}, " "));
  std::vector<std::string> emails, phones, companies, attrs;
  for (const auto& e : c.personal().emails()) {
    emails.push_back(e.address() + (e.primary() ? "*" : ""));
  }
  for (const auto& p : c.personal().phones()) {
    phones.push_back(p.number() + (p.primary() ? "*" : ""));
  }
  for (const auto& a : c.affiliations()) {
    companies.push_back(a.company_id() + (a.role().empty() ? "" : " (" + a.role() + ")") +
                        (a.primary() ? "*" : ""));
  }
  for (const auto& [k, v] : c.attributes()) attrs.push_back(k + "=" + v);
  std::sort(attrs.begin(), attrs.end());
  PrintRow("emails", absl::StrJoin(emails, ", "));
  PrintRow("phones", absl::StrJoin(phones, ", "));
  PrintRow("companies", absl::StrJoin(companies, ", "));
  PrintRow("job title", c.job_title());
  PrintRow("owner", c.owner());
  PrintRow("stage", StageName(c.lifecycle_stage()));
  PrintRow("tags", absl::StrJoin(c.tags(), ", "));
  PrintRow("attributes", absl::StrJoin(attrs, ", "));
  PrintRow("archived", c.archived() ? "yes" : "");
  PrintRow("merged into", c.merged_into());
  PrintRow("absorbed", absl::StrJoin(c.merged_ids(), ", "));
  PrintRow("version", std::to_string(c.version()));
  if (c.has_update_time()) {
    PrintRow("updated", google::protobuf::util::TimeUtil::ToString(c.update_time()));
  }
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
              << Primary(c, true) << std::setw(18) << Primary(c, false) << std::setw(11)
              << StageName(c.lifecycle_stage()) << std::setw(7) << c.version();
    if (scores) std::cout << "  " << (*scores)[i];
    std::cout << "\n";
  }
  std::cout << std::flush;
}

std::string ReasonNames(const google::protobuf::RepeatedField<int>& reasons) {
  std::vector<std::string> names;
  for (int r : reasons) {
    std::string name = v1::DuplicateReason_Name(static_cast<v1::DuplicateReason>(r));
    names.push_back(absl::AsciiStrToLower(name.substr(std::string("DUPLICATE_REASON_").size())));
  }
  return absl::StrJoin(names, ",");
}

void PrintDuplicates(const google::protobuf::RepeatedPtrField<v1::DuplicateMatch>& matches,
                     const std::string& title) {
  if (matches.empty()) return;
  std::cout << title << ":\n";
  for (const auto& m : matches) {
    std::cout << "  " << m.contact().id() << "  " << std::fixed << std::setprecision(2) << m.score()
              << "  "
              << absl::StrJoin(
                     {m.contact().personal().given_name(), m.contact().personal().family_name()},
                     " ")
              << "  (" << ReasonNames(m.reasons()) << ")\n";
  }
  std::cout << std::flush;
}

}  // namespace

void RegisterContactCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* contact =
      app.add_subcommand("contact", "contacts: create, get, update, delete, list, search, history");
  contact->require_subcommand(1);
  auto show = [&client](const Contact& c) {
    if (client.json()) {
      PrintJson(c);
    } else {
      PrintContact(c);
    }
  };

  auto create_flags = std::make_shared<ContactFlags>();
  CLI::App* create = contact->add_subcommand("create", "create a contact");
  AddContactFlags(create, *create_flags);
  create->callback([&client, &exit_code, create, create_flags] {
    v1::CreateContactRequest req;
    FillContact(create, *create_flags, *req.mutable_contact());
    req.set_request_id(create_flags->request_id);
    Run<v1::CreateContactResponse>(
        client, exit_code,
        [&](v1::CreateContactResponse& out) {
          return client.contacts().CreateContact(client.Context().get(), req, &out);
        },
        [&](const v1::CreateContactResponse& out) {
          PrintContact(out.contact());
          PrintDuplicates(out.likely_duplicates(), "likely duplicates");
        });
  });

  auto get_id = std::make_shared<std::string>();
  auto get_as_of = std::make_shared<std::string>();
  CLI::App* get = contact->add_subcommand("get", "show a contact");
  get->add_option("id", *get_id, "contact id")->required();
  get->add_option("--as-of", *get_as_of, "show it as it was at this RFC 3339 time");
  get->callback([&client, &exit_code, show, get_id, get_as_of] {
    v1::GetContactRequest req;
    req.set_id(*get_id);
    if (!get_as_of->empty()) *req.mutable_as_of() = ParseTime("--as-of", *get_as_of);
    Contact out;
    grpc::Status s = client.contacts().GetContact(client.Context().get(), req, &out);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    show(out);
  });

  auto update_id = std::make_shared<std::string>();
  auto update_flags = std::make_shared<ContactFlags>();
  CLI::App* update = contact->add_subcommand("update", "change the fields given as flags");
  update->add_option("id", *update_id, "contact id")->required();
  AddContactFlags(update, *update_flags);
  update->add_option("--expected-version", update_flags->expected_version,
                     "fail with ABORTED unless the contact is at this version");
  update->callback([&client, &exit_code, show, update, update_id, update_flags] {
    v1::UpdateContactRequest req;
    req.mutable_contact()->set_id(*update_id);
    for (const auto& p : FillContact(update, *update_flags, *req.mutable_contact())) {
      req.mutable_update_mask()->add_paths(p);
    }
    req.set_expected_version(update_flags->expected_version);
    req.set_request_id(update_flags->request_id);
    Contact out;
    grpc::Status s = client.contacts().UpdateContact(client.Context().get(), req, &out);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    show(out);
  });

  auto del_req = std::make_shared<v1::DeleteContactRequest>();
  auto del_id = std::make_shared<std::string>();
  auto del_version = std::make_shared<int64_t>(0);
  auto del_request_id = std::make_shared<std::string>();
  CLI::App* del = contact->add_subcommand("delete", "archive a contact");
  del->add_option("id", *del_id, "contact id")->required();
  del->add_option("--expected-version", *del_version, "as for update");
  del->add_option("--request-id", *del_request_id, "idempotency key");
  del->callback([&client, &exit_code, show, del_req, del_id, del_version, del_request_id] {
    del_req->set_id(*del_id);
    del_req->set_expected_version(*del_version);
    del_req->set_request_id(*del_request_id);
    Contact out;
    grpc::Status s = client.contacts().DeleteContact(client.Context().get(), *del_req, &out);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    show(out);
  });

  struct ListFlags {
    std::string owner, tag, stage, updated_since, company, token;
    int page_size = 0;
    bool archived = false;
  };
  auto lf = std::make_shared<ListFlags>();
  CLI::App* list = contact->add_subcommand("list", "list contacts");
  list->add_option("--owner", lf->owner, "only this owner's contacts");
  list->add_option("--tag", lf->tag, "only contacts with this tag");
  list->add_option("--stage", lf->stage, "only this lifecycle stage");
  list->add_option("--company", lf->company, "only contacts affiliated with this company id");
  list->add_option("--updated-since", lf->updated_since, "RFC 3339 time");
  list->add_option("--page-size", lf->page_size, "contacts per page (1-1000)");
  list->add_option("--page-token", lf->token, "continue from a previous page");
  list->add_flag("--show-archived", lf->archived, "include archived contacts");
  list->callback([&client, &exit_code, lf] {
    v1::ListContactsRequest req;
    req.set_owner(lf->owner);
    req.set_tag(lf->tag);
    req.set_company_id(lf->company);
    if (!lf->stage.empty()) req.set_lifecycle_stage(ParseStage(lf->stage));
    if (!lf->updated_since.empty()) {
      *req.mutable_updated_since() = ParseTime("--updated-since", lf->updated_since);
    }
    req.set_page_size(lf->page_size);
    req.set_page_token(lf->token);
    req.set_show_archived(lf->archived);
    Run<v1::ListContactsResponse>(
        client, exit_code,
        [&](v1::ListContactsResponse& out) {
          return client.contacts().ListContacts(client.Context().get(), req, &out);
        },
        [&](const v1::ListContactsResponse& out) {
          std::vector<const Contact*> rows;
          for (const auto& c : out.contacts()) rows.push_back(&c);
          PrintContactRows(rows, nullptr);
          PrintNextPage(out.next_page_token());
        });
  });

  struct SearchFlags {
    std::string query, token;
    int page_size = 0;
    bool archived = false;
  };
  auto sf = std::make_shared<SearchFlags>();
  CLI::App* search =
      contact->add_subcommand("search", "find contacts by name, email, phone or company name");
  search->add_option("query", sf->query, "words to find (prefixes match)")->required();
  search->add_option("--page-size", sf->page_size, "results per page (1-100)");
  search->add_option("--page-token", sf->token, "continue from a previous page");
  search->add_flag("--show-archived", sf->archived, "include archived contacts");
  search->callback([&client, &exit_code, sf] {
    v1::SearchContactsRequest req;
    req.set_query(sf->query);
    req.set_page_size(sf->page_size);
    req.set_page_token(sf->token);
    req.set_show_archived(sf->archived);
    Run<v1::SearchContactsResponse>(
        client, exit_code,
        [&](v1::SearchContactsResponse& out) {
          return client.contacts().SearchContacts(client.Context().get(), req, &out);
        },
        [&](const v1::SearchContactsResponse& out) {
          std::vector<const Contact*> rows;
          std::vector<double> scores;
          for (const auto& m : out.matches()) {
            rows.push_back(&m.contact());
            scores.push_back(m.score());
          }
          PrintContactRows(rows, &scores);
          PrintNextPage(out.next_page_token());
        });
  });

  auto merge_req = std::make_shared<v1::MergeContactsRequest>();
  auto merge_take = std::make_shared<std::vector<std::string>>();
  CLI::App* merge = contact->add_subcommand("merge", "merge MERGED into SURVIVOR");
  merge->add_option("survivor", *merge_req->mutable_survivor_id(), "the contact that remains")
      ->required();
  merge->add_option("merged", *merge_req->mutable_merged_id(), "the contact absorbed")->required();
  merge->add_option("--take", *merge_take,
                    "field whose value comes from MERGED (repeatable): personal.given_name, "
                    "personal.family_name, job_title, owner, lifecycle_stage, attributes, "
                    "consents");
  merge->add_option("--request-id", *merge_req->mutable_request_id(),
                    "idempotency key; repeat it to complete an interrupted merge");
  merge->callback([&client, &exit_code, show, merge_req, merge_take] {
    for (const auto& p : *merge_take) merge_req->mutable_update_mask()->add_paths(p);
    Contact out;
    grpc::Status s = client.contacts().MergeContacts(client.Context().get(), *merge_req, &out);
    if (!s.ok()) {
      exit_code = Fail(s);
      return;
    }
    show(out);
  });

  auto unmerge_req = std::make_shared<v1::UnmergeContactsRequest>();
  CLI::App* unmerge = contact->add_subcommand("unmerge", "give a merged contact back");
  unmerge->add_option("merged", *unmerge_req->mutable_merged_id(), "the merged contact")
      ->required();
  unmerge->add_option("--request-id", *unmerge_req->mutable_request_id(), "idempotency key");
  unmerge->callback([&client, &exit_code, show, unmerge_req] {
    Run<v1::UnmergeContactsResponse>(
        client, exit_code,
        [&](v1::UnmergeContactsResponse& out) {
          return client.contacts().UnmergeContacts(client.Context().get(), *unmerge_req, &out);
        },
        [&](const v1::UnmergeContactsResponse& out) {
          std::cout << "survivor:\n";
          show(out.survivor());
          std::cout << "restored:\n";
          show(out.restored());
        });
  });

  auto quality_req = std::make_shared<v1::GetContactQualityRequest>();
  CLI::App* quality = contact->add_subcommand("quality", "what a contact's record lacks");
  quality->add_option("id", *quality_req->mutable_contact_id(), "contact id")->required();
  quality->callback([&client, &exit_code, quality_req] {
    Run<v1::DataQuality>(
        client, exit_code,
        [&](v1::DataQuality& out) {
          return client.contacts().GetContactQuality(client.Context().get(), *quality_req, &out);
        },
        [&](const v1::DataQuality& out) { PrintQuality(out); });
  });

  auto incomplete_req = std::make_shared<v1::ListIncompleteContactsRequest>();
  CLI::App* incomplete =
      contact->add_subcommand("incomplete", "contacts least complete first (the work list)");
  incomplete->add_option(
      "--below",
      [incomplete_req](const std::vector<std::string>& v) {
        incomplete_req->set_below(std::stoi(v[0]));
        return true;
      },
      "only contacts with completeness below this (1-100)");
  incomplete->add_option("--page-token", *incomplete_req->mutable_page_token(), "continue");
  incomplete->callback([&client, &exit_code, incomplete_req] {
    Run<v1::ListIncompleteContactsResponse>(
        client, exit_code,
        [&](v1::ListIncompleteContactsResponse& out) {
          return client.contacts().ListIncompleteContacts(client.Context().get(), *incomplete_req,
                                                          &out);
        },
        [&](const v1::ListIncompleteContactsResponse& out) {
          for (const auto& c : out.contacts()) {
            std::vector<std::string> issues;
            for (const auto& i : c.quality().issues()) issues.push_back(i.message());
            std::cout << std::left << std::setw(28) << c.contact().id() << std::setw(5)
                      << c.quality().completeness() << absl::StrJoin(issues, "; ") << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  auto dup_req = std::make_shared<v1::FindDuplicatesRequest>();
  CLI::App* dups = contact->add_subcommand("duplicates", "likely duplicates of a contact");
  dups->add_option("id", *dup_req->mutable_contact_id(), "contact id")->required();
  dups->callback([&client, &exit_code, dup_req] {
    Run<v1::FindDuplicatesResponse>(
        client, exit_code,
        [&](v1::FindDuplicatesResponse& out) {
          return client.contacts().FindDuplicates(client.Context().get(), *dup_req, &out);
        },
        [&](const v1::FindDuplicatesResponse& out) {
          PrintDuplicates(out.matches(), "likely duplicates");
        });
  });

  auto pairs_req = std::make_shared<v1::ListDuplicateCandidatesRequest>();
  CLI::App* pairs = contact->add_subcommand(
      "duplicate-candidates", "every likely duplicate pair of the tenant, best first");
  pairs->add_option(
      "--min-score",
      [pairs_req](const std::vector<std::string>& v) {
        pairs_req->set_min_score(std::stod(v[0]));
        return true;
      },
      "only pairs scoring at least this (0.5-1)");
  pairs->add_option("--page-token", *pairs_req->mutable_page_token(), "continue");
  pairs->callback([&client, &exit_code, pairs_req] {
    Run<v1::ListDuplicateCandidatesResponse>(
        client, exit_code,
        [&](v1::ListDuplicateCandidatesResponse& out) {
          return client.contacts().ListDuplicateCandidates(client.Context().get(), *pairs_req,
                                                           &out);
        },
        [&](const v1::ListDuplicateCandidatesResponse& out) {
          for (const auto& p : out.pairs()) {
            std::cout << p.contact_id() << "  " << p.other_contact_id() << "  " << std::fixed
                      << std::setprecision(2) << p.score() << "  " << ReasonNames(p.reasons())
                      << "\n";
          }
          PrintNextPage(out.next_page_token());
        });
  });

  auto history_req = std::make_shared<v1::GetContactHistoryRequest>();
  CLI::App* history = contact->add_subcommand("history", "a contact's audit trail, oldest first");
  history->add_option("id", *history_req->mutable_id(), "contact id")->required();
  history->add_option("--page-token", *history_req->mutable_page_token(), "continue");
  history->callback([&client, &exit_code, history_req] {
    Run<v1::GetContactHistoryResponse>(
        client, exit_code,
        [&](v1::GetContactHistoryResponse& out) {
          return client.contacts().GetContactHistory(client.Context().get(), *history_req, &out);
        },
        [&](const v1::GetContactHistoryResponse& out) {
          PrintHistory(out.entries());
          PrintNextPage(out.next_page_token());
        });
  });
}

}  // namespace crm::ctl
