// crmctl import: bulk import of contacts and companies (the contact service) and products and
// orders (the sales service) from CSV or JSON Lines through the service's ImportRecords stream,
// with a report line per row, resumable, undone as a whole by crmctl undo-import.
//
//   crmctl import --kind companies --file companies.jsonl      # an export's own files, as they are
//   crmctl import --kind contacts --file leads.csv --map "E-Mail=email" --map "Notes=-"
//   crmctl undo-import --import-id contacts-20261204T221500-3f9a1c
//
// To copy a tenant: import companies, contacts, products, orders, in that order (each refers to
// the ones before).
//
// Ids: a record keeps the id it had in its source where it can (contacts, companies and orders
// of an export); where it gets another (a product's id follows from the tenant and SKU; a row
// matched to an existing record takes that one's id) crmctl writes FILE.ids.jsonl, and --ids
// FILE.ids.jsonl makes a later file's references follow (an order's product_id):
//
//   crmctl import --kind products --file export/products.jsonl
//   crmctl import --kind orders --file export/orders.jsonl --ids export/products.jsonl.ids.jsonl
//
// Rows: a CSV file has a header; each column is a field of the record (its proto name, e.g.
// job_title, or for a contact given_name, family_name, email, phone, company_id; attributes.KEY
// for one attribute; "-" to skip the column), renamed with --map COLUMN=FIELD. Message, list and
// map fields take JSON (as crmctl export writes them); a list of strings also takes "a;b;c", and
// email and phone columns take several values separated by ";". A JSON Lines file holds one
// record per line in protobuf's JSON mapping (as crmctl export writes them; keys renamed with
// --map too). Row numbers are data rows for CSV (the header is not counted) and lines for JSON
// Lines.
//
// The report (--report, by default FILE.report.jsonl) gets one crm.common.v1.ImportRowResult per
// row in JSON: created, updated (and matched by what), unchanged, or invalid/failed with the
// field and the reason. The progress file (FILE.progress.json) records the import id and the
// rows answered, so running the same command again after an interruption goes on where it
// stopped; rows sent twice are answered with their first outcome and written once.
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crm/contact/v1/contact_service.grpc.pb.h"
#include "crm/sales/v1/sales_service.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tools/crmctl/cli.h"
#include "tools/crmctl/csv.h"

namespace crm::ctl {
namespace {

namespace pb = google::protobuf;
using crm::common::v1::ImportRowResult;
using nlohmann::json;

constexpr int kDefaultBatch = 500;
constexpr int kMaxBatch = 1000;

// One kind of record crmctl imports: the field of ImportRow that carries it, its message type,
// whether the sales service takes it (else the contact service).
struct Kind {
  std::string row_field;
  const pb::Descriptor* type;
  bool sales = false;
};

const std::map<std::string, Kind>& Kinds() {
  static const auto* kinds = new std::map<std::string, Kind>{
      {"contacts", {"contact", crm::contact::v1::Contact::descriptor()}},
      {"companies", {"company", crm::contact::v1::Company::descriptor()}},
      {"products", {"product", crm::sales::v1::Product::descriptor(), true}},
      {"orders", {"order", crm::sales::v1::Order::descriptor(), true}},
  };
  return *kinds;
}

// Column names that are not fields of the record but put a value into one (contacts).
const std::map<std::string, std::string>& ContactAliases() {
  static const auto* aliases = new std::map<std::string, std::string>{
      {"given_name", "personal.given_name"}, {"family_name", "personal.family_name"},
      {"email", "personal.emails"},          {"phone", "personal.phones"},
      {"company_id", "affiliations"},
  };
  return *aliases;
}

// A row read from the file: its number and its record as JSON, or why it cannot be one.
struct SourceRow {
  int64_t row = 0;
  json record;
  std::string error;
};

// A cell of a CSV column as the JSON value of `field`.
json CellValue(const pb::FieldDescriptor& field, const std::string& cell, std::string& error) {
  using T = pb::FieldDescriptor;
  if (field.is_map() || field.is_repeated() || field.cpp_type() == T::CPPTYPE_MESSAGE) {
    json parsed = json::parse(cell, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) return parsed;
    if (field.is_repeated() && field.cpp_type() == T::CPPTYPE_STRING) {
      json list = json::array();
      for (absl::string_view part : absl::StrSplit(cell, ';', absl::SkipWhitespace())) {
        list.push_back(std::string(absl::StripAsciiWhitespace(part)));
      }
      return list;
    }
    if (field.cpp_type() == T::CPPTYPE_MESSAGE && !field.is_repeated()) return cell;  // a time
    error = "is not JSON";
    return nullptr;
  }
  switch (field.cpp_type()) {
    case T::CPPTYPE_BOOL:
      if (cell == "true" || cell == "false") return cell == "true";
      error = "must be true or false";
      return nullptr;
    case T::CPPTYPE_INT32:
    case T::CPPTYPE_UINT32:
    case T::CPPTYPE_DOUBLE:
    case T::CPPTYPE_FLOAT: {
      json number = json::parse(cell, nullptr, false);
      if (number.is_number()) return number;
      error = "is not a number";
      return nullptr;
    }
    default:
      return cell;  // strings, enums by name, 64-bit integers (as strings in JSON)
  }
}

// Puts `value` (a cell or a JSON Lines value) for `target` into `record`; `error` if it cannot.
void Put(const pb::Descriptor& type, json& record, const std::string& target, const json& value,
         bool from_csv, std::string& error) {
  auto text_items = [&](const json& v) {
    std::vector<std::string> items;
    if (v.is_array()) {
      for (const json& item : v) items.push_back(item.is_string() ? item.get<std::string>() : "");
    } else if (v.is_string()) {
      for (absl::string_view part :
           absl::StrSplit(v.get<std::string>(), ';', absl::SkipWhitespace())) {
        items.emplace_back(absl::StripAsciiWhitespace(part));
      }
    }
    return items;
  };
  if (type.name() == "Contact") {
    if (target == "personal.given_name" || target == "personal.family_name") {
      record["personal"][target.substr(9)] = value;
      return;
    }
    if (target == "personal.emails" && (value.is_string() || !from_csv)) {
      if (!value.is_string() && !value.is_array()) {
        error = "must be an email address";
        return;
      }
      if (value.is_array() && !value.empty() && value[0].is_object()) {
        record["personal"]["emails"] = value;  // already EmailAddress objects
        return;
      }
      for (std::string& a : text_items(value)) {
        record["personal"]["emails"].push_back({{"address", a}});
      }
      return;
    }
    if (target == "personal.phones" && (value.is_string() || !from_csv)) {
      if (value.is_array() && !value.empty() && value[0].is_object()) {
        record["personal"]["phones"] = value;
        return;
      }
      for (std::string& n : text_items(value)) {
        record["personal"]["phones"].push_back({{"number", n}});
      }
      return;
    }
    if (target == "affiliations" && value.is_string()) {
      json parsed = json::parse(value.get<std::string>(), nullptr, false);
      if (parsed.is_array()) {
        record["affiliations"] = parsed;
      } else {
        record["affiliations"].push_back({{"company_id", value}});
      }
      return;
    }
  }
  if (absl::StartsWith(target, "attributes.")) {
    record["attributes"][target.substr(11)] =
        value.is_string() ? value.get<std::string>() : value.dump();
    return;
  }
  const pb::FieldDescriptor* field = type.FindFieldByName(target);
  if (field == nullptr) {
    error = absl::StrCat("is not a field of ", type.name());
    return;
  }
  if (from_csv && value.is_string()) {
    std::string why;
    json v = CellValue(*field, value.get<std::string>(), why);
    if (!why.empty()) {
      error = why;
      return;
    }
    record[target] = std::move(v);
    return;
  }
  record[target] = value;
}

// A column's own name as a field name: "Job Title" is job_title.
std::string FieldName(const std::string& column) {
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(column));
  for (char& c : name) {
    if (c == ' ') c = '_';
  }
  return name;
}

// Reads the rows of a CSV or JSON Lines file, renaming columns through the mapping.
class RowReader {
 public:
  RowReader(const std::string& path, std::string format, const pb::Descriptor& type,
            std::map<std::string, std::string> mapping)
      : in_(path, std::ios::binary),
        format_(std::move(format)),
        type_(type),
        mapping_(std::move(mapping)) {}

  bool is_open() const { return static_cast<bool>(in_); }

  // Reads the CSV header; an error names a column that is neither a field nor mapped.
  std::string Start() {
    if (format_ != "csv") return "";
    std::vector<std::string> header;
    std::string error;
    int64_t lines = 0;
    if (!ReadCsvRecord(in_, header, error, lines)) {
      return error.empty() ? "the file is empty (a CSV file starts with a header)" : error;
    }
    if (!header.empty()) header[0] = std::string(absl::StripPrefix(header[0], "\xEF\xBB\xBF"));
    for (const std::string& column : header) {
      const std::string target = Target(column);
      if (target != "-" && !Known(target)) {
        return absl::StrCat("column \"", column, "\" is not a field of ", type_.name(),
                            ": map it with --map \"", column, "=FIELD\" or skip it with --map \"",
                            column, "=-\"");
      }
      columns_.push_back(target);
    }
    return "";
  }

  // The next row; false at the end of the file.
  bool Next(SourceRow& out) {
    out = SourceRow();
    if (format_ == "csv") {
      std::vector<std::string> cells;
      std::string error;
      int64_t lines = 0;
      while (true) {
        const bool read = ReadCsvRecord(in_, cells, error, lines);
        if (!read && error.empty()) return false;
        if (read && cells.size() == 1 && cells[0].empty()) continue;  // a blank line
        break;
      }
      out.row = ++row_;
      if (!error.empty()) {
        out.error = absl::StrCat("row ", out.row, ": ", error);
        return true;
      }
      if (cells.size() != columns_.size()) {
        out.error = absl::StrCat("has ", cells.size(), " fields; the header has ", columns_.size());
        return true;
      }
      out.record = json::object();
      for (size_t i = 0; i < cells.size(); ++i) {
        if (columns_[i] == "-" || cells[i].empty()) continue;
        std::string why;
        Put(type_, out.record, Target(columns_[i]), cells[i], /*from_csv=*/true, why);
        if (!why.empty()) {
          out.error = absl::StrCat("column ", columns_[i], ": ", why);
          return true;
        }
      }
      return true;
    }
    std::string line;
    while (std::getline(in_, line)) {
      ++row_;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      out.row = row_;
      json parsed = json::parse(line, nullptr, false);
      if (!parsed.is_object()) {
        out.error = "is not a JSON object";
        return true;
      }
      out.record = json::object();
      for (auto& [key, value] : parsed.items()) {
        const std::string target = Target(key);
        if (target == "-") continue;
        std::string why;
        Put(type_, out.record, target, value, /*from_csv=*/false, why);
        if (!why.empty()) {
          out.error = absl::StrCat(key, ": ", why);
          return true;
        }
      }
      return true;
    }
    return false;
  }

 private:
  std::string Target(const std::string& column) const {
    auto it = mapping_.find(column);
    std::string target = it == mapping_.end() ? FieldName(column) : it->second;
    if (type_.name() == "Contact") {
      if (auto alias = ContactAliases().find(target); alias != ContactAliases().end()) {
        return alias->second;
      }
    }
    return target;
  }
  bool Known(const std::string& target) const {
    return absl::StartsWith(target, "attributes.") || type_.FindFieldByName(target) != nullptr ||
           (type_.name() == "Contact" && absl::StartsWith(target, "personal."));
  }

  std::ifstream in_;
  const std::string format_;
  const pb::Descriptor& type_;
  const std::map<std::string, std::string> mapping_;
  std::vector<std::string> columns_;
  int64_t row_ = 0;
};

// Ids a record had in its source and has here, when they differ (a product's id follows from its
// tenant and SKU; a row matched to an existing record takes that record's id): written by each
// import to FILE.ids.jsonl as {"from": ..., "to": ...} lines, read back with --ids so that a later
// file's references (an order's contact_id and product_id, a contact's company_id) follow.
using IdMap = std::map<std::string, std::string>;

// Loads the id maps in `paths`; false (with the reason on stderr) if one cannot be read.
bool LoadIds(const std::vector<std::string>& paths, IdMap& ids) {
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << "crmctl: --ids: cannot read " << path << "\n";
      return false;
    }
    for (std::string line; std::getline(in, line);) {
      json entry = json::parse(line, nullptr, false);
      if (!entry.is_object() || !entry.contains("from") || !entry.contains("to")) continue;
      ids[entry["from"].get<std::string>()] = entry["to"].get<std::string>();
    }
  }
  return true;
}

// Replaces in `value` every id that `ids` maps (the string values of keys "id" and "..._id").
void MapIds(json& value, const IdMap& ids, bool is_id = false) {
  if (value.is_string()) {
    if (!is_id) return;
    auto it = ids.find(value.get<std::string>());
    if (it != ids.end()) value = it->second;
  } else if (value.is_array()) {
    for (json& item : value) MapIds(item, ids, is_id);
  } else if (value.is_object()) {
    for (auto& [key, item] : value.items()) {
      MapIds(item, ids, key == "id" || absl::EndsWith(key, "_id") || absl::EndsWith(key, "_ids"));
    }
  }
}

// The import's progress, kept beside the file so a second run resumes the first.
struct Progress {
  std::string import_id;
  std::string kind;
  int64_t rows_done = 0;
  bool complete = false;
};

std::optional<Progress> LoadProgress(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Progress p;
  p.import_id = j.value("import_id", "");
  p.kind = j.value("kind", "");
  p.rows_done = j.value("rows_done", int64_t{0});
  p.complete = j.value("complete", false);
  if (p.import_id.empty()) return std::nullopt;
  return p;
}

bool SaveProgress(const std::string& path, const Progress& p) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json{{"import_id", p.import_id},
                {"kind", p.kind},
                {"rows_done", p.rows_done},
                {"complete", p.complete}}
               .dump()
        << "\n";
    if (!out.flush()) return false;
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  return !error;
}

std::string NewImportId(const std::string& kind) {
  std::random_device random;
  return absl::StrCat(kind, "-",
                      absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone()), "-",
                      absl::StrFormat("%06x", random() & 0xffffff));
}

// Counts of outcomes, for the summary.
struct Tally {
  std::map<crm::common::v1::ImportOutcome, int64_t> outcomes;
  void Add(const ImportRowResult& r) { ++outcomes[r.outcome()]; }
  int64_t Get(crm::common::v1::ImportOutcome o) const {
    auto it = outcomes.find(o);
    return it == outcomes.end() ? 0 : it->second;
  }
};

struct ImportFlags {
  std::string file, kind, format, import_id, report, progress, sales_addr;
  std::vector<std::string> map, ids;
  int batch = kDefaultBatch;
};

// Streams the rows of `reader` to one service's ImportRecords in batches, one batch in flight.
template <typename Service, typename Request, typename Response>
int RunImport(Client& client, const ImportFlags& f, const Kind& kind, RowReader& reader,
              Progress& progress, const std::string& progress_path, std::ofstream& report,
              const IdMap& ids, std::ofstream& id_out, Tally& tally) {
  auto stub = Service::NewStub(kind.sales && !f.sales_addr.empty() ? client.ChannelTo(f.sales_addr)
                                                                   : client.channel());
  std::unique_ptr<grpc::ClientContext> ctx = client.Context();
  ctx->set_deadline(std::chrono::system_clock::time_point::max());  // as long as the file takes
  auto stream = stub->ImportRecords(ctx.get());
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  pb::util::JsonParseOptions parse;

  Request request;
  request.set_import_id(progress.import_id);
  std::vector<ImportRowResult> local;         // rows refused before sending, reported in row order
  std::map<int64_t, std::string> source_ids;  // of the rows in the batch
  int64_t last_row = progress.rows_done;
  // Sends the batch, writes its results and the client's own in row order, records progress.
  auto flush = [&]() -> bool {
    std::vector<ImportRowResult> results = std::move(local);
    local.clear();
    if (request.rows_size() > 0) {
      Response response;
      if (!stream->Write(request) || !stream->Read(&response)) return false;
      for (const auto& r : response.results()) results.push_back(r);
      request.clear_rows();
    }
    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.row() < b.row(); });
    for (const ImportRowResult& r : results) {
      std::string line;
      (void)pb::util::MessageToJsonString(r, &line, print);
      report << line << "\n";
      tally.Add(r);
      auto source = source_ids.find(r.row());
      if (source != source_ids.end() && !r.id().empty() && r.id() != source->second) {
        id_out << json{{"from", source->second}, {"to", r.id()}}.dump() << "\n";
      }
    }
    source_ids.clear();
    report.flush();
    id_out.flush();
    progress.rows_done = last_row;
    if (!SaveProgress(progress_path, progress)) {
      std::cerr << "crmctl: cannot write " << progress_path << "\n";
    }
    return true;
  };

  SourceRow row;
  bool sent_all = true;
  while (reader.Next(row)) {
    if (row.row <= progress.rows_done) continue;  // answered in an earlier run
    last_row = row.row;
    if (row.error.empty()) {
      if (row.record.contains("id") && row.record["id"].is_string()) {
        source_ids[row.row] = row.record["id"].get<std::string>();
      }
      if (!ids.empty()) MapIds(row.record, ids);
      auto* out = request.add_rows();
      out->set_row(row.row);
      pb::Message* record = out->GetReflection()->MutableMessage(
          out, out->GetDescriptor()->FindFieldByName(kind.row_field));
      if (auto s = pb::util::JsonStringToMessage(row.record.dump(), record, parse); !s.ok()) {
        request.mutable_rows()->RemoveLast();
        row.error = std::string(s.message());
      }
    }
    if (!row.error.empty()) {
      ImportRowResult& r = local.emplace_back();
      r.set_row(row.row);
      r.set_outcome(crm::common::v1::IMPORT_OUTCOME_INVALID);
      r.set_code("INVALID_ARGUMENT");
      r.set_error(row.error);
    }
    if (request.rows_size() >= f.batch || local.size() >= static_cast<size_t>(f.batch)) {
      if (!flush()) {
        sent_all = false;
        break;
      }
    }
  }
  if (sent_all && !flush()) sent_all = false;
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return Fail(status);
  if (!sent_all) return Fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream broke"));
  return 0;
}

}  // namespace

void RegisterImportCommands(CLI::App& app, Client& client, int& exit_code) {
  auto f = std::make_shared<ImportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "import contacts, companies, products or orders from CSV or JSON Lines: a report line per "
      "row, resumable "
      "(run the same command again), undone with undo-import; exit 1 if any row was refused");
  cmd->add_option("--file", f->file, "the file to import (.csv, or .jsonl as crmctl export writes)")
      ->required();
  cmd->add_option("--kind", f->kind, "contacts, companies, products or orders")->required();
  cmd->add_option("--sales-addr", f->sales_addr,
                  "the sales service (products, orders), when not at --addr");
  cmd->add_option("--format", f->format, "csv or jsonl (default: from the file's extension)");
  cmd->add_option("--map", f->map,
                  "COLUMN=FIELD: read a column (CSV) or key (JSON Lines) as a field, or COLUMN=- "
                  "to skip it; repeatable");
  cmd->add_option("--ids", f->ids,
                  "FILE.ids.jsonl of an earlier import: references to its records' source ids "
                  "follow them to their ids here (repeatable)");
  cmd->add_option("--import-id", f->import_id,
                  "the import's id (default: the one in the progress file, else a new one)");
  cmd->add_option("--batch", f->batch, "rows per message (1-1000)")->capture_default_str();
  cmd->add_option("--report", f->report, "where the per-row report goes (FILE.report.jsonl)");
  cmd->add_option("--progress", f->progress,
                  "where progress is kept for resuming (FILE.progress.json)");
  cmd->callback([&client, &exit_code, f] {
    auto kind = Kinds().find(f->kind);
    if (kind == Kinds().end()) {
      UsageError("--kind must be contacts, companies, products or orders");
    }
    if (f->batch < 1 || f->batch > kMaxBatch) UsageError("--batch must be 1 to 1000");
    std::string format = f->format;
    if (format.empty()) {
      format = absl::EndsWith(f->file, ".csv") ? "csv" : "jsonl";
    }
    if (format != "csv" && format != "jsonl") UsageError("--format must be csv or jsonl");
    std::map<std::string, std::string> mapping;
    for (const std::string& m : f->map) {
      std::pair<std::string, std::string> kv = absl::StrSplit(m, absl::MaxSplits('=', 1));
      if (kv.first.empty() || kv.second.empty()) UsageError("--map takes COLUMN=FIELD");
      mapping[kv.first] = kv.second;
    }
    RowReader reader(f->file, format, *kind->second.type, mapping);
    if (!reader.is_open()) UsageError(absl::StrCat("--file: cannot read ", f->file));
    if (std::string error = reader.Start(); !error.empty()) {
      UsageError(absl::StrCat("--file: ", error));
    }
    const std::string progress_path =
        f->progress.empty() ? f->file + ".progress.json" : f->progress;
    const std::string report_path = f->report.empty() ? f->file + ".report.jsonl" : f->report;
    Progress progress;
    std::optional<Progress> earlier = LoadProgress(progress_path);
    if (earlier && (f->import_id.empty() || f->import_id == earlier->import_id)) {
      if (earlier->kind != f->kind) {
        UsageError(absl::StrCat(progress_path, " is the progress of importing ", earlier->kind,
                                "; give another --progress or --import-id"));
      }
      progress = *earlier;
      if (progress.complete) {
        PrintRow("import id", progress.import_id);
        PrintRow("status", "already complete (see " + report_path + ")");
        return;
      }
      std::cerr << "crmctl: resuming import " << progress.import_id << " after row "
                << progress.rows_done << "\n";
    } else {
      progress.import_id = f->import_id.empty() ? NewImportId(f->kind) : f->import_id;
      progress.kind = f->kind;
    }
    std::ofstream report(report_path, progress.rows_done > 0 ? std::ios::app : std::ios::trunc);
    if (!report) UsageError(absl::StrCat("--report: cannot write ", report_path));
    if (!SaveProgress(progress_path, progress)) {
      UsageError(absl::StrCat("--progress: cannot write ", progress_path));
    }
    IdMap ids;
    if (!LoadIds(f->ids, ids)) UsageError("--ids: see above");
    std::ofstream id_out(f->file + ".ids.jsonl",
                         progress.rows_done > 0 ? std::ios::app : std::ios::trunc);
    Tally tally;
    const int code =
        kind->second.sales
            ? RunImport<crm::sales::v1::SalesService, crm::sales::v1::ImportRecordsRequest,
                        crm::sales::v1::ImportRecordsResponse>(client, *f, kind->second, reader,
                                                               progress, progress_path, report, ids,
                                                               id_out, tally)
            : RunImport<crm::contact::v1::ContactService, crm::contact::v1::ImportRecordsRequest,
                        crm::contact::v1::ImportRecordsResponse>(client, *f, kind->second, reader,
                                                                 progress, progress_path, report,
                                                                 ids, id_out, tally);
    if (code != 0) {
      std::cerr << "crmctl: import " << progress.import_id << " stopped after row "
                << progress.rows_done << "; run the same command again to go on\n";
      exit_code = code;
      return;
    }
    progress.complete = true;
    SaveProgress(progress_path, progress);
    using crm::common::v1::ImportOutcome;
    PrintRow("import id", progress.import_id);
    PrintRow("rows", std::to_string(progress.rows_done));
    for (const auto& [name, outcome] : std::vector<std::pair<std::string, ImportOutcome>>{
             {"created", crm::common::v1::IMPORT_OUTCOME_CREATED},
             {"updated", crm::common::v1::IMPORT_OUTCOME_UPDATED},
             {"unchanged", crm::common::v1::IMPORT_OUTCOME_UNCHANGED},
             {"invalid", crm::common::v1::IMPORT_OUTCOME_INVALID},
             {"failed", crm::common::v1::IMPORT_OUTCOME_FAILED},
             {"skipped", crm::common::v1::IMPORT_OUTCOME_SKIPPED}}) {
      PrintRow(name, std::to_string(tally.Get(outcome)));
    }
    PrintRow("report", report_path);
    std::cout << std::flush;
    if (tally.Get(crm::common::v1::IMPORT_OUTCOME_INVALID) +
            tally.Get(crm::common::v1::IMPORT_OUTCOME_FAILED) >
        0) {
      exit_code = 1;
    }
  });

  struct UndoFlags {
    std::string import_id, sales_addr;
  };
  auto u = std::make_shared<UndoFlags>();
  CLI::App* undo = app.add_subcommand(
      "undo-import",
      "undo an import as a whole: archive what it created, put back what it changed (contacts "
      "and companies; products deactivated, orders cancelled or refunded)");
  undo->add_option("--import-id", u->import_id, "the import, as crmctl import printed it")
      ->required();
  undo->add_option("--sales-addr", u->sales_addr, "the sales service, when not at --addr");
  undo->callback([&client, &exit_code, u] {
    // An import wrote to the contact service or the sales service: ask both.
    crm::common::v1::ImportUndoSummary total;
    int found = 0;
    auto add = [&](const grpc::Status& status, const crm::common::v1::ImportUndoSummary& s) {
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) return true;
      if (!status.ok()) {
        exit_code = Fail(status);
        return false;
      }
      ++found;
      total.set_records(total.records() + s.records());
      total.set_archived(total.archived() + s.archived());
      total.set_restored(total.restored() + s.restored());
      for (const auto& failure : s.failures()) *total.add_failures() = failure;
      return true;
    };
    auto context = [&] {
      std::unique_ptr<grpc::ClientContext> ctx = client.Context();
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
      return ctx;
    };
    {
      crm::contact::v1::UndoImportRequest request;
      request.set_import_id(u->import_id);
      crm::contact::v1::UndoImportResponse out;
      auto ctx = context();
      const grpc::Status status = client.contacts().UndoImport(ctx.get(), request, &out);
      if (!add(status, out.summary())) return;
    }
    {
      auto sales = crm::sales::v1::SalesService::NewStub(
          u->sales_addr.empty() ? client.channel() : client.ChannelTo(u->sales_addr));
      crm::sales::v1::UndoImportRequest request;
      request.set_import_id(u->import_id);
      crm::sales::v1::UndoImportResponse out;
      auto ctx = context();
      const grpc::Status status = sales->UndoImport(ctx.get(), request, &out);
      if (!add(status, out.summary())) return;
    }
    if (found == 0) {
      exit_code = Fail(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    "import_id: import " + u->import_id + " wrote nothing"));
      return;
    }
    if (client.json()) {
      PrintJson(total);
    } else {
      PrintRow("records", std::to_string(total.records()));
      PrintRow("archived", std::to_string(total.archived()));
      PrintRow("restored", std::to_string(total.restored()));
      PrintRow("failed", std::to_string(total.failures_size()));
      for (const auto& failure : total.failures()) PrintRow(failure.id(), failure.error());
      std::cout << std::flush;
    }
    if (total.failures_size() > 0) exit_code = 1;
  });
}

}  // namespace crm::ctl
