// A real storage::Ledger running DomainRules, and what a test needs to drive it the way the
// capture layer does: parties with Ed25519 keys, events with fresh ids and the harness clock's
// time, signed payloads, VerifiedEvent contexts, batch codes, commitments and a fingerprint of
// the whole domain state (to prove a rejected event changed nothing).
#ifndef HERBTRACE_TESTS_SERVICES_DOMAIN_DOMAIN_HARNESS_H_
#define HERBTRACE_TESTS_SERVICES_DOMAIN_DOMAIN_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include <grpcpp/grpcpp.h>

#include "herbtrace/v1/capture.grpc.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "services/domain/domain_rules.h"
#include "services/domain/identifiers.h"
#include "services/domain/state_reader.h"
#include "services/domain/verified_event.h"
#include "storage/clock.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_fixture.h"
#include "tests/test_util.h"

namespace herbtrace::testing {

// A party as the tests see it: its id and the device key it signs with.
struct Actor {
  std::string party_id;
  std::shared_ptr<crypto::PrivateKey> key;
  std::string key_id() const { return key->public_key().key_id(); }
};

inline std::shared_ptr<crypto::PrivateKey> NewKey() {
  auto key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
  EXPECT_TRUE(key.ok()) << key.status();
  return std::shared_ptr<crypto::PrivateKey>(*std::move(key));
}

// A valid unified social credit code for a company registered in `region`: "91" ‖ region ‖
// a 9-character body from `serial` ‖ the GB 32100 check character.
inline std::string MakeUscc(absl::string_view region, int serial) {
  const std::string first17 = absl::StrCat("91", region, absl::StrFormat("%09d", serial));
  return first17 + *domain::UsccCheckCharacter(first17);
}

inline std::string MakeBatchId(int node_type, absl::string_view party_id, absl::CivilDay day,
                               int sequence) {
  const std::string body = absl::StrFormat("%d%s%02d%02d%02d%03d", node_type, party_id,
                                           day.year() % 100, day.month(), day.day(), sequence);
  return body + domain::TraceCheckDigit(body);
}

class DomainHarness {
 public:
  // 2024-09-15 10:00 China Standard Time.
  static absl::Time Start() {
    return absl::FromCivil(absl::CivilSecond(2024, 9, 15, 10, 0, 0), absl::FixedTimeZone(8 * 3600));
  }

  // `env`: the RocksDB Env the ledger runs on (null: the default), e.g. one injecting faults.
  explicit DomainHarness(bool sync = false, rocksdb::Env* env = nullptr) : clock_(Start()) {
    operator_key_ = NewKey();
    domain::DomainConfig config;
    config.log_origin = kTestOrigin;
    config.bootstrap_key_id = operator_key_->public_key().key_id();
    config.max_future_skew = absl::Minutes(5);
    config.clock = &clock_;
    rules_ = std::make_unique<domain::DomainRules>(config);
    storage::Ledger::Options options;
    options.origin = kTestOrigin;
    options.clock = &clock_;
    options.rule = rules_.get();
    options.sync = sync;
    options.checkpoint_interval = absl::Hours(1);
    options.env = env;
    auto ledger = storage::Ledger::Open(dir_.path().string(), options, TestLogSigner());
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    reader_ = std::make_unique<domain::StateReader>(ledger_->db());
  }

  storage::Ledger& ledger() { return *ledger_; }
  storage::FakeClock& clock() { return clock_; }
  const domain::StateReader& reader() const { return *reader_; }
  const std::shared_ptr<crypto::PrivateKey>& operator_key() const { return operator_key_; }

  // China Standard Time date of the clock, as batch codes use it.
  absl::CivilDay Today() const {
    return absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(8 * 3600));
  }

  // RFC 9562 version 4 text from a seeded generator: unique within a run, reproducible.
  std::string NewEventId() {
    const uint64_t hi = rng_(), lo = rng_();
    std::string hex = absl::StrFormat("%016x%016x", hi, lo);
    hex[12] = '4';
    hex[16] = "89ab"[lo & 3];
    return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                        hex.substr(16, 4), "-", hex.substr(20, 12));
  }

  // An event of `actor` with a fresh id, occurred now, for this log.
  v1::Event NewEvent(const Actor& actor) {
    v1::Event event;
    event.set_event_id(NewEventId());
    event.set_party_id(actor.party_id);
    event.set_log_origin(kTestOrigin);
    const int64_t seconds = absl::ToUnixSeconds(clock_.Now());
    event.mutable_occurred_at()->set_seconds(seconds);
    return event;
  }

  // What the capture layer hands the ledger: the payload serialized once and signed with
  // `signer`'s key, and the VerifiedEvent context.
  storage::AppendRequest Request(const v1::Event& event, const Actor& signer,
                                 std::vector<v1::Opening> openings = {}, bool self_signed = false) {
    storage::AppendRequest request;
    request.event_id = event.event_id();
    const std::string payload = event.SerializeAsString();
    request.signed_event.set_payload(payload);
    request.signed_event.set_key_id(signer.key_id());
    request.signed_event.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
    auto signature = signer.key->Sign(payload);
    EXPECT_TRUE(signature.ok()) << signature.status();
    request.signed_event.set_signature(signature.value_or(""));
    for (const v1::BatchLink& link : event.expected_heads()) {
      request.expected_heads.emplace_back(link.batch_id(), link.prev_leaf_hash());
    }
    auto verified = std::make_shared<domain::VerifiedEvent>();
    verified->event = event;
    verified->key_id = signer.key_id();
    verified->self_signed = self_signed;
    verified->openings = std::move(openings);
    request.context = std::move(verified);
    return request;
  }

  absl::StatusOr<v1::Receipt> Submit(const v1::Event& event, const Actor& signer,
                                     std::vector<v1::Opening> openings = {},
                                     bool self_signed = false) {
    if (capture_ != nullptr) return SubmitOverGrpc(event, signer, std::move(openings));
    return ledger_->Append(Request(event, signer, std::move(openings), self_signed));
  }

  // From now on Submit sends each event as a client would: the signed bytes and openings over a
  // real gRPC channel to a Capture service on this ledger, which verifies the signature itself
  // (self-signed genesis included) and maps the rules' status to the gRPC status. Not owned.
  void RouteThroughCapture(v1::Capture::Stub* capture) { capture_ = capture; }

  absl::StatusOr<v1::Receipt> SubmitOverGrpc(const v1::Event& event, const Actor& signer,
                                             std::vector<v1::Opening> openings) {
    v1::SubmitRequest request;
    *request.mutable_signed_event() = Request(event, signer).signed_event;
    for (v1::Opening& o : openings) *request.add_openings() = std::move(o);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitResponse response;
    const grpc::Status status = capture_->Submit(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return response.receipt();
  }

  // A NewKey for `key` owned by `owner`, with its proof of possession.
  static v1::NewKey MakeNewKey(const crypto::PrivateKey& key, absl::string_view owner,
                               absl::string_view label = "handheld") {
    v1::NewKey nk;
    nk.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
    nk.set_public_key(key.public_key().raw());
    nk.set_device_label(std::string(label));
    const std::string message = absl::StrCat("herbtrace key v1\n", kTestOrigin, "\n", owner, "\n",
                                             key.public_key().key_id(), "\n");
    nk.set_proof_of_possession(key.Sign(message).value_or(""));
    return nk;
  }

  // commitment = SHA-256(salt ‖ value), with its opening for `path`.
  static std::pair<std::string, v1::Opening> Commit(absl::string_view path, absl::string_view value,
                                                    char salt_byte = 's') {
    v1::Opening opening;
    opening.set_field_path(std::string(path));
    opening.set_salt(std::string(32, salt_byte));
    opening.set_value(std::string(value));
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    const crypto::Digest d = (*hasher)->Hash(opening.salt() + opening.value());
    return {std::string(crypto::AsBytes(d)), opening};
  }

  static std::string PriceValue(uint64_t fen) {
    std::string v(8, '\0');
    for (int i = 7; i >= 0; --i, fen >>= 8) v[i] = static_cast<char>(fen & 0xff);
    return v;
  }

  // Every key and value of the families the rules own, hashed: equal fingerprints mean the
  // domain state did not change.
  std::string StateFingerprint() {
    auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    std::string all;
    for (storage::Cf cf :
         {storage::Cf::kBatchState, storage::Cf::kLineageDown, storage::Cf::kLineageUp,
          storage::Cf::kHolderBatches, storage::Cf::kRegistry, storage::Cf::kConfidential}) {
      std::unique_ptr<rocksdb::Iterator> it(
          ledger_->db().db().NewIterator(rocksdb::ReadOptions(), ledger_->db().cf(cf)));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        absl::StrAppend(&all, static_cast<int>(cf), ":", it->key().size(), ":",
                        absl::string_view(it->key().data(), it->key().size()), "=",
                        it->value().size(), ":",
                        absl::string_view(it->value().data(), it->value().size()), ";");
      }
    }
    return crypto::ToHex((*hasher)->Hash(all));
  }

 private:
  TempDir dir_;
  storage::FakeClock clock_;
  std::shared_ptr<crypto::PrivateKey> operator_key_;
  std::unique_ptr<domain::DomainRules> rules_;
  std::unique_ptr<storage::Ledger> ledger_;
  v1::Capture::Stub* capture_ = nullptr;
  std::unique_ptr<domain::StateReader> reader_;
  std::mt19937_64 rng_{20240915};
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_SERVICES_DOMAIN_DOMAIN_HARNESS_H_
