// The audit's index sums: the keyed PRF is SipHash-2-4 with its 128-bit output (checked
// against OpenSSL's SIPHASH MAC), and a sum of records is independent of their order while any
// record added, missing or altered in its key, seq or digest changes it.
#include "storage/record_sum.h"

#include <string>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "gtest/gtest.h"

namespace herbtrace::storage::internal {
namespace {

RecordPrf::Key KeyOf(uint8_t seed) {
  RecordPrf::Key key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return key;
}

// OpenSSL's SipHash-2-4, 16-byte output.
std::array<uint8_t, 16> OpenSslSipHash(const RecordPrf::Key& key, absl::string_view data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "SIPHASH", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  size_t size = 16;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                         OSSL_PARAM_construct_end()};
  std::array<uint8_t, 16> out{};
  size_t out_size = 0;
  const bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, reinterpret_cast<const uint8_t*>(data.data()),
                                 data.size()) == 1 &&
                  EVP_MAC_final(ctx, out.data(), &out_size, out.size()) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  EXPECT_TRUE(ok);
  EXPECT_EQ(out_size, 16u);
  return out;
}

std::array<uint8_t, 16> BytesOf(const std::array<uint64_t, 2>& words) {
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(words[i / 8] >> (8 * (i % 8)));
  return out;
}

TEST(RecordPrfTest, IsSipHash128AsAFreshOpenSslContextComputesIt) {
  // One PRF per key for every length: its context, started afresh per record, answers as a new
  // context does.
  for (uint8_t seed : {0, 1, 200}) {
    const RecordPrf::Key key = KeyOf(seed);
    RecordPrf prf(key);
    ASSERT_TRUE(prf.usable());
    std::string data;
    for (int length = 0; length <= 130; ++length) {
      std::array<uint64_t, 2> words{};
      ASSERT_TRUE(prf.Hash(data, words));
      EXPECT_EQ(BytesOf(words), OpenSslSipHash(key, data))
          << "length " << length << " seed " << int{seed};
      data.push_back(static_cast<char>(length * 13 + 5));
    }
  }
}

TEST(RecordPrfTest, RandomKeysDiffer) {
  auto a = RecordPrf::Random();
  auto b = RecordPrf::Random();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key(), b->key());
  std::array<uint64_t, 2> from_a{}, from_b{};
  ASSERT_TRUE(a->Hash("batch-0001", from_a));
  ASSERT_TRUE(b->Hash("batch-0001", from_b));
  EXPECT_NE(from_a, from_b);
}

crypto::Digest DigestOf(uint8_t fill) {
  crypto::Digest d;
  d.fill(fill);
  return d;
}

struct Record {
  std::string key;
  uint64_t seq;
  crypto::Digest digest;
};

RecordSum SumOf(RecordPrf& prf, const std::vector<Record>& records) {
  RecordSum sum;
  for (const Record& r : records) sum.Add(prf, r.key, r.seq, &r.digest);
  return sum;
}

TEST(RecordSumTest, OrderDoesNotMatter) {
  RecordPrf prf(KeyOf(3));
  std::vector<Record> records;
  for (uint64_t i = 0; i < 50; ++i) {
    records.push_back({"event-" + std::to_string(i), i, DigestOf(static_cast<uint8_t>(i))});
  }
  const RecordSum forward = SumOf(prf, records);
  std::vector<Record> reversed(records.rbegin(), records.rend());
  EXPECT_TRUE(forward == SumOf(prf, reversed));
  // Split across two sums and merged, as the audit's ranges do.
  RecordSum first = SumOf(prf, std::vector<Record>(records.begin(), records.begin() + 20));
  first.Merge(SumOf(prf, std::vector<Record>(records.begin() + 20, records.end())));
  EXPECT_TRUE(forward == first);
  EXPECT_EQ(forward.count, 50u);
}

TEST(RecordSumTest, AnyAlteredFieldChangesTheSum) {
  RecordPrf prf(KeyOf(4));
  const std::vector<Record> records = {{"lot-1", 1, DigestOf(1)}, {"lot-2", 2, DigestOf(2)}};
  const RecordSum sound = SumOf(prf, records);
  std::vector<Record> other_key = records;
  other_key[1].key = "lot-3";
  std::vector<Record> other_seq = records;
  other_seq[1].seq = 3;
  std::vector<Record> other_digest = records;
  other_digest[1].digest[31] ^= 1;
  std::vector<Record> swapped_seqs = records;
  std::swap(swapped_seqs[0].seq, swapped_seqs[1].seq);
  for (const auto* altered : {&other_key, &other_seq, &other_digest, &swapped_seqs}) {
    const RecordSum sum = SumOf(prf, *altered);
    EXPECT_EQ(sum.count, sound.count);
    EXPECT_FALSE(sum == sound);
  }
  // A record with and without a digest are different records.
  RecordSum without;
  without.Add(prf, "lot-1", 1, nullptr);
  RecordSum with;
  with.Add(prf, "lot-1", 1, &records[0].digest);
  EXPECT_FALSE(without == with);
}

TEST(RecordSumTest, MissingOrExtraRecordChangesTheSum) {
  RecordPrf prf(KeyOf(5));
  const std::vector<Record> records = {{"a", 1, DigestOf(1)}, {"b", 2, DigestOf(2)}};
  const RecordSum sound = SumOf(prf, records);
  EXPECT_FALSE(SumOf(prf, {records[0]}) == sound);
  EXPECT_FALSE(SumOf(prf, {records[0], records[1], records[1]}) == sound);
}

TEST(RecordSumTest, RemoveTakesBackAnAdd) {
  RecordPrf prf(KeyOf(6));
  RecordSum sum = SumOf(prf, {{"a", 1, DigestOf(1)}});
  const RecordSum before = sum;
  const crypto::Digest d = DigestOf(9);
  sum.Add(prf, "b", 7, &d);
  EXPECT_FALSE(sum == before);
  sum.Remove(prf, "b", 7, &d);
  EXPECT_TRUE(sum == before);
}

TEST(RecordSumTest, LongKeysAreHashedWhole) {
  RecordPrf prf(KeyOf(7));
  const std::string long_key(400, 'x');
  std::string other = long_key;
  other[399] = 'y';
  RecordSum a;
  a.Add(prf, long_key, 1, nullptr);
  RecordSum b;
  b.Add(prf, other, 1, nullptr);
  EXPECT_FALSE(a == b);
}

TEST(RecordSumTest, SameRecordsUnderAnotherKeySumDifferently) {
  const std::vector<Record> records = {{"a", 1, DigestOf(1)}};
  RecordPrf one(KeyOf(1));
  RecordPrf two(KeyOf(2));
  EXPECT_FALSE(SumOf(one, records) == SumOf(two, records));
}

}  // namespace
}  // namespace herbtrace::storage::internal
