// The entry scanner reads a stored LedgerEntry as protobuf does: the same bytes accepted, the
// same seq, event id, payload and batch links, whether it takes its fast path or hands the bytes
// to protobuf.
#include "storage/entry_scan.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herbtrace::storage {
namespace {

// A bundled market entry touching two batches: every field of the entry and of each nested
// message set.
v1::LedgerEntry BundledEntry() {
  v1::LedgerEntry entry;
  entry.set_seq(300);  // a two-byte varint
  entry.set_received_at_unix_micros(1'732'500'000'000'000);
  entry.set_event_id("0f6c1e2a-93b4-4c1d-8e2f-5a6b7c8d9e0f");
  v1::SignedEvent* signed_event = entry.mutable_signed_event();
  signed_event->set_payload(std::string(180, 'p') + std::string("\0\x80\xff", 3));
  signed_event->set_key_id("0011223344556677");
  signed_event->set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  v1::BatchLink* first = entry.add_batch_prev();
  first->set_batch_id("1069010000000000000000019");
  first->set_prev_leaf_hash(std::string(32, '\x11'));
  v1::BatchLink* second = entry.add_batch_prev();
  second->set_batch_id("1069010000000000000000027");  // creates the batch: no previous leaf
  v1::BundleMembership* bundle = entry.mutable_bundle();
  bundle->set_bundle_root(std::string(32, '\x22'));
  bundle->set_index(5);
  bundle->set_size(166);
  for (int i = 0; i < 8; ++i) bundle->add_proof(std::string(32, static_cast<char>('a' + i)));
  bundle->set_key_id("8899aabbccddeeff");
  bundle->set_algorithm(v1::SIGNATURE_ALGORITHM_SM2);
  bundle->set_root_signature(std::string(64, 's'));
  return entry;
}

// Scans `bytes` and checks that the scanner agrees with protobuf on them.
void ExpectSameAsProtobuf(const std::string& bytes, EntryScanner& scanner) {
  v1::LedgerEntry parsed;
  const bool parses = parsed.ParseFromString(bytes);
  ASSERT_EQ(scanner.Scan(bytes), parses) << ::testing::PrintToString(bytes);
  if (!parses) return;
  EXPECT_EQ(scanner.seq(), parsed.seq());
  EXPECT_EQ(scanner.event_id(), parsed.event_id());
  EXPECT_EQ(scanner.payload(), parsed.signed_event().payload());
  ASSERT_EQ(scanner.batch_prev().size(), static_cast<size_t>(parsed.batch_prev_size()));
  for (int i = 0; i < parsed.batch_prev_size(); ++i) {
    EXPECT_EQ(scanner.batch_prev()[i].batch_id, parsed.batch_prev(i).batch_id());
    EXPECT_EQ(scanner.batch_prev()[i].prev_leaf_hash, parsed.batch_prev(i).prev_leaf_hash());
  }
}

std::string Tag(int field, int wire_type) {
  return std::string(1, static_cast<char>(field << 3 | wire_type));
}

TEST(EntryScanTest, ReadsTheLogsOwnEntriesWithoutProtobuf) {
  const v1::LedgerEntry entry = BundledEntry();
  EntryScanner scanner;
  const std::string bytes = entry.SerializeAsString();  // the views point into it
  ASSERT_TRUE(scanner.Scan(bytes));
  EXPECT_EQ(scanner.seq(), 300u);
  EXPECT_EQ(scanner.event_id(), entry.event_id());
  EXPECT_EQ(scanner.payload(), entry.signed_event().payload());
  ASSERT_EQ(scanner.batch_prev().size(), 2u);
  EXPECT_EQ(scanner.batch_prev()[0].batch_id, "1069010000000000000000019");
  EXPECT_EQ(scanner.batch_prev()[0].prev_leaf_hash, std::string(32, '\x11'));
  EXPECT_EQ(scanner.batch_prev()[1].batch_id, "1069010000000000000000027");
  EXPECT_EQ(scanner.batch_prev()[1].prev_leaf_hash, "");
  EXPECT_EQ(scanner.parsed_by_protobuf(), 0u);

  // The scanner is reused entry after entry: nothing of the previous one stays.
  v1::LedgerEntry plain;
  plain.set_seq(0);
  plain.set_event_id("e0");
  const std::string plain_bytes = plain.SerializeAsString();
  ASSERT_TRUE(scanner.Scan(plain_bytes));
  EXPECT_EQ(scanner.seq(), 0u);
  EXPECT_EQ(scanner.event_id(), "e0");
  EXPECT_EQ(scanner.payload(), "");
  EXPECT_TRUE(scanner.batch_prev().empty());
  EXPECT_EQ(scanner.parsed_by_protobuf(), 0u);
}

TEST(EntryScanTest, AgreesWithProtobufOnEveryAlteredByteAndEveryTruncation) {
  const std::string bytes = BundledEntry().SerializeAsString();
  EntryScanner scanner;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const int mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x7f, 0xff}) {
      std::string altered = bytes;
      altered[i] = static_cast<char>(altered[i] ^ mask);
      ExpectSameAsProtobuf(altered, scanner);
    }
    ExpectSameAsProtobuf(bytes.substr(0, i), scanner);
  }
  // Some alterations are taken by the fast path, others need protobuf: both were exercised.
  EXPECT_GT(scanner.parsed_by_protobuf(), 0u);
}

TEST(EntryScanTest, RepeatedSingularFieldsAreReadAsProtobufReadsThem) {
  const v1::LedgerEntry entry = BundledEntry();
  EntryScanner scanner;
  // A second seq: the last one wins.
  ExpectSameAsProtobuf(entry.SerializeAsString() + Tag(1, 0) + "\x07", scanner);
  // A second signed_event holding only a key id: merged, the payload of the first stays.
  v1::LedgerEntry more;
  more.mutable_signed_event()->set_key_id("ffffffffffffffff");
  const std::string merged = entry.SerializeAsString() + more.SerializeAsString();
  ExpectSameAsProtobuf(merged, scanner);
  ASSERT_TRUE(scanner.Scan(merged));
  EXPECT_EQ(scanner.payload(), entry.signed_event().payload());
}

TEST(EntryScanTest, UnknownFieldsAndLongFormVarintsAreReadAsProtobufReadsThem) {
  const std::string bytes = BundledEntry().SerializeAsString();
  EntryScanner scanner;
  // An unknown varint field, an unknown length-delimited field, an unknown group.
  ExpectSameAsProtobuf(bytes + Tag(9, 0) + "\x01", scanner);
  ExpectSameAsProtobuf(bytes + Tag(10, 2) + "\x02xy", scanner);
  ExpectSameAsProtobuf(bytes + Tag(11, 3) + Tag(1, 0) + "\x05" + Tag(11, 4), scanner);
  // seq 5 in three bytes instead of one.
  v1::LedgerEntry entry = BundledEntry();
  entry.clear_seq();
  const std::string long_seq = Tag(1, 0) + std::string("\x85\x80\x00", 3) + entry.SerializeAsString();
  ExpectSameAsProtobuf(long_seq, scanner);
  ASSERT_TRUE(scanner.Scan(long_seq));
  EXPECT_EQ(scanner.seq(), 5u);
  // seq with the wire type of a string: an unknown field to protobuf, seq stays 0.
  const std::string seq_as_bytes = Tag(1, 2) + "\x01\x05" + entry.SerializeAsString();
  ExpectSameAsProtobuf(seq_as_bytes, scanner);
  ASSERT_TRUE(scanner.Scan(seq_as_bytes));
  EXPECT_EQ(scanner.seq(), 0u);
}

TEST(EntryScanTest, StringsAreCheckedForUtf8AsProtobufChecksThem) {
  EntryScanner scanner;
  v1::LedgerEntry entry = BundledEntry();
  entry.set_event_id("事件-黄芪-1");  // valid UTF-8 beyond ASCII
  const std::string chinese = entry.SerializeAsString();
  ExpectSameAsProtobuf(chinese, scanner);
  ASSERT_TRUE(scanner.Scan(chinese));
  EXPECT_EQ(scanner.event_id(), "事件-黄芪-1");

  for (const std::string& bad : {std::string("\xff"), std::string("\xc0\xaf"),
                                std::string("\xed\xa0\x80"), std::string("\xe4\xba")}) {
    // Built by hand: protobuf will not serialize an invalid string field.
    std::string bytes = Tag(3, 2) + std::string(1, static_cast<char>(bad.size())) + bad;
    ExpectSameAsProtobuf(bytes, scanner);
    EXPECT_FALSE(scanner.Scan(bytes));
    // The same bytes in a batch id and in the bundle's key id.
    const std::string link = Tag(1, 2) + std::string(1, static_cast<char>(bad.size())) + bad;
    bytes = Tag(5, 2) + std::string(1, static_cast<char>(link.size())) + link;
    ExpectSameAsProtobuf(bytes, scanner);
    EXPECT_FALSE(scanner.Scan(bytes));
    const std::string bundle = Tag(5, 2) + std::string(1, static_cast<char>(bad.size())) + bad;
    bytes = Tag(6, 2) + std::string(1, static_cast<char>(bundle.size())) + bundle;
    ExpectSameAsProtobuf(bytes, scanner);
    EXPECT_FALSE(scanner.Scan(bytes));
  }
}

}  // namespace
}  // namespace herbtrace::storage
