// A market on a running herbtrace-server, registered the way its parties would do it, over
// Capture.Submit: the market operator's genesis registration (self-signed with the bootstrap
// key), the herb catalog shipped in catalog/herbs.csv, and growers, each with one HUANGQI
// planting base. Then each grower's HarvestPlan yields signed events that depend on nothing but
// the grower's own earlier ones, so many growers can stream at once without ordering between
// them. Events are built and signed by the service fixture's functions (market_fixture.h).
//
// Not thread-safe; a HarvestPlan belongs to one thread.
#ifndef HERBTRACE_TESTS_E2E_LIVE_MARKET_H_
#define HERBTRACE_TESTS_E2E_LIVE_MARKET_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "herbtrace/v1/capture.grpc.pb.h"
#include "tests/services/server/market_fixture.h"

namespace herbtrace::testing {

class LiveMarket {
 public:
  // Fresh Ed25519 keys for the operator and `growers` growers (1..99); the operator's public
  // key goes to `dir`/operator.pub, the server's --bootstrap_key.
  static absl::StatusOr<std::unique_ptr<LiveMarket>> Create(const std::filesystem::path& dir,
                                                            int growers);

  const std::filesystem::path& bootstrap_key() const { return bootstrap_key_; }
  int growers() const { return static_cast<int>(growers_.size()); }
  const Actor& grower(int i) const { return growers_[i]; }
  std::string base_id(int i) const { return growers_[i].party_id + "0001"; }

  // Registers the operator, the catalog (from `herbs_csv`), every grower and its base, one
  // Submit each with `deadline`. The first error, naming what failed.
  absl::Status Register(v1::Capture::Stub& capture, const std::string& herbs_csv,
                        absl::Duration deadline = absl::Seconds(30));

 private:
  LiveMarket() = default;
  absl::Status Submit(v1::Capture::Stub& capture, const Actor& signer, v1::Event event,
                      absl::Duration deadline);

  std::filesystem::path bootstrap_key_;
  Actor operator_;
  std::vector<Actor> growers_;
  uint64_t next_event_ = 1;
};

// One grower's work: each unit harvests a new batch of HUANGQI on the grower's base and splits
// it into two lots, two events in that order. Units are dated day after day from 2024-10-01
// (China Standard Time, 10:00), as many per day as the batch codes' three-digit sequence allows,
// so a plan never runs out of codes. Event ids are distinct per `family`.
class HarvestPlan {
 public:
  HarvestPlan(const Actor& grower, std::string base_id, uint32_t family);

  // The next unit: the harvest's and the split's signed requests.
  std::vector<v1::SubmitRequest> NextUnit();

  // Every batch code this plan has used so far.
  const std::vector<std::string>& batches() const { return batches_; }

 private:
  v1::SubmitRequest Signed(v1::Event event, absl::Time at);

  const Actor& grower_;
  const std::string base_id_;
  const uint32_t family_;
  absl::CivilDay day_;
  int next_sequence_ = 1;
  uint64_t next_event_ = 1;
  std::vector<std::string> batches_;
};

}  // namespace herbtrace::testing

#endif  // HERBTRACE_TESTS_E2E_LIVE_MARKET_H_
