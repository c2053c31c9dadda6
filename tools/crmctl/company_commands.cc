// crmctl company ... and crmctl relationship ...
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
using v1::Company;

struct CompanyFlags {
  std::string name, domain, industry, owner, country, request_id;
  int employees = 0;
  std::vector<std::string> tags, attrs;
  int64_t expected_version = 0;
};

void AddCompanyFlags(CLI::App* cmd, CompanyFlags& f) {
  cmd->add_option("--name", f.name, "company name");
  cmd->add_option("--domain", f.domain, "internet domain, e.g. acme.example");
  cmd->add_option("--industry", f.industry, "industry");
  cmd->add_option("--employees", f.employees, "number of employees");
  cmd->add_option("--owner", f.owner, "owning user id");
  cmd->add_option("--country", f.country, "country of the main address (ISO code, e.g. DE)");
  cmd->add_option("--tag", f.tags, "tag (repeatable)");
  cmd->add_option("--attr", f.attrs, "custom attribute key=value (repeatable)");
  cmd->add_option("--request-id", f.request_id, "idempotency key");
}

std::vector<std::string> FillCompany(CLI::App* cmd, const CompanyFlags& f, Company& c) {
  std::vector<std::string> paths;
  auto given = [cmd](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--name")) {
    c.set_name(f.name);
    paths.push_back("name");
  }
  if (given("--domain")) {
    c.set_domain(f.domain);
    paths.push_back("domain");
  }
  if (given("--industry")) {
    c.set_industry(f.industry);
    paths.push_back("industry");
  }
  if (given("--employees")) {
    c.set_employee_count(f.employees);
    paths.push_back("employee_count");
  }
  if (given("--owner")) {
    c.set_owner(f.owner);
    paths.push_back("owner");
  }
  if (given("--country")) {
    c.mutable_address()->set_country_code(f.country);
    paths.push_back("address");
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
  return paths;
}

const std::map<std::string, v1::RelationshipType>& Types() {
  static const auto* m = new std::map<std::string, v1::RelationshipType>{
      {"customer", v1::RELATIONSHIP_TYPE_CUSTOMER},
      {"vendor", v1::RELATIONSHIP_TYPE_VENDOR},
      {"supplier", v1::RELATIONSHIP_TYPE_SUPPLIER},
      {"partner", v1::RELATIONSHIP_TYPE_PARTNER},
      {"distributor", v1::RELATIONSHIP_TYPE_DISTRIBUTOR},
      {"reseller", v1::RELATIONSHIP_TYPE_RESELLER}};
  return *m;
}

std::string TypeName(v1::RelationshipType t) {
  for (const auto& [name, value] : Types()) {
    if (value == t) return name;
  }
  return "?";
}

void PrintCompany(const Company& c) {
  PrintRow("id", c.id());
  PrintRow("name", c.name());
  PrintRow("domain", c.domain());
  PrintRow("industry", c.industry());
  PrintRow("employees", c.employee_count() > 0 ? std::to_string(c.employee_count()) : "");
  PrintRow("country", c.address().country_code());
  PrintRow("owner", c.owner());
  PrintRow("tags", absl::StrJoin(c.tags(), ", "));
  std::vector<std::string> rels;
  for (const auto& r : c.relationships()) {
    rels.push_back(TypeName(r.type()) + " of " + r.related_company_id());
  }
  PrintRow("relationships", absl::StrJoin(rels, ", "));
  PrintRow("archived", c.archived() ? "yes" : "");
  PrintRow("version", std::to_string(c.version()));
  if (c.has_update_time()) {
    PrintRow("updated", google::protobuf::util::TimeUtil::ToString(c.update_time()));
  }
  std::cout << std::flush;
}

void PrintCompanyRows(const std::vector<const Company*>& companies,
                      const std::vector<double>* scores) {
  std::cout << std::left << std::setw(28) << "ID" << std::setw(32) << "NAME" << std::setw(26)
            << "DOMAIN" << std::setw(20) << "INDUSTRY"
            << "VERSION" << (scores ? "  SCORE" : "") << "\n";
  for (size_t i = 0; i < companies.size(); ++i) {
    const Company& c = *companies[i];
    std::cout << std::setw(28) << c.id() << std::setw(32)
              << (c.archived() ? c.name() + " (archived)" : c.name()) << std::setw(26) << c.domain()
              << std::setw(20) << c.industry() << std::setw(7) << c.version();
    if (scores) std::cout << "  " << (*scores)[i];
    std::cout << "\n";
  }
  std::cout << std::flush;
}

// Runs a unary call returning a Company and prints it.
template <typename Call>
void ShowCompany(Client& client, int& exit_code, Call call) {
  Company out;
  grpc::Status s = call(out);
  if (!s.ok()) {
    exit_code = Fail(s);
  } else if (client.json()) {
    PrintJson(out);
  } else {
    PrintCompany(out);
  }
}

}  // namespace

void RegisterCompanyCommands(CLI::App& app, Client& client, int& exit_code) {
  CLI::App* company = app.add_subcommand(
      "company", "companies: create, get, update, delete, list, search, history");
  company->require_subcommand(1);

  auto cf = std::make_shared<CompanyFlags>();
  CLI::App* create = company->add_subcommand("create", "create a company");
  AddCompanyFlags(create, *cf);
  create->callback([&client, &exit_code, create, cf] {
    v1::CreateCompanyRequest req;
    FillCompany(create, *cf, *req.mutable_company());
    req.set_request_id(cf->request_id);
    ShowCompany(client, exit_code, [&](Company& out) {
      return client.contacts().CreateCompany(client.Context().get(), req, &out);
    });
  });

  auto get_req = std::make_shared<v1::GetCompanyRequest>();
  auto get_as_of = std::make_shared<std::string>();
  CLI::App* get = company->add_subcommand("get", "show a company");
  get->add_option("id", *get_req->mutable_id(), "company id")->required();
  get->add_option("--as-of", *get_as_of, "show it as it was at this RFC 3339 time");
  get->callback([&client, &exit_code, get_req, get_as_of] {
    if (!get_as_of->empty()) *get_req->mutable_as_of() = ParseTime("--as-of", *get_as_of);
    ShowCompany(client, exit_code, [&](Company& out) {
      return client.contacts().GetCompany(client.Context().get(), *get_req, &out);
    });
  });

  auto uf = std::make_shared<CompanyFlags>();
  auto update_id = std::make_shared<std::string>();
  CLI::App* update = company->add_subcommand("update", "change the fields given as flags");
  update->add_option("id", *update_id, "company id")->required();
  AddCompanyFlags(update, *uf);
  update->add_option("--expected-version", uf->expected_version, "as for contact update");
  update->callback([&client, &exit_code, update, uf, update_id] {
    v1::UpdateCompanyRequest req;
    req.mutable_company()->set_id(*update_id);
    for (const auto& p : FillCompany(update, *uf, *req.mutable_company())) {
      req.mutable_update_mask()->add_paths(p);
    }
    req.set_expected_version(uf->expected_version);
    req.set_request_id(uf->request_id);
    ShowCompany(client, exit_code, [&](Company& out) {
      return client.contacts().UpdateCompany(client.Context().get(), req, &out);
    });
  });

  auto del_req = std::make_shared<v1::DeleteCompanyRequest>();
  CLI::App* del = company->add_subcommand("delete", "archive a company");
  del->add_option("id", *del_req->mutable_id(), "company id")->required();
  del->add_option("--request-id", *del_req->mutable_request_id(), "idempotency key");
  del->callback([&client, &exit_code, del_req] {
    ShowCompany(client, exit_code, [&](Company& out) {
      return client.contacts().DeleteCompany(client.Context().get(), *del_req, &out);
    });
  });

  auto list_req = std::make_shared<v1::ListCompaniesRequest>();
  CLI::App* list = company->add_subcommand("list", "list companies");
  list->add_option("--owner", *list_req->mutable_owner(), "only this owner's companies");
  list->add_option("--tag", *list_req->mutable_tag(), "only companies with this tag");
  list->add_option("--industry", *list_req->mutable_industry(), "only this industry");
  list->add_option("--page-token", *list_req->mutable_page_token(), "continue");
  list->add_flag(
      "--show-archived", [list_req](int64_t n) { list_req->set_show_archived(n > 0); },
      "include archived companies");
  list->callback([&client, &exit_code, list_req] {
    Run<v1::ListCompaniesResponse>(
        client, exit_code,
        [&](v1::ListCompaniesResponse& out) {
          return client.contacts().ListCompanies(client.Context().get(), *list_req, &out);
        },
        [&](const v1::ListCompaniesResponse& out) {
          std::vector<const Company*> rows;
          for (const auto& c : out.companies()) rows.push_back(&c);
          PrintCompanyRows(rows, nullptr);
          PrintNextPage(out.next_page_token());
        });
  });

  auto search_req = std::make_shared<v1::SearchCompaniesRequest>();
  CLI::App* search = company->add_subcommand("search", "find companies by name or domain");
  search->add_option("query", *search_req->mutable_query(), "words to find")->required();
  search->add_option("--page-token", *search_req->mutable_page_token(), "continue");
  search->callback([&client, &exit_code, search_req] {
    Run<v1::SearchCompaniesResponse>(
        client, exit_code,
        [&](v1::SearchCompaniesResponse& out) {
          return client.contacts().SearchCompanies(client.Context().get(), *search_req, &out);
        },
        [&](const v1::SearchCompaniesResponse& out) {
          std::vector<const Company*> rows;
          std::vector<double> scores;
          for (const auto& m : out.matches()) {
            rows.push_back(&m.company());
            scores.push_back(m.score());
          }
          PrintCompanyRows(rows, &scores);
          PrintNextPage(out.next_page_token());
        });
  });

  auto quality_req = std::make_shared<v1::GetCompanyQualityRequest>();
  CLI::App* quality = company->add_subcommand("quality", "what a company's record lacks");
  quality->add_option("id", *quality_req->mutable_company_id(), "company id")->required();
  quality->callback([&client, &exit_code, quality_req] {
    Run<v1::DataQuality>(
        client, exit_code,
        [&](v1::DataQuality& out) {
          return client.contacts().GetCompanyQuality(client.Context().get(), *quality_req, &out);
        },
        [&](const v1::DataQuality& out) { PrintQuality(out); });
  });

  auto history_req = std::make_shared<v1::GetCompanyHistoryRequest>();
  CLI::App* history = company->add_subcommand("history", "a company's audit trail");
  history->add_option("id", *history_req->mutable_id(), "company id")->required();
  history->add_option("--page-token", *history_req->mutable_page_token(), "continue");
  history->callback([&client, &exit_code, history_req] {
    Run<v1::GetCompanyHistoryResponse>(
        client, exit_code,
        [&](v1::GetCompanyHistoryResponse& out) {
          return client.contacts().GetCompanyHistory(client.Context().get(), *history_req, &out);
        },
        [&](const v1::GetCompanyHistoryResponse& out) {
          PrintHistory(out.entries());
          PrintNextPage(out.next_page_token());
        });
  });

  // crmctl relationship add|remove FROM TO --type T, crmctl relationship list COMPANY
  CLI::App* rel = app.add_subcommand("relationship", "typed links between companies");
  rel->require_subcommand(1);
  struct RelFlags {
    std::string from, to, type, request_id;
  };
  for (const bool adding : {true, false}) {
    auto rf = std::make_shared<RelFlags>();
    CLI::App* cmd = rel->add_subcommand(
        adding ? "add" : "remove",
        adding ? "FROM is a TYPE of TO (customer, vendor, supplier, partner, distributor, reseller)"
               : "remove a relationship");
    cmd->add_option("from", rf->from, "the subject company id")->required();
    cmd->add_option("to", rf->to, "the related company id")->required();
    cmd->add_option("--type", rf->type, "relationship type")->required();
    cmd->add_option("--request-id", rf->request_id, "idempotency key");
    cmd->callback([&client, &exit_code, rf, adding] {
      auto type = Types().find(absl::AsciiStrToLower(rf->type));
      if (type == Types().end()) {
        UsageError("--type must be customer, vendor, supplier, partner, distributor or reseller");
      }
      v1::Relationship r;
      r.set_company_id(rf->from);
      r.set_related_company_id(rf->to);
      r.set_type(type->second);
      ShowCompany(client, exit_code, [&](Company& out) {
        if (adding) {
          v1::AddRelationshipRequest req;
          *req.mutable_relationship() = r;
          req.set_request_id(rf->request_id);
          return client.contacts().AddRelationship(client.Context().get(), req, &out);
        }
        v1::RemoveRelationshipRequest req;
        *req.mutable_relationship() = r;
        req.set_request_id(rf->request_id);
        return client.contacts().RemoveRelationship(client.Context().get(), req, &out);
      });
    });
  }
  auto rel_list = std::make_shared<v1::ListRelationshipsRequest>();
  CLI::App* rlist = rel->add_subcommand("list", "relationships of a company, both directions");
  rlist->add_option("company", *rel_list->mutable_company_id(), "company id")->required();
  rlist->callback([&client, &exit_code, rel_list] {
    Run<v1::ListRelationshipsResponse>(
        client, exit_code,
        [&](v1::ListRelationshipsResponse& out) {
          return client.contacts().ListRelationships(client.Context().get(), *rel_list, &out);
        },
        [&](const v1::ListRelationshipsResponse& out) {
          for (const auto& r : out.outgoing()) {
            std::cout << "is " << TypeName(r.type()) << " of " << r.related_company_id() << "\n";
          }
          for (const auto& r : out.incoming()) {
            std::cout << r.company_id() << " is " << TypeName(r.type()) << " of it\n";
          }
          std::cout << std::flush;
        });
  });
}

}  // namespace crm::ctl
