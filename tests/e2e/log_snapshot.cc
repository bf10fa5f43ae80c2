#include "tests/e2e/log_snapshot.h"

#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/merkle.h"

namespace herbtrace::testing {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view call) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration deadline) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LogSnapshot>> LogSnapshot::Read(v1::Ledger::Stub& ledger,
                                                              absl::Duration deadline) {
  auto hasher = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!hasher.ok()) return hasher.status();
  v1::Checkpoint checkpoint;
  {
    grpc::ClientContext context;
    SetDeadline(context, deadline);
    if (grpc::Status s = ledger.GetCheckpoint(&context, v1::GetCheckpointRequest(), &checkpoint);
        !s.ok()) {
      return FromGrpc(s, "GetCheckpoint");
    }
  }
  std::vector<crypto::Digest> leaves;
  leaves.reserve(checkpoint.size());
  absl::flat_hash_map<std::string, uint64_t> seq_of;
  if (checkpoint.size() > 0) {
    grpc::ClientContext context;
    SetDeadline(context, deadline);
    v1::GetEntriesRequest request;
    request.set_start(0);
    request.set_end(checkpoint.size());
    auto reader = ledger.GetEntries(&context, request);
    v1::GetEntriesResponse chunk;
    while (reader->Read(&chunk)) {
      for (const v1::RawEntry& raw : chunk.entries()) {
        const uint64_t seq = leaves.size();
        if (raw.seq() != seq) {
          return absl::DataLossError(
              absl::StrCat("GetEntries: entry ", raw.seq(), " where ", seq, " was due"));
        }
        const crypto::Digest leaf = crypto::HashLeaf(**hasher, raw.entry());
        if (crypto::AsBytes(leaf) != raw.leaf_hash()) {
          return absl::DataLossError(
              absl::StrCat("entry ", seq, ": its bytes do not hash to the leaf hash served"));
        }
        v1::LedgerEntry entry;
        if (!entry.ParseFromString(raw.entry())) {
          return absl::DataLossError(absl::StrCat("entry ", seq, ": does not parse"));
        }
        if (auto [it, added] = seq_of.emplace(entry.event_id(), seq); !added) {
          return absl::DataLossError(absl::StrCat("event ", entry.event_id(), " is logged twice: at ",
                                                  it->second, " and at ", seq));
        }
        leaves.push_back(leaf);
      }
    }
    if (grpc::Status s = reader->Finish(); !s.ok()) return FromGrpc(s, "GetEntries");
  }
  if (leaves.size() != checkpoint.size()) {
    return absl::DataLossError(absl::StrCat("GetEntries: ", leaves.size(),
                                            " entries for a checkpoint of ", checkpoint.size()));
  }
  auto tree = std::make_unique<crypto::MemoryTree>(**hasher, std::move(leaves));
  auto root = crypto::TreeRoot(**hasher, *tree, tree->size());
  if (!root.ok()) return root.status();
  if (crypto::AsBytes(*root) != checkpoint.root_hash()) {
    return absl::DataLossError(
        absl::StrCat("the ", checkpoint.size(), " entries do not hash to the checkpoint's root"));
  }
  return std::unique_ptr<LogSnapshot>(
      new LogSnapshot(*std::move(hasher), std::move(tree), std::move(seq_of)));
}

absl::Status LogSnapshot::Holds(const v1::Receipt& receipt) const {
  const std::string& id = receipt.event_id();
  const std::optional<uint64_t> seq = SeqOf(id);
  if (!seq.has_value()) {
    return absl::DataLossError(absl::StrCat("event ", id, " (receipt seq ", receipt.seq(),
                                            ") is not in the log of ", size(), " entries"));
  }
  if (*seq != receipt.seq()) {
    return absl::DataLossError(
        absl::StrCat("event ", id, " is logged at ", *seq, ", its receipt says ", receipt.seq()));
  }
  auto leaf = tree_->ReadNode(crypto::NodeId{0, *seq});
  if (!leaf.ok()) return leaf.status();
  if (crypto::AsBytes(*leaf) != receipt.leaf_hash()) {
    return absl::DataLossError(
        absl::StrCat("event ", id, " at ", *seq, ": the entry's leaf hash is not the receipt's"));
  }
  if (receipt.tree_size() <= *seq || receipt.tree_size() > size()) {
    return absl::DataLossError(absl::StrCat("event ", id, " at ", *seq, ": receipt tree size ",
                                            receipt.tree_size(), " outside (seq, ", size(), "]"));
  }
  auto root = crypto::TreeRoot(*hasher_, *tree_, receipt.tree_size());
  if (!root.ok()) return root.status();
  if (crypto::AsBytes(*root) != receipt.root_hash()) {
    return absl::DataLossError(absl::StrCat("event ", id, ": the log's tree of ",
                                            receipt.tree_size(),
                                            " entries does not have the receipt's root"));
  }
  return absl::OkStatus();
}

std::optional<uint64_t> LogSnapshot::SeqOf(const std::string& event_id) const {
  auto it = seq_of_.find(event_id);
  if (it == seq_of_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<v1::AuditReport> AuditLog(v1::Ledger::Stub& ledger, absl::Duration deadline) {
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  v1::AuditReport report;
  if (grpc::Status s = ledger.Audit(&context, v1::AuditRequest(), &report); !s.ok()) {
    return FromGrpc(s, "Audit");
  }
  return report;
}

}  // namespace herbtrace::testing
