// Protobuf's wire form written by hand, for a message whose parts are already serialised (records
// as a projection stores them, a kept answer): a length-delimited field — an embedded message,
// a string, bytes — appended as its tag, its length and its bytes. Parsers accept fields in any
// order and merge repeated embedded messages, so appended parts make the message they spell.
//
//   std::string contact = kept_contact;                        // a Contact, serialised
//   AppendField(contact, 2, personal.SerializeAsString());   // + PersonalData personal = 2
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace crm::projection
