// Shared set-up for the ledger tests: a log key, requests with recognisable payloads, and a
// StateRule that touches the batches a test payload names.
#ifndef HERBTRACE_TESTS_STORAGE_LEDGER_FIXTURE_H_
#define HERBTRACE_TESTS_STORAGE_LEDGER_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "storage/ledger.h"

namespace herbtrace::testing {

inline constexpr char kTestOrigin[] = "test.herbtrace.example/log";

// A fixed Ed25519 seed so reopened ledgers get the same log key.
inline std::unique_ptr<crypto::NoteSigner> TestLogSigner(char seed_byte = 7) {
  auto key = crypto::PrivateKey::FromEd25519Seed(std::string(32, seed_byte));
  auto signer = crypto::NoteSigner::Create(kTestOrigin, *std::move(key));
  return *std::move(signer);
}

// Payload "batches=<id>,<id>;<anything>": TouchesListedBatches touches those ids.
inline storage::AppendRequest TestRequest(const std::string& event_id,
                                          const std::string& payload) {
  storage::AppendRequest r;
  r.event_id = event_id;
  r.signed_event.set_payload(payload);
  r.signed_event.set_key_id("0011223344556677");
  r.signed_event.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  r.signed_event.set_signature(std::string(64, 's'));
  return r;
}

// Touches the batches a test payload lists; rejects payloads starting with "reject" after
// staging a state change (which must then be rolled back).
class TouchesListedBatches final : public storage::StateRule {
 public:
  absl::Status Apply(const storage::AppendRequest& request, storage::StateTxn& txn) override {
    const std::string& payload = request.signed_event.payload();
    if (absl::StartsWith(payload, "reject")) {
      (void)txn.Put(storage::Cf::kBatchState, "rejected-state", "must not persist");
      return absl::FailedPreconditionError("payload: rejected by the test rule");
    }
    if (!absl::StartsWith(payload, "batches=")) return absl::OkStatus();
    absl::string_view list = absl::string_view(payload).substr(8);
    list = list.substr(0, list.find(';'));
    for (absl::string_view id : absl::StrSplit(list, ',', absl::SkipEmpty())) {
      txn.TouchBatch(id);
      auto count = txn.Get(storage::Cf::kBatchState, id);
      if (!count.ok()) return count.status();
      const int n = count->has_value() ? std::stoi(**count) : 0;
      if (auto s = txn.Put(storage::Cf::kBatchState, id, std::to_string(n + 1)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_STORAGE_LEDGER_FIXTURE_H_
