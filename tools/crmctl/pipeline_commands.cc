// crmctl pipeline ... and crmctl forecast: the sales pipelines and the forecast.
#include <iomanip>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/money/money.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::sales::v1;

// ID:NAME:PERCENT -> a stage ("proposal:Proposal:50").
v1::Stage ParseStage(const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int percent = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &percent)) {
    UsageError("--stage must be ID:NAME:PERCENT, e.g. proposal:Proposal:50");
  }
  v1::Stage stage;
  stage.set_id(parts[0]);
  stage.set_name(parts[1]);
  stage.set_probability_bp(percent * 100);
  return stage;
}

void PrintPipeline(const v1::Pipeline& p) {
  PrintRow("id", p.id());
  PrintRow("name", p.name());
  for (const auto& stage : p.stages()) {
    PrintRow("stage", stage.id() + "  " + stage.name() + "  " +
                          std::to_string(stage.probability_bp() / 100) + " %");
  }
  PrintRow("version", std::to_string(p.version()));
  std::cout << std::flush;
}

void PrintForecast(const v1::Forecast& f) {
  std::cout << std::left << std::setw(10) << "MONTH" << std::setw(8) << "DEALS" << std::setw(20)
            << "OPEN" << std::setw(20) << "WEIGHTED"
            << "WON\n";
  for (const auto& m : f.months()) {
    std::cout << std::left << std::setw(10)
              << (std::to_string(m.year()) + "-" + (m.month() < 10 ? "0" : "") +
                  std::to_string(m.month()))
              << std::setw(8) << m.open_deals() << std::setw(20) << money::Format(m.open())
              << std::setw(20) << money::Format(m.weighted()) << money::Format(m.closed_won())
              << "\n";
  }
  PrintRow("open", money::Format(f.open()));
  PrintRow("weighted", money::Format(f.weighted()));
  PrintRow("closed won", money::Format(f.closed_won()));
  PrintRow("commit", money::Format(f.commit()));
  PrintRow("best case", money::Format(f.best_case()));
  for (const auto& r : f.stage_win_rates()) {
    PrintRow("win rate " + r.pipeline_id() + "/" + r.stage_id(),
             std::to_string(r.win_rate_bp() / 100) + " % of " + std::to_string(r.closed_deals()));
  }
  PrintRow("sales cycle", std::to_string(f.average_sales_cycle_seconds() / 86400) + " days");
  if (f.other_currency_deals() > 0) {
    PrintRow("left out", std::to_string(f.other_currency_deals()) + " deals in other currencies");
  }
  std::cout << std::flush;
}

}  // namespace

void RegisterPipelineCommands(CLI::App& app, Client& client, int& exit_code) {
  auto stub = [&client]() { return v1::SalesService::NewStub(client.channel()); };
  CLI::App* pipeline = app.add_subcommand("pipeline", "sales pipelines and their stages");
  pipeline->require_subcommand(1);

  struct Flags {
    std::string id, name, request_id;
    std::vector<std::string> stages;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* create = pipeline->add_subcommand("create", "create a pipeline");
  create->add_option("id", f->id, "pipeline id (a-z 0-9 _ -)")->required();
  create->add_option("--name", f->name, "name")->required();
  create->add_option("--stage", f->stages, "ID:NAME:PERCENT, in order (repeatable)")->required();
  create->add_option("--request-id", f->request_id, "idempotency key");
  create->callback([&client, &exit_code, f, stub] {
    v1::CreatePipelineRequest req;
    req.mutable_pipeline()->set_id(f->id);
    req.mutable_pipeline()->set_name(f->name);
    for (const auto& spec : f->stages) *req.mutable_pipeline()->add_stages() = ParseStage(spec);
    req.set_request_id(f->request_id);
    Run<v1::Pipeline>(
        client, exit_code,
        [&](v1::Pipeline& out) {
          return stub()->CreatePipeline(client.Context().get(), req, &out);
        },
        PrintPipeline);
  });

  CLI::App* update = pipeline->add_subcommand(
      "update", "rename a pipeline or replace its stages (a stage with open deals stays)");
  update->add_option("id", f->id, "pipeline id")->required();
  update->add_option("--name", f->name, "new name");
  update->add_option("--stage", f->stages, "the new stages, ID:NAME:PERCENT in order");
  update->add_option("--request-id", f->request_id, "idempotency key");
  update->callback([&client, &exit_code, f, stub] {
    v1::UpdatePipelineRequest req;
    req.mutable_pipeline()->set_id(f->id);
    if (!f->name.empty()) {
      req.mutable_pipeline()->set_name(f->name);
      req.mutable_update_mask()->add_paths("name");
    }
    if (!f->stages.empty()) {
      for (const auto& spec : f->stages) *req.mutable_pipeline()->add_stages() = ParseStage(spec);
      req.mutable_update_mask()->add_paths("stages");
    }
    if (req.update_mask().paths().empty()) UsageError("give --name or --stage");
    req.set_request_id(f->request_id);
    Run<v1::Pipeline>(
        client, exit_code,
        [&](v1::Pipeline& out) {
          return stub()->UpdatePipeline(client.Context().get(), req, &out);
        },
        PrintPipeline);
  });

  CLI::App* get = pipeline->add_subcommand("get", "show a pipeline");
  get->add_option("id", f->id, "pipeline id")->required();
  get->callback([&client, &exit_code, f, stub] {
    v1::GetPipelineRequest req;
    req.set_id(f->id);
    Run<v1::Pipeline>(
        client, exit_code,
        [&](v1::Pipeline& out) { return stub()->GetPipeline(client.Context().get(), req, &out); },
        PrintPipeline);
  });

  pipeline->add_subcommand("list", "list pipelines")->callback([&client, &exit_code, stub] {
    Run<v1::ListPipelinesResponse>(
        client, exit_code,
        [&](v1::ListPipelinesResponse& out) {
          return stub()->ListPipelines(client.Context().get(), v1::ListPipelinesRequest(), &out);
        },
        [](const v1::ListPipelinesResponse& out) {
          for (const auto& p : out.pipelines()) {
            std::cout << std::left << std::setw(20) << p.id() << std::setw(8) << p.stages_size()
                      << p.name() << "\n";
          }
        });
  });

  struct ForecastFlags {
    std::string from, to, as_of;
  };
  auto ff = std::make_shared<ForecastFlags>();
  auto req = std::make_shared<v1::GetForecastRequest>();
  CLI::App* forecast = app.add_subcommand(
      "forecast", "open pipeline by expected close month, weighted, with commit and best case");
  forecast->add_option("--from", ff->from, "period start (RFC 3339, inclusive)")->required();
  forecast->add_option("--to", ff->to, "period end (RFC 3339, exclusive)")->required();
  forecast->add_option("--currency", *req->mutable_currency_code(), "ISO 4217 code")->required();
  forecast->add_option("--owner", *req->mutable_owner(), "only this owner's deals");
  forecast->add_option("--pipeline", *req->mutable_pipeline_id(), "only this pipeline's deals");
  forecast->add_option("--as-of", ff->as_of, "as it stood then (RFC 3339)");
  forecast->callback([&client, &exit_code, ff, req, stub] {
    *req->mutable_period_start() = ParseTime("--from", ff->from);
    *req->mutable_period_end() = ParseTime("--to", ff->to);
    if (!ff->as_of.empty()) *req->mutable_as_of() = ParseTime("--as-of", ff->as_of);
    Run<v1::Forecast>(
        client, exit_code,
        [&](v1::Forecast& out) { return stub()->GetForecast(client.Context().get(), *req, &out); },
        PrintForecast);
  });
}

}  // namespace crm::ctl
