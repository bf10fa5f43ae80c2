#include "services/server/capture_service.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/hash.h"
#include "crypto/memory_tree.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "services/domain/bundle_message.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/state_reader.h"
#include "services/domain/verified_event.h"
#include "services/server/access_policy.h"
#include "services/server/append_budget.h"

namespace herbtrace::server {
namespace {

// The field path a rule put in front of its message ("split.outputs[1].grams: ..."), if any.
std::string FieldOf(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  const absl::string_view head = message.substr(0, colon);
  if (head.find(' ') != absl::string_view::npos) return "";
  return std::string(head);
}

v1::SubmitError ToSubmitError(const absl::Status& status) {
  v1::SubmitError error;
  error.set_code(static_cast<int>(status.code()));
  error.set_message(std::string(status.message()));
  error.set_field(FieldOf(status.message()));
  return error;
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Everything the capture layer checks before an event reaches the sequencer: the payload
// decodes, the key exists and verifies the bytes exactly as received. Keys are read from the
// durable registry; the domain rules re-check status and ownership in sequence, so a key revoked
// a moment ago cannot slip through.
class EventVerifier {
 public:
  EventVerifier(storage::Ledger& ledger, const CaptureOptions& options)
      : ledger_(ledger), options_(options), state_(ledger.db()) {}

  // The public key that signs for `key_id` and the party that owns it (the signer), with
  // `self_signed` set when it was taken from the genesis event itself. Whether the key may sign
  // now (active, the acting party's) is the domain rules' check, in sequence; here only its
  // bytes and owner matter.
  struct SignerKey {
    std::shared_ptr<const crypto::PublicKey> key;
    std::string party_id;
  };
  absl::StatusOr<SignerKey> KeyFor(const std::string& key_id, v1::SignatureAlgorithm algorithm,
                                   const v1::Event& event, absl::string_view field,
                                   bool* self_signed) const {
    *self_signed = false;
    auto algo = domain::FromProtoAlgorithm(algorithm, absl::StrCat(field, ".algorithm"));
    if (!algo.ok()) return algo.status();
    if (auto cached = keys_.Find(key_id); cached.key != nullptr) {
      if (cached.key->algorithm() != *algo) return OtherAlgorithm(field, key_id);
      return cached;
    }
    auto registered = state_.Key(key_id);
    if (registered.ok()) {
      if (registered->algorithm() != algorithm) return OtherAlgorithm(field, key_id);
      auto key = crypto::PublicKey::FromRaw(*algo, registered->public_key());
      if (!key.ok()) return key.status();
      return keys_.Insert(key_id, *std::move(key), registered->party_id());
    }
    if (!absl::IsNotFound(registered.status())) return registered.status();
    // Genesis: the market operator's RegisterParty carries its own (bootstrap) key.
    if (event.has_register_party() && key_id == options_.bootstrap_key_id) {
      for (const v1::NewKey& key : event.register_party().initial_keys()) {
        if (key.algorithm() != algorithm) continue;
        auto candidate = crypto::PublicKey::FromRaw(*algo, key.public_key());
        if (candidate.ok() && (*candidate)->key_id() == key_id) {
          *self_signed = true;
          return SignerKey{std::shared_ptr<const crypto::PublicKey>(*std::move(candidate)),
                           event.party_id()};
        }
      }
    }
    return absl::UnauthenticatedError(
        absl::StrCat(field, ".key_id: ", key_id, " is not a registered key"));
  }

  // A single signed event, submitted by `caller`. Taken by value: a stream moves its request
  // in (its bytes then go on to the ledger without a copy), a unary call copies its own.
  absl::StatusOr<storage::AppendRequest> Prepare(v1::SubmitRequest request,
                                                 const Caller& caller) const {
    v1::SignedEvent& signed_event = *request.mutable_signed_event();
    auto event = Decode(signed_event.payload());
    if (!event.ok()) return event.status();
    if (signed_event.signature().empty()) {
      return absl::UnauthenticatedError("signed_event.signature: missing");
    }
    bool self_signed = false;
    auto key = KeyFor(signed_event.key_id(), signed_event.algorithm(), *event, "signed_event",
                      &self_signed);
    if (!key.ok()) return key.status();
    if (auto s = key->key->Verify(signed_event.payload(), signed_event.signature()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("signed_event.signature: ", s.message()));
    }
    if (auto s = CheckSigner(caller, key->party_id, "signed_event.key_id"); !s.ok()) return s;
    return Build(std::move(signed_event), *std::move(event), self_signed,
                 std::move(*request.mutable_openings()));
  }

  absl::StatusOr<v1::Event> Decode(const std::string& payload) const {
    v1::Event event;
    if (payload.empty() || !event.ParseFromString(payload)) {
      return absl::InvalidArgumentError(
          "signed_event.payload: does not parse as a herbtrace.v1.Event");
    }
    if (event.event_id().empty()) {
      return absl::InvalidArgumentError("event_id: required");
    }
    return event;
  }

  storage::AppendRequest Build(v1::SignedEvent signed_event, v1::Event event, bool self_signed,
                               google::protobuf::RepeatedPtrField<v1::Opening> openings) const {
    storage::AppendRequest append;
    append.event_id = event.event_id();
    for (const v1::BatchLink& link : event.expected_heads()) {
      append.expected_heads.emplace_back(link.batch_id(), link.prev_leaf_hash());
    }
    auto verified = std::make_shared<domain::VerifiedEvent>();
    verified->key_id = signed_event.key_id();
    verified->self_signed = self_signed;
    verified->openings.assign(std::make_move_iterator(openings.begin()),
                              std::make_move_iterator(openings.end()));
    append.signed_event = std::move(signed_event);
    verified->event = std::move(event);
    append.context = std::move(verified);
    return append;
  }

  storage::Ledger& ledger() const { return ledger_; }
  const CaptureOptions& options() const { return options_; }

 private:
  static absl::Status OtherAlgorithm(absl::string_view field, absl::string_view key_id) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".algorithm: key ", key_id, " is registered for another algorithm"));
  }

  // Parsed registered keys by key id. A key id names one public key for good (it is derived
  // from the key's bytes, and registration refuses a second key with the same id), so an entry
  // never goes stale; revocation is judged by the rules. Bounded: cleared when full.
  class KeyCache {
   public:
    // key null when absent.
    SignerKey Find(const std::string& key_id) const {
      absl::MutexLock lock(&mu_);
      auto it = keys_.find(key_id);
      return it == keys_.end() ? SignerKey{} : it->second;
    }
    SignerKey Insert(const std::string& key_id, std::unique_ptr<crypto::PublicKey> key,
                     const std::string& party_id) const {
      SignerKey entry{std::shared_ptr<const crypto::PublicKey>(std::move(key)), party_id};
      absl::MutexLock lock(&mu_);
      if (keys_.size() >= kMaxKeys) keys_.clear();
      keys_.emplace(key_id, entry);
      return entry;
    }

   private:
    static constexpr size_t kMaxKeys = 100'000;
    mutable absl::Mutex mu_;
    mutable absl::flat_hash_map<std::string, SignerKey> keys_ ABSL_GUARDED_BY(mu_);
  };

  storage::Ledger& ledger_;
  const CaptureOptions& options_;
  const domain::StateReader state_;
  const KeyCache keys_;
};

// One bidirectional stream: requests are verified and appended as they arrive, responses go out
// in request order as their entries become durable. At most max_stream_in_flight events are
// outstanding; reading pauses until the oldest completes, which is the stream's back-pressure.
class SubmitStreamReactor final
    : public grpc::ServerBidiReactor<v1::SubmitRequest, v1::SubmitResponse> {
 public:
  // A caller the access table refused gets the stream finished at once, nothing read.
  // REQUIRES: `budget` outlives the stream.
  SubmitStreamReactor(const EventVerifier& verifier, AppendBudget& budget,
                      absl::StatusOr<Caller> caller)
      : verifier_(verifier), budget_(budget) {
    if (!caller.ok()) {
      {
        // Nothing was read and nothing will be: a later OnCancel must not finish again.
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        finished_ = true;
      }
      Finish(ToGrpc(caller.status()));
      return;
    }
    caller_ = *std::move(caller);
    absl::MutexLock lock(&mu_);
    read_outstanding_ = true;
    StartRead(&request_);
  }

  // Every method below ends with FinishIf(...): Finish may make gRPC delete the reactor at once
  // (OnDone), so it is called outside the lock and nothing of `this` is touched after it.

  void OnReadDone(bool ok) override {
    uint64_t index = 0;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        read_outstanding_ = false;
        reads_done_ = true;
      } else {
        // read_outstanding_ stays set while request_ is being used, so that no other reaction
        // starts the next read into it.
        index = next_index_++;
        slots_.push_back(Slot{});
        slots_.back().response.set_index(index);
        ++in_flight_;
      }
    }
    if (ok) {
      // request_ is read into again only after this reaction clears read_outstanding_.
      auto prepared = verifier_.Prepare(std::move(request_), caller_);
      if (!prepared.ok()) {
        Record(index, "", prepared.status());
      } else {
        const std::string event_id = prepared->event_id;
        budget_.Take(1);
        verifier_.ledger().AppendAsync(
            *std::move(prepared),
            [this, budget = &budget_, index, event_id](absl::StatusOr<v1::Receipt> r) {
              budget->Give(1);
              Complete(index, event_id, std::move(r));
            });
      }
    }
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      read_outstanding_ = false;
      ReadMoreLocked();
      finish = ShouldFinishLocked();
    }
    FinishIf(finish);
  }

  void OnWriteDone(bool ok) override {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) broken_ = true;
      slots_.pop_front();
      --in_flight_;
      ReadMoreLocked();
      WriteNextLocked();
      finish = ShouldFinishLocked();
    }
    FinishIf(finish);
  }

  void OnCancel() override {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      broken_ = true;
      // With no read outstanding, no OnReadDone will come to say the reads are over.
      if (!read_outstanding_) reads_done_ = true;
      WriteNextLocked();
      finish = ShouldFinishLocked();
    }
    FinishIf(finish);
  }

  void OnDone() override { delete this; }

 private:
  struct Slot {
    v1::SubmitResponse response;
    bool ready = false;
  };

  // From the ledger's sequencer, where no gRPC reaction keeps the reactor alive: Finish last.
  void Complete(uint64_t index, const std::string& event_id,
                absl::StatusOr<v1::Receipt> result) {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      FillLocked(index, event_id, std::move(result));
      finish = ShouldFinishLocked();
    }
    FinishIf(finish);
  }

  void Record(uint64_t index, const std::string& event_id, absl::StatusOr<v1::Receipt> result) {
    absl::MutexLock lock(&mu_);
    FillLocked(index, event_id, std::move(result));
  }

  // Fills the response of request `index` and writes what is ready, in order.
  void FillLocked(uint64_t index, const std::string& event_id, absl::StatusOr<v1::Receipt> result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Slot& slot = slots_[index - slots_.front().response.index()];
    slot.response.set_event_id(event_id);
    if (result.ok()) {
      *slot.response.mutable_receipt() = *std::move(result);
    } else {
      *slot.response.mutable_error() = ToSubmitError(result.status());
    }
    slot.ready = true;
    WriteNextLocked();
  }

  // Reads the next request unless the stream is over, broken, or has enough in flight (then
  // OnWriteDone resumes reading: the stream's back-pressure). While the service-wide budget is
  // spent the stream is held the same way with a single event in flight: never refused, and
  // resumed by its own answers, so it waits on no other call.
  void ReadMoreLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (read_outstanding_ || reads_done_) return;
    if (broken_) {
      reads_done_ = true;
      return;
    }
    if (in_flight_ >= std::max<size_t>(1, verifier_.options().max_stream_in_flight)) return;
    if (in_flight_ > 0 && !budget_.HasRoom()) return;
    read_outstanding_ = true;
    StartRead(&request_);
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || slots_.empty() || !slots_.front().ready) return;
    if (broken_) {
      // Nobody will read it: drop the response but keep the accounting.
      while (!slots_.empty() && slots_.front().ready) {
        slots_.pop_front();
        --in_flight_;
      }
      return;
    }
    writing_ = true;
    StartWrite(&slots_.front().response);
  }

  // Finish only when nothing is outstanding: the ledger's callbacks hold `this`.
  bool ShouldFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || !reads_done_ || read_outstanding_ || in_flight_ > 0 || writing_) {
      return false;
    }
    finished_ = true;
    return true;
  }

  void FinishIf(bool finish) {
    if (finish) Finish(grpc::Status::OK);
  }

  const EventVerifier& verifier_;
  AppendBudget& budget_;
  Caller caller_;
  v1::SubmitRequest request_;
  absl::Mutex mu_;
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class CaptureServiceImpl final : public v1::Capture::CallbackService {
 public:
  CaptureServiceImpl(storage::Ledger& ledger, CaptureOptions options)
      : options_(std::move(options)),
        state_(ledger.db()),
        access_(state_, options_.callers),
        verifier_(ledger, options_),
        budget_(std::max({options_.max_appends_in_flight, options_.max_bundle_events,
                          size_t{1}})) {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto caller = access_.Admit(*context, Rpc::kCaptureSubmit);
    if (!caller.ok()) {
      reactor->Finish(ToGrpc(caller.status()));
      return reactor;
    }
    if (!budget_.TryTake(1)) {
      reactor->Finish(ToGrpc(OverBudget("signed_event", 1)));
      return reactor;
    }
    auto prepared = verifier_.Prepare(*request, *caller);
    if (!prepared.ok()) {
      budget_.Give(1);
      reactor->Finish(ToGrpc(prepared.status()));
      return reactor;
    }
    response->set_event_id(prepared->event_id);
    verifier_.ledger().AppendAsync(*std::move(prepared),
                                   [reactor, response, budget = &budget_](
                                       absl::StatusOr<v1::Receipt> r) {
                                     budget->Give(1);
                                     if (!r.ok()) {
                                       reactor->Finish(ToGrpc(r.status()));
                                       return;
                                     }
                                     *response->mutable_receipt() = *std::move(r);
                                     reactor->Finish(grpc::Status::OK);
                                   });
    return reactor;
  }

  grpc::ServerBidiReactor<v1::SubmitRequest, v1::SubmitResponse>* SubmitStream(
      grpc::CallbackServerContext* context) override {
    return new SubmitStreamReactor(verifier_, budget_,
                                   access_.Admit(*context, Rpc::kCaptureSubmitStream));
  }

  grpc::ServerUnaryReactor* SubmitBundle(grpc::CallbackServerContext* context,
                                         const v1::SubmitBundleRequest* request,
                                         v1::SubmitBundleResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto caller = access_.Admit(*context, Rpc::kCaptureSubmitBundle);
    if (!caller.ok()) {
      reactor->Finish(ToGrpc(caller.status()));
      return reactor;
    }
    // A bundle over max_bundle_events is refused by PrepareBundle, taking nothing.
    const size_t events = static_cast<size_t>(request->events_size());
    const size_t taken = events <= options_.max_bundle_events ? events : 0;
    if (!budget_.TryTake(taken)) {
      reactor->Finish(ToGrpc(OverBudget("events", events)));
      return reactor;
    }
    auto appends = PrepareBundle(*request, *caller, response);
    if (!appends.ok()) {
      budget_.Give(taken);
      reactor->Finish(ToGrpc(appends.status()));
      return reactor;
    }
    // Results arrive from the sequencer; the last one finishes the call.
    struct Pending {
      absl::Mutex mu;
      size_t outstanding ABSL_GUARDED_BY(mu);
    };
    auto pending = std::make_shared<Pending>();
    size_t to_append = 0;
    for (const auto& a : *appends) to_append += a.has_value() ? 1 : 0;
    budget_.Give(taken - to_append);  // events that did not decode are answered already
    {
      absl::MutexLock lock(&pending->mu);
      pending->outstanding = to_append;
    }
    if (to_append == 0) {
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    for (size_t i = 0; i < appends->size(); ++i) {
      if (!(*appends)[i].has_value()) continue;
      verifier_.ledger().AppendAsync(
          *std::move((*appends)[i]),
          [reactor, response, pending, i, budget = &budget_](absl::StatusOr<v1::Receipt> r) {
            budget->Give(1);
            absl::MutexLock lock(&pending->mu);
            v1::SubmitResponse* result = response->mutable_results(static_cast<int>(i));
            if (r.ok()) {
              *result->mutable_receipt() = *std::move(r);
            } else {
              *result->mutable_error() = ToSubmitError(r.status());
            }
            if (--pending->outstanding == 0) reactor->Finish(grpc::Status::OK);
          });
    }
    return reactor;
  }

 private:
  // `events` more would pass the service-wide bound; nothing was taken or checked.
  absl::Status OverBudget(absl::string_view field, size_t events) const {
    return absl::ResourceExhaustedError(absl::StrCat(
        field, ": ", events, events == 1 ? " event does" : " events do",
        " not fit: this server answers at most max_appends_in_flight = ", budget_.limit(),
        " appends at a time and ", budget_.in_flight(),
        " are in flight; nothing was appended, retry with the same event_id"));
  }

  // Checks the bundle as a whole (size, one signature over its Merkle root) and builds one
  // append per event that decodes; events that do not decode get their error in `response`.
  absl::StatusOr<std::vector<std::optional<storage::AppendRequest>>> PrepareBundle(
      const v1::SubmitBundleRequest& request, const Caller& caller,
      v1::SubmitBundleResponse* response) const {
    const size_t n = static_cast<size_t>(request.events_size());
    if (n == 0) return absl::InvalidArgumentError("events: a bundle needs at least one event");
    if (n > options_.max_bundle_events) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "events: ", n, " events; a bundle may carry at most ", options_.max_bundle_events));
    }
    const crypto::Hasher& hasher = verifier_.ledger().hasher();
    std::vector<crypto::Digest> leaves;
    leaves.reserve(n);
    for (const v1::BundledEvent& e : request.events()) {
      leaves.push_back(crypto::HashLeaf(hasher, e.payload()));
    }
    // Built once: every event's membership proof is then O(log n), not O(n).
    const crypto::MemoryTree tree(hasher, std::move(leaves));
    const crypto::Digest root = tree.Root();
    const std::string message =
        domain::BundleMessage(verifier_.ledger().options().origin, n, root);

    // The key must be a registered one: a bundle cannot carry the genesis event.
    v1::Event no_event;
    bool self_signed = false;
    auto key = verifier_.KeyFor(request.key_id(), request.algorithm(), no_event, "bundle",
                                &self_signed);
    if (!key.ok()) return key.status();
    if (auto s = key->key->Verify(message, request.root_signature()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("root_signature: ", s.message()));
    }
    if (auto s = CheckSigner(caller, key->party_id, "bundle.key_id"); !s.ok()) return s;

    response->set_bundle_root(std::string(crypto::AsBytes(root)));
    std::vector<std::optional<storage::AppendRequest>> appends(n);
    for (size_t i = 0; i < n; ++i) {
      v1::SubmitResponse* result = response->add_results();
      result->set_index(i);
      const v1::BundledEvent& bundled = request.events(static_cast<int>(i));
      auto event = verifier_.Decode(bundled.payload());
      if (!event.ok()) {
        *result->mutable_error() = ToSubmitError(event.status());
        continue;
      }
      result->set_event_id(event->event_id());
      v1::SignedEvent signed_event;
      signed_event.set_payload(bundled.payload());
      signed_event.set_key_id(request.key_id());
      signed_event.set_algorithm(request.algorithm());
      storage::AppendRequest append = verifier_.Build(std::move(signed_event), *std::move(event),
                                                      false, bundled.openings());
      v1::BundleMembership membership;
      membership.set_bundle_root(std::string(crypto::AsBytes(root)));
      membership.set_index(i);
      membership.set_size(n);
      for (const crypto::Digest& h : tree.InclusionProof(i)) {
        membership.add_proof(std::string(crypto::AsBytes(h)));
      }
      membership.set_key_id(request.key_id());
      membership.set_algorithm(request.algorithm());
      membership.set_root_signature(request.root_signature());
      append.bundle = std::move(membership);
      appends[i] = std::move(append);
    }
    return appends;
  }

  const CaptureOptions options_;
  const domain::StateReader state_;
  const AccessControl access_;
  const EventVerifier verifier_;
  AppendBudget budget_;
};

}  // namespace

std::unique_ptr<v1::Capture::CallbackService> NewCaptureService(storage::Ledger& ledger,
                                                                 CaptureOptions options) {
  return std::make_unique<CaptureServiceImpl>(ledger, std::move(options));
}

}  // namespace herbtrace::server
