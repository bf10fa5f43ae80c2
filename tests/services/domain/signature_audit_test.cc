// The signature audit: a log whose every entry was signed by a key the log registered passes;
// an entry slipped in past the Capture service — a forged signature, an unregistered, revoked or
// other party's key — is named by its seq. The forgeries are appended to a ledger that runs no
// rules, as an operator with write access to the database could.
#include "services/domain/signature_audit.h"

#include <memory>
#include <string>

#include "tests/services/domain/domain_harness.h"
#include "tests/test_util.h"

namespace herbtrace::domain {
namespace {

using ::herbtrace::testing::Actor;
using ::herbtrace::testing::DomainHarness;
using ::herbtrace::testing::MakeUscc;
using ::herbtrace::testing::NewKey;
using ::herbtrace::testing::TempDir;
using ::testing::HasSubstr;

class SignatureAuditTest : public ::testing::Test {
 protected:
  SignatureAuditTest()
      : op_{"13068300000001", events_.operator_key()},
        trader_{"13068300000021", NewKey()},
        other_{"13068300000022", NewKey()} {
    storage::Ledger::Options options;
    options.origin = ::herbtrace::testing::kTestOrigin;
    options.checkpoint_interval = absl::Hours(1);
    auto ledger =
        storage::Ledger::Open(dir_.path().string(), options, ::herbtrace::testing::TestLogSigner());
    EXPECT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
  }

  v1::Event RegisterParty(const Actor& registrar, const Actor& party) {
    v1::Event e = events_.NewEvent(registrar);
    v1::RegisterParty* rp = e.mutable_register_party();
    rp->set_party_id(party.party_id);
    rp->set_name("安国市某药材经营部");
    rp->add_roles(party.party_id == op_.party_id ? v1::PARTY_ROLE_MARKET_OPERATOR
                                                 : v1::PARTY_ROLE_TRADER);
    rp->set_uscc(MakeUscc("130683", std::stoi(party.party_id.substr(6))));
    rp->set_region_code("130683");
    *rp->add_initial_keys() = DomainHarness::MakeNewKey(*party.key, party.party_id);
    return e;
  }

  v1::Event RegisterKey(const Actor& signer, const std::string& owner,
                        const crypto::PrivateKey& key) {
    v1::Event e = events_.NewEvent(signer);
    e.mutable_register_key()->set_party_id(owner);
    *e.mutable_register_key()->mutable_key() = DomainHarness::MakeNewKey(key, owner);
    return e;
  }

  v1::Event RevokeKey(const Actor& signer, const std::string& key_id) {
    v1::Event e = events_.NewEvent(signer);
    e.mutable_revoke_key()->set_key_id(key_id);
    e.mutable_revoke_key()->set_reason("handheld lost");
    return e;
  }

  // Appends `event` signed by `signer`, as stored whatever the rules would say.
  uint64_t Append(const v1::Event& event, const Actor& signer) {
    auto receipt = ledger_->Append(events_.Request(event, signer));
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.ok() ? receipt->seq() : 0;
  }

  // Genesis and the trader's registration: seq 0 and 1.
  void Market() {
    Append(RegisterParty(op_, op_), op_);
    Append(RegisterParty(op_, trader_), op_);
  }

  SignatureAuditReport Audit() {
    auto report = AuditSignatures(ledger_->db());
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : SignatureAuditReport{};
  }

  void ExpectFailsAt(uint64_t seq, const std::string& reason) {
    const SignatureAuditReport report = Audit();
    ASSERT_FALSE(report.ok()) << "the audit passed a forged entry";
    EXPECT_EQ(report.failure->seq, seq) << report.failure->reason;
    EXPECT_THAT(report.failure->reason, HasSubstr(reason));
  }

  DomainHarness events_;  // builds and signs events; its own ledger is not used
  TempDir dir_;
  std::unique_ptr<storage::Ledger> ledger_;
  Actor op_, trader_, other_;
};

TEST_F(SignatureAuditTest, AHistoryOfRegisteredAndRevokedKeysPasses) {
  Market();
  const Actor trader_new{trader_.party_id, NewKey()};
  Append(RegisterKey(trader_, trader_.party_id, *trader_new.key), trader_);
  // A key may revoke itself: the revocation is its last valid signature.
  Append(RevokeKey(trader_, trader_.key_id()), trader_);
  Append(RegisterParty(op_, other_), op_);
  Append(RegisterKey(trader_new, trader_.party_id, *NewKey()), trader_new);
  for (int threads : {1, 2, 3}) {
    SignatureAuditOptions options;
    options.threads = threads;
    auto report = AuditSignatures(ledger_->db(), options);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->ok()) << report->failure->reason;
    EXPECT_EQ(report->entries_checked, 6u);
    EXPECT_EQ(report->signatures_verified, 6u);
    EXPECT_EQ(report->keys_registered, 5u);
    EXPECT_EQ(report->keys_revoked, 1u);
  }
}

TEST_F(SignatureAuditTest, AForgedSignatureIsNamed) {
  Market();
  Append(RegisterParty(op_, other_), op_);
  storage::AppendRequest forged = events_.Request(RegisterKey(trader_, trader_.party_id, *NewKey()),
                                                  trader_);
  std::string& signature = *forged.signed_event.mutable_signature();
  signature[7] ^= 0x20;
  ASSERT_TRUE(ledger_->Append(std::move(forged)).ok());
  Append(RegisterKey(trader_, trader_.party_id, *NewKey()), trader_);
  ExpectFailsAt(3, "signature does not verify with key " + trader_.key_id());
}

TEST_F(SignatureAuditTest, AKeyNoEarlierEntryRegistersIsNamed) {
  Market();
  const Actor stranger{trader_.party_id, NewKey()};
  Append(RegisterKey(stranger, trader_.party_id, *NewKey()), stranger);
  ExpectFailsAt(2, "which no earlier entry registers");
}

TEST_F(SignatureAuditTest, AKeyCannotSignTheEntryThatRegistersIt) {
  Market();
  const Actor fresh{trader_.party_id, NewKey()};
  Append(RegisterKey(fresh, trader_.party_id, *fresh.key), fresh);
  ExpectFailsAt(2, "which no earlier entry registers");
}

TEST_F(SignatureAuditTest, ARevokedKeyIsNamedFromTheNextEntryOn) {
  Market();
  Append(RevokeKey(op_, trader_.key_id()), op_);
  Append(RegisterKey(trader_, trader_.party_id, *NewKey()), trader_);
  ExpectFailsAt(3, "revoked at seq 2");
}

TEST_F(SignatureAuditTest, AKeyOfAnotherPartyIsNamed) {
  Market();
  Append(RegisterParty(op_, other_), op_);
  // The trader's key signing an event that says the other party acts.
  Append(RegisterKey(Actor{other_.party_id, trader_.key}, other_.party_id, *NewKey()), trader_);
  ExpectFailsAt(3, "event of party " + other_.party_id + " signed by key " + trader_.key_id() +
                       " of party " + trader_.party_id);
}

TEST_F(SignatureAuditTest, AGenesisNotSignedByTheKeyItRegistersIsNamed) {
  Append(RegisterParty(op_, op_), other_);
  ExpectFailsAt(0, "not signed by a key it registers");
}

}  // namespace
}  // namespace herbtrace::domain
