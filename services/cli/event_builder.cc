#include "services/cli/event_builder.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "services/domain/signature_algorithm.h"

namespace herbtrace::cli {
namespace {

// Collects the text-format parser's complaints so they reach the user as one message.
class TextErrors final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t filled = 0;
  while (filled < n) {
    const ssize_t got = getrandom(out.data() + filled, n - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
    }
    filled += static_cast<size_t>(got);
  }
  return out;
}

absl::StatusOr<std::string> NewEventId(absl::Time now) {
  auto random = RandomBytes(10);
  if (!random.ok()) return random.status();
  const int64_t ms = absl::ToUnixMillis(now);
  if (ms < 0 || ms >= (int64_t{1} << 48)) {
    return absl::InvalidArgumentError("event_id: time outside the UUID v7 range");
  }
  uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  std::memcpy(b + 6, random->data(), 10);
  b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // variant 10
  const std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

v1::Event NewEvent(const EventHeader& header) {
  v1::Event event;
  event.set_event_id(header.event_id);
  const int64_t seconds = absl::ToUnixSeconds(header.occurred_at);
  event.mutable_occurred_at()->set_seconds(seconds);
  event.mutable_occurred_at()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(header.occurred_at - absl::FromUnixSeconds(seconds))));
  event.set_party_id(header.party_id);
  event.set_log_origin(header.log_origin);
  for (const auto& [batch_id, head] : header.expected_heads) {
    v1::BatchLink* link = event.add_expected_heads();
    link->set_batch_id(batch_id);
    link->set_prev_leaf_hash(head);
  }
  return event;
}

absl::StatusOr<v1::SubmitRequest> SealEvent(const v1::Event& event, const crypto::PrivateKey& key,
                                            std::vector<v1::Opening> openings) {
  // Serialized exactly once: these bytes are signed, sent, stored and hashed as they are.
  std::string payload;
  if (!event.SerializeToString(&payload)) {
    return absl::InternalError("event: does not serialize");
  }
  auto signature = key.Sign(payload);
  if (!signature.ok()) return signature.status();
  v1::SubmitRequest request;
  v1::SignedEvent* signed_event = request.mutable_signed_event();
  signed_event->set_payload(std::move(payload));
  signed_event->set_key_id(key.public_key().key_id());
  signed_event->set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
  signed_event->set_signature(*std::move(signature));
  for (v1::Opening& opening : openings) *request.add_openings() = std::move(opening);
  return request;
}

absl::StatusOr<Commitment> CommitWithSalt(absl::string_view field_path, absl::string_view salt,
                                          absl::string_view value) {
  if (salt.size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_path, ": salt must be 32 bytes, not ", salt.size()));
  }
  auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!hasher.ok()) return hasher.status();
  Commitment out;
  out.commitment = std::string(crypto::AsBytes((*hasher)->Hash(absl::StrCat(salt, value))));
  out.opening.set_field_path(field_path.data(), field_path.size());
  out.opening.set_salt(salt.data(), salt.size());
  out.opening.set_value(value.data(), value.size());
  return out;
}

absl::StatusOr<Commitment> Commit(absl::string_view field_path, absl::string_view value) {
  auto salt = RandomBytes(32);
  if (!salt.ok()) return salt.status();
  return CommitWithSalt(field_path, *salt, value);
}

std::string PriceValue(uint64_t fen) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(fen >> (56 - 8 * i));
  return out;
}

std::string KeyPossessionMessage(absl::string_view log_origin, absl::string_view owner_party_id,
                                 absl::string_view key_id) {
  return absl::StrCat("herbtrace key v1\n", log_origin, "\n", owner_party_id, "\n", key_id, "\n");
}

absl::StatusOr<v1::NewKey> MakeNewKey(const crypto::PrivateKey& key, absl::string_view log_origin,
                                      absl::string_view owner_party_id,
                                      absl::string_view device_label) {
  const crypto::PublicKey& pub = key.public_key();
  auto proof = key.Sign(KeyPossessionMessage(log_origin, owner_party_id, pub.key_id()));
  if (!proof.ok()) return proof.status();
  v1::NewKey out;
  out.set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
  out.set_public_key(pub.raw());
  out.set_device_label(device_label.data(), device_label.size());
  out.set_proof_of_possession(*std::move(proof));
  return out;
}

absl::Status MergeEventText(absl::string_view text, v1::Event& event) {
  v1::Event extra;
  TextErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text.data(), text.size()), &extra)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--extra: not a herbtrace.v1.Event in text format: ", errors.first()));
  }
  event.MergeFrom(extra);
  return absl::OkStatus();
}

std::string EventKindName(const v1::Event& event) {
  if (event.kind_case() == v1::Event::KIND_NOT_SET) return "none";
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(static_cast<int>(event.kind_case()));
  return field == nullptr ? "unknown" : field->name();
}

}  // namespace herbtrace::cli
