// crm-bench's data generator: writes a CRM's worth of events straight onto an event log, as the
// services themselves would have written them (a contact's personal data sealed with the contact
// service's keys), so the rebuild and scale scenarios start from a large log in seconds instead
// of hours of gRPC writes.
//
//   GenerateOptions o;
//   o.contacts = 10000;
//   ASSIGN_OR_RETURN(GeneratedLog g, GenerateLog(log, o));   // g.contact_ids for the reads
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/key_vault.h"
#include "common/eventlog/event_log.h"

namespace crm::bench {

struct GenerateOptions {
  int64_t contacts = 0;
  // Per contact, after its ContactCreated.
  int interactions_per_contact = 2;
  int orders_per_contact = 1;
  // Keep the contact ids (the scale scenario reads them back).
  bool keep_ids = false;
  // The data keys of the contact service that will apply the log (the vault under its data
  // directory, closed again before it opens it): each contact's personal data is sealed with its
  // key, as the contact service seals it on its write path, and its projection opens it at apply.
  // Without keys the personal data goes on the log in the clear, as from a build before sealing.
  crypto::DataKeys* seal_with = nullptr;
};

// The tenant of every generated event.
inline constexpr char kGeneratedTenant[] = "default";

struct GeneratedLog {
  int64_t events = 0;
  int64_t contacts = 0;
  int64_t interactions = 0;
  int64_t orders = 0;
  int64_t bytes = 0;             // serialized envelopes
  std::string first_contact_id;  // named ContactGivenName(0) ContactFamilyName(0)
  std::vector<std::string> contact_ids;
};

// The given name of generated contact `i` (its family name is ContactFamilyName(i)); a search
// for the first letters of it finds the contact.
std::string ContactGivenName(int64_t i);
std::string ContactFamilyName(int64_t i);

// Appends the events and waits until the log holds them durably. Contacts get names spread like
// real ones; orders buy one of 200 products; everything is dated from 2025-01-01 on.
// INTERNAL if an append fails.
absl::StatusOr<GeneratedLog> GenerateLog(eventlog::EventLog& log, const GenerateOptions& options);

}  // namespace crm::bench
