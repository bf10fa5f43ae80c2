// An offline scanner's queue file (services/cli/offline_queue.h) as `herbctl upload` reads it
// back, and the bundle it builds from it (services/cli/bundle.h) with the grower's fixed key. The
// input is the whole file, header included.
//
// Invariants: a queue that reads holds the header and no more records than it has bytes for; a
// bundle is built only from events each signed by the bundle's key, keeps every payload byte for
// byte in queue order, and its root signature verifies over the bundle message for the root of
// exactly those payloads.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "fuzz/fixed_keys.h"
#include "herbtrace/v1/capture.pb.h"
#include "services/cli/bundle.h"
#include "services/cli/offline_queue.h"

namespace herbtrace::fuzz {
namespace {

// The queue lives in an anonymous in-memory file: ReadQueue takes a path, and /proc/self/fd
// gives it one without touching the disk.
struct QueueFile {
  int fd = -1;
  std::string path;
};

const QueueFile& TheQueueFile() {
  static const QueueFile* const file = [] {
    const int fd = memfd_create("herbtrace-fuzz-queue", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    return new QueueFile{fd, absl::StrCat("/proc/self/fd/", fd)};
  }();
  return *file;
}

struct BundleKeys {
  std::unique_ptr<crypto::PrivateKey> grower;
  std::unique_ptr<crypto::Hasher> sha256;
};

const BundleKeys& Keys() {
  static const BundleKeys* const keys = [] {
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!sha256.ok()) std::abort();
    return new BundleKeys{FixedKey(kGrowerKeyFill), *std::move(sha256)};
  }();
  return *keys;
}

bool WriteQueue(absl::string_view bytes) {
  const QueueFile& file = TheQueueFile();
  if (ftruncate(file.fd, 0) != 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = pwrite(file.fd, bytes.data() + done, bytes.size() - done, done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void CheckBundle(const std::vector<v1::SubmitRequest>& queued) {
  const BundleKeys& keys = Keys();
  auto bundle = cli::BuildBundle(queued, *keys.grower, *keys.sha256, kLogOrigin);
  if (!bundle.ok()) return;
  const crypto::PublicKey& key = keys.grower->public_key();
  FUZZ_REQUIRE(static_cast<size_t>(bundle->events_size()) == queued.size());
  std::vector<std::string> payloads;
  for (size_t i = 0; i < queued.size(); ++i) {
    const std::string& payload = queued[i].signed_event().payload();
    FUZZ_REQUIRE(bundle->events(static_cast<int>(i)).payload() == payload);
    FUZZ_REQUIRE(key.Verify(payload, queued[i].signed_event().signature()).ok());
    payloads.push_back(payload);
  }
  FUZZ_REQUIRE(bundle->key_id() == key.key_id());
  const crypto::Digest root = cli::BundleRoot(*keys.sha256, payloads);
  FUZZ_REQUIRE(
      key.Verify(cli::BundleMessage(kLogOrigin, payloads.size(), root), bundle->root_signature())
          .ok());
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herbtrace;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!fuzz::WriteQueue(bytes)) std::abort();
  auto queued = cli::ReadQueue(fuzz::TheQueueFile().path);
  if (!queued.ok()) return 0;
  const size_t header = sizeof(cli::kQueueHeader) - 1;
  FUZZ_REQUIRE(bytes.substr(0, header) == cli::kQueueHeader);
  FUZZ_REQUIRE(queued->size() <= (size - header) / 4);
  fuzz::CheckBundle(*queued);
  return 0;
}
