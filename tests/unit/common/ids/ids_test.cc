#include "common/ids/ids.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/ids/random.h"

namespace crm::ids {
namespace {

TEST(Ids, AreWellFormedUniqueAndSortByTime) {
  std::set<std::string> seen;
  std::string previous;
  const absl::Time t0 = absl::FromUnixMillis(1700000000000);
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewId(t0 + absl::Milliseconds(i));
    EXPECT_TRUE(IsWellFormed(id)) << id;
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_LT(previous, id);
    previous = id;
  }
}

// The random part: the last 16 digits (80 bits).
std::string RandomPart(const std::string& id) { return id.substr(10); }

TEST(Ids, AreDistinctAcrossThreadsAndBlocks) {
  // Four threads, each past several of its blocks of randomness.
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;  // 20,000 random bytes: five blocks
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  const absl::Time t0 = absl::FromUnixMillis(1700000000000);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t, t0] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(NewId(t0));
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& ids : made) {
    for (const std::string& id : ids) EXPECT_TRUE(seen.insert(RandomPart(id)).second) << id;
  }
  EXPECT_EQ(seen.size(), size_t{kThreads * kEach});
}

TEST(Ids, AForkedChildDoesNotRepeatItsParentsIds) {
  NewId();  // the parent has a block of randomness, most of it unused
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = NewId();
    const ssize_t written = write(pipe_fds[1], id.data(), id.size());
    _exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  const std::string parents = NewId();
  std::string childs(26, '\0');
  ASSERT_EQ(read(pipe_fds[0], childs.data(), childs.size()), 26);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(IsWellFormed(childs)) << childs;
  EXPECT_NE(RandomPart(childs), RandomPart(parents));
}

TEST(RandomBytes, FillsWhatItIsAskedForAndNeverRepeats) {
  // Sizes of a nonce, a data key, and past the pooled path's limit (straight from OpenSSL).
  for (size_t n : {size_t{12}, size_t{32}, size_t{5000}}) {
    std::set<std::string> seen;
    for (int i = 0; i < 300; ++i) {  // 300 × 32 bytes: past a 4 KB block
      std::string bytes(n, '\0');
      RandomBytes(bytes.data(), bytes.size());
      EXPECT_NE(bytes, std::string(n, '\0'));
      EXPECT_TRUE(seen.insert(bytes).second) << n;
    }
  }
}

TEST(Ids, RejectsOtherShapes) {
  EXPECT_FALSE(IsWellFormed(""));
  EXPECT_FALSE(IsWellFormed("not-an-id"));
  EXPECT_FALSE(IsWellFormed("01ARZ3NDEKTSV4RRFFQ69G5FAU"));  // U is not in the alphabet
  EXPECT_FALSE(IsWellFormed("81ARZ3NDEKTSV4RRFFQ69G5FAV"));  // overflows 128 bits
  EXPECT_TRUE(IsWellFormed("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace crm::ids

namespace crm::ids {
namespace {

TEST(IdFor, IsStableWellFormedAndDistinct) {
  EXPECT_EQ(IdFor("t\0SKU-1"), IdFor("t\0SKU-1"));
  EXPECT_NE(IdFor("t/SKU-1"), IdFor("t/SKU-2"));
  EXPECT_TRUE(IsWellFormed(IdFor("anything")));
}

// IdFor's ids are stored (the same seed must name the same record on every build): the first 16
// bytes of the seed's SHA-256 as 26 Crockford base32 digits, most significant first — values
// computed independently of this code.
TEST(IdFor, KeepsItsEncoding) {
  EXPECT_EQ(IdFor("alice"), "1BV03CJZRE02QHM7Y36A7TERX9");
  EXPECT_EQ(IdFor("tenant/contact-1"), "1HSKY66MVY702M2SB05AV3F43E");
  EXPECT_EQ(IdFor(""), "73P324567W3GA9NYZMS2CPZE94");
}

}  // namespace
}  // namespace crm::ids
