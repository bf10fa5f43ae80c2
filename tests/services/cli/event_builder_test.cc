#include "services/cli/event_builder.h"

#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"
#include "tests/test_util.h"

namespace herbtrace::cli {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOrigin[] = "anguo.herbtrace.example/log";

std::unique_ptr<crypto::PrivateKey> NewKey(crypto::SignatureAlgorithm algorithm) {
  auto key = crypto::PrivateKey::Generate(algorithm);
  EXPECT_THAT(key, IsOk());
  return std::move(key).value();
}

v1::Event HarvestEvent() {
  EventHeader header;
  header.event_id = "01920a4e-7b3c-7def-8a12-3456789abcde";
  header.occurred_at = absl::FromUnixSeconds(1726358400);  // 2024-09-15 08:00 +08:00
  header.party_id = "13068300000001";
  header.log_origin = kOrigin;
  v1::Event event = NewEvent(header);
  v1::Harvest* harvest = event.mutable_harvest();
  harvest->set_batch_id("1130683000000012409150019");
  harvest->set_base_id("130683000000010001");
  harvest->set_herb_code("HUANGQI");
  harvest->set_grams(150000);
  return event;
}

class SealEventTest : public ::testing::TestWithParam<crypto::SignatureAlgorithm> {};

TEST_P(SealEventTest, SignsExactlyTheBytesItSends) {
  auto key = NewKey(GetParam());
  const v1::Event event = HarvestEvent();
  HT_ASSERT_OK_AND_ASSIGN(v1::SubmitRequest request, SealEvent(event, *key));
  const v1::SignedEvent& sent = request.signed_event();
  // The payload is the one serialization, and what it says is the event.
  v1::Event decoded;
  ASSERT_TRUE(decoded.ParseFromString(sent.payload()));
  EXPECT_EQ(decoded.SerializeAsString(), event.SerializeAsString());
  EXPECT_EQ(decoded.harvest().grams(), 150000u);
  // The signature is over those very bytes, by the key the envelope names.
  EXPECT_THAT(key->public_key().Verify(sent.payload(), sent.signature()), IsOk());
  EXPECT_EQ(sent.key_id(), key->public_key().key_id());
  EXPECT_EQ(sent.algorithm(), domain::ToProtoAlgorithm(GetParam()));
  // Any other bytes do not verify.
  std::string other = sent.payload();
  other.back() ^= 1;
  EXPECT_THAT(key->public_key().Verify(other, sent.signature()), Not(IsOk()));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SealEventTest,
                         ::testing::Values(crypto::SignatureAlgorithm::kEd25519,
                                           crypto::SignatureAlgorithm::kSm2));

TEST(SealEvent, CarriesOpeningsBesideThePayloadNotInIt) {
  auto key = NewKey(crypto::SignatureAlgorithm::kEd25519);
  v1::Event event = HarvestEvent();
  v1::Trade* trade = event.mutable_trade();  // replaces the harvest kind
  trade->set_seller_party_id("13068300000001");
  trade->set_buyer_party_id("13068300000002");
  trade->mutable_batch()->set_batch_id("1130683000000012409150019");
  trade->mutable_batch()->set_grams(150000);
  HT_ASSERT_OK_AND_ASSIGN(Commitment price, Commit(kTradePricePath, PriceValue(123450)));
  trade->set_price_commitment(price.commitment);
  HT_ASSERT_OK_AND_ASSIGN(v1::SubmitRequest request, SealEvent(event, *key, {price.opening}));

  ASSERT_EQ(request.openings_size(), 1);
  const v1::Opening& opening = request.openings(0);
  EXPECT_EQ(opening.field_path(), "trade.price_commitment");
  EXPECT_EQ(opening.salt().size(), 32u);
  EXPECT_EQ(opening.value(), PriceValue(123450));
  // Neither the salt nor the price is in the signed bytes; the commitment opens.
  EXPECT_EQ(request.signed_event().payload().find(opening.salt()), std::string::npos);
  EXPECT_EQ(request.signed_event().payload().find(opening.value()), std::string::npos);
  HT_ASSERT_OK_AND_ASSIGN(auto sha256, crypto::Hasher::Create(crypto::HashAlgorithm::kSha256));
  v1::Event decoded;
  ASSERT_TRUE(decoded.ParseFromString(request.signed_event().payload()));
  EXPECT_EQ(decoded.trade().price_commitment(),
            crypto::AsBytes(sha256->Hash(opening.salt() + opening.value())));
}

TEST(Commit, FreshSaltEachTime) {
  HT_ASSERT_OK_AND_ASSIGN(Commitment a, Commit(kTradePricePath, PriceValue(1)));
  HT_ASSERT_OK_AND_ASSIGN(Commitment b, Commit(kTradePricePath, PriceValue(1)));
  EXPECT_NE(a.opening.salt(), b.opening.salt());
  EXPECT_NE(a.commitment, b.commitment);
}

TEST(Commit, RejectsASaltThatIsNot32Bytes) {
  EXPECT_THAT(CommitWithSalt(kTradePricePath, "short", PriceValue(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes")));
}

TEST(PriceValue, IsTotalFenAsEightBytesBigEndian) {
  // event.proto's example: ¥1,234.50 → 123450 fen → 00 00 00 00 00 01 E2 3A.
  EXPECT_EQ(absl::BytesToHexString(PriceValue(123450)), "000000000001e23a");
}

TEST(NewEventId, IsTimeOrderedUuidV7) {
  const absl::Time now = absl::FromUnixMillis(1726358400123);
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    HT_ASSERT_OK_AND_ASSIGN(std::string id, NewEventId(now));
    EXPECT_THAT(domain::ValidateEventId(id, "event_id"), IsOk());
    EXPECT_EQ(id[14], '7');
    // The first 48 bits are the Unix milliseconds.
    EXPECT_EQ(id.substr(0, 8) + id.substr(9, 4), "0191f2faac7b");
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(MakeNewKey, ProofOfPossessionSignsTheRegistrationText) {
  auto key = NewKey(crypto::SignatureAlgorithm::kSm2);
  HT_ASSERT_OK_AND_ASSIGN(v1::NewKey new_key,
                          MakeNewKey(*key, kOrigin, "13068300000001", "scale-hall3-07"));
  EXPECT_EQ(new_key.algorithm(), v1::SIGNATURE_ALGORITHM_SM2);
  EXPECT_EQ(new_key.public_key(), key->public_key().raw());
  EXPECT_EQ(new_key.device_label(), "scale-hall3-07");
  const std::string text =
      KeyPossessionMessage(kOrigin, "13068300000001", key->public_key().key_id());
  EXPECT_EQ(text, "herbtrace key v1\nanguo.herbtrace.example/log\n13068300000001\n" +
                      key->public_key().key_id() + "\n");
  EXPECT_THAT(key->public_key().Verify(text, new_key.proof_of_possession()), IsOk());
}

TEST(MergeEventText, AddsFieldsWithoutAFlag) {
  v1::Event event = HarvestEvent();
  constexpr char kText[] = R"(
    harvest {
      plot: "A3"
      inputs {
        kind: AGRI_INPUT_KIND_FERTILIZER
        product_name: "复合肥"
        amount { value: 5000 unit: MEASURE_UNIT_GRAMS }
      }
    })";
  ASSERT_THAT(MergeEventText(kText, event), IsOk());
  EXPECT_EQ(event.harvest().plot(), "A3");
  EXPECT_EQ(event.harvest().grams(), 150000u);  // kept
  ASSERT_EQ(event.harvest().inputs_size(), 1);
  EXPECT_EQ(event.harvest().inputs(0).product_name(), "复合肥");
}

TEST(MergeEventText, NamesWhereTheTextIsWrong) {
  v1::Event event = HarvestEvent();
  EXPECT_THAT(MergeEventText("harvest {\n  grams: \"lots\" }", event),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
}

TEST(EventKindName, IsTheOneofFieldName) {
  v1::Event event = HarvestEvent();
  EXPECT_EQ(EventKindName(event), "harvest");
  event.mutable_quality_test();
  EXPECT_EQ(EventKindName(event), "quality_test");
  event.clear_kind();
  EXPECT_EQ(EventKindName(event), "none");
}

}  // namespace
}  // namespace herbtrace::cli
