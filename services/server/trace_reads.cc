#include "services/server/trace_reads.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/server/checkpoints.h"

namespace herbtrace::server {
namespace {

void SetBytes(std::string* out, const crypto::Digest& d) {
  const absl::string_view b = crypto::AsBytes(d);
  out->assign(b.data(), b.size());
}

}  // namespace

absl::StatusOr<v1::BatchState> ReadBatch(LogSource& source, const std::string& batch_id,
                                         uint64_t as_of) {
  auto state = source.state().Batch(batch_id);
  if (absl::IsNotFound(state.status()) && source.is_replica()) {
    if (auto s = source.CatchUp(); !s.ok()) return s;
    state = source.state().Batch(batch_id);
  }
  if (absl::IsNotFound(state.status())) {
    return absl::NotFoundError(absl::StrCat("batch_id: ", batch_id, " is not in the log"));
  }
  if (!state.ok()) return state.status();
  auto head = source.view().Head(batch_id);
  if (!head.ok()) return head.status();
  uint64_t reflected = std::max(as_of, state->last_seq() + 1);
  if (head->has_value()) {
    SetBytes(state->mutable_head_leaf_hash(), (*head)->leaf_hash);
    reflected = std::max(reflected, (*head)->seq + 1);
  }
  if (state->batch_id().empty()) state->set_batch_id(batch_id);
  state->set_as_of_tree_size(reflected);
  return state;
}

absl::StatusOr<ProofTree> ResolveProofTree(LogSource& source, uint64_t requested,
                                           uint64_t needed, absl::string_view field) {
  ProofTree tree;
  if (requested == 0) {
    auto stored = source.CheckpointCovering(needed);
    if (!stored.ok()) return stored.status();
    auto checkpoint = CosignedCheckpoint(source, *stored);
    if (!checkpoint.ok()) return checkpoint.status();
    tree.size = stored->checkpoint.size;
    tree.checkpoint = *std::move(checkpoint);
    return tree;
  }
  if (auto s = source.CatchUpTo(requested); !s.ok()) return s;
  auto size = source.Size();
  if (!size.ok()) return size.status();
  if (requested > *size) {
    return absl::OutOfRangeError(
        absl::StrCat(field, ": ", requested, " is beyond the log's size ", *size));
  }
  tree.size = requested;
  return tree;
}

absl::Status AddProvenEntries(const storage::LogView& view, absl::Span<const uint64_t> seqs,
                              uint64_t tree_size, absl::FunctionRef<v1::ProvenEntry*()> add) {
  auto proven = view.ProvenEntries(seqs, tree_size);
  if (!proven.ok()) return proven.status();
  for (storage::LogView::ProvenEntry& e : *proven) {
    v1::ProvenEntry* out = add();
    v1::RawEntry* raw = out->mutable_entry();
    raw->set_seq(e.seq);
    raw->set_entry(std::move(e.bytes));
    SetBytes(raw->mutable_leaf_hash(), e.leaf_hash);
    v1::InclusionProof* p = out->mutable_inclusion_proof();
    p->set_leaf_index(e.seq);
    p->set_tree_size(tree_size);
    p->mutable_hashes()->Reserve(static_cast<int>(e.proof.size()));
    for (const crypto::Digest& d : e.proof) SetBytes(p->add_hashes(), d);
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::server
