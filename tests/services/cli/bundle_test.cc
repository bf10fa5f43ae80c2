#include "services/cli/bundle.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/cli/event_builder.h"
#include "tests/test_util.h"

namespace herbtrace::cli {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "anguo.herbtrace.example/log";
constexpr char kParty[] = "13068300000001";

class BundleTest : public ::testing::TestWithParam<crypto::HashAlgorithm> {
 protected:
  void SetUp() override {
    HT_ASSERT_OK_AND_ASSIGN(hasher_, crypto::Hasher::Create(GetParam()));
    HT_ASSERT_OK_AND_ASSIGN(key_,
                            crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519));
  }

  v1::SubmitRequest Queued(int i, const crypto::PrivateKey& key, absl::string_view party = kParty,
                           absl::string_view origin = kOrigin) {
    EventHeader header;
    header.event_id = *NewEventId(absl::Now());
    header.occurred_at = absl::FromUnixSeconds(1726358400 + i);
    header.party_id = std::string(party);
    header.log_origin = std::string(origin);
    v1::Event event = NewEvent(header);
    event.mutable_harvest()->set_grams(1000 + i);
    std::vector<v1::Opening> openings;
    if (i % 2 == 1) openings.push_back(Commit(kTradePricePath, PriceValue(i))->opening);
    return *SealEvent(event, key, openings);
  }

  std::vector<v1::SubmitRequest> Queue(int n) {
    std::vector<v1::SubmitRequest> out;
    for (int i = 0; i < n; ++i) out.push_back(Queued(i, *key_));
    return out;
  }

  std::unique_ptr<crypto::Hasher> hasher_;
  std::unique_ptr<crypto::PrivateKey> key_;
};

TEST_P(BundleTest, RootIsTheRfc9162RootOfThePayloadLeaves) {
  for (int n = 1; n <= 9; ++n) {
    std::vector<std::string> payloads;
    std::vector<crypto::Digest> leaves;
    for (const auto& q : Queue(n)) {
      payloads.push_back(q.signed_event().payload());
      leaves.push_back(hasher_->HashWithPrefix(0x00, q.signed_event().payload()));
    }
    EXPECT_EQ(BundleRoot(*hasher_, payloads), crypto::RootFromLeafHashes(*hasher_, leaves))
        << n << " events";
    if (n == 1) {
      EXPECT_EQ(BundleRoot(*hasher_, payloads), leaves[0]);
    }
  }
}

TEST_P(BundleTest, MessageIsTheCaptureProtoText) {
  crypto::Digest root{};
  root[0] = 0xab;
  EXPECT_EQ(BundleMessage(kOrigin, 12, root),
            absl::StrCat("herbtrace bundle v1\nanguo.herbtrace.example/log\n12\n",
                         absl::Base64Escape(crypto::AsBytes(root)), "\n"));
}

TEST_P(BundleTest, OneSignatureOverTheRootCoversTheQueueInOrder) {
  const std::vector<v1::SubmitRequest> queued = Queue(5);
  HT_ASSERT_OK_AND_ASSIGN(v1::SubmitBundleRequest bundle,
                          BuildBundle(queued, *key_, *hasher_, kOrigin));
  ASSERT_EQ(bundle.events_size(), 5);
  std::vector<crypto::Digest> leaves;
  for (int i = 0; i < 5; ++i) {
    // The payload bytes and openings travel exactly as queued.
    EXPECT_EQ(bundle.events(i).payload(), queued[i].signed_event().payload());
    EXPECT_EQ(bundle.events(i).openings_size(), queued[i].openings_size());
    leaves.push_back(crypto::HashLeaf(*hasher_, bundle.events(i).payload()));
  }
  EXPECT_EQ(bundle.key_id(), key_->public_key().key_id());
  EXPECT_EQ(bundle.algorithm(), v1::SIGNATURE_ALGORITHM_ED25519);
  const crypto::Digest root = crypto::RootFromLeafHashes(*hasher_, leaves);
  EXPECT_THAT(key_->public_key().Verify(BundleMessage(kOrigin, 5, root), bundle.root_signature()),
              IsOk());
  // Each member is provable on its own with an inclusion proof to that root.
  for (uint64_t i = 0; i < 5; ++i) {
    const auto proof = crypto::InclusionProofFromLeafHashes(*hasher_, leaves, i);
    EXPECT_THAT(crypto::VerifyInclusion(*hasher_, i, 5, leaves[i], proof, root), IsOk());
  }
}

TEST_P(BundleTest, Sm2KeySignsTheBundleToo) {
  HT_ASSERT_OK_AND_ASSIGN(auto sm2, crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kSm2));
  std::vector<v1::SubmitRequest> queued = {Queued(0, *sm2), Queued(1, *sm2)};
  HT_ASSERT_OK_AND_ASSIGN(v1::SubmitBundleRequest bundle,
                          BuildBundle(queued, *sm2, *hasher_, kOrigin));
  const crypto::Digest root = BundleRoot(
      *hasher_, {queued[0].signed_event().payload(), queued[1].signed_event().payload()});
  EXPECT_EQ(bundle.algorithm(), v1::SIGNATURE_ALGORITHM_SM2);
  EXPECT_THAT(sm2->public_key().Verify(BundleMessage(kOrigin, 2, root), bundle.root_signature()),
              IsOk());
}

TEST_P(BundleTest, RefusesWhatTheServerWouldReject) {
  EXPECT_THAT(BuildBundle({}, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no events")));

  std::vector<v1::SubmitRequest> mixed = Queue(2);
  mixed.push_back(Queued(2, *key_, "13068300000002"));
  EXPECT_THAT(BuildBundle(mixed, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queue event 2")));

  std::vector<v1::SubmitRequest> other_log = Queue(1);
  other_log.push_back(Queued(1, *key_, kParty, "other.example/log"));
  EXPECT_THAT(BuildBundle(other_log, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("log_origin")));

  HT_ASSERT_OK_AND_ASSIGN(auto other_key,
                          crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519));
  EXPECT_THAT(BuildBundle(Queue(2), *other_key, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not the bundle key")));

  std::vector<v1::SubmitRequest> garbage = Queue(1);
  garbage[0].mutable_signed_event()->set_payload("\xff\xff\xff");
  EXPECT_THAT(BuildBundle(garbage, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a herbtrace.v1.Event")));

  // A queue file edited after the events were signed: the bundle must not sign the edit.
  std::vector<v1::SubmitRequest> edited = Queue(2);
  v1::Event event;
  ASSERT_TRUE(event.ParseFromString(edited[1].signed_event().payload()));
  event.mutable_harvest()->set_grams(event.harvest().grams() * 10);
  edited[1].mutable_signed_event()->set_payload(event.SerializeAsString());
  EXPECT_THAT(BuildBundle(edited, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("queue event 1"), HasSubstr("signature: "))));
  std::vector<v1::SubmitRequest> unsigned_event = Queue(1);
  unsigned_event[0].mutable_signed_event()->clear_signature();
  EXPECT_THAT(BuildBundle(unsigned_event, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queue event 0")));

  std::vector<v1::SubmitRequest> too_many(kMaxBundleEvents + 1, Queue(1)[0]);
  EXPECT_THAT(BuildBundle(too_many, *key_, *hasher_, kOrigin),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("at most 4096")));
}

INSTANTIATE_TEST_SUITE_P(Hashes, BundleTest,
                         ::testing::Values(crypto::HashAlgorithm::kSha256,
                                           crypto::HashAlgorithm::kSm3),
                         [](const auto& info) {
                           return std::string(crypto::HashAlgorithmName(info.param));
                         });

}  // namespace
}  // namespace herbtrace::cli
