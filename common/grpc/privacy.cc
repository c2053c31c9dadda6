#include "common/grpc/privacy.h"

#include <map>
#include <mutex>

#include "crm/common/v1/privacy.pb.h"

namespace crm::grpcutil {
namespace {

namespace pb = google::protobuf;

bool IsPersonal(const pb::FieldDescriptor& f) {
  return f.options().GetExtension(crm::common::v1::personal_data);
}

// A history change to a personal field: crm.contact.v1.FieldChange with a "personal" path.
bool IsPersonalChange(const pb::Message& m) {
  if (m.GetDescriptor()->full_name() != "crm.contact.v1.FieldChange") return false;
  const pb::FieldDescriptor* path = m.GetDescriptor()->FindFieldByName("path");
  return path != nullptr && m.GetReflection()->GetString(m, path).starts_with("personal");
}

bool CanHold(const pb::Descriptor& type, std::set<const pb::Descriptor*>& seen) {
  if (type.full_name() == "crm.contact.v1.FieldChange") return true;
  if (!seen.insert(&type).second) return false;
  for (int i = 0; i < type.field_count(); ++i) {
    const pb::FieldDescriptor* f = type.field(i);
    if (IsPersonal(*f)) return true;
    if (f->message_type() != nullptr && CanHold(*f->message_type(), seen)) return true;
  }
  return false;
}

// Masks every string in `m`, at any depth.
void MaskAll(pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->type() == pb::FieldDescriptor::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          r->SetRepeatedString(&m, f, i, MaskValue(r->GetRepeatedString(m, f, i)));
        }
      } else {
        r->SetString(&m, f, MaskValue(r->GetString(m, f)));
      }
    } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) MaskAll(*r->MutableRepeatedMessage(&m, f, i));
      } else {
        MaskAll(*r->MutableMessage(&m, f));
      }
    }
  }
}

// Calls `visit(message, field)` for each set field of `m` that is personal, and
// `change(message)` for each personal history change, at any depth; `owner` is the id of the
// innermost record around them.
template <typename Message, typename Visit, typename Change>
void Walk(Message& m, const std::string& owner, const Visit& visit, const Change& change) {
  const pb::Reflection* r = m.GetReflection();
  std::string id = owner;
  for (const char* name : {"id", "contact_id", "record_id"}) {
    const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
    if (f != nullptr && f->type() == pb::FieldDescriptor::TYPE_STRING && !f->is_repeated() &&
        !r->GetString(m, f).empty()) {
      id = r->GetString(m, f);
      break;
    }
  }
  if (IsPersonalChange(m)) {
    change(m, id);
    return;
  }
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (IsPersonal(*f)) {
      visit(m, *f, id);
      continue;
    }
    if (f->type() != pb::FieldDescriptor::TYPE_MESSAGE ||
        !CanHoldPersonalData(*f->message_type())) {
      continue;
    }
    if (f->is_map()) continue;  // maps hold no personal fields
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if constexpr (std::is_const_v<Message>) {
          Walk(r->GetRepeatedMessage(m, f, i), id, visit, change);
        } else {
          Walk(*r->MutableRepeatedMessage(&m, f, i), id, visit, change);
        }
      }
    } else {
      if constexpr (std::is_const_v<Message>) {
        Walk(r->GetMessage(m, f), id, visit, change);
      } else {
        Walk(*r->MutableMessage(&m, f), id, visit, change);
      }
    }
  }
}

}  // namespace

std::string MaskValue(std::string_view value) {
  if (value.empty()) return "";
  const size_t at = value.find('@');
  if (at != std::string_view::npos && at > 0) {
    return std::string(value.substr(0, 1)) + "***" + std::string(value.substr(at));
  }
  const bool phone = value[0] == '+' || (value[0] >= '0' && value[0] <= '9');
  if (phone && value.size() > 4) return "***" + std::string(value.substr(value.size() - 2));
  // The first character, whole (UTF-8: its continuation bytes too).
  size_t first = 1;
  while (first < value.size() && (static_cast<unsigned char>(value[first]) & 0xC0) == 0x80) {
    ++first;
  }
  return std::string(value.substr(0, first)) + "***";
}

bool CanHoldPersonalData(const pb::Descriptor& type) {
  static std::mutex mu;
  static std::map<const pb::Descriptor*, bool> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto it = cache.find(&type);
  if (it != cache.end()) return it->second;
  std::set<const pb::Descriptor*> seen;
  const bool can = CanHold(type, seen);
  cache[&type] = can;
  return can;
}

bool MaskPersonalData(pb::Message& message) {
  bool masked = false;
  Walk(
      message, "",
      [&](pb::Message& m, const pb::FieldDescriptor& f, const std::string&) {
        const pb::Reflection* r = m.GetReflection();
        if (f.type() == pb::FieldDescriptor::TYPE_STRING) {
          if (f.is_repeated()) {
            for (int i = 0; i < r->FieldSize(m, &f); ++i) {
              r->SetRepeatedString(&m, &f, i, MaskValue(r->GetRepeatedString(m, &f, i)));
            }
          } else {
            r->SetString(&m, &f, MaskValue(r->GetString(m, &f)));
          }
        } else if (f.type() == pb::FieldDescriptor::TYPE_MESSAGE) {
          if (f.is_repeated()) {
            for (int i = 0; i < r->FieldSize(m, &f); ++i) {
              MaskAll(*r->MutableRepeatedMessage(&m, &f, i));
            }
          } else {
            MaskAll(*r->MutableMessage(&m, &f));
          }
        } else {
          r->ClearField(&m, &f);
        }
        masked = true;
      },
      [&](pb::Message& change, const std::string&) {
        const pb::Reflection* r = change.GetReflection();
        for (const char* name : {"before", "after"}) {
          const pb::FieldDescriptor* f = change.GetDescriptor()->FindFieldByName(name);
          if (f != nullptr && !r->GetString(change, f).empty()) r->SetString(&change, f, "\"***\"");
        }
        masked = true;
      });
  return masked;
}

void PersonalDataSubjects(const pb::Message& message, std::set<std::string>& subjects) {
  Walk(
      message, "",
      [&](const pb::Message&, const pb::FieldDescriptor&, const std::string& owner) {
        if (!owner.empty()) subjects.insert(owner);
      },
      [&](const pb::Message&, const std::string& owner) {
        if (!owner.empty()) subjects.insert(owner);
      });
}

}  // namespace crm::grpcutil
