// ContactProjection: the contact service's RocksDB projection: contacts by id and a search
// index, built only from contact events, plus the queries the API serves from it.
//
// Apply runs on the projector thread; queries run on any thread and read committed state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/projection/projector.h"
#include "common/store/projection_store.h"
#include "crm/contact/v1/contact_service.pb.h"
#include "services/contact/domain/contact.h"

namespace crm::contact {

// The search terms of a contact with the kind of field each came from ('n', 'e' or 'p').
std::map<std::string, char> SearchTerms(const Contact& contact);

// Query words of a search string: one digit string if the whole query looks like a phone
// number, else its folded words.
std::vector<std::string> QueryWords(std::string_view query);

struct ListFilter {
  std::string owner;
  std::string tag;  // lower case
  crm::contact::v1::LifecycleStage lifecycle_stage = crm::contact::v1::LIFECYCLE_STAGE_UNSPECIFIED;
  std::optional<google::protobuf::Timestamp> updated_since;
  bool show_archived = false;
};

struct ListPage {
  std::vector<Contact> contacts;
  // Id of the last contact examined, when more may follow; empty at the end.
  std::string resume_after;
};

struct SearchHit {
  Contact contact;
  double score = 0;
};

class ContactProjection final : public projection::EventApplier {
 public:
  explicit ContactProjection(store::ProjectionStore* store) : store_(store) {}

  bool Handles(std::string_view event_type) const override;
  absl::StatusOr<absl::Status> Apply(const crm::common::v1::EventEnvelope& event,
                                     store::ProjectionStore::Batch& batch) override;

  // Returns the contact, or nullopt if it does not exist.
  absl::StatusOr<std::optional<Contact>> Get(std::string_view tenant, std::string_view id) const;

  // Lists contacts after `resume_after` (exclusive) in id order, examining at most
  // `max_scan` contacts so one call stays bounded even when the filter matches few.
  absl::StatusOr<ListPage> List(std::string_view tenant, const ListFilter& filter,
                                std::string_view resume_after, size_t page_size,
                                size_t max_scan) const;

  // Every contact matching all `words`, best first (ties by id); at most `max_candidates`
  // are examined.
  absl::StatusOr<std::vector<SearchHit>> Search(std::string_view tenant,
                                                const std::vector<std::string>& words,
                                                bool show_archived, size_t max_candidates) const;

 private:
  store::ProjectionStore* const store_;
};

}  // namespace crm::contact
