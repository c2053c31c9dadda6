// Protobuf's wire form written by hand, for a message whose parts are already serialised (records
// as a projection stores them, a kept answer): a length-delimited field — an embedded message,
// a string, bytes — appended as its tag, its length and its bytes. Parsers accept fields in any
// order and merge repeated embedded messages, so appended parts make the message they spell.
//
//   std::string contact = kept_contact;                        // a Contact, serialised
//   AppendField(contact, 2, personal.SerializeAsString());   // + PersonalData personal = 2
//
// And read back one embedded message of a serialised one without parsing the rest:
//
//   PersonalData personal;
//   MergeField(stored_contact, 2, personal);                  // Contact.personal only
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace crm::projection {

inline void AppendField(std::string& out, int field, std::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  uint8_t head[10];  // a tag and a length: at most five bytes each
  uint8_t* end =
      WireFormatLite::WriteTagToArray(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, head);
  end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(bytes.size()), end);
  out.append(reinterpret_cast<const char*>(head), static_cast<size_t>(end - head));
  out.append(bytes);
}

// Calls `fn` with the bytes of every occurrence of the length-delimited field `field` (an
// embedded message, a string, bytes) of the serialised message `message`, in order, and appends
// every other field to `rest` (if not null) as it stands: `message` without `field`. False if
// `message` is malformed where it is read or `fn` returns false.
template <typename Fn>
bool SplitField(std::string_view message, int field, std::string* rest, Fn&& fn) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()),
                                            static_cast<int>(message.size()));
  size_t start = 0;  // where the field being read began
  while (const uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) != field ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      const auto end = static_cast<size_t>(in.CurrentPosition());
      if (rest != nullptr) rest->append(message.substr(start, end - start));
      start = end;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) ||
        length > message.size() - static_cast<size_t>(in.CurrentPosition())) {
      return false;  // past the end
    }
    const auto from = static_cast<size_t>(in.CurrentPosition());
    if (!fn(message.substr(from, length)) || !in.Skip(static_cast<int>(length))) return false;
    start = from + length;
  }
  return in.ConsumedEntireMessage();
}

// Calls `fn` with the bytes of every occurrence of the length-delimited field `field` of the
// serialised message `message`, in order, skipping the other fields unparsed. False if
// `message` is malformed where it is read or `fn` returns false.
template <typename Fn>
bool ForEachField(std::string_view message, int field, Fn&& fn) {
  return SplitField(message, field, nullptr, std::forward<Fn>(fn));
}

// Merges the serialised message `bytes` into `into`, as a parser merges a repeated embedded
// message. False if `bytes` is malformed.
inline bool MergeBytes(std::string_view bytes, google::protobuf::MessageLite& into) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  return into.MergeFromCodedStream(&in) && in.ConsumedEntireMessage();
}

// Merges into `into` the embedded message field `field` of the serialised message `message`,
// as parsing the whole message would give it (every occurrence merged, in order), skipping the
// other fields unparsed. False if `message` or the field is malformed.
inline bool MergeField(std::string_view message, int field, google::protobuf::MessageLite& into) {
  return ForEachField(message, field,
                      [&into](std::string_view bytes) { return MergeBytes(bytes, into); });
}

}  // namespace crm::projection
