// Parsing random bytes makes protobuf log every invalid UTF-8 string it meets: expected here, so
// the fuzz targets silence it once, before the first input.
#pragma once

#include <string>

#include "google/protobuf/stubs/logging.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}
