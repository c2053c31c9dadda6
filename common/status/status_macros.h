// Status helpers that abseil 20220623 does not ship yet.
//
//   RETURN_IF_ERROR(store->Put(key, value));
//   ASSIGN_OR_RETURN(auto contact, LoadContact(id));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CRM_STATUS_CONCAT_INNER(a, b) a##b
#define CRM_STATUS_CONCAT(a, b) CRM_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status crm_status_ = (expr);       \
    if (!crm_status_.ok()) return crm_status_; \
  } while (false)

#define CRM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

// Evaluates `expr` (a StatusOr); returns its status if not OK, else assigns its value to `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CRM_ASSIGN_OR_RETURN_IMPL(CRM_STATUS_CONCAT(crm_statusor_, __LINE__), lhs, expr)
