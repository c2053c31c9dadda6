// A response written from serialised parts is the message gRPC would have sent; a raw request is
// parsed as a typed one is, and refused with the same words.
#include "common/grpc/wire.h"

#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/projection/wire_field.h"
#include "crm/contact/v1/resources.pb.h"
#include "crm/interaction/v1/interaction_service.pb.h"

namespace crm::grpcutil {
namespace {

namespace cv1 = crm::contact::v1;
namespace iv1 = crm::interaction::v1;

std::string Bytes(grpc::ByteBuffer buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer Buffer(const std::vector<std::string>& parts) {
  std::vector<grpc::Slice> slices(parts.begin(), parts.end());
  return grpc::ByteBuffer(slices.data(), slices.size());
}

TEST(WireWriter, WritesWhatTheTypedMessageSerialisesTo) {
  iv1::ListTimelineResponse typed;
  WireWriter raw;
  // Sizes on both sides of a one-byte length (127), and an item with nothing set.
  for (size_t n : {0, 1, 100, 127, 128, 300, 20000}) {
    iv1::TimelineItem* item = typed.add_items();
    if (n > 0) item->set_id("I");
    item->set_subject(std::string(n, 's'));
    raw.Add(1, item->SerializeAsString());
  }
  typed.set_next_page_token("token");
  raw.Add(2, "token");
  EXPECT_EQ(Bytes(std::move(raw).Finish()), typed.SerializeAsString());
  // A field number past 15 takes a two-byte tag.
  WireWriter high;
  high.Add(2047, "x");
  iv1::ListTimelineResponse parsed;
  const std::string bytes = Bytes(std::move(high).Finish());
  EXPECT_EQ(bytes.size(), 4u);  // two-byte tag, one-byte length, the byte
  EXPECT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.GetReflection()->GetUnknownFields(parsed).field(0).number(), 2047);
}

TEST(ParseRequest, ReadsARequestInOneSliceOrMany) {
  iv1::ListTimelineRequest sent;
  sent.set_contact_id("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  sent.set_page_size(7);
  const std::string bytes = sent.SerializeAsString();
  for (const std::vector<std::string>& parts :
       {std::vector<std::string>{bytes},
        std::vector<std::string>{bytes.substr(0, 3), bytes.substr(3, 10), bytes.substr(13)}}) {
    iv1::ListTimelineRequest got;
    ASSERT_TRUE(ParseRequest(Buffer(parts), got).ok());
    EXPECT_EQ(got.contact_id(), sent.contact_id());
    EXPECT_EQ(got.page_size(), 7);
  }
  iv1::ListTimelineRequest empty;
  EXPECT_TRUE(ParseRequest(grpc::ByteBuffer(), empty).ok());  // an empty request is all defaults
}

TEST(ParseRequest, RefusesDamagedBytesAndNamesAStringThatIsNotUtf8) {
  iv1::ListTimelineRequest got;
  absl::Status damaged = ParseRequest(Buffer({std::string("\xff\xff\xff\xff", 4)}), got);
  EXPECT_EQ(damaged.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(damaged.message(),
            "request: cannot be parsed as this method's request message (damaged or not protobuf)");
  // contact_id (field 1) holding two bytes that are not UTF-8.
  absl::Status utf8 = ParseRequest(Buffer({std::string("\x0a\x02\xff\xfe", 4)}), got);
  EXPECT_EQ(utf8.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(utf8.message(),
            "crm.interaction.v1.ListTimelineRequest.contact_id: not valid UTF-8 (string fields "
            "must be UTF-8)");
  // What one refusal learnt is not said of the next.
  damaged = ParseRequest(Buffer({std::string("\xff\xff\xff\xff", 4)}), got);
  EXPECT_EQ(damaged.message(),
            "request: cannot be parsed as this method's request message (damaged or not protobuf)");
}

// MergeField (common/projection/wire_field.h): one embedded message read out of a serialised
// message gives what parsing the whole of it gives, the other fields passed over unparsed.
TEST(MergeField, ReadsOneEmbeddedMessageAsAFullParseDoes) {
  cv1::Contact contact;
  contact.set_id("C1");
  contact.set_job_title("Engineer");
  contact.set_lifecycle_stage(cv1::LIFECYCLE_STAGE_CUSTOMER);  // varint
  contact.set_archived(true);
  contact.set_version(300);
  contact.mutable_create_time()->set_seconds(1700000000);  // an embedded message before it
  (*contact.mutable_attributes())["tier"] = "gold";
  contact.add_affiliations()->set_company_id("M1");  // repeated embedded messages after it
  contact.add_affiliations()->set_company_id("M2");
  cv1::PersonalData& personal = *contact.mutable_personal();
  personal.set_given_name("Ada");
  personal.set_family_name(std::string(300, 'L'));  // a length over one byte
  personal.add_emails()->set_address("ada@example.com");
  std::string bytes = contact.SerializeAsString();

  cv1::PersonalData read;
  ASSERT_TRUE(projection::MergeField(bytes, cv1::Contact::kPersonalFieldNumber, read));
  EXPECT_EQ(read.SerializeAsString(), personal.SerializeAsString());

  // A field given twice is merged, as a parser merges it: the later name, both emails.
  cv1::PersonalData more;
  more.set_given_name("Augusta");
  more.add_emails()->set_address("augusta@example.com");
  projection::AppendField(bytes, cv1::Contact::kPersonalFieldNumber, more.SerializeAsString());
  cv1::Contact whole;
  ASSERT_TRUE(whole.ParseFromString(bytes));
  cv1::PersonalData merged;
  ASSERT_TRUE(projection::MergeField(bytes, cv1::Contact::kPersonalFieldNumber, merged));
  EXPECT_EQ(merged.SerializeAsString(), whole.personal().SerializeAsString());
  EXPECT_EQ(merged.given_name(), "Augusta");
  EXPECT_EQ(merged.emails_size(), 2);

  // Without the field: nothing merged, and no error.
  contact.clear_personal();
  cv1::PersonalData none;
  ASSERT_TRUE(projection::MergeField(contact.SerializeAsString(),
                                     cv1::Contact::kPersonalFieldNumber, none));
  EXPECT_EQ(none.ByteSizeLong(), 0u);
  ASSERT_TRUE(projection::MergeField("", cv1::Contact::kPersonalFieldNumber, none));
}

// A message split at one field: every copy of the field handed over in order, and the rest
// exactly the message without it (every other field's bytes as they stood, in their order).
TEST(SplitField, HandsOverEachCopyOfAFieldAndKeepsTheRestAsItStood) {
  cv1::Contact contact;
  contact.set_id("C1");
  contact.set_version(300);
  contact.mutable_create_time()->set_seconds(1700000000);
  (*contact.mutable_attributes())["tier"] = "gold";
  contact.add_tags("vip");
  contact.mutable_personal()->set_given_name("Ada");
  contact.add_affiliations()->set_company_id("M1");
  std::string bytes = contact.SerializeAsString();
  cv1::PersonalData more;
  more.set_family_name("Lovelace");
  projection::AppendField(bytes, cv1::Contact::kPersonalFieldNumber, more.SerializeAsString());
  bytes += cv1::Contact().SerializeAsString();  // nothing: a message may end anywhere
  cv1::Contact tail;
  tail.set_job_title("Countess");
  bytes += tail.SerializeAsString();

  std::vector<std::string> copies;
  std::string rest;
  ASSERT_TRUE(projection::SplitField(bytes, cv1::Contact::kPersonalFieldNumber, &rest,
                                     [&](std::string_view b) {
                                       copies.emplace_back(b);
                                       return true;
                                     }));
  EXPECT_EQ(copies, (std::vector<std::string>{contact.personal().SerializeAsString(),
                                              more.SerializeAsString()}));
  cv1::Contact without = contact;
  without.clear_personal();
  EXPECT_EQ(rest, without.SerializeAsString() + tail.SerializeAsString());
  // No rest asked for, or the callback refusing.
  int seen = 0;
  EXPECT_TRUE(projection::ForEachField(bytes, cv1::Contact::kPersonalFieldNumber,
                                       [&](std::string_view) { return ++seen > 0; }));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(projection::SplitField(bytes, cv1::Contact::kPersonalFieldNumber, &rest,
                                      [](std::string_view) { return false; }));
  // Cut inside: refused wherever a parser refuses it.
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    cv1::Contact whole;
    if (whole.ParseFromString(bytes.substr(0, cut))) continue;
    std::string r;
    EXPECT_FALSE(projection::SplitField(bytes.substr(0, cut), cv1::Contact::kPersonalFieldNumber,
                                        &r, [](std::string_view) { return true; }))
        << "cut at " << cut;
  }
}

TEST(MergeField, RefusesDamagedBytes) {
  cv1::Contact contact;
  contact.set_id("C1");
  contact.mutable_personal()->set_given_name("Ada");
  contact.set_version(7);
  const std::string bytes = contact.SerializeAsString();
  cv1::PersonalData read;
  // Cut anywhere inside: in the field read, or in one passed over.
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    cv1::PersonalData p;
    cv1::Contact whole;
    if (whole.ParseFromString(bytes.substr(0, cut))) continue;  // a cut a parser accepts too
    EXPECT_FALSE(
        projection::MergeField(bytes.substr(0, cut), cv1::Contact::kPersonalFieldNumber, p))
        << "cut at " << cut;
  }
  // The field's own bytes damaged: a length past its end.
  std::string damaged;
  projection::AppendField(damaged, cv1::Contact::kPersonalFieldNumber,
                          "\x0a\x09"
                          "Ada");
  EXPECT_FALSE(projection::MergeField(damaged, cv1::Contact::kPersonalFieldNumber, read));
  // A zero tag.
  EXPECT_FALSE(
      projection::MergeField(std::string("\0", 1), cv1::Contact::kPersonalFieldNumber, read));
}

}  // namespace
}  // namespace crm::grpcutil
