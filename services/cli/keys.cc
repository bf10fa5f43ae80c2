// keygen and key-proof: signing keys on the device that will use them.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/cli/commands.h"
#include "services/cli/event_builder.h"
#include "services/cli/flags.h"

namespace herbtrace::cli {
namespace {

// Creates `path` with `mode`, refusing to overwrite (a lost key cannot be recovered).
absl::Status WriteNewFile(const std::string& path, const std::string& content, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return UsageError(absl::StrCat(path, ": already exists; not overwriting a key"));
    }
    return absl::PermissionDeniedError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat(path, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunKeygen(Context& ctx) {
  const std::string name = ctx.args().size() > 1 ? ctx.args()[1] : "ed25519";
  auto algorithm = crypto::ParseSignatureAlgorithm(name);
  if (!algorithm.ok())
    return UsageError(absl::StrCat("keygen: \"", name, "\": use ed25519 or sm2"));
  const std::string path = absl::GetFlag(FLAGS_key);
  if (path.empty()) return UsageError("keygen: --key FILE says where to write the private key");
  const std::string pub_path = path + ".pub";
  if (std::filesystem::exists(pub_path)) {
    return UsageError(absl::StrCat(pub_path, ": already exists; not overwriting a key"));
  }
  auto key = crypto::PrivateKey::Generate(*algorithm);
  if (!key.ok()) return key.status();
  auto pem = (*key)->ToPem();
  if (!pem.ok()) return pem.status();
  auto pub = (*key)->public_key().ToPem();
  if (!pub.ok()) return pub.status();
  if (auto s = WriteNewFile(path, *pem, 0600); !s.ok()) return s;
  if (auto s = WriteNewFile(pub_path, *pub, 0644); !s.ok()) return s;
  const crypto::PublicKey& public_key = (*key)->public_key();
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"key_id", public_key.key_id()},
                          {"algorithm", std::string(crypto::SignatureAlgorithmName(*algorithm))},
                          {"public_key_hex", absl::BytesToHexString(public_key.raw())},
                          {"private_key_file", path},
                          {"public_key_file", pub_path}});
    return absl::OkStatus();
  }
  PrintFields(ctx.out(), {{"key id", public_key.key_id()},
                          {"algorithm", std::string(crypto::SignatureAlgorithmName(*algorithm))},
                          {"public key", absl::BytesToHexString(public_key.raw())},
                          {"private", absl::StrCat(path, " (mode 0600)")},
                          {"public", pub_path}});
  return absl::OkStatus();
}

absl::Status RunKeyProof(Context& ctx) {
  auto key = ctx.key();
  if (!key.ok()) return key.status();
  std::string owner = absl::GetFlag(FLAGS_owner);
  if (owner.empty()) owner = absl::GetFlag(FLAGS_party);
  if (owner.empty()) return UsageError("key-proof: --owner (or --party) names the key's party");
  auto new_key =
      MakeNewKey(**key, absl::GetFlag(FLAGS_origin), owner, absl::GetFlag(FLAGS_device_label));
  if (!new_key.ok()) return new_key.status();
  const std::string pop = absl::Base64Escape(new_key->proof_of_possession());
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"key_id", (*key)->public_key().key_id()},
                          {"owner", owner},
                          {"origin", absl::GetFlag(FLAGS_origin)},
                          {"proof_of_possession", pop}});
    return absl::OkStatus();
  }
  PrintFields(ctx.out(), {{"key id", (*key)->public_key().key_id()},
                          {"owner", owner},
                          {"origin", absl::GetFlag(FLAGS_origin)},
                          {"proof", pop}});
  ctx.out() << "give the registrar the .pub file and: --pop " << pop << "\n";
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
