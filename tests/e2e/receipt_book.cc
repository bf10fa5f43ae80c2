#include "tests/e2e/receipt_book.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace herbtrace::testing {
namespace {

constexpr size_t kFailuresShown = 10;

}  // namespace

absl::Status ReceiptBook::Add(const v1::Receipt& receipt) {
  absl::MutexLock lock(&mu_);
  auto [it, added] = receipts_.emplace(receipt.event_id(), receipt);
  if (added) return absl::OkStatus();
  if (!google::protobuf::util::MessageDifferencer::Equals(it->second, receipt)) {
    return absl::DataLossError(absl::StrCat("event ", receipt.event_id(), ": receipt seq ",
                                            receipt.seq(), " now, seq ", it->second.seq(),
                                            " before, or another hash, time or tree"));
  }
  ++repeats_;
  return absl::OkStatus();
}

ReceiptBook::Check ReceiptBook::CheckAgainst(const LogSnapshot& log) const {
  absl::MutexLock lock(&mu_);
  Check check;
  for (const auto& [event_id, receipt] : receipts_) {
    ++check.checked;
    if (absl::Status s = log.Holds(receipt); !s.ok()) {
      ++check.lost;
      if (check.failures.size() < kFailuresShown) check.failures.emplace_back(s.message());
    }
  }
  return check;
}

size_t ReceiptBook::size() const {
  absl::MutexLock lock(&mu_);
  return receipts_.size();
}

size_t ReceiptBook::repeats() const {
  absl::MutexLock lock(&mu_);
  return repeats_;
}

}  // namespace herbtrace::testing
