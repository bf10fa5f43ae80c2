#include "services/server/ledger_service.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/checkpoint.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "rocksdb/iterator.h"
#include "services/domain/signature_audit.h"
#include "services/server/access_policy.h"
#include "services/server/checkpoints.h"
#include "services/server/reactors.h"
#include "services/server/registry_lookup.h"
#include "storage/audit.h"
#include "storage/key_codec.h"

namespace herbtrace::server {
namespace {

void SetBytes(std::string* out, const crypto::Digest& d) {
  const absl::string_view b = crypto::AsBytes(d);
  out->assign(b.data(), b.size());
}

// leaf hash → seq, for GetInclusionProof by leaf hash. The ledger keeps no such index on disk,
// so it is built here from the stored leaf hashes: one sequential scan of the tree family on the
// first look-up, then only the leaves appended since. 8-byte hash prefixes as keys (~32 bytes a
// leaf in memory); candidates are confirmed against the full stored leaf hash, and prefixes two
// leaves share go to `collisions_`.
class LeafIndex {
 public:
  explicit LeafIndex(const LogSource& source) : source_(source) {}

  absl::StatusOr<std::optional<uint64_t>> Find(const crypto::Digest& leaf) {
    auto size = source_.Size();
    if (!size.ok()) return size.status();
    absl::MutexLock lock(&mu_);
    if (auto s = ExtendTo(*size); !s.ok()) return s;
    const uint64_t key = storage::ReadBigEndian64(crypto::AsBytes(leaf));
    std::vector<uint64_t> candidates;
    if (auto it = first_.find(key); it != first_.end()) candidates.push_back(it->second);
    for (auto [it, end] = collisions_.equal_range(key); it != end; ++it) {
      candidates.push_back(it->second);
    }
    for (uint64_t seq : candidates) {
      auto stored = source_.view().LeafHash(seq);
      if (!stored.ok()) return stored.status();
      if (*stored == leaf) return seq;
    }
    return std::nullopt;
  }

 private:
  absl::Status ExtendTo(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (indexed_ >= size) return absl::OkStatus();
    const storage::LedgerDb& db = source_.db();
    std::unique_ptr<rocksdb::Iterator> it(
        db.db().NewIterator(rocksdb::ReadOptions(), db.cf(storage::Cf::kTree)));
    const std::string start = storage::BigEndian64(indexed_);
    for (it->Seek(start); it->Valid() && indexed_ < size; it->Next()) {
      if (it->key().size() != 8 || it->value().size() < crypto::kDigestSize ||
          storage::ReadBigEndian64(absl::string_view(it->key().data(), 8)) != indexed_) {
        return absl::DataLossError(absl::StrCat("tree: leaf ", indexed_, " is not stored"));
      }
      const uint64_t key = storage::ReadBigEndian64(absl::string_view(it->value().data(), 8));
      if (!first_.emplace(key, indexed_).second) collisions_.emplace(key, indexed_);
      ++indexed_;
    }
    if (!it->status().ok()) return storage::FromRocks(it->status(), "reading tree");
    return absl::OkStatus();
  }

  const LogSource& source_;
  absl::Mutex mu_;
  uint64_t indexed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, uint64_t> first_ ABSL_GUARDED_BY(mu_);
  std::multimap<uint64_t, uint64_t> collisions_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<uint64_t> CheckedTreeSize(LogSource& source, uint64_t tree_size,
                                         absl::string_view field) {
  if (auto s = source.CatchUpTo(tree_size); !s.ok()) return s;
  auto size = source.Size();
  if (!size.ok()) return size.status();
  if (tree_size > *size) {
    return absl::OutOfRangeError(
        absl::StrCat(field, ": ", tree_size, " is beyond the log's size ", *size));
  }
  return tree_size;
}

// The body a witness cosigned: the text up to the blank line that starts the signatures, or the
// whole text when it carries none.
std::string CheckpointBody(absl::string_view note) {
  const size_t blank = note.find("\n\n");
  if (blank != absl::string_view::npos) return std::string(note.substr(0, blank + 1));
  std::string body(note);
  if (body.empty() || body.back() != '\n') body.push_back('\n');
  return body;
}

class LedgerServiceImpl final : public v1::Ledger::CallbackService {
 public:
  LedgerServiceImpl(LogSource& source, Executor& executor, Executor& audit_executor,
                    LedgerServiceOptions options)
      : source_(source),
        executor_(executor),
        audit_executor_(audit_executor),
        options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : storage::Clock::Real()),
        access_(source.state(), options_.callers),
        leaves_(source) {}

  grpc::ServerUnaryReactor* GetCheckpoint(grpc::CallbackServerContext* context,
                                          const v1::GetCheckpointRequest* /*request*/,
                                          v1::Checkpoint* response) override {
    return RunUnary(context, executor_, [this, context, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kLedgerGetCheckpoint); !caller.ok()) {
        return caller.status();
      }
      // The writer signs one covering everything durable now if the stored one lags; a reader
      // serves the newest it has caught up with.
      auto size = source_.Size();
      if (!size.ok()) return size.status();
      auto latest = source_.CheckpointCovering(*size);
      if (!latest.ok()) return latest.status();
      auto checkpoint = CosignedCheckpoint(source_, *latest);
      if (!checkpoint.ok()) return checkpoint.status();
      *response = *std::move(checkpoint);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetInclusionProof(grpc::CallbackServerContext* context,
                                              const v1::GetInclusionProofRequest* request,
                                              v1::GetInclusionProofResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kLedgerGetInclusionProof); !caller.ok()) {
        return caller.status();
      }
      return InclusionProof(*request, *response);
    });
  }

  grpc::ServerUnaryReactor* GetConsistencyProof(grpc::CallbackServerContext* context,
                                                const v1::GetConsistencyProofRequest* request,
                                                v1::ConsistencyProof* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kLedgerGetConsistencyProof); !caller.ok()) {
        return caller.status();
      }
      return ConsistencyProof(*request, *response);
    });
  }

  grpc::ServerWriteReactor<v1::GetEntriesResponse>* GetEntries(
      grpc::CallbackServerContext* context, const v1::GetEntriesRequest* request) override {
    struct State {
      bool started = false;
      uint64_t next = 0;
      uint64_t end = 0;
    };
    auto state = std::make_shared<State>();
    state->next = request->start();
    state->end = request->end();
    return ProducedStream<v1::GetEntriesResponse>::Start(
        context, executor_,
        [this, context, state](v1::GetEntriesResponse* out) -> absl::StatusOr<bool> {
          if (!state->started) {
            state->started = true;
            if (auto caller = access_.Admit(*context, Rpc::kLedgerGetEntries); !caller.ok()) {
              return caller.status();
            }
            if (auto s = ResolveEntryRange(state->next, state->end); !s.ok()) return s;
          }
          if (state->next >= state->end) return false;
          size_t bytes = 0;
          while (state->next < state->end &&
                 static_cast<size_t>(out->entries_size()) < options_.max_entries_per_message &&
                 (bytes < options_.max_bytes_per_message || out->entries_size() == 0)) {
            auto entry = source_.view().EntryBytes(state->next);
            if (!entry.ok()) return entry.status();
            auto leaf = source_.view().LeafHash(state->next);
            if (!leaf.ok()) return leaf.status();
            v1::RawEntry* raw = out->add_entries();
            raw->set_seq(state->next);
            bytes += entry->size() + 48;
            raw->set_entry(*std::move(entry));
            SetBytes(raw->mutable_leaf_hash(), *leaf);
            ++state->next;
          }
          return true;
        });
  }

  grpc::ServerUnaryReactor* AddCosignature(grpc::CallbackServerContext* context,
                                           const v1::AddCosignatureRequest* request,
                                           v1::Checkpoint* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kLedgerAddCosignature); !caller.ok()) {
        return caller.status();
      }
      return Cosign(*request, *response);
    });
  }

  grpc::ServerUnaryReactor* Audit(grpc::CallbackServerContext* context,
                                  const v1::AuditRequest* request,
                                  v1::AuditReport* response) override {
    // Checked before the one audit slot is taken, so a refused caller cannot hold it.
    if (auto caller = access_.Admit(*context, Rpc::kLedgerAudit); !caller.ok()) {
      auto* reactor = context->DefaultReactor();
      reactor->Finish(ToGrpcStatus(caller.status()));
      return reactor;
    }
    bool expected = false;
    if (!audit_running_.compare_exchange_strong(expected, true)) {
      auto* reactor = context->DefaultReactor();
      reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(
          "Audit: another audit of this log is running; retry when it has finished")));
      return reactor;
    }
    // Released before the call finishes, or when the work is dropped unrun (queue full, call
    // cancelled), whichever comes first; once.
    struct Release {
      std::atomic<bool>& flag;
      std::atomic<bool> done{false};
      void Now() {
        if (!done.exchange(true)) flag.store(false);
      }
      ~Release() { Now(); }
    };
    std::shared_ptr<Release> release(new Release{audit_running_});
    return RunUnary(context, audit_executor_, [this, request, response, release] {
      absl::Status s = RunAudit(*request, *response);
      release->Now();
      return s;
    });
  }

 private:
  absl::Status InclusionProof(const v1::GetInclusionProofRequest& request,
                              v1::GetInclusionProofResponse& response) {
    uint64_t tree_size = request.tree_size();
    if (tree_size == 0) {
      auto latest = source_.LatestCheckpoint();
      if (!latest.ok()) return latest.status();
      tree_size = latest->checkpoint.size;
      auto checkpoint = CosignedCheckpoint(source_, *latest);
      if (!checkpoint.ok()) return checkpoint.status();
      *response.mutable_checkpoint() = *std::move(checkpoint);
    } else {
      auto checked = CheckedTreeSize(source_, tree_size, "tree_size");
      if (!checked.ok()) return checked.status();
    }
    uint64_t seq = 0;
    switch (request.leaf_case()) {
      case v1::GetInclusionProofRequest::kSeq:
        seq = request.seq();
        if (seq >= tree_size) {
          return absl::OutOfRangeError(absl::StrCat("seq: entry ", seq,
                                                    " is not in the tree of ", tree_size,
                                                    " entries"));
        }
        break;
      case v1::GetInclusionProofRequest::kLeafHash: {
        auto leaf = crypto::DigestFromBytes(request.leaf_hash(), "leaf_hash");
        if (!leaf.ok()) return leaf.status();
        auto found = leaves_.Find(*leaf);
        if (!found.ok()) return found.status();
        if (!found->has_value()) {
          return absl::NotFoundError(
              absl::StrCat("leaf_hash: ", crypto::ToHex(*leaf), " is not a leaf of this log"));
        }
        seq = **found;
        if (seq >= tree_size) {
          return absl::OutOfRangeError(absl::StrCat("leaf_hash: ", crypto::ToHex(*leaf),
                                                    " is entry ", seq, ", not in the tree of ",
                                                    tree_size, " entries"));
        }
        break;
      }
      default:
        return absl::InvalidArgumentError("leaf: set seq or leaf_hash");
    }
    auto leaf = source_.view().LeafHash(seq);
    if (!leaf.ok()) return leaf.status();
    auto proof = source_.view().InclusionProof(seq, tree_size);
    if (!proof.ok()) return proof.status();
    SetBytes(response.mutable_leaf_hash(), *leaf);
    v1::InclusionProof* out = response.mutable_proof();
    out->set_leaf_index(seq);
    out->set_tree_size(tree_size);
    for (const crypto::Digest& d : *proof) SetBytes(out->add_hashes(), d);
    return absl::OkStatus();
  }

  absl::Status ConsistencyProof(const v1::GetConsistencyProofRequest& request,
                                v1::ConsistencyProof& response) {
    if (request.size1() == 0) {
      return absl::InvalidArgumentError(
          "size1: must be at least 1 (a proof from the empty tree proves nothing)");
    }
    uint64_t size2 = request.size2();
    if (size2 == 0) {
      auto latest = source_.LatestCheckpoint();
      if (!latest.ok()) return latest.status();
      size2 = latest->checkpoint.size;
    } else {
      auto checked = CheckedTreeSize(source_, size2, "size2");
      if (!checked.ok()) return checked.status();
    }
    if (request.size1() > size2) {
      auto beyond = CheckedTreeSize(source_, request.size1(), "size1");
      if (!beyond.ok()) return beyond.status();
      return absl::InvalidArgumentError(absl::StrCat("size1: ", request.size1(),
                                                     " is larger than size2 ", size2));
    }
    auto proof = source_.view().ConsistencyProof(request.size1(), size2);
    if (!proof.ok()) return proof.status();
    response.set_size1(request.size1());
    response.set_size2(size2);
    for (const crypto::Digest& d : *proof) SetBytes(response.add_hashes(), d);
    return absl::OkStatus();
  }

  absl::Status ResolveEntryRange(uint64_t start, uint64_t& end) {
    if (end == 0) {
      auto latest = source_.LatestCheckpoint();
      if (!latest.ok()) return latest.status();
      end = latest->checkpoint.size;
    } else {
      auto checked = CheckedTreeSize(source_, end, "end");
      if (!checked.ok()) return checked.status();
    }
    if (start > end) {
      return absl::InvalidArgumentError(
          absl::StrCat("start: ", start, " is beyond end ", end));
    }
    return absl::OkStatus();
  }

  // The witness whose registered key made `signature`: an active Ed25519 key of an active
  // regulator whose key hash under the line's name matches (C2SP key hashes bind the name).
  absl::StatusOr<std::unique_ptr<crypto::CosignatureVerifier>> FindWitness(
      const crypto::NoteSignature& signature) {
    auto parties = source_.state().Parties();
    if (!parties.ok()) return parties.status();
    for (const v1::Party& listed : *parties) {
      if (!HasRole(listed, v1::PARTY_ROLE_REGULATOR) ||
          listed.status() == v1::PARTY_STATUS_SUSPENDED) {
        continue;
      }
      auto party = source_.state().Party(listed.party_id());  // with its keys
      if (!party.ok()) return party.status();
      for (const v1::SigningKey& key : party->keys()) {
        if (key.algorithm() != v1::SIGNATURE_ALGORITHM_ED25519 ||
            key.status() == v1::KEY_STATUS_REVOKED) {
          continue;
        }
        auto public_key =
            crypto::PublicKey::FromRaw(crypto::SignatureAlgorithm::kEd25519, key.public_key());
        if (!public_key.ok()) continue;
        auto verifier = crypto::CosignatureVerifier::Create(signature.name, *std::move(public_key));
        if (verifier.ok() && (*verifier)->Matches(signature)) return verifier;
      }
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "cosignature: witness \"", signature.name, "\" with key hash ",
        absl::BytesToHexString(storage::BigEndian64(signature.key_hash).substr(4)),
        " is not an active Ed25519 key of a registered regulator"));
  }

  absl::Status Cosign(const v1::AddCosignatureRequest& request, v1::Checkpoint& response) {
    storage::Ledger* writer = source_.writer();
    if (writer == nullptr) {
      return absl::FailedPreconditionError(
          "AddCosignature: this is a reader replica; send cosignatures to the writer");
    }
    // The checkpoint: this log's, for a tree the log holds, with the root the log has for it.
    const std::string body = CheckpointBody(request.checkpoint_note());
    auto checkpoint = crypto::ParseCheckpoint(body);
    if (!checkpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint_note: ", checkpoint.status().message()));
    }
    if (checkpoint->origin != source_.config().origin) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint_note: origin \"",
                                                     checkpoint->origin, "\" is not this log's \"",
                                                     source_.config().origin, "\""));
    }
    auto size = source_.Size();
    if (!size.ok()) return size.status();
    if (checkpoint->size > *size) {
      return absl::OutOfRangeError(absl::StrCat("checkpoint_note: tree size ", checkpoint->size,
                                                " is beyond the log's size ", *size));
    }
    auto root = source_.view().RootAt(checkpoint->size);
    if (!root.ok()) return root.status();
    if (*root != checkpoint->root_hash) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint_note: root hash ", crypto::ToHex(checkpoint->root_hash),
          " is not this log's root at size ", checkpoint->size, " (", crypto::ToHex(*root), ")"));
    }
    // The log's signature over the body. Ed25519 is deterministic, so re-signing gives exactly
    // the line the log put on this checkpoint when it signed it.
    auto log_line = writer->log_signer().Sign(body);
    if (!log_line.ok()) return log_line.status();

    // The cosignature: one well-formed line, by a registered regulator's witness key, over this
    // body, with a timestamp not in the future.
    std::string line = request.cosignature();
    if (line.empty()) return absl::InvalidArgumentError("cosignature: required");
    if (line.back() != '\n') line.push_back('\n');
    auto parsed = crypto::ParseNote(absl::StrCat(body, "\n", line));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("cosignature: ", parsed.status().message()));
    }
    if (parsed->signatures.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cosignature: expected one signature line, got ", parsed->signatures.size()));
    }
    const crypto::NoteSignature& signature = parsed->signatures[0];
    if (signature.name == source_.config().origin) {
      return absl::InvalidArgumentError("cosignature: a line under the log's own name");
    }
    auto witness = FindWitness(signature);
    if (!witness.ok()) return witness.status();
    auto timestamp = (*witness)->Verify(*checkpoint, signature);
    if (!timestamp.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cosignature: ", timestamp.status().message()));
    }
    const absl::Time now = clock_.Now();
    if (absl::FromUnixSeconds(static_cast<int64_t>(*timestamp)) >
        now + options_.max_cosignature_skew) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cosignature: timestamp ", *timestamp, " is more than ",
          absl::FormatDuration(options_.max_cosignature_skew), " ahead of the server clock (",
          absl::ToUnixSeconds(now), ")"));
    }

    StoredCosignature cosignature{body, *checkpoint, signature, *timestamp};
    {
      absl::MutexLock lock(&cosign_mu_);
      auto stored = StoreCosignature(source_, cosignature);
      if (!stored.ok()) return stored.status();
    }
    // The checkpoint the witness cosigned: the log's line, then every witness line stored for
    // the same body (the new one among them unless a newer one of the witness is kept), then
    // the new line if it is not there.
    crypto::Note note{body, {*log_line}};
    auto with_stored = AttachCosignatures(source_.db(), crypto::FormatNote(note));
    if (!with_stored.ok()) return with_stored.status();
    auto final_note = crypto::ParseNote(*with_stored);
    if (!final_note.ok()) return final_note.status();
    bool present = false;
    for (const crypto::NoteSignature& s : final_note->signatures) {
      present = present || (s.name == signature.name && s.key_hash == signature.key_hash);
    }
    if (!present) final_note->signatures.push_back(signature);
    response = CheckpointProto(crypto::FormatNote(*final_note), *checkpoint);
    return absl::OkStatus();
  }

  absl::Status RunAudit(const v1::AuditRequest& request, v1::AuditReport& response) {
    if (request.tree_size() != 0) {
      if (auto s = CheckedTreeSize(source_, request.tree_size(), "tree_size"); !s.ok()) {
        return s.status();
      }
    }
    storage::AuditOptions options;
    auto report = source_.Audit(options);
    if (!report.ok()) return report.status();
    response.set_entries_checked(report->entries_checked);
    response.set_ok(report->ok());
    if (!report->ok()) {
      response.mutable_first_failure()->set_seq(report->failure->seq.value_or(0));
      response.mutable_first_failure()->set_reason(report->failure->reason);
    }
    // Signatures are worth checking only on entries the storage audit found unaltered.
    if (report->ok() && request.verify_signatures()) {
      auto signatures = source_.AuditSignatures(domain::SignatureAuditOptions());
      if (!signatures.ok()) return signatures.status();
      response.set_signatures_checked(true);
      response.set_signatures_verified(signatures->signatures_verified);
      response.set_bundled_entries(signatures->bundled_entries);
      response.set_keys_registered(signatures->keys_registered);
      response.set_keys_revoked(signatures->keys_revoked);
      if (!signatures->ok()) {
        response.set_ok(false);
        response.mutable_first_failure()->set_seq(signatures->failure->seq.value_or(0));
        response.mutable_first_failure()->set_reason(signatures->failure->reason);
      }
    }
    // The whole log was audited; a smaller requested size is a prefix of it whose root comes
    // from the tree the audit just checked node by node.
    uint64_t tree_size = report->tree_size;
    crypto::Digest root = report->root;
    if (request.tree_size() != 0 && request.tree_size() < report->tree_size) {
      tree_size = request.tree_size();
      auto prefix_root = source_.view().RootAt(tree_size);
      if (!prefix_root.ok()) return prefix_root.status();
      root = *prefix_root;
    }
    response.set_tree_size(tree_size);
    if (report->ok()) SetBytes(response.mutable_root_hash(), root);
    if (report->checkpoint_size.has_value() && *report->checkpoint_size == tree_size) {
      auto latest = source_.LatestCheckpoint();
      if (latest.ok() && latest->checkpoint.size == tree_size) {
        auto checkpoint = CosignedCheckpoint(source_, *latest);
        if (!checkpoint.ok()) return checkpoint.status();
        *response.mutable_checkpoint() = *std::move(checkpoint);
      }
    }
    return absl::OkStatus();
  }

  LogSource& source_;
  Executor& executor_;
  Executor& audit_executor_;
  const LedgerServiceOptions options_;
  const storage::Clock& clock_;
  const AccessControl access_;
  LeafIndex leaves_;
  std::atomic<bool> audit_running_{false};
  absl::Mutex cosign_mu_;
};

}  // namespace

std::unique_ptr<v1::Ledger::CallbackService> NewLedgerService(LogSource& source,
                                                              Executor& executor,
                                                              Executor& audit_executor,
                                                              LedgerServiceOptions options) {
  return std::make_unique<LedgerServiceImpl>(source, executor, audit_executor, std::move(options));
}

}  // namespace herbtrace::server
