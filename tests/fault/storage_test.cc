// Storage faults on crm-node: a data directory that cannot be made, a disk that fills up, a
// damaged log record, a projection of an older layout, truncated projections, projections deleted
// while
// the node was stopped, a projection store damaged on disk. The node refuses with a clear error
// or rebuilds from the log; it never serves wrong data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "common/eventlog/embedded_format.h"
#include "common/store/projection_store.h"
#include "rocksdb/db.h"
#include "tests/integration/contact_client.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;

class StorageTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir", dir_.Sub("data")};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // A node with a few contacts; returns their ids and leaves the node stopped.
  std::vector<std::string> Populate(std::map<std::string, std::string>* checksums) {
    Server node = StartServer("crm-node", Args(), dir_.path());
    EXPECT_FALSE(node.addr.empty());
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
      Contact c;
      EXPECT_TRUE(CreateContact(node, "Stored" + std::to_string(i), "Disk", "", &c).ok());
      Contact updated;
      EXPECT_TRUE(UpdateJobTitle(node, c.id(), "Keeper", 1, &updated).ok());
      ids.push_back(c.id());
    }
    for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
      // The other services' projections apply the contact events in the background.
      EXPECT_TRUE(WaitCaughtUp(node, absl::Seconds(30), p)) << p;
      crm::admin::v1::GetProjectionStatusResponse status;
      EXPECT_TRUE(ProjectionStatus(node, &status, p).ok());
      (*checksums)[p] = status.checksum();
    }
    EXPECT_EQ(node.process->Stop(SIGTERM), 0) << node.process->Log();
    return ids;
  }

  // Starts the node and expects every contact and every checksum as before.
  void ExpectServedAsBefore(const std::vector<std::string>& ids,
                            const std::map<std::string, std::string>& checksums) {
    Server node = StartServer("crm-node", Args(), dir_.path());
    ASSERT_FALSE(node.addr.empty());
    for (const std::string& id : ids) {
      Contact read;
      ASSERT_TRUE(GetContact(node, id, &read).ok()) << id;
      EXPECT_EQ(read.job_title(), "Keeper");
      EXPECT_EQ(read.version(), 2);
    }
    for (const auto& [p, checksum] : checksums) {
      ASSERT_TRUE(WaitCaughtUp(node, absl::Seconds(30), p)) << p;
      crm::admin::v1::GetProjectionStatusResponse status;
      ASSERT_TRUE(ProjectionStatus(node, &status, p).ok());
      EXPECT_EQ(status.checksum(), checksum) << p;
    }
  }

  TempDir dir_;
};

TEST_F(StorageTest, ADataDirectoryThatCannotBeMadeIsRefusedByName) {
  // A regular file where a directory should be: not writable, whoever runs the test.
  std::ofstream(dir_.Sub("file")) << "not a directory";
  const std::string data = dir_.Sub("file") + "/data";
  const CommandResult r =
      RunCommand(BinaryPath("crm-node"), {"--listen", "127.0.0.1:0", "--data-dir", data}, {},
                 absl::Seconds(20));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(data), std::string::npos) << r.err;
}

TEST_F(StorageTest, ProjectionsDeletedWhileStoppedAreRebuiltFromTheLog) {
  std::map<std::string, std::string> checksums;
  const std::vector<std::string> ids = Populate(&checksums);
  for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
    fs::remove_all(dir_.Sub("data") + "/" + p);
  }
  ExpectServedAsBefore(ids, checksums);
}

TEST_F(StorageTest, AProjectionOfAnotherLayoutIsRebuiltFromTheLog) {
  std::map<std::string, std::string> checksums;
  const std::vector<std::string> ids = Populate(&checksums);
  // As a build with another layout of the analytics projection would leave it: the layout
  // recorded, and something this build would misread.
  {
    auto other = store::ProjectionStore::OpenProjection(dir_.Sub("data") + "/analytics",
                                                        "analytics/0", false);
    ASSERT_TRUE(other.ok()) << other.status();
    auto b = (*other)->NewBatch();
    b.Put(store::Cf::kState, "c/\0stray", "not a contact");
    ASSERT_TRUE((*other)->Commit(b).ok());
  }
  ExpectServedAsBefore(ids, checksums);
}

TEST_F(StorageTest, AFullDiskFailsWritesWithoutLosingAnyAcknowledgedOne) {
  // The node may write no file beyond 1 MiB (as on a disk that fills up): writes fail with
  // EFBIG instead of SIGXFSZ killing it.
  std::vector<std::string> args = {"-c", "ulimit -f 1024 && trap '' XFSZ && exec \"$@\"",
                                   "crm-node", BinaryPath("crm-node")};
  for (const std::string& a : Args()) args.push_back(a);
  Server node = StartServer("/bin/bash", args, dir_.path());
  ASSERT_FALSE(node.addr.empty());
  std::vector<std::string> acknowledged;
  grpc::Status failed;
  for (int i = 0; i < 5000 && failed.ok(); ++i) {
    Contact c;
    failed = CreateContact(node, "Full" + std::to_string(i), "Disk",
                           "full" + std::to_string(i) + "@example.com", &c);
    if (failed.ok()) acknowledged.push_back(c.id());
  }
  ASSERT_FALSE(failed.ok()) << "the file size limit was never reached";
  EXPECT_TRUE(failed.error_code() == grpc::StatusCode::UNAVAILABLE ||
              failed.error_code() == grpc::StatusCode::INTERNAL ||
              failed.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      << failed.error_code() << " " << failed.error_message();
  // The first store to hit the limit decides what the node does: the log refuses the append
  // (UNAVAILABLE), a projection that cannot commit stops the process with a critical log line
  // (the caller sees the connection drop) rather than serve what it could not record.
  node.process->Kill();

  // With room again, every acknowledged write is there.
  Server again = StartServer("crm-node", Args(), dir_.path());
  ASSERT_FALSE(again.addr.empty());
  ASSERT_TRUE(WaitCaughtUp(again, absl::Seconds(60), "contact"));
  for (const std::string& id : acknowledged) {
    Contact read;
    ASSERT_TRUE(GetContact(again, id, &read).ok()) << id;
  }
  Contact after;
  EXPECT_TRUE(CreateContact(again, "After", "Disk", "", &after).ok());
}

TEST_F(StorageTest, ADamagedLogRecordStopsTheRebuildThereAndSaysSo) {
  std::map<std::string, std::string> checksums;
  Populate(&checksums);
  // Damage the first record of the contact topic in the embedded log: its framing says the key
  // is longer than the record.
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("data") + "/log", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    std::string key;
    for (int32_t partition = 0; key.empty() && partition < 64; ++partition) {
      const std::string p = eventlog::embedded::PartitionPrefix('r', "crm.contact.v1", partition);
      it->Seek(p);
      if (it->Valid() && it->key().starts_with(p)) key = it->key().ToString();
    }
    ASSERT_FALSE(key.empty());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, std::string("\xff\xff\xff\xff!", 5)).ok());
  }
  // Rebuilt from the log, the contact projection cannot pass the damaged record: the node says
  // why and is not ready, rather than serving a projection with a hole in it.
  Process node(BinaryPath("crm-node"), Args({"--rebuild"}), {}, dir_.path());
  const std::string line = node.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(absl::StartsWith(line, "listening on ")) << line << node.Log();
  auto channel = grpc::CreateChannel(line.substr(std::string_view("listening on ").size()),
                                     grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WaitFor([&] {
    return node.Log().find("embedded log: a record") != std::string::npos;
  })) << node.Log();
  EXPECT_EQ(HealthStatus(*channel), 2);              // NOT_SERVING: not ready
  EXPECT_EQ(HealthStatus(*channel, "liveness"), 1);  // but alive: no restart would help
}

TEST_F(StorageTest, ATruncatedProjectionCatchesUpFromTheLog) {
  std::map<std::string, std::string> checksums;
  const std::vector<std::string> ids = Populate(&checksums);
  // Cut every projection's write-ahead log in half, as a crash in the middle of writing it
  // would: RocksDB recovers the whole batches before the cut, each with the log position it
  // applied, and the projection applies the rest again from the log.
  int truncated = 0;
  for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
    for (const auto& entry : fs::directory_iterator(dir_.Sub("data") + "/" + p)) {
      if (entry.path().extension() != ".log" || entry.file_size() < 2) continue;
      fs::resize_file(entry.path(), entry.file_size() / 2);
      ++truncated;
    }
  }
  ASSERT_GE(truncated, 4);
  ExpectServedAsBefore(ids, checksums);
}

TEST_F(StorageTest, ADamagedProjectionIsRefusedWithTheWayOutAndRebuildServesItAgain) {
  std::map<std::string, std::string> checksums;
  const std::vector<std::string> ids = Populate(&checksums);
  // CURRENT names the store's manifest; garbage there makes the store unreadable.
  std::ofstream(dir_.Sub("data") + "/contact/CURRENT", std::ios::trunc) << "garbage\n";
  const CommandResult r = RunCommand(BinaryPath("crm-node"), Args(), {}, absl::Seconds(20));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("contact projection"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--rebuild"), std::string::npos) << r.err;

  // The way out the message gives: rebuild the projections from the log.
  Server rebuilt = StartServer("crm-node", Args({"--rebuild"}), dir_.path());
  ASSERT_FALSE(rebuilt.addr.empty());
  for (const char* p : {"contact", "interaction", "sales", "analytics"}) {
    ASSERT_TRUE(WaitCaughtUp(rebuilt, absl::Seconds(30), p)) << p;
  }
  ASSERT_EQ(rebuilt.process->Stop(SIGTERM), 0) << rebuilt.process->Log();
  ExpectServedAsBefore(ids, checksums);
}

}  // namespace
}  // namespace crm::testing
