#include "services/server/trade_terms.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "rocksdb/db.h"
#include "services/domain/identifiers.h"
#include "services/domain/state_keys.h"
#include "services/server/access_policy.h"
#include "services/server/event_views.h"
#include "storage/key_codec.h"

namespace herbtrace::server {
namespace {

constexpr char kPricePath[] = "trade.price_commitment";

}  // namespace

absl::StatusOr<v1::TradeTerms> ReadTradeTerms(LogSource& source, const std::string& trade_event_id,
                                              const Caller& caller) {
  if (auto s = domain::ValidateEventId(trade_event_id, "trade_event_id"); !s.ok()) return s;
  EventCache events(source.view());
  auto logged = events.Find(trade_event_id);
  if (absl::IsNotFound(logged.status()) && source.is_replica()) {
    if (auto s = source.CatchUp(); !s.ok()) return s;
    logged = events.Find(trade_event_id);
  }
  if (absl::IsNotFound(logged.status())) {
    return absl::NotFoundError(
        absl::StrCat("trade_event_id: ", trade_event_id, " is not in the log"));
  }
  if (!logged.ok()) return logged.status();
  const v1::Event& event = (*logged)->event;
  if (!event.has_trade()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trade_event_id: ", trade_event_id, " is not a Trade"));
  }
  const v1::Trade& trade = event.trade();
  if (!ReadsEveryPrice(caller) && caller.party_id != trade.seller_party_id() &&
      caller.party_id != trade.buyer_party_id()) {
    return Denied(caller, "trade_event_id", absl::StrCat("the price of trade ", trade_event_id),
                  absl::StrCat("its seller ", trade.seller_party_id(), ", its buyer ",
                               trade.buyer_party_id(), " and regulators"));
  }

  const storage::LedgerDb& db = source.db();
  std::string bytes;
  const rocksdb::Status got =
      db.db().Get(rocksdb::ReadOptions(), db.cf(storage::Cf::kConfidential),
                  domain::keys::Opening((*logged)->seq, kPricePath), &bytes);
  if (got.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("confidential: no opening of ", kPricePath,
                                            " for entry ", (*logged)->seq));
  }
  if (!got.ok()) return storage::FromRocks(got, "reading confidential");
  v1::Opening opening;
  if (!opening.ParseFromString(bytes) || opening.value().size() != 8) {
    return absl::DataLossError(absl::StrCat("confidential: the opening of ", kPricePath,
                                            " for entry ", (*logged)->seq, " is damaged"));
  }
  // The rules checked it on the way in; checked again so a damaged store is never served as a
  // price.
  auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!sha256.ok()) return sha256.status();
  std::string preimage = opening.salt();
  preimage.append(opening.value());
  if (crypto::AsBytes((*sha256)->Hash(preimage)) != trade.price_commitment()) {
    return absl::DataLossError(absl::StrCat("confidential: the opening of ", kPricePath,
                                            " for entry ", (*logged)->seq,
                                            " does not match the commitment"));
  }

  v1::TradeTerms terms;
  terms.set_trade_event_id(trade_event_id);
  terms.set_seq((*logged)->seq);
  terms.set_seller_party_id(trade.seller_party_id());
  terms.set_buyer_party_id(trade.buyer_party_id());
  terms.set_batch_id(trade.batch().batch_id());
  terms.set_grams(trade.batch().grams());
  terms.set_price_fen(storage::ReadBigEndian64(opening.value()));
  terms.set_price_commitment(trade.price_commitment());
  *terms.mutable_price_opening() = std::move(opening);
  return terms;
}

}  // namespace herbtrace::server
