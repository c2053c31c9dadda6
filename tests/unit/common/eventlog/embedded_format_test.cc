// The embedded log's on-disk format: what it writes reads back, and a damaged entry is DATA_LOSS
// instead of a read past its end.
#include "common/eventlog/embedded_format.h"

#include <gtest/gtest.h>

namespace crm::eventlog::embedded {
namespace {

TEST(EmbeddedFormat, EntriesReadBackAsWritten) {
  const std::string record = EncodeRecord("key", std::string("v\0lue", 5));
  auto decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->first, "key");
  EXPECT_EQ(decoded->second, std::string("v\0lue", 5));
  EXPECT_EQ(*DecodeRecord(EncodeRecord("", "")), std::pair(std::string_view(), std::string_view()));

  EXPECT_EQ(*DecodeOffset(EncodeOffset(1234567890123)), 1234567890123);
  EXPECT_EQ(*DecodePartitionCount(EncodePartitionCount(16)), 16);
  EXPECT_EQ(*DecodeEndKey(PartitionPrefix('e', "crm.contact.v1", 7)),
            std::pair(std::string("crm.contact.v1"), 7));
  const std::string prefix = PartitionPrefix('r', "crm.sales.v1", 3);
  EXPECT_EQ(*DecodeRecordOffset(RecordKey("crm.sales.v1", 3, 42), prefix), 42);
}

TEST(EmbeddedFormat, DamagedEntriesAreDataLossNotReadsPastTheirEnd) {
  const std::string record = EncodeRecord("key", "value");
  for (const std::string& damaged : {std::string(), std::string("\x00\x00", 2), record.substr(0, 6),
                                     std::string("\xff\xff\xff\xff", 4) + "short"}) {
    EXPECT_TRUE(absl::IsDataLoss(DecodeRecord(damaged).status())) << damaged.size();
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeOffset("1234567").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeOffset(EncodeOffset(-1)).status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodePartitionCount("").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeEndKey("ecrm.contact.v1").status()));           // no NUL
  EXPECT_TRUE(absl::IsDataLoss(DecodeEndKey(std::string("et\0\0\0", 5)).status()));  // short
  const std::string prefix = PartitionPrefix('r', "t", 0);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecordOffset(prefix + "1234567", prefix).status()));
  EXPECT_NE(DecodeRecord("").status().message().find("embedded log: a record"), std::string::npos);
}

}  // namespace
}  // namespace crm::eventlog::embedded
