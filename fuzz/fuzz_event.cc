// A submitted event (capture.proto SubmitRequest) on the path the Capture service takes before
// the ledger, then the domain rules against a small market's state (market_fixture.h):
//
//   1. the payload decodes as an Event with an event id (as received: never re-serialized);
//   2. its identifiers pass or fail their format and check-digit validation;
//   3. its signature verifies, or not, against the key registered under its key id;
//   4. DomainRules::Apply judges it in a write batch that is never committed, so every input sees
//      the same market. The rules run whether or not the signature verified, so a mutated
//      payload still reaches them.
//
// Invariants: the batches an event touches are sorted, unique, and include both ends of every
// lineage edge that names two; a registered key parses and hashes to its key id; a rejection has
// one of the documented client-facing codes and a message that starts with a field path; an
// accepted event touches exactly the batches it names, each of them then has a state of its own,
// and its lineage edges join two different named batches.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "crypto/signature.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/market_fixture.h"
#include "google/protobuf/stubs/logging.h"
#include "herbtrace/v1/capture.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/domain/event_batches.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/state_reader.h"
#include "storage/state_txn.h"

namespace herbtrace::fuzz {
namespace {

Market& TheMarket() {
  static Market* const market = [] {
    auto m = Market::Create();
    if (!m.ok()) {
      fprintf(stderr, "fuzz_event: %s\n", m.status().ToString().c_str());
      std::abort();
    }
    return m->release();
  }();
  return *market;
}

void CheckBatches(const v1::Event& event) {
  const std::vector<std::string> touched = domain::TouchedBatchIds(event);
  FUZZ_REQUIRE(std::adjacent_find(touched.begin(), touched.end(),
                                  [](const std::string& a, const std::string& b) {
                                    return a >= b;
                                  }) == touched.end());
  // Empty ids are not batches: the rules reject such an event before it has lineage.
  for (const domain::LineageEdge& edge : domain::LineageEdges(event)) {
    FUZZ_REQUIRE(edge.parent.empty() ||
                 std::binary_search(touched.begin(), touched.end(), edge.parent));
    FUZZ_REQUIRE(edge.child.empty() ||
                 std::binary_search(touched.begin(), touched.end(), edge.child));
  }
}

void CheckIdentifiers(const v1::Event& event, const v1::SignedEvent& signed_event) {
  (void)domain::ValidateEventId(event.event_id(), "event_id");
  (void)domain::ValidatePartyId(event.party_id(), "party_id");
  (void)domain::ValidateKeyId(signed_event.key_id(), "signed_event.key_id");
  for (const std::string& id : domain::TouchedBatchIds(event)) {
    if (domain::ValidateBatchId(id, "batch_id").ok()) (void)domain::ParseBatchId(id);
  }
}

// What the Capture service checks: the registered key, its algorithm, the signature over the
// bytes exactly as received.
bool SignatureVerifies(const domain::StateReader& state, const v1::SignedEvent& signed_event) {
  auto registered = state.Key(signed_event.key_id());
  if (!registered.ok()) return false;
  auto algorithm = domain::FromProtoAlgorithm(signed_event.algorithm(), "signed_event.algorithm");
  if (!algorithm.ok() || registered->algorithm() != signed_event.algorithm()) return false;
  auto key = crypto::PublicKey::FromRaw(*algorithm, registered->public_key());
  FUZZ_REQUIRE(key.ok() && (*key)->key_id() == signed_event.key_id());
  return (*key)->Verify(signed_event.payload(), signed_event.signature()).ok();
}

bool ClientFacing(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

void ApplyRules(Market& market, const v1::SubmitRequest& request, const v1::Event& event) {
  const std::vector<std::string> named = domain::TouchedBatchIds(event);
  const absl::Status applied = market.Judge(request, event, [&](const storage::StateTxn& txn) {
    FUZZ_REQUIRE(txn.touched_batches() == std::set<std::string>(named.begin(), named.end()));
    for (const domain::LineageEdge& edge : domain::LineageEdges(event)) {
      FUZZ_REQUIRE(!edge.parent.empty() && !edge.child.empty() && edge.parent != edge.child);
    }
    for (const std::string& id : named) {
      auto value = txn.Get(storage::Cf::kBatchState, id);
      FUZZ_REQUIRE(value.ok() && value->has_value());
      v1::BatchState state;
      FUZZ_REQUIRE(state.ParseFromString(**value) && state.batch_id() == id);
    }
  });
  if (applied.ok()) return;
  FUZZ_REQUIRE(ClientFacing(applied.code()));
  const absl::string_view message = applied.message();
  const size_t colon = message.find(": ");
  FUZZ_REQUIRE(colon != absl::string_view::npos && colon > 0);
}

}  // namespace
}  // namespace herbtrace::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Malformed inputs are the point; protobuf's complaints about them are noise.
  google::protobuf::SetLogHandler(nullptr);
  herbtrace::fuzz::TheMarket();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herbtrace;
  v1::SubmitRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const v1::SignedEvent& signed_event = request.signed_event();
  v1::Event event;
  if (signed_event.payload().empty() || !event.ParseFromString(signed_event.payload()) ||
      event.event_id().empty()) {
    return 0;
  }
  fuzz::Market& market = fuzz::TheMarket();
  fuzz::CheckBatches(event);
  fuzz::CheckIdentifiers(event, signed_event);
  (void)fuzz::SignatureVerifies(domain::StateReader(market.db()), signed_event);
  fuzz::ApplyRules(market, request, event);
  return 0;
}
