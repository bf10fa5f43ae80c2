// libFuzzer's start-up hook for the targets that parse protobuf: malformed inputs are the
// point, and protobuf's complaints about each of them would only bury a real finding.
#include <cstdint>

#include "google/protobuf/stubs/logging.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
