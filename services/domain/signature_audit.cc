#include "services/domain/signature_audit.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "rocksdb/db.h"
#include "services/domain/bundle_message.h"
#include "services/domain/signature_algorithm.h"
#include "storage/key_codec.h"
#include "storage/log_config.h"
#include "storage/snapshot.h"

namespace herbtrace::domain {
namespace {

// A key as the log registered it.
struct RegisteredKey {
  std::string party_id;
  std::shared_ptr<const crypto::PublicKey> key;
  uint64_t registered_seq = 0;
  std::optional<uint64_t> revoked_seq;
};

// One signature to verify, found by the sequential pass and verified on a worker.
struct PendingSignature {
  uint64_t seq;
  std::shared_ptr<const crypto::PublicKey> key;
  std::string message;
  std::string signature;
  bool bundle;
};

// The sequential part: entry order decides which keys may sign, so keys are tracked here, entry
// by entry, and each entry's signature is handed on to be verified.
class KeyTimeline {
 public:
  KeyTimeline(const crypto::Hasher& hasher, std::string origin)
      : hasher_(hasher), origin_(std::move(origin)) {}

  // Checks `bytes`, the entry at `seq`, and queues its signature (or its bundle's, once) onto
  // `out`. An error names what is wrong with the entry.
  absl::Status Step(uint64_t seq, const std::string& bytes, SignatureAuditReport& report,
                    std::vector<PendingSignature>& out) {
    v1::LedgerEntry entry;
    if (!entry.ParseFromString(bytes)) return absl::DataLossError("entry does not decode");
    if (entry.seq() != seq) {
      return absl::DataLossError(absl::StrCat("entry says seq ", entry.seq()));
    }
    const v1::SignedEvent& signed_event = entry.signed_event();
    v1::Event event;
    if (!event.ParseFromString(signed_event.payload())) {
      return absl::DataLossError("signed payload does not decode as an Event");
    }
    auto algorithm = FromProtoAlgorithm(signed_event.algorithm(), "signed_event.algorithm");
    if (!algorithm.ok()) return algorithm.status();

    std::shared_ptr<const crypto::PublicKey> key;
    if (auto it = keys_.find(signed_event.key_id()); it != keys_.end()) {
      const RegisteredKey& known = it->second;
      if (known.revoked_seq.has_value() && *known.revoked_seq < seq) {
        return absl::UnauthenticatedError(absl::StrCat("signed by key ", signed_event.key_id(),
                                                       ", revoked at seq ", *known.revoked_seq));
      }
      if (known.party_id != event.party_id()) {
        return absl::PermissionDeniedError(
            absl::StrCat("event of party ", event.party_id(), " signed by key ",
                         signed_event.key_id(), " of party ", known.party_id));
      }
      if (known.key->algorithm() != *algorithm) {
        return absl::UnauthenticatedError(absl::StrCat(
            "signed_event.algorithm is not the algorithm key ", signed_event.key_id(),
            " was registered with"));
      }
      key = known.key;
    } else if (seq == 0 && event.has_register_party() &&
               event.register_party().party_id() == event.party_id()) {
      // Genesis: the market operator's registration is signed by the key it registers.
      auto own = NewKeyFor(event.register_party().party_id(),
                           event.register_party().initial_keys(), signed_event.key_id());
      if (!own.ok()) return own.status();
      key = *std::move(own);
    } else {
      return absl::UnauthenticatedError(absl::StrCat(
          "signed by key ", signed_event.key_id(), ", which no earlier entry registers"));
    }

    if (entry.has_bundle()) {
      if (auto s = QueueBundle(seq, entry, key, out); !s.ok()) return s;
      ++report.bundled_entries;
    } else {
      out.push_back(PendingSignature{seq, key, signed_event.payload(), signed_event.signature(),
                                     /*bundle=*/false});
    }
    return Register(seq, event, report);
  }

 private:
  // The key `key_id` among `keys`, parsed.
  absl::StatusOr<std::shared_ptr<const crypto::PublicKey>> NewKeyFor(
      const std::string& party_id, const google::protobuf::RepeatedPtrField<v1::NewKey>& keys,
      const std::string& key_id) const {
    for (const v1::NewKey& new_key : keys) {
      auto parsed = Parse(new_key);
      if (parsed.ok() && (*parsed)->key_id() == key_id) return *std::move(parsed);
    }
    return absl::UnauthenticatedError(absl::StrCat("genesis of party ", party_id,
                                                   " is not signed by a key it registers"));
  }

  static absl::StatusOr<std::shared_ptr<const crypto::PublicKey>> Parse(const v1::NewKey& key) {
    auto algorithm = FromProtoAlgorithm(key.algorithm(), "key.algorithm");
    if (!algorithm.ok()) return algorithm.status();
    auto parsed = crypto::PublicKey::FromRaw(*algorithm, key.public_key());
    if (!parsed.ok()) return parsed.status();
    return std::shared_ptr<const crypto::PublicKey>(*std::move(parsed));
  }

  absl::Status QueueBundle(uint64_t seq, const v1::LedgerEntry& entry,
                           const std::shared_ptr<const crypto::PublicKey>& key,
                           std::vector<PendingSignature>& out) {
    const v1::SignedEvent& signed_event = entry.signed_event();
    const v1::BundleMembership& bundle = entry.bundle();
    if (!signed_event.signature().empty()) {
      return absl::DataLossError("bundled entry carries its own signature as well");
    }
    if (bundle.key_id() != signed_event.key_id() ||
        bundle.algorithm() != signed_event.algorithm()) {
      return absl::DataLossError(absl::StrCat("bundle key ", bundle.key_id(),
                                              " is not the entry's key ", signed_event.key_id()));
    }
    auto root = crypto::DigestFromBytes(bundle.bundle_root(), "bundle.bundle_root");
    if (!root.ok()) return root.status();
    std::vector<crypto::Digest> proof;
    proof.reserve(bundle.proof_size());
    for (const std::string& hash : bundle.proof()) {
      auto digest = crypto::DigestFromBytes(hash, "bundle.proof");
      if (!digest.ok()) return digest.status();
      proof.push_back(*digest);
    }
    if (auto s = crypto::VerifyInclusion(hasher_, bundle.index(), bundle.size(),
                                         crypto::HashLeaf(hasher_, signed_event.payload()), proof,
                                         *root);
        !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("payload is not proven in its bundle: ", s.message()));
    }
    // Every event of a bundle carries the same root signature: verify it once.
    std::string bundle_key = absl::StrCat(bundle.key_id(), "\n", bundle.bundle_root(),
                                          bundle.root_signature());
    if (verified_bundles_.insert(std::move(bundle_key)).second) {
      out.push_back(PendingSignature{seq, key, BundleMessage(origin_, bundle.size(), *root),
                                     bundle.root_signature(), /*bundle=*/true});
    }
    return absl::OkStatus();
  }

  // The keys the entry registers or revokes take effect from the next entry on.
  absl::Status Register(uint64_t seq, const v1::Event& event, SignatureAuditReport& report) {
    auto add = [&](const std::string& party_id, const v1::NewKey& new_key) -> absl::Status {
      auto parsed = Parse(new_key);
      if (!parsed.ok()) {
        return absl::DataLossError(absl::StrCat("registers a key that does not parse: ",
                                                parsed.status().message()));
      }
      const std::string key_id = (*parsed)->key_id();
      if (keys_.emplace(key_id, RegisteredKey{party_id, *std::move(parsed), seq, std::nullopt})
              .second) {
        ++report.keys_registered;
      }
      return absl::OkStatus();
    };
    if (event.has_register_party()) {
      for (const v1::NewKey& k : event.register_party().initial_keys()) {
        if (auto s = add(event.register_party().party_id(), k); !s.ok()) return s;
      }
    } else if (event.has_register_key()) {
      return add(event.register_key().party_id(), event.register_key().key());
    } else if (event.has_revoke_key()) {
      auto it = keys_.find(event.revoke_key().key_id());
      if (it != keys_.end() && !it->second.revoked_seq.has_value()) {
        it->second.revoked_seq = seq;
        ++report.keys_revoked;
      }
    }
    return absl::OkStatus();
  }

  const crypto::Hasher& hasher_;
  const std::string origin_;
  absl::flat_hash_map<std::string, RegisteredKey> keys_;
  absl::flat_hash_set<std::string> verified_bundles_;
};

// Verifies `pending` on `threads` threads; the failure of the lowest seq, if any.
std::optional<storage::AuditFailure> VerifyAll(const std::vector<PendingSignature>& pending,
                                               int threads) {
  std::vector<std::optional<storage::AuditFailure>> first(threads);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = t; i < pending.size(); i += threads) {
        const PendingSignature& p = pending[i];
        if (first[t].has_value() && first[t]->seq <= p.seq) return;
        if (auto s = p.key->Verify(p.message, p.signature); !s.ok()) {
          first[t] = storage::AuditFailure{
              p.seq, absl::StrCat(p.bundle ? "bundle root signature" : "signature",
                                  " does not verify with key ", p.key->key_id(), ": ",
                                  s.message())};
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::optional<storage::AuditFailure> lowest;
  for (auto& f : first) {
    if (f.has_value() && (!lowest.has_value() || f->seq < lowest->seq)) lowest = std::move(f);
  }
  return lowest;
}

}  // namespace

absl::StatusOr<SignatureAuditReport> AuditSignatures(const storage::LedgerDb& db,
                                                     const SignatureAuditOptions& options) {
  auto config = storage::ReadLogConfig(db);
  if (!config.ok()) return config.status();
  auto hasher = crypto::Hasher::Create(config->hash);
  if (!hasher.ok()) return hasher.status();
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));

  const storage::ScanSnapshot snapshot(db);
  std::unique_ptr<rocksdb::Iterator> it(
      db.db().NewIterator(snapshot.read_options(), db.cf(storage::Cf::kEntries)));

  SignatureAuditReport report;
  KeyTimeline timeline(**hasher, config->origin);
  // Signatures are verified a block at a time, so memory stays bounded on any log size.
  constexpr size_t kBlock = 8192;
  std::vector<PendingSignature> pending;
  pending.reserve(kBlock);
  std::optional<storage::AuditFailure> structural;
  uint64_t seq = 0;
  auto flush = [&]() {
    std::optional<storage::AuditFailure> bad = VerifyAll(pending, threads);
    report.signatures_verified += pending.size();
    pending.clear();
    if (structural.has_value() && (!bad.has_value() || structural->seq < bad->seq)) {
      bad = std::move(structural);
    }
    return bad;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 8 ||
        storage::ReadBigEndian64(absl::string_view(key.data(), key.size())) != seq) {
      structural = storage::AuditFailure{seq, "entry missing from the log"};
      break;
    }
    const std::string bytes = it->value().ToString();
    if (auto s = timeline.Step(seq, bytes, report, pending); !s.ok()) {
      structural = storage::AuditFailure{seq, std::string(s.message())};
      break;
    }
    ++seq;
    if (pending.size() >= kBlock) {
      if (auto bad = flush(); bad.has_value()) {
        report.failure = std::move(bad);
        return report;
      }
    }
    if (options.progress && seq % options.progress_every == 0) options.progress(seq);
  }
  if (!it->status().ok()) {
    return absl::UnavailableError(
        absl::StrCat("reading the log's entries: ", it->status().ToString()));
  }
  report.failure = flush();
  report.entries_checked = report.failure.has_value() && report.failure->seq.has_value()
                               ? *report.failure->seq
                               : seq;
  return report;
}

}  // namespace herbtrace::domain
