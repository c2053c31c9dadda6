// The contact projection's key schema, in one place. Every key starts with the tenant.
//
//   kState  "c/" tenant \0 contact_id                -> Contact (deterministic protobuf)
//   kIndex  "s/" tenant \0 term \0 contact_id        -> field kind ('n' name, 'e' email,
//                                                       'p' phone): the search index
//
// Terms are folded words (see common/validation/text_fold.h); phone terms are the E.164 digits
// without "+". Contact ids sort by creation time, so a state scan lists oldest first.
#pragma once

#include <string>
#include <string_view>

namespace crm::contact::keys {

inline std::string TenantPrefix(char kind, std::string_view tenant) {
  std::string k{kind, '/'};
  k.append(tenant);
  k.push_back('\0');
  return k;
}

inline std::string Contact(std::string_view tenant, std::string_view id) {
  std::string k = TenantPrefix('c', tenant);
  k.append(id);
  return k;
}

inline std::string SearchTermPrefix(std::string_view tenant, std::string_view term_prefix) {
  std::string k = TenantPrefix('s', tenant);
  k.append(term_prefix);
  return k;
}

inline std::string SearchEntry(std::string_view tenant, std::string_view term,
                               std::string_view id) {
  std::string k = SearchTermPrefix(tenant, term);
  k.push_back('\0');
  k.append(id);
  return k;
}

}  // namespace crm::contact::keys
