#include "services/cli/provenance_check.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "services/cli/bundle.h"
#include "services/cli/event_builder.h"
#include "services/domain/event_batches.h"
#include "services/domain/signature_algorithm.h"

namespace herbtrace::cli {
namespace {

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }
std::string ShortHex(absl::string_view bytes) { return Hex(bytes).substr(0, 16); }
std::string ShortHex(const crypto::Digest& d) { return ShortHex(crypto::AsBytes(d)); }

// A returned entry after step 2: proven, parsed.
struct Proven {
  uint64_t seq = 0;
  crypto::Digest leaf{};
  v1::LedgerEntry entry;
  v1::Event event;
  std::string where;  // "entry seq 7 (event …)"
};

// A signing key and where we learnt it.
struct KnownKey {
  std::unique_ptr<crypto::PublicKey> key;
  std::string owner_party_id;
  uint64_t registered_seq = 0;
  bool from_entry = false;
  std::optional<uint64_t> revoked_at_seq;
};

absl::Status Fail(absl::StatusCode code, absl::string_view where, absl::string_view what) {
  return absl::Status(code, absl::StrCat(where, ": ", what));
}

absl::StatusOr<std::vector<crypto::Digest>> ProofHashes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes, absl::string_view where,
    absl::string_view what) {
  std::vector<crypto::Digest> out;
  out.reserve(hashes.size());
  for (int i = 0; i < hashes.size(); ++i) {
    if (hashes[i].size() != crypto::kDigestSize) {
      return Fail(absl::StatusCode::kInvalidArgument, where,
                  absl::StrCat(what, " hash ", i, " is ", hashes[i].size(), " bytes, not 32"));
    }
    auto digest = crypto::DigestFromBytes(hashes[i], what);
    if (!digest.ok()) return digest.status();
    out.push_back(*digest);
  }
  return out;
}

// The batches an event creates (a batch is created by exactly one entry).
std::vector<std::string> CreatedBatchIds(const v1::Event& event) {
  std::vector<std::string> ids;
  switch (event.kind_case()) {
    case v1::Event::kHarvest:
      ids.push_back(event.harvest().batch_id());
      break;
    case v1::Event::kProcess:
      ids.push_back(event.process().output_batch_id());
      break;
    case v1::Event::kSplit:
      for (const auto& out : event.split().outputs()) ids.push_back(out.batch_id());
      break;
    case v1::Event::kMerge:
      ids.push_back(event.merge().output_batch_id());
      break;
    case v1::Event::kTransform:
      for (const auto& out : event.transform().outputs()) ids.push_back(out.batch_id());
      break;
    default:
      break;
  }
  ids.erase(std::remove(ids.begin(), ids.end(), std::string()), ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// The keys an event registers, with the field path of each, for step 3 and SignersToFetch.
struct RegisteredKey {
  const v1::NewKey* key;
  std::string owner_party_id;
  std::string field;
};
std::vector<RegisteredKey> KeysRegisteredBy(const v1::Event& event) {
  std::vector<RegisteredKey> out;
  if (event.has_register_party()) {
    const auto& keys = event.register_party().initial_keys();
    for (int i = 0; i < keys.size(); ++i) {
      out.push_back({&keys[i], event.register_party().party_id(),
                     absl::StrCat("register_party.initial_keys[", i, "]")});
    }
  } else if (event.has_register_key()) {
    out.push_back(
        {&event.register_key().key(), event.register_key().party_id(), "register_key.key"});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<crypto::PublicKey>> KeyFromRaw(v1::SignatureAlgorithm algorithm,
                                                              const std::string& raw,
                                                              absl::string_view field) {
  auto alg = domain::FromProtoAlgorithm(algorithm, field);
  if (!alg.ok()) return alg.status();
  auto key = crypto::PublicKey::FromRaw(*alg, raw);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", key.status().message()));
  }
  return key;
}

class Checker {
 public:
  Checker(absl::string_view batch_id, const v1::GetUpstreamResponse& response,
          const ProvenanceCheckOptions& options)
      : batch_id_(batch_id), response_(response), options_(options) {
    report_.batch_id = std::string(batch_id);
  }

  absl::StatusOr<ProvenanceReport> Run() {
    if (options_.log_verifier == nullptr || options_.hasher == nullptr) {
      return absl::InvalidArgumentError("provenance check: log verifier and hasher are required");
    }
    if (!response_.batch_id().empty() && response_.batch_id() != batch_id_) {
      return absl::InvalidArgumentError(
          absl::StrCat("response: it is for batch ", response_.batch_id(), ", not ", batch_id_));
    }
    if (auto s = CheckCheckpoint(); !s.ok()) return s;
    if (auto s = CheckEntries(); !s.ok()) return s;
    if (auto s = CollectKeys(); !s.ok()) return s;
    if (auto s = CheckSignatures(); !s.ok()) return s;
    if (auto s = CheckLineage(); !s.ok()) return s;
    if (auto s = CheckChains(); !s.ok()) return s;
    return std::move(report_);
  }

 private:
  // Step 1.
  absl::Status CheckCheckpoint() {
    if (!response_.has_checkpoint() || response_.checkpoint().note().empty()) {
      return absl::FailedPreconditionError(
          "checkpoint: the response carries none (ask with tree_size 0 to get one)");
    }
    auto checkpoint = OpenLogCheckpoint(response_.checkpoint().note(), *options_.log_verifier);
    if (!checkpoint.ok()) return checkpoint.status();
    checkpoint_ = *std::move(checkpoint);
    report_.checkpoint = checkpoint_;
    return absl::OkStatus();
  }

  // Step 2.
  absl::Status CheckEntries() {
    if (response_.entries().empty()) {
      return absl::FailedPreconditionError(
          "response: no entries (was it asked for with include_proofs?)");
    }
    std::optional<uint64_t> previous;
    for (const v1::ProvenEntry& proven : response_.entries()) {
      const v1::RawEntry& raw = proven.entry();
      const uint64_t seq = raw.seq();
      std::string where = absl::StrCat("entry seq ", seq);
      if (previous.has_value() && seq <= *previous) {
        return Fail(absl::StatusCode::kInvalidArgument, where,
                    absl::StrCat("out of order or repeated (after seq ", *previous, ")"));
      }
      previous = seq;
      if (seq >= checkpoint_.size) {
        return Fail(
            absl::StatusCode::kInvalidArgument, where,
            absl::StrCat("is beyond the checkpoint's tree of ", checkpoint_.size, " entries"));
      }
      if (!proven.has_inclusion_proof()) {
        return Fail(absl::StatusCode::kInvalidArgument, where, "has no inclusion proof");
      }
      const v1::InclusionProof& proof = proven.inclusion_proof();
      if (proof.leaf_index() != seq) {
        return Fail(absl::StatusCode::kInvalidArgument, where,
                    absl::StrCat("inclusion proof is for leaf ", proof.leaf_index()));
      }
      if (proof.tree_size() != checkpoint_.size) {
        return Fail(absl::StatusCode::kInvalidArgument, where,
                    absl::StrCat("inclusion proof is against a tree of ", proof.tree_size(),
                                 " entries, the checkpoint's has ", checkpoint_.size));
      }
      // Hash the bytes exactly as received: never re-serialize.
      const crypto::Digest leaf = crypto::HashLeaf(*options_.hasher, raw.entry());
      if (!raw.leaf_hash().empty() && raw.leaf_hash() != crypto::AsBytes(leaf)) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    absl::StrCat("the entry bytes hash to leaf ", ShortHex(leaf),
                                 "…, not to the leaf hash sent with them (",
                                 ShortHex(raw.leaf_hash()), "…)"));
      }
      auto hashes = ProofHashes(proof.hashes(), where, "inclusion proof");
      if (!hashes.ok()) return hashes.status();
      if (auto s = crypto::VerifyInclusion(*options_.hasher, seq, checkpoint_.size, leaf, *hashes,
                                           checkpoint_.root_hash);
          !s.ok()) {
        return Fail(s.code() == absl::StatusCode::kDataLoss ? absl::StatusCode::kDataLoss
                                                            : absl::StatusCode::kInvalidArgument,
                    where,
                    absl::StrCat("not proven in the checkpoint's tree (size ", checkpoint_.size,
                                 ", root ", ShortHex(checkpoint_.root_hash), "…): ", s.message()));
      }
      Proven p;
      p.seq = seq;
      p.leaf = leaf;
      if (!p.entry.ParseFromString(raw.entry())) {
        return Fail(absl::StatusCode::kDataLoss, where, "bytes do not parse as a LedgerEntry");
      }
      if (p.entry.seq() != seq) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    absl::StrCat("the entry itself says seq ", p.entry.seq()));
      }
      if (!p.event.ParseFromString(p.entry.signed_event().payload())) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    "signed_event.payload does not parse as a herbtrace.v1.Event");
      }
      where = absl::StrCat(where, " (event ", p.event.event_id(), ")");
      if (p.event.event_id() != p.entry.event_id()) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    absl::StrCat("the entry's event_id is ", p.entry.event_id()));
      }
      if (p.event.log_origin() != checkpoint_.origin) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    absl::StrCat("signed for log \"", p.event.log_origin(), "\", not \"",
                                 checkpoint_.origin, "\""));
      }
      p.where = std::move(where);
      by_leaf_.emplace(std::string(crypto::AsBytes(leaf)), entries_.size());
      entries_.push_back(std::move(p));
    }
    report_.entries = entries_.size();
    return absl::OkStatus();
  }

  // Step 3, first half: every key we can check signatures with.
  absl::Status CollectKeys() {
    for (const Proven& p : entries_) {
      for (const RegisteredKey& reg : KeysRegisteredBy(p.event)) {
        auto key = KeyFromRaw(reg.key->algorithm(), reg.key->public_key(), reg.field);
        if (!key.ok()) return Fail(absl::StatusCode::kDataLoss, p.where, key.status().message());
        const std::string key_id = (*key)->key_id();
        if (auto s = (*key)->Verify(
                KeyPossessionMessage(p.event.log_origin(), reg.owner_party_id, key_id),
                reg.key->proof_of_possession());
            !s.ok()) {
          return Fail(absl::StatusCode::kUnauthenticated, p.where,
                      absl::StrCat(reg.field, ".proof_of_possession does not verify for key ",
                                   key_id, ": ", s.message()));
        }
        if (keys_.contains(key_id)) continue;  // registered earlier; the first one counts
        KnownKey known;
        known.key = *std::move(key);
        known.owner_party_id = reg.owner_party_id;
        known.registered_seq = p.seq;
        known.from_entry = true;
        keys_.emplace(key_id, std::move(known));
      }
    }
    std::map<std::string, const v1::SigningKey*> server_keys;
    for (const auto& [key_id, key] : options_.server_keys) server_keys.emplace(key_id, &key);
    for (const v1::Party& party : response_.parties()) {
      for (const v1::SigningKey& key : party.keys()) server_keys.emplace(key.key_id(), &key);
    }
    for (const auto& [key_id, signing_key] : server_keys) {
      auto it = keys_.find(key_id);
      if (it != keys_.end()) {
        // Proven registration wins; the server can still tell us about a later revocation.
        if (signing_key->status() == v1::KEY_STATUS_REVOKED) {
          it->second.revoked_at_seq = signing_key->revoked_at_seq();
        }
        continue;
      }
      const std::string where = absl::StrCat("key ", key_id);
      auto key = KeyFromRaw(signing_key->algorithm(), signing_key->public_key(), where);
      if (!key.ok()) return Fail(absl::StatusCode::kDataLoss, "server", key.status().message());
      if ((*key)->key_id() != key_id || signing_key->key_id() != key_id) {
        return Fail(absl::StatusCode::kDataLoss, where,
                    absl::StrCat("the server's key bytes hash to key id ", (*key)->key_id()));
      }
      KnownKey known;
      known.key = *std::move(key);
      known.owner_party_id = signing_key->party_id();
      known.registered_seq = signing_key->registered_seq();
      if (signing_key->status() == v1::KEY_STATUS_REVOKED) {
        known.revoked_at_seq = signing_key->revoked_at_seq();
      }
      keys_.emplace(key_id, std::move(known));
    }
    // Revocations the returned entries prove.
    for (const Proven& p : entries_) {
      if (!p.event.has_revoke_key()) continue;
      auto it = keys_.find(p.event.revoke_key().key_id());
      if (it == keys_.end()) continue;
      if (!it->second.revoked_at_seq.has_value() || p.seq < *it->second.revoked_at_seq) {
        it->second.revoked_at_seq = p.seq;
      }
    }
    return absl::OkStatus();
  }

  // Step 3, second half.
  absl::Status CheckSignatures() {
    std::set<std::string> keys_used, parties;
    for (const Proven& p : entries_) {
      const v1::SignedEvent& signed_event = p.entry.signed_event();
      const std::string& key_id = signed_event.key_id();
      auto it = keys_.find(key_id);
      if (it == keys_.end()) {
        return Fail(absl::StatusCode::kUnauthenticated, p.where,
                    absl::StrCat("signing key ", key_id,
                                 " is unknown: no returned entry registers it and the server "
                                 "did not supply it"));
      }
      const KnownKey& known = it->second;
      // Only the genesis RegisterParty may be signed by a key it registers itself.
      const bool self_registered = known.registered_seq == p.seq && p.event.has_register_party() &&
                                   p.event.register_party().party_id() == p.event.party_id();
      if (known.registered_seq > p.seq || (known.registered_seq == p.seq && !self_registered)) {
        return Fail(absl::StatusCode::kUnauthenticated, p.where,
                    absl::StrCat("signed by key ", key_id, ", registered only at seq ",
                                 known.registered_seq));
      }
      if (known.revoked_at_seq.has_value() && *known.revoked_at_seq <= p.seq) {
        return Fail(
            absl::StatusCode::kUnauthenticated, p.where,
            absl::StrCat("signed by key ", key_id, ", revoked at seq ", *known.revoked_at_seq));
      }
      if (known.owner_party_id != p.event.party_id()) {
        return Fail(absl::StatusCode::kUnauthenticated, p.where,
                    absl::StrCat("key ", key_id, " belongs to party ", known.owner_party_id,
                                 ", but the event is by party ", p.event.party_id()));
      }
      if (domain::ToProtoAlgorithm(known.key->algorithm()) != signed_event.algorithm()) {
        return Fail(absl::StatusCode::kUnauthenticated, p.where,
                    absl::StrCat("signed_event.algorithm ", signed_event.algorithm(),
                                 " is not key ", key_id, "'s algorithm ",
                                 crypto::SignatureAlgorithmName(known.key->algorithm())));
      }
      if (p.entry.has_bundle()) {
        if (auto s = CheckBundleMembership(p, *known.key); !s.ok()) return s;
        ++report_.bundled;
      } else if (auto s = known.key->Verify(signed_event.payload(), signed_event.signature());
                 !s.ok()) {
        return Fail(absl::StatusCode::kUnauthenticated, p.where,
                    absl::StrCat("signature does not verify with key ", key_id, ": ", s.message()));
      }
      ++report_.signatures;
      keys_used.insert(key_id);
      parties.insert(p.event.party_id());
    }
    for (const std::string& key_id : keys_used) {
      ++(keys_.at(key_id).from_entry ? report_.keys_from_entries : report_.keys_from_server);
    }
    report_.signer_party_ids.assign(parties.begin(), parties.end());
    return absl::OkStatus();
  }

  // entry.proto, BundleMembership: 1. empty signature, same key; 2. membership proof to the
  // bundle root; 3. root signature over the bundle message.
  absl::Status CheckBundleMembership(const Proven& p, const crypto::PublicKey& key) {
    const v1::BundleMembership& bundle = p.entry.bundle();
    const v1::SignedEvent& signed_event = p.entry.signed_event();
    if (!signed_event.signature().empty()) {
      return Fail(absl::StatusCode::kDataLoss, p.where,
                  "bundled entry carries its own signature as well");
    }
    if (bundle.key_id() != signed_event.key_id() ||
        bundle.algorithm() != signed_event.algorithm()) {
      return Fail(absl::StatusCode::kUnauthenticated, p.where,
                  absl::StrCat("bundle key ", bundle.key_id(), " is not the entry's key ",
                               signed_event.key_id()));
    }
    auto root = crypto::DigestFromBytes(bundle.bundle_root(), "bundle.bundle_root");
    if (!root.ok())
      return Fail(absl::StatusCode::kInvalidArgument, p.where, root.status().message());
    auto proof = ProofHashes(bundle.proof(), p.where, "bundle membership proof");
    if (!proof.ok()) return proof.status();
    if (bundle.size() == 0 || bundle.index() >= bundle.size()) {
      return Fail(
          absl::StatusCode::kInvalidArgument, p.where,
          absl::StrCat("bundle index ", bundle.index(), " is not below its size ", bundle.size()));
    }
    const crypto::Digest leaf = crypto::HashLeaf(*options_.hasher, signed_event.payload());
    if (auto s = crypto::VerifyInclusion(*options_.hasher, bundle.index(), bundle.size(), leaf,
                                         *proof, *root);
        !s.ok()) {
      return Fail(absl::StatusCode::kUnauthenticated, p.where,
                  absl::StrCat("payload is not proven in its bundle (index ", bundle.index(),
                               " of ", bundle.size(), "): ", s.message()));
    }
    if (auto s = key.Verify(BundleMessage(p.event.log_origin(), bundle.size(), *root),
                            bundle.root_signature());
        !s.ok()) {
      return Fail(absl::StatusCode::kUnauthenticated, p.where,
                  absl::StrCat("bundle root signature does not verify with key ", key.key_id(),
                               ": ", s.message()));
    }
    return absl::OkStatus();
  }

  // Step 4.
  absl::Status CheckLineage() {
    std::map<std::string, size_t> creator;  // batch → index into entries_
    for (size_t i = 0; i < entries_.size(); ++i) {
      for (const std::string& id : CreatedBatchIds(entries_[i].event)) {
        auto [it, inserted] = creator.emplace(id, i);
        if (!inserted) {
          return Fail(absl::StatusCode::kDataLoss, absl::StrCat("batch ", id),
                      absl::StrCat("created twice, at seq ", entries_[it->second].seq, " and seq ",
                                   entries_[i].seq));
        }
      }
    }
    std::set<std::string> seen;
    std::vector<std::string> stack = {batch_id_};
    while (!stack.empty()) {
      const std::string id = std::move(stack.back());
      stack.pop_back();
      if (!seen.insert(id).second) continue;
      auto it = creator.find(id);
      if (it == creator.end()) {
        return Fail(absl::StatusCode::kFailedPrecondition, absl::StrCat("batch ", id),
                    "no returned entry creates it, so its lineage does not reach a harvest");
      }
      const Proven& p = entries_[it->second];
      if (p.event.has_harvest()) {
        const v1::Harvest& h = p.event.harvest();
        VerifiedHarvest out;
        out.batch_id = id;
        out.seq = p.seq;
        out.grower_party_id = p.event.party_id();
        out.base_id = h.base_id();
        out.herb_code = h.herb_code();
        out.grams = h.grams();
        out.harvest_date = h.harvest_date();
        report_.harvests.push_back(std::move(out));
        continue;
      }
      size_t parents = 0;
      for (const domain::LineageEdge& edge : domain::LineageEdges(p.event)) {
        if (edge.child != id || edge.parent.empty()) continue;
        ++parents;
        stack.push_back(edge.parent);
      }
      if (parents == 0) {
        return Fail(absl::StatusCode::kDataLoss, absl::StrCat("batch ", id),
                    absl::StrCat("created at seq ", p.seq, " by ", EventKindName(p.event),
                                 " with no input batch"));
      }
    }
    lineage_ = seen;
    report_.lineage_batch_ids.assign(seen.begin(), seen.end());
    std::sort(
        report_.harvests.begin(), report_.harvests.end(),
        [](const VerifiedHarvest& a, const VerifiedHarvest& b) { return a.batch_id < b.batch_id; });
    if (!response_.harvests().empty()) {
      std::set<std::string> listed, verified;
      for (const v1::OriginHarvest& h : response_.harvests()) listed.insert(h.batch_id());
      for (const VerifiedHarvest& h : report_.harvests) verified.insert(h.batch_id);
      for (const std::string& id : listed) {
        if (!verified.contains(id)) {
          return Fail(absl::StatusCode::kDataLoss, "response",
                      absl::StrCat("lists harvest ", id, ", which the verified lineage of ",
                                   batch_id_, " does not reach"));
        }
      }
      for (const std::string& id : verified) {
        if (!listed.contains(id)) {
          return Fail(
              absl::StatusCode::kDataLoss, "response",
              absl::StrCat("does not list harvest ", id, ", which the verified lineage reaches"));
        }
      }
    }
    return absl::OkStatus();
  }

  // Step 5.
  absl::Status CheckChains() {
    struct Head {
      size_t index;  // into entries_
    };
    std::map<std::string, Head> heads;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Proven& p = entries_[i];
      std::map<std::string, const v1::BatchLink*> links;
      for (const v1::BatchLink& link : p.entry.batch_prev()) {
        if (!links.emplace(link.batch_id(), &link).second) {
          return Fail(absl::StatusCode::kDataLoss, p.where,
                      absl::StrCat("batch_prev links batch ", link.batch_id(), " twice"));
        }
      }
      for (const std::string& id : domain::TouchedBatchIds(p.event)) {
        if (lineage_.contains(id) && !links.contains(id)) {
          return Fail(
              absl::StatusCode::kDataLoss, p.where,
              absl::StrCat("batch_prev has no link for batch ", id, ", which the event touches"));
        }
      }
      const std::vector<std::string> created = CreatedBatchIds(p.event);
      for (const auto& [id, link] : links) {
        if (!lineage_.contains(id)) continue;  // its earlier history is not ours to have
        ++report_.chain_links;
        const std::string& prev = link->prev_leaf_hash();
        auto head = heads.find(id);
        if (prev.empty()) {
          if (!std::binary_search(created.begin(), created.end(), id)) {
            return Fail(absl::StatusCode::kDataLoss, p.where,
                        absl::StrCat("batch_prev for batch ", id,
                                     " is empty (a new batch), but the event does not create it"));
          }
          if (head != heads.end()) {
            return Fail(absl::StatusCode::kDataLoss, p.where,
                        absl::StrCat("batch_prev for batch ", id, " is empty, but seq ",
                                     entries_[head->second.index].seq, " touched it before"));
          }
        } else if (head == heads.end() ||
                   prev != crypto::AsBytes(entries_[head->second.index].leaf)) {
          auto found = by_leaf_.find(prev);
          if (found == by_leaf_.end()) {
            return Fail(absl::StatusCode::kDataLoss, p.where,
                        absl::StrCat("batch_prev for batch ", id, " links leaf ", ShortHex(prev),
                                     "…, which is not among the returned entries: the batch's "
                                     "history is incomplete"));
          }
          if (head == heads.end()) {
            return Fail(absl::StatusCode::kDataLoss, p.where,
                        absl::StrCat("batch_prev for batch ", id, " links seq ",
                                     entries_[found->second].seq,
                                     ", which does not touch that batch before it"));
          }
          const Proven& expected = entries_[head->second.index];
          return Fail(
              absl::StatusCode::kDataLoss, p.where,
              absl::StrCat("batch_prev for batch ", id, " links seq ", entries_[found->second].seq,
                           ", but the previous entry "
                           "touching it is seq ",
                           expected.seq, " (leaf ", ShortHex(expected.leaf), "…): broken chain"));
        }
        heads[id] = Head{i};
      }
    }
    // The server's head, where its state is as of this very checkpoint.
    for (const v1::BatchState& state : response_.batches()) {
      if (!lineage_.contains(state.batch_id()) || state.head_leaf_hash().empty() ||
          state.as_of_tree_size() != checkpoint_.size) {
        continue;
      }
      auto head = heads.find(state.batch_id());
      if (head == heads.end()) continue;
      const Proven& last = entries_[head->second.index];
      if (state.head_leaf_hash() != crypto::AsBytes(last.leaf)) {
        return Fail(absl::StatusCode::kDataLoss, absl::StrCat("batch ", state.batch_id()),
                    absl::StrCat("the server's head is leaf ", ShortHex(state.head_leaf_hash()),
                                 "…, but the last returned entry touching it is seq ", last.seq,
                                 " (leaf ", ShortHex(last.leaf), "…): entries are missing"));
      }
    }
    return absl::OkStatus();
  }

  const std::string batch_id_;
  const v1::GetUpstreamResponse& response_;
  const ProvenanceCheckOptions& options_;
  crypto::Checkpoint checkpoint_;
  std::vector<Proven> entries_;
  std::map<std::string, size_t> by_leaf_;
  std::map<std::string, KnownKey> keys_;
  std::set<std::string> lineage_;
  ProvenanceReport report_;
};

}  // namespace

std::vector<std::string> SignersToFetch(const v1::GetUpstreamResponse& response) {
  std::set<std::string> signers, known;
  for (const v1::Party& party : response.parties()) {
    for (const v1::SigningKey& key : party.keys()) known.insert(key.key_id());
  }
  for (const v1::ProvenEntry& proven : response.entries()) {
    v1::LedgerEntry entry;
    v1::Event event;
    if (!entry.ParseFromString(proven.entry().entry())) continue;
    if (!entry.signed_event().key_id().empty()) signers.insert(entry.signed_event().key_id());
    if (!event.ParseFromString(entry.signed_event().payload())) continue;
    for (const RegisteredKey& reg : KeysRegisteredBy(event)) {
      auto key = KeyFromRaw(reg.key->algorithm(), reg.key->public_key(), reg.field);
      if (key.ok()) known.insert((*key)->key_id());
    }
  }
  std::vector<std::string> out;
  for (const std::string& id : signers) {
    if (!known.contains(id)) out.push_back(id);
  }
  return out;
}

absl::StatusOr<ProvenanceReport> CheckProvenance(absl::string_view batch_id,
                                                 const v1::GetUpstreamResponse& response,
                                                 const ProvenanceCheckOptions& options) {
  return Checker(batch_id, response, options).Run();
}

absl::StatusOr<crypto::Checkpoint> OpenLogCheckpoint(absl::string_view note,
                                                     const crypto::NoteVerifier& log_verifier) {
  auto checkpoint = crypto::OpenCheckpoint(note, log_verifier);
  if (checkpoint.ok()) return checkpoint;
  const absl::Status& s = checkpoint.status();
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat("checkpoint: not signed by the log key ", log_verifier.name(), "+",
                     absl::Hex(log_verifier.key_hash(), absl::kZeroPad8), ": ", s.message()));
  }
  return absl::Status(s.code(),
                      absl::StrCat("checkpoint: malformed or for another log: ", s.message()));
}

absl::Status CheckConsistency(const crypto::Checkpoint& older, const crypto::Checkpoint& newer,
                              const v1::ConsistencyProof& proof, const crypto::Hasher& hasher) {
  if (older.origin != newer.origin) {
    return absl::InvalidArgumentError(absl::StrCat("consistency: checkpoints of two logs (\"",
                                                   older.origin, "\", \"", newer.origin, "\")"));
  }
  if (older.size > newer.size) {
    return absl::DataLossError(absl::StrCat("consistency: the log shrank from ", older.size, " to ",
                                            newer.size, " entries"));
  }
  if (proof.size1() != older.size || proof.size2() != newer.size) {
    return absl::InvalidArgumentError(absl::StrCat("consistency: proof is from ", proof.size1(),
                                                   " to ", proof.size2(), ", not ", older.size,
                                                   " to ", newer.size));
  }
  auto hashes = ProofHashes(proof.hashes(), "consistency", "proof");
  if (!hashes.ok()) return hashes.status();
  if (older.size == 0) return absl::OkStatus();  // the empty tree is a prefix of every tree
  if (auto s = crypto::VerifyConsistency(hasher, older.size, newer.size, *hashes, older.root_hash,
                                         newer.root_hash);
      !s.ok()) {
    return absl::DataLossError(absl::StrCat("consistency: the checkpoint of size ", newer.size,
                                            " does not extend the one of size ", older.size, ": ",
                                            s.message()));
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
