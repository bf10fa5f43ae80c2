// The fixture of the service tests: a market with the huangqi chain in a real ledger, a signed
// checkpoint of it, and an in-process server over the ledger with real gRPC channels.
#ifndef HERBTRACE_TESTS_SERVICES_SERVER_SERVICE_FIXTURE_H_
#define HERBTRACE_TESTS_SERVICES_SERVER_SERVICE_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "crypto/checkpoint.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "herbtrace/v1/ledger.grpc.pb.h"
#include "herbtrace/v1/recall.grpc.pb.h"
#include "herbtrace/v1/registry.grpc.pb.h"
#include "herbtrace/v1/trace.grpc.pb.h"
#include "services/server/log_source.h"
#include "services/server/status.h"
#include "tests/services/server/market_fixture.h"
#include "tests/services/server/test_server.h"
#include "tests/test_util.h"

namespace herbtrace::testing {

class MarketServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto market = Market::Create(dir_.path());
    ASSERT_THAT(market, IsOk());
    market_ = *std::move(market);
    ASSERT_THAT(market_->Populate(), IsOk());
    auto chain = market_->RunHuangqiChain();
    ASSERT_THAT(chain, IsOk());
    chain_ = *std::move(chain);
    ASSERT_THAT(market_->Checkpoint(), IsOk());
    auto source = server::LogSource::ForLedger(market_->ledger());
    ASSERT_THAT(source, IsOk());
    source_ = *std::move(source);
    TestServerOptions options = Options();
    options.ledger.clock = &market_->clock();
    auto server = TestServer::Start(*source_, options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    ledger_ = v1::Ledger::NewStub(server_->channel());
    registry_ = v1::Registry::NewStub(server_->channel());
    trace_ = v1::Trace::NewStub(server_->channel());
    recall_ = v1::Recall::NewStub(server_->channel());
  }

  void TearDown() override {
    server_.reset();
    source_.reset();
    market_.reset();
  }

  virtual TestServerOptions Options() { return {}; }

  uint64_t LogSize() { return market_->ledger().size(); }

  crypto::Digest RootAt(uint64_t size) { return *source_->view().RootAt(size); }

  static crypto::Digest Digest(const std::string& bytes) {
    return *crypto::DigestFromBytes(bytes, "test");
  }

  static std::vector<crypto::Digest> Digests(
      const google::protobuf::RepeatedPtrField<std::string>& hashes) {
    std::vector<crypto::Digest> out;
    for (const std::string& h : hashes) out.push_back(Digest(h));
    return out;
  }

  // OK if the entry hashes to its leaf and its proof leads to `root`.
  absl::Status VerifyProven(const v1::ProvenEntry& proven, const crypto::Digest& root) {
    const crypto::Digest leaf = crypto::HashLeaf(source_->hasher(), proven.entry().entry());
    if (leaf != Digest(proven.entry().leaf_hash())) {
      return absl::DataLossError("entry bytes do not hash to the leaf hash");
    }
    return crypto::VerifyInclusion(source_->hasher(), proven.inclusion_proof().leaf_index(),
                                   proven.inclusion_proof().tree_size(), leaf,
                                   Digests(proven.inclusion_proof().hashes()), root);
  }

  TempDir dir_;
  std::unique_ptr<Market> market_;
  HuangqiChain chain_;
  std::unique_ptr<server::LogSource> source_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Ledger::Stub> ledger_;
  std::unique_ptr<v1::Registry::Stub> registry_;
  std::unique_ptr<v1::Trace::Stub> trace_;
  std::unique_ptr<v1::Recall::Stub> recall_;
};

// A call's status as absl::Status, for the matchers.
inline absl::Status S(const grpc::Status& status) { return server::FromGrpcStatus(status); }

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_SERVICES_SERVER_SERVICE_FIXTURE_H_
