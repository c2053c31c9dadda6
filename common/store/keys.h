// Key building shared by every projection. Every key starts with a kind letter and the tenant,
// so one tenant's records of one kind are one prefix:
//
//   KindPrefix('d', "acme")              -> "d/acme\0"            every deal of acme
//   KindKey('d', "acme", id)             -> "d/acme\0<id>"        one deal
//   KindPrefix('c', "acme", contact_id)  -> "c/acme\0<id>\0"      what hangs under one contact
#pragma once

#include <string>
#include <string_view>

namespace crm::store {

inline std::string KindPrefix(char kind, std::string_view tenant) {
  std::string k{kind, '/'};
  k.append(tenant);
  k.push_back('\0');
  return k;
}

inline std::string KindKey(char kind, std::string_view tenant, std::string_view id) {
  return KindPrefix(kind, tenant).append(id);
}

inline std::string KindPrefix(char kind, std::string_view tenant, std::string_view id) {
  std::string k = KindKey(kind, tenant, id);
  k.push_back('\0');
  return k;
}

}  // namespace crm::store
