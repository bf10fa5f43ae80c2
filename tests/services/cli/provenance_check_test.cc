// verify's checks against hand-built logs: a small ledger is built here the way the server
// builds one (entries serialized once, leaf = H(0x00 ‖ entry bytes), batch_prev linking each
// touched batch to its previous entry, an RFC 9162 tree and a signed C2SP checkpoint), and the
// response Trace.GetUpstream would return for it is then tampered with, one way per test.
#include "services/cli/provenance_check.h"

#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/cli/bundle.h"
#include "services/cli/event_builder.h"
#include "services/cli/trace_code.h"
#include "services/domain/event_batches.h"
#include "services/domain/signature_algorithm.h"
#include "tests/test_util.h"

namespace herbtrace::cli {
namespace {

using ::herbtrace::testing::IsOk;
using ::herbtrace::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "anguo.herbtrace.example/log";
constexpr char kOperator[] = "13068300000001";
constexpr char kGrower[] = "13068300000002";
constexpr char kTrader[] = "13068300000003";

std::unique_ptr<crypto::PrivateKey> NewKey(crypto::SignatureAlgorithm algorithm) {
  auto key = crypto::PrivateKey::Generate(algorithm);
  EXPECT_THAT(key, IsOk());
  return std::move(key).value();
}

// A ledger in memory, appended to as the server's would be.
class LogBuilder {
 public:
  using Tamper = std::function<void(v1::LedgerEntry&)>;

  explicit LogBuilder(const crypto::Hasher& hasher) : hasher_(hasher) {}

  uint64_t Append(const v1::Event& event, const crypto::PrivateKey& key, Tamper tamper = {}) {
    v1::LedgerEntry entry = NewEntry(event, key);
    entry.mutable_signed_event()->set_signature(*key.Sign(entry.signed_event().payload()));
    return Commit(std::move(entry), tamper);
  }

  // The events as one offline bundle under one root signature.
  void AppendBundle(const std::vector<v1::Event>& events, const crypto::PrivateKey& key,
                    Tamper tamper = {}) {
    std::vector<std::string> payloads;
    std::vector<crypto::Digest> leaves;
    for (const v1::Event& e : events) {
      payloads.push_back(e.SerializeAsString());
      leaves.push_back(crypto::HashLeaf(hasher_, payloads.back()));
    }
    const crypto::Digest root = BundleRoot(hasher_, payloads);
    const std::string signature = *key.Sign(BundleMessage(kOrigin, payloads.size(), root));
    for (size_t i = 0; i < events.size(); ++i) {
      v1::LedgerEntry entry = NewEntry(events[i], key);
      v1::BundleMembership* bundle = entry.mutable_bundle();
      bundle->set_bundle_root(std::string(crypto::AsBytes(root)));
      bundle->set_index(i);
      bundle->set_size(events.size());
      for (const crypto::Digest& h : crypto::InclusionProofFromLeafHashes(hasher_, leaves, i)) {
        bundle->add_proof(std::string(crypto::AsBytes(h)));
      }
      bundle->set_key_id(key.public_key().key_id());
      bundle->set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
      bundle->set_root_signature(signature);
      Commit(std::move(entry), tamper);
    }
  }

  const crypto::Digest& leaf(uint64_t seq) const { return leaves_[seq]; }

  // What Trace.GetUpstream(include_proofs) returns for `batch_id`: every entry but `omit`, each
  // proven against a checkpoint of the whole log signed by `log`.
  v1::GetUpstreamResponse Response(const std::string& batch_id, const crypto::NoteSigner& log,
                                   const std::set<uint64_t>& omit = {}) const {
    v1::GetUpstreamResponse response;
    response.set_batch_id(batch_id);
    crypto::Checkpoint checkpoint;
    checkpoint.origin = kOrigin;
    checkpoint.size = leaves_.size();
    checkpoint.root_hash = crypto::RootFromLeafHashes(hasher_, leaves_);
    response.mutable_checkpoint()->set_note(*crypto::SignCheckpoint(checkpoint, log));
    response.mutable_checkpoint()->set_size(checkpoint.size);
    for (uint64_t seq = 0; seq < entries_.size(); ++seq) {
      if (omit.contains(seq)) continue;
      v1::ProvenEntry* proven = response.add_entries();
      proven->mutable_entry()->set_seq(seq);
      proven->mutable_entry()->set_entry(entries_[seq]);
      proven->mutable_entry()->set_leaf_hash(std::string(crypto::AsBytes(leaves_[seq])));
      proven->mutable_inclusion_proof()->set_leaf_index(seq);
      proven->mutable_inclusion_proof()->set_tree_size(leaves_.size());
      for (const crypto::Digest& h : crypto::InclusionProofFromLeafHashes(hasher_, leaves_, seq)) {
        proven->mutable_inclusion_proof()->add_hashes(std::string(crypto::AsBytes(h)));
      }
    }
    response.set_as_of_tree_size(leaves_.size());
    return response;
  }

 private:
  v1::LedgerEntry NewEntry(const v1::Event& event, const crypto::PrivateKey& key) const {
    v1::LedgerEntry entry;
    entry.set_seq(entries_.size());
    entry.set_received_at_unix_micros(1726358400000000 + static_cast<int64_t>(entries_.size()));
    entry.set_event_id(event.event_id());
    entry.mutable_signed_event()->set_payload(event.SerializeAsString());
    entry.mutable_signed_event()->set_key_id(key.public_key().key_id());
    entry.mutable_signed_event()->set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
    for (const std::string& id : domain::TouchedBatchIds(event)) {
      v1::BatchLink* link = entry.add_batch_prev();
      link->set_batch_id(id);
      auto head = heads_.find(id);
      if (head != heads_.end()) link->set_prev_leaf_hash(head->second);
    }
    return entry;
  }

  uint64_t Commit(v1::LedgerEntry entry, const Tamper& tamper) {
    if (tamper) tamper(entry);
    const std::string bytes = entry.SerializeAsString();
    const crypto::Digest leaf = crypto::HashLeaf(hasher_, bytes);
    for (const v1::BatchLink& link : entry.batch_prev()) {
      heads_[link.batch_id()] = std::string(crypto::AsBytes(leaf));
    }
    entries_.push_back(bytes);
    leaves_.push_back(leaf);
    return entries_.size() - 1;
  }

  const crypto::Hasher& hasher_;
  std::vector<std::string> entries_;
  std::vector<crypto::Digest> leaves_;
  std::map<std::string, std::string> heads_;
};

class ProvenanceCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HT_ASSERT_OK_AND_ASSIGN(hasher_, crypto::Hasher::Create(crypto::HashAlgorithm::kSha256));
    HT_ASSERT_OK_AND_ASSIGN(
        log_, crypto::NoteSigner::Create(kOrigin, NewKey(crypto::SignatureAlgorithm::kEd25519)));
    HT_ASSERT_OK_AND_ASSIGN(verifier_, crypto::NoteVerifier::Create(log_->VerifierKey()));
    operator_key_ = NewKey(crypto::SignatureAlgorithm::kEd25519);
    grower_key_ = NewKey(crypto::SignatureAlgorithm::kEd25519);
    trader_key_ = NewKey(crypto::SignatureAlgorithm::kSm2);
    v1::Date day;
    day.set_year(2024);
    day.set_month(9);
    day.set_day(15);
    harvest_ = *MakeBatchCode(1, kGrower, day, 1);
    lot_ = *MakeBatchCode(1, kGrower, day, 2);
    rest_ = *MakeBatchCode(1, kGrower, day, 3);
    options_.log_verifier = verifier_.get();
    options_.hasher = hasher_.get();
  }

  v1::Event Event(absl::string_view party) {
    EventHeader header;
    header.event_id = *NewEventId(absl::FromUnixSeconds(1726358400 + ++clock_));
    header.occurred_at = absl::FromUnixSeconds(1726358400 + clock_);
    header.party_id = std::string(party);
    header.log_origin = kOrigin;
    return NewEvent(header);
  }

  v1::Event RegisterParty(absl::string_view party, const crypto::PrivateKey& key) {
    v1::Event e = Event(kOperator);
    e.mutable_register_party()->set_party_id(std::string(party));
    e.mutable_register_party()->add_roles(v1::PARTY_ROLE_GROWER);
    *e.mutable_register_party()->add_initial_keys() = *MakeNewKey(key, kOrigin, party, "test");
    return e;
  }

  v1::Event HarvestEvent() {
    v1::Event e = Event(kGrower);
    v1::Harvest* h = e.mutable_harvest();
    h->set_batch_id(harvest_);
    h->set_base_id(absl::StrCat(kGrower, "0001"));
    h->set_herb_code("HUANGQI");
    h->set_grams(100000);
    h->mutable_harvest_date()->set_year(2024);
    h->mutable_harvest_date()->set_month(9);
    h->mutable_harvest_date()->set_day(15);
    return e;
  }

  v1::Event SplitEvent() {
    v1::Event e = Event(kGrower);
    e.mutable_split()->set_input_batch_id(harvest_);
    v1::BatchQuantity* a = e.mutable_split()->add_outputs();
    a->set_batch_id(lot_);
    a->set_grams(40000);
    v1::BatchQuantity* b = e.mutable_split()->add_outputs();
    b->set_batch_id(rest_);
    b->set_grams(60000);
    return e;
  }

  // seq 0..3: the operator (genesis, self-signed), the grower and the trader registered, the
  // grower's base.
  void AppendRegistrations(LogBuilder& log) {
    v1::Event genesis = Event(kOperator);
    genesis.mutable_register_party()->set_party_id(kOperator);
    genesis.mutable_register_party()->add_roles(v1::PARTY_ROLE_MARKET_OPERATOR);
    *genesis.mutable_register_party()->add_initial_keys() =
        *MakeNewKey(*operator_key_, kOrigin, kOperator, "operator");
    log.Append(genesis, *operator_key_);
    log.Append(RegisterParty(kGrower, *grower_key_), *operator_key_);
    log.Append(RegisterParty(kTrader, *trader_key_), *operator_key_);
    v1::Event base = Event(kGrower);
    base.mutable_register_base()->set_base_id(absl::StrCat(kGrower, "0001"));
    base.mutable_register_base()->add_herb_codes("HUANGQI");
    log.Append(base, *grower_key_);
  }

  // The whole story of `lot_`, seq 0..8:
  //   0-3 registrations; 4 harvest; 5 split harvest → lot, rest; 6 trade lot grower → trader;
  //   7 trader receives lot; 8 grower ships rest elsewhere (not in lot's lineage).
  // `tamper` is applied to the entry of `tamper_seq` before it is hashed and linked.
  LogBuilder Story(uint64_t tamper_seq = 99, LogBuilder::Tamper tamper = {}) {
    LogBuilder log(*hasher_);
    building_ = &log;
    AppendRegistrations(log);
    auto t = [&](uint64_t seq) { return seq == tamper_seq ? tamper : LogBuilder::Tamper(); };
    log.Append(HarvestEvent(), *grower_key_, t(4));
    log.Append(SplitEvent(), *grower_key_, t(5));
    v1::Event trade = Event(kGrower);
    trade.mutable_trade()->set_seller_party_id(kGrower);
    trade.mutable_trade()->set_buyer_party_id(kTrader);
    trade.mutable_trade()->mutable_batch()->set_batch_id(lot_);
    trade.mutable_trade()->mutable_batch()->set_grams(40000);
    trade.mutable_trade()->set_price_commitment(
        Commit(kTradePricePath, PriceValue(123450))->commitment);
    trade_id_ = trade.event_id();
    log.Append(trade, *grower_key_, t(6));
    v1::Event receive = Event(kTrader);
    receive.mutable_receive()->set_transfer_event_id(trade_id_);
    v1::BatchQuantity* got = receive.mutable_receive()->add_received();
    got->set_batch_id(lot_);
    got->set_grams(40000);
    log.Append(receive, *trader_key_, t(7));
    v1::Event ship = Event(kGrower);
    ship.mutable_ship()->set_to_party_id(kOperator);
    v1::BatchQuantity* sent = ship.mutable_ship()->add_batches();
    sent->set_batch_id(rest_);
    sent->set_grams(60000);
    log.Append(ship, *grower_key_, t(8));
    return log;
  }

  v1::SigningKey ServerKey(const crypto::PrivateKey& key, absl::string_view party,
                           uint64_t registered_seq) {
    v1::SigningKey out;
    out.set_key_id(key.public_key().key_id());
    out.set_party_id(std::string(party));
    out.set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
    out.set_public_key(key.public_key().raw());
    out.set_status(v1::KEY_STATUS_ACTIVE);
    out.set_registered_seq(registered_seq);
    return out;
  }

  std::unique_ptr<crypto::Hasher> hasher_;
  std::unique_ptr<crypto::NoteSigner> log_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  std::unique_ptr<crypto::PrivateKey> operator_key_, grower_key_, trader_key_;
  std::string harvest_, lot_, rest_, trade_id_;
  int clock_ = 0;
  ProvenanceCheckOptions options_;
  const LogBuilder* building_ = nullptr;  // the log Story() is appending to, for tampers
};

TEST_F(ProvenanceCheckTest, GoodProvenancePasses) {
  const v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  HT_ASSERT_OK_AND_ASSIGN(ProvenanceReport report, CheckProvenance(lot_, response, options_));
  EXPECT_EQ(report.checkpoint.size, 9u);
  EXPECT_EQ(report.entries, 9u);
  EXPECT_EQ(report.signatures, 9u);
  EXPECT_EQ(report.bundled, 0u);
  EXPECT_EQ(report.keys_from_entries, 3u);
  EXPECT_EQ(report.keys_from_server, 0u);
  // harvest: 1 link; split: harvest + lot; trade, receive: lot.
  EXPECT_EQ(report.chain_links, 5u);
  EXPECT_THAT(report.lineage_batch_ids, ElementsAre(harvest_, lot_));
  ASSERT_EQ(report.harvests.size(), 1u);
  EXPECT_EQ(report.harvests[0].batch_id, harvest_);
  EXPECT_EQ(report.harvests[0].seq, 4u);
  EXPECT_EQ(report.harvests[0].grower_party_id, kGrower);
  EXPECT_EQ(report.harvests[0].herb_code, "HUANGQI");
  EXPECT_THAT(report.signer_party_ids, ElementsAre(kOperator, kGrower, kTrader));
  EXPECT_TRUE(SignersToFetch(response).empty());
}

TEST_F(ProvenanceCheckTest, ServerListingTheSameHarvestsPasses) {
  v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  response.add_harvests()->set_batch_id(harvest_);
  EXPECT_THAT(CheckProvenance(lot_, response, options_), IsOk());
  response.add_harvests()->set_batch_id(rest_);
  EXPECT_THAT(
      CheckProvenance(lot_, response, options_),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(absl::StrCat("lists harvest ", rest_))));
}

TEST_F(ProvenanceCheckTest, FlippedByteInAnEntryFailsNamingIt) {
  v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  std::string* bytes = response.mutable_entries(5)->mutable_entry()->mutable_entry();
  (*bytes)[bytes->size() / 2] ^= 0x01;
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 5"), HasSubstr("not to the leaf hash sent"))));
  // Without the server's leaf hash to compare, the inclusion proof catches it.
  response.mutable_entries(5)->mutable_entry()->clear_leaf_hash();
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 5"), HasSubstr("not proven in the checkpoint"))));
}

TEST_F(ProvenanceCheckTest, WrongProofHashFails) {
  v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  (*response.mutable_entries(4)->mutable_inclusion_proof()->mutable_hashes(1))[0] ^= 0x80;
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 4"), HasSubstr("not proven in the checkpoint"))));
}

TEST_F(ProvenanceCheckTest, MalformedProofsFailPrecisely) {
  const v1::GetUpstreamResponse good = Story().Response(lot_, *log_);
  v1::GetUpstreamResponse response = good;
  response.mutable_entries(4)->mutable_inclusion_proof()->mutable_hashes(1)->pop_back();
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entry seq 4: inclusion proof hash 1 is 31 bytes, not 32")));

  response = good;
  response.mutable_entries(4)->mutable_inclusion_proof()->mutable_hashes()->RemoveLast();
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entry seq 4")));

  response = good;
  response.mutable_entries(4)->mutable_inclusion_proof()->set_tree_size(7);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entry seq 4: inclusion proof is against a tree of 7 entries")));

  response = good;
  response.mutable_entries(4)->clear_inclusion_proof();
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entry seq 4: has no inclusion proof")));

  response = good;
  response.mutable_entries(4)->mutable_entry()->set_seq(99);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entry seq 99")));

  response = good;
  response.mutable_entries()->SwapElements(3, 4);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of order")));
}

TEST_F(ProvenanceCheckTest, CheckpointSignedByAnotherKeyFails) {
  HT_ASSERT_OK_AND_ASSIGN(
      auto impostor,
      crypto::NoteSigner::Create(kOrigin, NewKey(crypto::SignatureAlgorithm::kEd25519)));
  const v1::GetUpstreamResponse response = Story().Response(lot_, *impostor);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("checkpoint: not signed by the log key")));
}

TEST_F(ProvenanceCheckTest, MalformedCheckpointFailsPrecisely) {
  const v1::GetUpstreamResponse good = Story().Response(lot_, *log_);
  v1::GetUpstreamResponse response = good;
  response.mutable_checkpoint()->set_note("this is not a checkpoint");
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("checkpoint: malformed")));

  // Cut in the middle of the signature line.
  response = good;
  const std::string& note = good.checkpoint().note();
  response.mutable_checkpoint()->set_note(note.substr(0, note.size() - 20));
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("checkpoint: malformed")));

  // A body that says otherwise than what was signed.
  response = good;
  std::string forged = note;
  forged.replace(forged.find("\n9\n"), 3, "\n8\n");
  response.mutable_checkpoint()->set_note(forged);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("checkpoint:")));

  response = good;
  response.clear_checkpoint();
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("checkpoint: the response carries none")));
}

TEST_F(ProvenanceCheckTest, BrokenBatchPrevLinkFails) {
  // The trade links the lot to the harvest entry instead of the split that made the lot. The
  // entry is otherwise perfect: signed, in the tree, under the signed checkpoint.
  LogBuilder log = Story(6, [](v1::LedgerEntry& entry) {
    ASSERT_EQ(entry.batch_prev_size(), 1);
    entry.mutable_batch_prev(0)->set_prev_leaf_hash("");
  });
  EXPECT_THAT(CheckProvenance(lot_, log.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 6"),
                             HasSubstr(absl::StrCat("batch_prev for batch ", lot_, " is empty")))));

  LogBuilder forked = Story(6, [&](v1::LedgerEntry& entry) {
    entry.mutable_batch_prev(0)->set_prev_leaf_hash(
        std::string(crypto::AsBytes(building_->leaf(4))));
  });
  EXPECT_THAT(CheckProvenance(lot_, forked.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 6"),
                             HasSubstr(absl::StrCat("batch_prev for batch ", lot_)),
                             HasSubstr("broken chain"))));
}

TEST_F(ProvenanceCheckTest, EntryMissingFromTheChainFails) {
  // Without the trade, the receive's link points at an entry the server did not return.
  EXPECT_THAT(
      CheckProvenance(lot_, Story().Response(lot_, *log_, {6}), options_),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("entry seq 7"), HasSubstr("not among the returned entries"))));
}

TEST_F(ProvenanceCheckTest, EventTouchingTheLotWithoutALinkFails) {
  LogBuilder log = Story(7, [](v1::LedgerEntry& entry) { entry.clear_batch_prev(); });
  EXPECT_THAT(CheckProvenance(lot_, log.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("entry seq 7"), HasSubstr("no link for batch"))));
}

TEST_F(ProvenanceCheckTest, LineageWithoutItsHarvestFails) {
  EXPECT_THAT(CheckProvenance(lot_, Story().Response(lot_, *log_, {4}), options_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(absl::StrCat("batch ", harvest_)),
                             HasSubstr("no returned entry creates it"))));
}

TEST_F(ProvenanceCheckTest, SignatureThatDoesNotVerifyFails) {
  auto other = NewKey(crypto::SignatureAlgorithm::kEd25519);
  LogBuilder log = Story(4, [&](v1::LedgerEntry& entry) {
    entry.mutable_signed_event()->set_signature(*other->Sign(entry.signed_event().payload()));
  });
  EXPECT_THAT(CheckProvenance(lot_, log.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 4"), HasSubstr("signature does not verify"))));
}

TEST_F(ProvenanceCheckTest, KeyOfAnotherPartyFails) {
  // The trader's key signs an event that claims to be the grower's.
  LogBuilder log = Story(6, [&](v1::LedgerEntry& entry) {
    entry.mutable_signed_event()->set_key_id(trader_key_->public_key().key_id());
    entry.mutable_signed_event()->set_algorithm(v1::SIGNATURE_ALGORITHM_SM2);
    entry.mutable_signed_event()->set_signature(*trader_key_->Sign(entry.signed_event().payload()));
  });
  EXPECT_THAT(CheckProvenance(lot_, log.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 6"),
                             HasSubstr(absl::StrCat("belongs to party ", kTrader)))));
}

TEST_F(ProvenanceCheckTest, UnregisteredKeyNeedsTheServerAndMustMatchItsBytes) {
  // Without the trader's registration entry, its key must come from Registry.GetKey.
  const v1::GetUpstreamResponse response = Story().Response(lot_, *log_, {2});
  EXPECT_THAT(SignersToFetch(response), ElementsAre(trader_key_->public_key().key_id()));
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 7"), HasSubstr("is unknown"))));

  options_.server_keys[trader_key_->public_key().key_id()] = ServerKey(*trader_key_, kTrader, 2);
  HT_ASSERT_OK_AND_ASSIGN(ProvenanceReport report, CheckProvenance(lot_, response, options_));
  EXPECT_EQ(report.keys_from_server, 1u);
  EXPECT_EQ(report.keys_from_entries, 2u);

  // A server that answers with other key bytes under the id is caught.
  auto other = NewKey(crypto::SignatureAlgorithm::kSm2);
  v1::SigningKey lie = ServerKey(*trader_key_, kTrader, 2);
  lie.set_public_key(other->public_key().raw());
  options_.server_keys[trader_key_->public_key().key_id()] = lie;
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("hash to key id")));
}

TEST_F(ProvenanceCheckTest, KeyRevokedBeforeTheEntryFails) {
  v1::SigningKey revoked = ServerKey(*grower_key_, kGrower, 1);
  revoked.set_status(v1::KEY_STATUS_REVOKED);
  revoked.set_revoked_at_seq(5);
  options_.server_keys[grower_key_->public_key().key_id()] = revoked;
  EXPECT_THAT(CheckProvenance(lot_, Story().Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 5"), HasSubstr("revoked at seq 5"))));
}

TEST_F(ProvenanceCheckTest, KeyRevokedAfterTheEntriesStillVerifies) {
  // A handheld lost today does not unmake last season's records: entries before the revocation
  // keep verifying with the key, as the log recorded it.
  const v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  v1::SigningKey revoked = ServerKey(*grower_key_, kGrower, 1);
  revoked.set_status(v1::KEY_STATUS_REVOKED);
  revoked.set_revoked_at_seq(response.checkpoint().size());
  options_.server_keys[grower_key_->public_key().key_id()] = revoked;
  HT_ASSERT_OK_AND_ASSIGN(ProvenanceReport report, CheckProvenance(lot_, response, options_));
  EXPECT_GT(report.signatures, 0u);
}

TEST_F(ProvenanceCheckTest, BundledEventsVerifyThroughTheRootSignature) {
  LogBuilder log(*hasher_);
  AppendRegistrations(log);
  log.AppendBundle({HarvestEvent(), SplitEvent()}, *grower_key_);
  HT_ASSERT_OK_AND_ASSIGN(ProvenanceReport report,
                          CheckProvenance(lot_, log.Response(lot_, *log_), options_));
  EXPECT_EQ(report.bundled, 2u);
  EXPECT_EQ(report.harvests.size(), 1u);

  LogBuilder tampered(*hasher_);
  AppendRegistrations(tampered);
  tampered.AppendBundle({HarvestEvent(), SplitEvent()}, *grower_key_, [](v1::LedgerEntry& entry) {
    (*entry.mutable_bundle()->mutable_root_signature())[3] ^= 1;
  });
  EXPECT_THAT(CheckProvenance(lot_, tampered.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 4"), HasSubstr("bundle root signature"))));

  LogBuilder bad_proof(*hasher_);
  AppendRegistrations(bad_proof);
  bad_proof.AppendBundle({HarvestEvent(), SplitEvent()}, *grower_key_, [](v1::LedgerEntry& entry) {
    (*entry.mutable_bundle()->mutable_proof(0))[0] ^= 1;
  });
  EXPECT_THAT(CheckProvenance(lot_, bad_proof.Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("entry seq 4"), HasSubstr("not proven in its bundle"))));
}

TEST_F(ProvenanceCheckTest, EventForAnotherLogFails) {
  LogBuilder log = Story(4, [&](v1::LedgerEntry& entry) {
    v1::Event event;
    ASSERT_TRUE(event.ParseFromString(entry.signed_event().payload()));
    event.set_log_origin("other.example/log");
    entry.mutable_signed_event()->set_payload(event.SerializeAsString());
    entry.mutable_signed_event()->set_signature(*grower_key_->Sign(entry.signed_event().payload()));
  });
  EXPECT_THAT(
      CheckProvenance(lot_, log.Response(lot_, *log_), options_),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("entry seq 4"), HasSubstr("signed for log \"other.example/log\""))));
}

TEST_F(ProvenanceCheckTest, ResponseForAnotherBatchFails) {
  EXPECT_THAT(CheckProvenance(rest_, Story().Response(lot_, *log_), options_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("response: it is for batch")));
}

TEST_F(ProvenanceCheckTest, ServerHeadAheadOfTheReturnedEntriesFails) {
  LogBuilder log = Story();
  v1::GetUpstreamResponse response = log.Response(lot_, *log_, {7});
  // Without the receive the chain is still whole (it is the last entry), but the server's own
  // state says the lot's head is the receive.
  v1::BatchState* state = response.add_batches();
  state->set_batch_id(lot_);
  state->set_head_leaf_hash(std::string(crypto::AsBytes(log.leaf(7))));
  state->set_as_of_tree_size(9);
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(absl::StrCat("batch ", lot_)),
                                                          HasSubstr("entries are missing"))));
  state->set_head_leaf_hash(std::string(crypto::AsBytes(log.leaf(6))));
  EXPECT_THAT(CheckProvenance(lot_, response, options_), IsOk());
}

TEST_F(ProvenanceCheckTest, GarbageEntryBytesAreAnErrorNotACrash) {
  v1::GetUpstreamResponse response = Story().Response(lot_, *log_);
  // Replace an entry with bytes that are no LedgerEntry, re-proven so only parsing can object.
  std::vector<crypto::Digest> leaves;
  for (int i = 0; i < response.entries_size(); ++i) {
    if (i == 3) response.mutable_entries(i)->mutable_entry()->set_entry("\xff\xff\xff\xff");
    leaves.push_back(crypto::HashLeaf(*hasher_, response.entries(i).entry().entry()));
    response.mutable_entries(i)->mutable_entry()->clear_leaf_hash();
  }
  crypto::Checkpoint cp{kOrigin, leaves.size(), crypto::RootFromLeafHashes(*hasher_, leaves), {}};
  response.mutable_checkpoint()->set_note(*crypto::SignCheckpoint(cp, *log_));
  for (int i = 0; i < response.entries_size(); ++i) {
    auto* proof = response.mutable_entries(i)->mutable_inclusion_proof();
    proof->clear_hashes();
    for (const auto& h : crypto::InclusionProofFromLeafHashes(*hasher_, leaves, i)) {
      proof->add_hashes(std::string(crypto::AsBytes(h)));
    }
  }
  EXPECT_THAT(CheckProvenance(lot_, response, options_),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("entry seq 3: bytes do not parse as a LedgerEntry")));
}

TEST_F(ProvenanceCheckTest, ConsistencyBetweenCheckpoints) {
  std::vector<crypto::Digest> leaves;
  for (int i = 0; i < 13; ++i) leaves.push_back(hasher_->Hash(absl::StrCat("leaf ", i)));
  auto checkpoint_of = [&](size_t n) {
    crypto::Checkpoint cp;
    cp.origin = kOrigin;
    cp.size = n;
    cp.root_hash = crypto::RootFromLeafHashes(*hasher_, absl::MakeConstSpan(leaves.data(), n));
    return cp;
  };
  const crypto::Checkpoint older = checkpoint_of(5), newer = checkpoint_of(13);
  v1::ConsistencyProof proof;
  proof.set_size1(5);
  proof.set_size2(13);
  for (const auto& h : crypto::ConsistencyProofFromLeafHashes(*hasher_, leaves, 5)) {
    proof.add_hashes(std::string(crypto::AsBytes(h)));
  }
  EXPECT_THAT(CheckConsistency(older, newer, proof, *hasher_), IsOk());
  EXPECT_THAT(CheckConsistency(newer, newer, v1::ConsistencyProof(), *hasher_),
              StatusIs(absl::StatusCode::kInvalidArgument));  // sizes in the proof say 0 → 0
  v1::ConsistencyProof same;
  same.set_size1(13);
  same.set_size2(13);
  EXPECT_THAT(CheckConsistency(newer, newer, same, *hasher_), IsOk());
  (*proof.mutable_hashes(0))[0] ^= 1;
  EXPECT_THAT(CheckConsistency(older, newer, proof, *hasher_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("does not extend")));
  EXPECT_THAT(CheckConsistency(newer, older, proof, *hasher_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("shrank")));
}

}  // namespace
}  // namespace herbtrace::cli
