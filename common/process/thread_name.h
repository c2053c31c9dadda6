// Names the calling thread as `top -H`, `perf report --sort comm` and a debugger show it, so an
// operator can see which projection or worker a busy thread is. Linux keeps 15 bytes; a longer
// name is cut.
#pragma once

#include <string_view>

namespace crm::process {

void NameThisThread(std::string_view name);

}  // namespace crm::process
