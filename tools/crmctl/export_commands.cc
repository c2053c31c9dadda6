// crmctl export: everything the caller's tenant holds, from each service's ExportRecords stream,
// into one file per kind of record — a complete copy to keep or take to another system.
//
//   crmctl export --out acme-2026-12-04                 # contacts.jsonl, companies.jsonl, ...
//   crmctl export --out acme-csv --format csv           # contacts.csv, ... (nested values as JSON)
//
// JSON Lines: one record per line in protobuf's JSON mapping with proto field names (as
// --json prints). CSV: a header of the record's fields in declaration order, one row per record;
// strings and numbers as they are, enums by name, nested messages and lists as compact JSON;
// RFC 4180 quoting. Personal data is included only for a caller holding "personal_data".
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/interaction/v1/interaction_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tools/crmctl/cli.h"
#include "tools/crmctl/csv.h"

namespace crm::ctl {
namespace {

namespace pb = google::protobuf;

// The file each kind of record goes to (the oneof field of ExportRecordsResponse).
const std::map<std::string, std::string>& FileStems() {
  static const auto* stems = new std::map<std::string, std::string>{
      {"contact", "contacts"},   {"company", "companies"}, {"interaction", "interactions"},
      {"support_case", "cases"}, {"task", "tasks"},        {"product", "products"},
      {"pipeline", "pipelines"}, {"deal", "deals"},        {"order", "orders"},
      {"segment", "segments"},   {"webhook", "webhooks"}};
  return *stems;
}

// Writes records of each kind to <dir>/<stem>.<format>, opening each file on first use.
class ExportWriter {
 public:
  ExportWriter(std::filesystem::path dir, std::string format)
      : dir_(std::move(dir)), format_(std::move(format)) {}

  // False (with the reason on stderr) if the record cannot be written.
  bool Write(const pb::Message& response) {
    const pb::OneofDescriptor* oneof = response.GetDescriptor()->FindOneofByName("record");
    const pb::FieldDescriptor* field =
        oneof == nullptr ? nullptr
                         : response.GetReflection()->GetOneofFieldDescriptor(response, oneof);
    if (field == nullptr) return true;  // a kind this crmctl does not know: skipped
    auto stem = FileStems().find(field->name());
    if (stem == FileStems().end()) return true;
    const pb::Message& record = response.GetReflection()->GetMessage(response, field);
    pb::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string json;
    if (!pb::util::MessageToJsonString(record, &json, options).ok()) {
      std::cerr << "crmctl: cannot print a " << field->name() << " as JSON\n";
      return false;
    }
    Out& out = Open(stem->second, *record.GetDescriptor());
    if (format_ == "jsonl") {
      out.file << json << "\n";
    } else {
      const nlohmann::json parsed = nlohmann::json::parse(json);
      const pb::Descriptor& type = *record.GetDescriptor();
      for (int i = 0; i < type.field_count(); ++i) {
        if (i > 0) out.file << ",";
        auto it = parsed.find(type.field(i)->name());
        if (it == parsed.end()) continue;
        out.file << CsvCell(it->is_string() ? it->get<std::string>() : it->dump());
      }
      out.file << "\r\n";
    }
    ++out.count;
    return static_cast<bool>(out.file);
  }

  void PrintCounts() const {
    for (const auto& [stem, out] : outs_) {
      PrintRow(stem, std::to_string(out.count));
    }
    PrintRow("written to", dir_.string());
    std::cout << std::flush;
  }

 private:
  struct Out {
    std::ofstream file;
    int64_t count = 0;
  };

  Out& Open(const std::string& stem, const pb::Descriptor& type) {
    auto it = outs_.find(stem);
    if (it != outs_.end()) return it->second;
    Out& out = outs_[stem];
    out.file.open(dir_ / absl::StrCat(stem, ".", format_), std::ios::binary | std::ios::trunc);
    if (format_ == "csv") {
      for (int i = 0; i < type.field_count(); ++i) {
        out.file << (i > 0 ? "," : "") << type.field(i)->name();
      }
      out.file << "\r\n";
    }
    return out;
  }

  const std::filesystem::path dir_;
  const std::string format_;
  std::map<std::string, Out> outs_;
};

// Reads one service's ExportRecords stream into `writer`. Returns the call's status.
template <typename Service, typename Request, typename Response>
grpc::Status ExportFrom(Client& client, const std::string& addr, ExportWriter& writer) {
  auto stub = Service::NewStub(addr.empty() ? client.channel() : client.ChannelTo(addr));
  std::unique_ptr<grpc::ClientContext> ctx = client.Context();
  std::unique_ptr<grpc::ClientReader<Response>> reader = stub->ExportRecords(ctx.get(), Request());
  Response response;
  while (reader->Read(&response)) {
    if (!writer.Write(response)) {
      ctx->TryCancel();
      (void)reader->Finish();
      return grpc::Status(grpc::StatusCode::INTERNAL, "could not write the export");
    }
  }
  return reader->Finish();
}

}  // namespace

void RegisterExportCommands(CLI::App& app, Client& client, int& exit_code) {
  struct Flags {
    std::string out, format = "jsonl", interaction_addr, sales_addr, analytics_addr;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "export", "everything the tenant holds, one file per kind of record (JSON Lines or CSV)");
  cmd->add_option("--out", f->out, "directory to write into (made if missing)")->required();
  cmd->add_option("--format", f->format, "jsonl or csv")->capture_default_str();
  cmd->add_option("--interaction-addr", f->interaction_addr,
                  "the interaction service, when not at --addr (separate services)");
  cmd->add_option("--sales-addr", f->sales_addr, "the sales service, when not at --addr");
  cmd->add_option("--analytics-addr", f->analytics_addr,
                  "the analytics service, when not at --addr");
  cmd->callback([&client, &exit_code, f] {
    if (f->format != "jsonl" && f->format != "csv") UsageError("--format must be jsonl or csv");
    std::error_code error;
    std::filesystem::create_directories(f->out, error);
    if (error) UsageError(absl::StrCat("--out: cannot make ", f->out, ": ", error.message()));
    ExportWriter writer(f->out, f->format);
    const std::vector<std::pair<const char*, std::function<grpc::Status()>>> services = {
        {"contact",
         [&] {
           return ExportFrom<crm::contact::v1::ContactService,
                             crm::contact::v1::ExportRecordsRequest,
                             crm::contact::v1::ExportRecordsResponse>(client, "", writer);
         }},
        {"interaction",
         [&] {
           return ExportFrom<crm::interaction::v1::InteractionService,
                             crm::interaction::v1::ExportRecordsRequest,
                             crm::interaction::v1::ExportRecordsResponse>(
               client, f->interaction_addr, writer);
         }},
        {"sales",
         [&] {
           return ExportFrom<crm::sales::v1::SalesService, crm::sales::v1::ExportRecordsRequest,
                             crm::sales::v1::ExportRecordsResponse>(client, f->sales_addr, writer);
         }},
        {"analytics",
         [&] {
           return ExportFrom<crm::analytics::v1::AnalyticsService,
                             crm::analytics::v1::ExportRecordsRequest,
                             crm::analytics::v1::ExportRecordsResponse>(client, f->analytics_addr,
                                                                        writer);
         }},
    };
    for (const auto& [name, run] : services) {
      const grpc::Status status = run();
      if (!status.ok()) {
        std::cerr << "crmctl: the " << name << " service's export failed\n";
        exit_code = Fail(status);
        return;
      }
    }
    writer.PrintCounts();
  });
}

}  // namespace crm::ctl
