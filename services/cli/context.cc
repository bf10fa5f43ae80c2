#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "services/cli/commands.h"
#include "services/cli/flags.h"
#include "services/domain/file_io.h"

namespace herbtrace::cli {
namespace {

constexpr absl::string_view kUsagePayload = "herbctl/usage";

// A party's certificate files are set once per shell (export HERBTRACE_CERT=...), not on every
// command; a flag given on the command line wins.
std::string FlagOrEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(env);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status AsUsage(absl::Status status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  return UsageError(status.message());
}

absl::StatusOr<std::string> Context::Arg(size_t i, absl::string_view what) const {
  if (i >= args_.size() || args_[i].empty()) {
    return UsageError(absl::StrCat(args_.empty() ? "" : args_[0], ": missing ", what));
  }
  return args_[i];
}

bool Context::json() const { return absl::GetFlag(FLAGS_json); }

bool Context::offline() const { return !absl::GetFlag(FLAGS_queue).empty(); }

absl::StatusOr<Client*> Context::client() {
  if (client_ == nullptr) {
    ClientOptions options;
    options.server = absl::GetFlag(FLAGS_server);
    options.deadline = absl::GetFlag(FLAGS_deadline);
    options.tls_ca = FlagOrEnv(absl::GetFlag(FLAGS_tls_ca), "HERBTRACE_CA_CERT");
    options.tls_cert = FlagOrEnv(absl::GetFlag(FLAGS_tls_cert), "HERBTRACE_CERT");
    options.tls_key = FlagOrEnv(absl::GetFlag(FLAGS_tls_key), "HERBTRACE_KEY");
    options.allow_plaintext = absl::GetFlag(FLAGS_plaintext);
    if (options.deadline <= absl::ZeroDuration()) return UsageError("--deadline: must be positive");
    auto client = Client::Create(options);
    if (!client.ok()) return AsUsage(client.status());
    client_ = *std::move(client);
  }
  return client_.get();
}

absl::StatusOr<const crypto::PrivateKey*> Context::key() {
  if (key_ == nullptr) {
    const std::string path = absl::GetFlag(FLAGS_key);
    if (path.empty()) return UsageError("--key: the signer's private key (PEM) is required");
    auto pem = domain::ReadFileToString(path);
    if (!pem.ok()) return UsageError(absl::StrCat("--key: ", pem.status().message()));
    auto key = crypto::PrivateKey::FromPem(*pem);
    if (!key.ok()) return UsageError(absl::StrCat("--key ", path, ": ", key.status().message()));
    key_ = *std::move(key);
  }
  return key_.get();
}

absl::StatusOr<const crypto::Hasher*> Context::hasher() {
  if (hasher_ == nullptr) {
    auto algorithm = crypto::ParseHashAlgorithm(absl::GetFlag(FLAGS_hash));
    if (!algorithm.ok()) return UsageError(absl::StrCat("--hash: ", algorithm.status().message()));
    auto hasher = crypto::Hasher::Create(*algorithm);
    if (!hasher.ok()) return hasher.status();
    hasher_ = *std::move(hasher);
  }
  return hasher_.get();
}

absl::StatusOr<std::string> Context::party() const {
  const std::string party = absl::GetFlag(FLAGS_party);
  if (party.empty()) return UsageError("--party: the acting party id is required");
  return party;
}

HerbNames& Context::herbs() {
  if (herbs_ == nullptr) {
    Client* client = nullptr;
    if (!offline()) {
      auto c = this->client();
      if (c.ok()) client = *c;
    }
    herbs_ = std::make_unique<HerbNames>(client);
  }
  return *herbs_;
}

}  // namespace herbtrace::cli
