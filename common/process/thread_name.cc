#include "common/process/thread_name.h"

#include <pthread.h>

#include <string>

namespace crm::process {

void NameThisThread(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  // Fails only for a name over 15 bytes, which the cut rules out; a name is a diagnostic aid.
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace crm::process
