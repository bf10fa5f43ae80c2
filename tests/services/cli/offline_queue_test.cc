#include "services/cli/offline_queue.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/cli/event_builder.h"
#include "tests/test_util.h"

namespace herbtrace::cli {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::ReadFileOrDie;
using ::herbtrace::testing::StatusIs;
using ::herbtrace::testing::TempDir;
using ::testing::HasSubstr;

// OK and equal to `expected` (this abseil has no IsOkAndHolds).
MATCHER_P(HoldsValue, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << ::testing::PrintToString(*arg);
  return *arg == expected;
}

class OfflineQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
    ASSERT_THAT(key, IsOk());
    key_ = *std::move(key);
    path_ = (dir_.path() / "scanner.queue").string();
  }

  v1::SubmitRequest Signed(int i, bool with_opening = false) {
    EventHeader header;
    header.event_id = *NewEventId(absl::Now());
    header.occurred_at = absl::FromUnixSeconds(1726358400 + i);
    header.party_id = "13068300000001";
    header.log_origin = "anguo.herbtrace.example/log";
    v1::Event event = NewEvent(header);
    event.mutable_harvest()->set_grams(1000 + i);
    std::vector<v1::Opening> openings;
    if (with_opening) {
      auto c = Commit(kTradePricePath, PriceValue(100 * i));
      openings.push_back(c->opening);
    }
    auto request = SealEvent(event, *key_, openings);
    EXPECT_THAT(request, IsOk());
    return *std::move(request);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<crypto::PrivateKey> key_;
};

TEST_F(OfflineQueueTest, RoundTripKeepsEveryByteInOrder) {
  std::vector<v1::SubmitRequest> written;
  for (int i = 0; i < 3; ++i) {
    written.push_back(Signed(i, /*with_opening=*/i == 1));
    EXPECT_THAT(AppendToQueue(path_, written.back()), HoldsValue(static_cast<size_t>(i + 1)));
  }
  HT_ASSERT_OK_AND_ASSIGN(std::vector<v1::SubmitRequest> read, ReadQueue(path_));
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(read[i].signed_event().payload(), written[i].signed_event().payload());
    EXPECT_EQ(read[i].signed_event().signature(), written[i].signed_event().signature());
    EXPECT_EQ(read[i].signed_event().key_id(), written[i].signed_event().key_id());
    EXPECT_EQ(read[i].SerializeAsString(), written[i].SerializeAsString());
    EXPECT_THAT(key_->public_key().Verify(read[i].signed_event().payload(),
                                          read[i].signed_event().signature()),
                IsOk());
  }
  EXPECT_EQ(read[1].openings_size(), 1);
  EXPECT_EQ(ReadFileOrDie(path_).substr(0, 19), "herbtrace-queue v1\n");
}

TEST_F(OfflineQueueTest, FileIsPrivateBecauseItHoldsOpenings) {
  ASSERT_THAT(AppendToQueue(path_, Signed(0, true)), IsOk());
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(OfflineQueueTest, TornTailIsReportedAndNotAppendedBehind) {
  ASSERT_THAT(AppendToQueue(path_, Signed(0)), IsOk());
  ASSERT_THAT(AppendToQueue(path_, Signed(1)), IsOk());
  std::string bytes = ReadFileOrDie(path_);
  {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 7);  // a crash in the middle of record 1
  }
  EXPECT_THAT(ReadQueue(path_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("record 1 at byte")));
  EXPECT_THAT(AppendToQueue(path_, Signed(2)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not appending")));
}

TEST_F(OfflineQueueTest, CorruptLengthIsDataLoss) {
  ASSERT_THAT(AppendToQueue(path_, Signed(0)), IsOk());
  std::string bytes = ReadFileOrDie(path_);
  bytes[19] = '\x7f';  // first length byte: a record of ~2 GiB
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THAT(ReadQueue(path_), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt")));
}

TEST_F(OfflineQueueTest, OtherFilesAreNotQueues) {
  std::ofstream(path_) << "batch,grams\n";
  EXPECT_THAT(ReadQueue(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a herbctl queue")));
  EXPECT_THAT(AppendToQueue(path_, Signed(0)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ReadQueue((dir_.path() / "absent").string()), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(OfflineQueueTest, EmptyFileStartsANewQueue) {
  std::ofstream(path_).close();
  EXPECT_THAT(AppendToQueue(path_, Signed(0)), HoldsValue(1u));
  HT_ASSERT_OK_AND_ASSIGN(auto read, ReadQueue(path_));
  EXPECT_EQ(read.size(), 1u);
}

}  // namespace
}  // namespace herbtrace::cli
