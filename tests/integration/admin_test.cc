// The operator tools against a real crm-node: the log decoded, positions and lag, an in-place
// rebuild, checkpoints and restoring one, request ids in the logs; over gRPC and via crmctl.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "crm/contact/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace av1 = crm::admin::v1;

constexpr char kContactTopic[] = "crm.contact.v1";
const char* const kProjections[] = {"contact", "interaction", "sales", "analytics"};

class AdminTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    node_ = testing::StartNode(dir_, std::move(extra));
    ASSERT_FALSE(node_.addr.empty());
  }
  void Stop() { ASSERT_EQ(node_.process->Stop(SIGTERM), 0) << node_.process->Log(); }

  // Creates a contact, sending the request and correlation ids as metadata when given.
  Contact Create(const std::string& given, const std::string& request_id = "",
                 const std::string& correlation_id = "") {
    crm::contact::v1::CreateContactRequest req;
    req.mutable_contact()->mutable_personal()->set_given_name(given);
    req.mutable_contact()->mutable_personal()->set_family_name("Admin");
    auto ctx = Ctx();
    if (!request_id.empty()) ctx->AddMetadata("x-request-id", request_id);
    if (!correlation_id.empty()) ctx->AddMetadata("x-correlation-id", correlation_id);
    crm::contact::v1::CreateContactResponse resp;
    const grpc::Status s = node_.contacts->CreateContact(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.contact();
  }

  std::map<std::string, std::string> Checksums() {
    std::map<std::string, std::string> out;
    for (const char* p : kProjections) {
      EXPECT_TRUE(WaitCaughtUp(node_, absl::Seconds(30), p)) << p;
      av1::GetProjectionStatusResponse status;
      EXPECT_TRUE(ProjectionStatus(node_, &status, p).ok()) << p;
      out[p] = status.checksum();
    }
    return out;
  }

  grpc::Status ReadLog(const av1::ReadLogRequest& req, av1::ReadLogResponse* out) {
    return node_.admin->ReadLog(Ctx().get(), req, out);
  }

  CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--addr", node_.addr});
    return RunCommand(BinaryPath("crmctl"), std::move(args));
  }

  TempDir dir_;
  Server node_;
};

TEST_F(AdminTest, ReadLogDecodesFiltersAndPagesThroughEveryRecordOnce) {
  Start();
  const Contact traced = Create("Traced", "req-1", "corr-1");
  const Contact plain = Create("Plain");
  Create("Other");
  Contact updated;
  ASSERT_TRUE(UpdateJobTitle(node_, plain.id(), "Buyer", 1, &updated).ok());

  av1::ReadLogRequest req;
  req.set_topic(kContactTopic);
  av1::ReadLogResponse all;
  ASSERT_TRUE(ReadLog(req, &all).ok());
  EXPECT_TRUE(all.at_end());
  ASSERT_EQ(all.entries_size(), 4);
  std::map<std::string, std::string> correlation;  // aggregate id -> correlation id
  for (const av1::LogEntry& e : all.entries()) {
    EXPECT_EQ(e.topic(), kContactTopic);
    EXPECT_EQ(e.key(), e.event().aggregate_id());
    EXPECT_TRUE(e.error().empty()) << e.error();
    EXPECT_TRUE(e.event().payload().Is<crm::contact::v1::ContactCreated>() ||
                e.event().payload().Is<crm::contact::v1::ContactUpdated>())
        << e.event().event_type();
    if (e.event().event_type() == "crm.contact.v1.ContactCreated") {
      correlation[e.event().aggregate_id()] = e.event().correlation_id();
      if (e.event().aggregate_id() != traced.id()) {
        // Without the header a command correlates by its first event.
        EXPECT_EQ(e.event().correlation_id(), e.event().event_id());
      }
    }
  }
  EXPECT_EQ(correlation[traced.id()], "corr-1");

  // By aggregate, and by event type.
  req.set_aggregate_id(plain.id());
  av1::ReadLogResponse one;
  ASSERT_TRUE(ReadLog(req, &one).ok());
  ASSERT_EQ(one.entries_size(), 2);
  EXPECT_EQ(one.entries(1).event().aggregate_version(), 2);
  req.clear_aggregate_id();
  req.set_event_type("crm.contact.v1.ContactUpdated");
  av1::ReadLogResponse updates;
  ASSERT_TRUE(ReadLog(req, &updates).ok());
  ASSERT_EQ(updates.entries_size(), 1);
  EXPECT_EQ(updates.entries(0).key(), plain.id());

  // One record per page: every record exactly once, then at the end; a later record shows up
  // from the last token (following the log).
  req.clear_event_type();
  req.set_max_records(1);
  std::set<std::pair<int32_t, int64_t>> seen;
  for (int page = 0; page < 10; ++page) {
    av1::ReadLogResponse out;
    ASSERT_TRUE(ReadLog(req, &out).ok());
    for (const auto& e : out.entries()) {
      EXPECT_TRUE(seen.insert({e.partition(), e.offset()}).second) << e.offset();
    }
    req.set_page_token(out.next_page_token());
    if (out.at_end()) break;
  }
  EXPECT_EQ(seen.size(), 4u);
  const Contact late = Create("Late");
  av1::ReadLogResponse follow;
  ASSERT_TRUE(ReadLog(req, &follow).ok());
  ASSERT_EQ(follow.entries_size(), 1);
  EXPECT_EQ(follow.entries(0).key(), late.id());

  // One partition from an offset.
  av1::ReadLogRequest part;
  part.set_topic(kContactTopic);
  part.set_partition(all.entries(0).partition());
  part.set_offset(all.entries(0).offset() + 1);
  av1::ReadLogResponse tail;
  ASSERT_TRUE(ReadLog(part, &tail).ok());
  for (const auto& e : tail.entries()) {
    EXPECT_EQ(e.partition(), part.partition());
    EXPECT_GT(e.offset(), all.entries(0).offset());
  }
  // A token belongs to its request.
  part.set_page_token(follow.next_page_token());
  av1::ReadLogResponse refused;
  const grpc::Status s = ReadLog(part, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "page_token")) << s.error_message();
}

TEST_F(AdminTest, ListProjectionsShowsEveryProjectionCaughtUp) {
  Start();
  Create("Lag");
  Checksums();  // waits for every projection
  av1::ListProjectionsResponse out;
  ASSERT_TRUE(node_.admin->ListProjections(Ctx().get(), {}, &out).ok());
  std::set<std::string> names;
  for (const auto& p : out.projections()) {
    names.insert(p.projection());
    EXPECT_EQ(p.lag(), 0) << p.projection();
    EXPECT_FALSE(p.rebuilding());
    EXPECT_TRUE(p.checksum().empty());  // cheap: no checksum
    EXPECT_GT(p.partitions_size(), 0);
  }
  EXPECT_EQ(names, (std::set<std::string>{"analytics", "contact", "interaction", "sales"}));
}

TEST_F(AdminTest, InPlaceRebuildReproducesEveryChecksumWithoutARestart) {
  Start();
  std::vector<Contact> contacts;
  for (int i = 0; i < 30; ++i) contacts.push_back(Create("R" + std::to_string(i)));
  const auto before = Checksums();
  for (const char* p : kProjections) {
    av1::RebuildProjectionRequest req;
    req.set_projection(p);
    av1::RebuildProjectionResponse out;
    const grpc::Status s = node_.admin->RebuildProjection(Ctx().get(), req, &out);
    ASSERT_TRUE(s.ok()) << p << ": " << s.error_message();
    EXPECT_EQ(out.status().projection(), p);
    ASSERT_TRUE(WaitFor([&] {
      av1::GetProjectionStatusResponse status;
      return ProjectionStatus(node_, &status, p).ok() && !status.rebuilding();
    })) << p;
  }
  EXPECT_EQ(Checksums(), before);
  Contact got;
  ASSERT_TRUE(GetContact(node_, contacts[7].id(), &got).ok());
  EXPECT_EQ(got.personal().given_name(), "R7");
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(*node_.channel) == 1; }));
  // Writes go on after a rebuild, and a restart keeps the rebuilt projection.
  Create("After");
  const auto after_write = Checksums();
  Stop();
  Start();
  EXPECT_EQ(Checksums(), after_write);
}

TEST_F(AdminTest, CheckpointRestoresOnceAndThenStartsNormally) {
  Start();
  const Contact kept = Create("Kept");
  const auto at_checkpoint = Checksums();
  av1::CreateCheckpointRequest req;
  req.set_name("before-upgrade");
  av1::CreateCheckpointResponse made;
  ASSERT_TRUE(node_.admin->CreateCheckpoint(Ctx().get(), req, &made).ok());
  EXPECT_EQ(made.path(), dir_.Sub("data") + "/backups/before-upgrade");
  EXPECT_EQ(std::set<std::string>(made.parts().begin(), made.parts().end()),
            (std::set<std::string>{"analytics", "contact", "contact-keys", "interaction", "log",
                                   "sales"}));
  EXPECT_EQ(made.projections_size(), 4);
  av1::CreateCheckpointResponse again;
  EXPECT_EQ(node_.admin->CreateCheckpoint(Ctx().get(), req, &again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  const Contact lost = Create("Lost");
  Stop();

  // The node's checkpoint holds its log too: everything goes back to the checkpoint.
  Start({"--restore-from", made.path()});
  EXPECT_EQ(Checksums(), at_checkpoint);
  Contact got;
  EXPECT_TRUE(GetContact(node_, kept.id(), &got).ok());
  EXPECT_EQ(GetContact(node_, lost.id(), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  const Contact after = Create("After");
  Stop();
  // Restarting with the setting still in place does not restore again.
  Start({"--restore-from", made.path()});
  EXPECT_TRUE(GetContact(node_, after.id(), &got).ok());
  Stop();

  // On another machine (an empty data directory) the checkpoint brings the data keys along:
  // the personal data sealed in the restored log can be read.
  Server elsewhere = StartServer("crm-node",
                                 {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("elsewhere"),
                                  "--restore-from", made.path()},
                                 dir_.path());
  ASSERT_TRUE(GetContact(elsewhere, kept.id(), &got).ok());
  EXPECT_EQ(got.personal().given_name(), "Kept");
  ASSERT_EQ(elsewhere.process->Stop(SIGTERM), 0) << elsewhere.process->Log();

  Process bad(BinaryPath("crm-node"),
              {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("data"), "--restore-from",
               dir_.Sub("nowhere")},
              {}, dir_.path());
  EXPECT_EQ(bad.Stop(0, absl::Seconds(20)), 2 << 8);
  EXPECT_NE(bad.Log().find("--restore-from/CRM_RESTORE_FROM"), std::string::npos) << bad.Log();
}

TEST_F(AdminTest, EveryCallIsLoggedWithItsRequestAndCorrelationIds) {
  Start({"--log-format", "json", "--log-level", "debug"});
  Create("Logged", "req-42", "corr-42");
  Create("Only-request", "req-43");
  Create("Bad-header", "", "has spaces");  // ignored, not refused
  Stop();
  int found = 0;
  for (absl::string_view line : absl::StrSplit(node_.process->Log(), '\n', absl::SkipEmpty())) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(record.is_object()) << line;
    const std::string message = record["message"].get<std::string>();
    if (!absl::StrContains(message, "/crm.contact.v1.ContactService/CreateContact OK")) continue;
    ++found;
    if (record.value("request_id", "") == "req-42") {
      EXPECT_EQ(record.value("correlation_id", ""), "corr-42") << line;
    } else if (record.value("request_id", "") == "req-43") {
      EXPECT_EQ(record.value("correlation_id", ""), "req-43") << line;  // falls back
    } else {
      EXPECT_FALSE(record.contains("correlation_id")) << line;
    }
  }
  EXPECT_EQ(found, 3) << node_.process->Log();
}

TEST_F(AdminTest, CrmctlAdminCommands) {
  Start();
  const Contact c = Create("Ctl");
  Checksums();
  CommandResult log = Ctl({"admin", "log", "--topic", kContactTopic, "--aggregate", c.id()});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  const nlohmann::json entry = nlohmann::json::parse(log.out, nullptr, false);
  ASSERT_TRUE(entry.is_object()) << log.out;
  EXPECT_EQ(entry["event"]["event_type"], "crm.contact.v1.ContactCreated");
  // Personal data is on the log sealed only.
  EXPECT_FALSE(entry["event"]["payload"]["sealed_personal"]["ciphertext"].is_null()) << log.out;
  EXPECT_FALSE(entry["event"]["payload"]["contact"].contains("personal")) << log.out;
  EXPECT_EQ(log.out.find("Ctl"), std::string::npos) << log.out;

  CommandResult projections = Ctl({"admin", "projections", "--target", node_.addr});
  ASSERT_EQ(projections.exit_code, 0) << projections.err;
  for (const char* p : kProjections) {
    EXPECT_TRUE(absl::StrContains(projections.out, std::string(" ") + p + " ")) << projections.out;
  }
  CommandResult rebuilt = Ctl({"admin", "rebuild", "--projection", "sales", "--wait"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_TRUE(absl::StrContains(rebuilt.out, "caught up")) << rebuilt.out;
  CommandResult checkpoint = Ctl({"admin", "checkpoint", "nightly"});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_TRUE(absl::StrContains(checkpoint.out, dir_.Sub("data") + "/backups/nightly"))
      << checkpoint.out;
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("data") + "/backups/nightly/CHECKPOINT"));
  CommandResult bad = Ctl({"admin", "checkpoint", "Not Valid"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "INVALID_ARGUMENT: name")) << bad.err;
}

}  // namespace
}  // namespace crm::testing
