// herbctl price TRADE_EVENT_ID: a trade's opened price (Trace.GetTradeTerms), which the server
// gives only to the trade's seller and buyer and to regulators, over their own certificates.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/hash.h"
#include "services/cli/client.h"
#include "services/cli/commands.h"
#include "services/cli/output.h"
#include "services/cli/units.h"
#include "services/domain/identifiers.h"

namespace herbtrace::cli {
namespace {

// ¥1,234.50 for 123450 fen.
std::string Yuan(uint64_t fen) {
  const std::string digits = absl::StrCat(fen / 100);
  std::string yuan;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) yuan.push_back(',');
    yuan.push_back(digits[i]);
  }
  return absl::StrFormat("¥%s.%02d", yuan, fen % 100);
}

}  // namespace

absl::Status RunPrice(Context& ctx) {
  auto id = ctx.Arg(1, "the trade's event id");
  if (!id.ok()) return id.status();
  if (auto s = domain::ValidateEventId(*id, "trade_event_id"); !s.ok()) return AsUsage(s);
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::GetTradeTermsRequest request;
  request.set_trade_event_id(*id);
  v1::TradeTerms terms;
  auto context = (*client)->NewContext();
  if (auto s = FromGrpc((*client)->trace().GetTradeTerms(context.get(), request, &terms),
                        "Trace.GetTradeTerms", (*client)->target());
      !s.ok()) {
    return s;
  }
  // The opening is checked here too: the price shown is the one the seller committed to.
  auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
  if (!sha256.ok()) return sha256.status();
  const bool opens = crypto::AsBytes((*sha256)->Hash(absl::StrCat(
                         terms.price_opening().salt(), terms.price_opening().value()))) ==
                     terms.price_commitment();
  if (!opens) {
    return absl::DataLossError(absl::StrCat(
        "Trace.GetTradeTerms: the opening does not match the price commitment of entry ",
        terms.seq()));
  }
  if (ctx.json()) {
    PrintJson(ctx.out(), ProtoToJson(terms));
    return absl::OkStatus();
  }
  PrintFields(ctx.out(), {{"trade", absl::StrCat(terms.trade_event_id(), " (entry ",
                                                 terms.seq(), ")")},
                          {"seller", terms.seller_party_id()},
                          {"buyer", terms.buyer_party_id()},
                          {"batch", absl::StrCat(terms.batch_id(), ", ",
                                                 FormatGrams(terms.grams()))},
                          {"price", absl::StrCat(Yuan(terms.price_fen()), " (",
                                                 terms.price_fen(), " fen; opening checked)")}});
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
