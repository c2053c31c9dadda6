// Erasure: what the interactions, cases and tasks of an erased person keep — what happened, when,
// by which channel and who owned it, but none of the free text written about them. Every
// projection that keeps these records (this service's, analytics') applies it when the person is
// erased and to any record of theirs applied later, so the result does not depend on the order
// in which the contact and interaction topics are read.
#pragma once

#include "services/interaction/domain/case.h"
#include "services/interaction/domain/interaction.h"
#include "services/interaction/domain/task.h"

namespace crm::interaction {

inline void EraseFreeText(Interaction& i) {
  i.clear_subject();
  i.clear_body();
  i.clear_outcome();
}

inline void EraseFreeText(Case& c) {
  c.clear_subject();
  c.clear_description();
  for (auto& comment : *c.mutable_comments()) comment.clear_body();
}

inline void EraseFreeText(Task& t) {
  t.clear_title();
  t.clear_description();
}

}  // namespace crm::interaction
