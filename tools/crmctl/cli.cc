#include "tools/crmctl/cli.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <iomanip>
#include <iostream>

#include "absl/status/status.h"

namespace crm::ctl {

void Client::Connect() {
  if (channel_) return;
  channel_ = ChannelTo(globals_.addr);
  contacts_ = crm::contact::v1::ContactService::NewStub(channel_);
  admin_ = crm::admin::v1::AdminService::NewStub(channel_);
  interactions_ = crm::interaction::v1::InteractionService::NewStub(channel_);
}

std::shared_ptr<grpc::Channel> Client::ChannelTo(const std::string& addr) const {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      grpcutil::ChannelCredentials(globals_.security);
  if (!credentials.ok()) UsageError(std::string(credentials.status().message()));
  return grpc::CreateChannel(addr, *credentials);
}

crm::contact::v1::ContactService::Stub& Client::contacts() {
  Connect();
  return *contacts_;
}

crm::admin::v1::AdminService::Stub& Client::admin() {
  Connect();
  return *admin_;
}

std::shared_ptr<grpc::Channel> Client::channel() {
  Connect();
  return channel_;
}

crm::interaction::v1::InteractionService::Stub& Client::interactions() {
  Connect();
  return *interactions_;
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(globals_.timeout_seconds * 1000)));
  grpcutil::Authorize(*ctx, globals_.security);
  return ctx;
}

void UsageError(const std::string& message) {
  std::cerr << "crmctl: " << message << std::endl;
  std::exit(2);
}

int Fail(const grpc::Status& s) {
  // gRPC's codes are absl's, one for one.
  std::cerr << "crmctl: " << absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code()))
            << ": " << s.error_message() << std::endl;
  return 1;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  std::cout << out << std::endl;
}

google::protobuf::Timestamp ParseTime(const std::string& flag, const std::string& value) {
  google::protobuf::Timestamp t;
  if (!google::protobuf::util::TimeUtil::FromString(value, &t)) {
    UsageError(flag + " must be an RFC 3339 time such as 2026-01-01T00:00:00Z");
  }
  return t;
}

void PrintRow(const std::string& key, const std::string& value) {
  if (!value.empty()) std::cout << std::left << std::setw(14) << key << value << "\n";
}

void PrintHistory(
    const google::protobuf::RepeatedPtrField<crm::contact::v1::HistoryEntry>& entries) {
  for (const auto& e : entries) {
    std::string type = e.event_type();
    if (const size_t dot = type.rfind('.'); dot != std::string::npos) type = type.substr(dot + 1);
    std::cout << "v" << e.version() << "  " << google::protobuf::util::TimeUtil::ToString(e.time())
              << "  " << type << (e.actor().empty() ? "" : "  by " + e.actor()) << "\n";
    for (const auto& c : e.changes()) {
      std::cout << "    " << std::left << std::setw(24) << c.path() << " "
                << (c.before().empty() ? "-" : c.before()) << " -> "
                << (c.after().empty() ? "-" : c.after()) << "\n";
    }
  }
  std::cout << std::flush;
}

void PrintQuality(const crm::contact::v1::DataQuality& q) {
  PrintRow("completeness", std::to_string(q.completeness()));
  PrintRow("stale", q.stale() ? "yes" : "");
  for (const auto& i : q.issues()) std::cout << "  - " << i.message() << "\n";
  std::cout << std::flush;
}

void PrintNextPage(const std::string& token) {
  if (!token.empty()) std::cout << "next page: --page-token " << token << "\n";
}

namespace {
// "RULE_RUN_STATE_" of RULE_RUN_STATE_UNSPECIFIED.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type) {
  const std::string& first = type->value(0)->name();
  return first.substr(0, first.size() - std::string("UNSPECIFIED").size());
}
}  // namespace

std::string EnumWord(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  std::string word = v->name().substr(EnumPrefix(type).size());
  for (char& c : word) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return word;
}

std::optional<int> ParseEnumWord(const google::protobuf::EnumDescriptor* type,
                                 const std::string& word) {
  std::string name = EnumPrefix(type);
  for (char c : word) name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  const google::protobuf::EnumValueDescriptor* v = type->FindValueByName(name);
  if (v == nullptr || v->number() == 0) return std::nullopt;
  return v->number();
}

}  // namespace crm::ctl
