// Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/): real inputs of each kind,
// signed with the fixed keys the targets trust, against the market of market_fixture.h. Run by
// hand when a target's input format changes: herbtrace_fuzz_seeds fuzz/corpus
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/checkpoint.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/signed_note.h"
#include "fuzz/fixed_keys.h"
#include "fuzz/market_fixture.h"
#include "herbtrace/v1/recall.pb.h"
#include "herbtrace/v1/trace.pb.h"
#include "services/cli/bundle.h"
#include "services/cli/event_builder.h"
#include "services/cli/offline_queue.h"
#include "services/cli/provenance_check.h"
#include "services/cli/units.h"
#include "services/domain/identifiers.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/state_reader.h"
#include "storage/ledger_db.h"
#include "storage/log_view.h"

namespace herbtrace::fuzz {
namespace {

namespace fs = std::filesystem;

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    fprintf(stderr, "herbtrace_fuzz_seeds: %s: %s\n", what, v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}

class CorpusWriter {
 public:
  explicit CorpusWriter(fs::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << bytes;
  }

 private:
  fs::path root_;
};

std::string U64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

std::string Bytes(const crypto::Digest& d) { return std::string(crypto::AsBytes(d)); }

// ── fuzz_event, fuzz_offline_queue ─────────────────────────────────────────────────────────────

std::vector<std::pair<std::string, v1::SubmitRequest>> Events(const Market& m) {
  std::vector<std::pair<std::string, v1::SubmitRequest>> out;
  int n = 1000;
  auto seal = [&](const std::string& name, const v1::Event& e, const MarketParty& signer,
                  std::vector<v1::Opening> openings = {}) {
    out.emplace_back(name, Must(cli::SealEvent(e, *signer.key, std::move(openings)), name.c_str()));
  };

  v1::Event harvest = m.NewEvent(m.grower(), ++n);
  v1::Harvest* hv = harvest.mutable_harvest();
  hv->set_batch_id(m.BatchCode(m.grower(), 1, 3));
  hv->set_base_id(m.base_id());
  hv->set_herb_code("HUANGQI");
  hv->set_grams(120000);
  hv->mutable_harvest_date()->set_year(2024);
  hv->mutable_harvest_date()->set_month(9);
  hv->mutable_harvest_date()->set_day(14);
  seal("harvest", harvest, m.grower());

  v1::Event drying = m.NewEvent(m.grower(), ++n);
  v1::Process* p = drying.mutable_process();
  p->set_kind(v1::PROCESS_KIND_DRYING);
  p->mutable_input()->set_batch_id(m.lot1());
  p->mutable_input()->set_grams(800000);
  p->set_output_batch_id(m.BatchCode(m.grower(), 1, 4));
  p->set_output_grams(310000);
  p->set_loss_grams(490000);
  p->set_description("晒干 sun-dried on the yard");
  seal("process", drying, m.grower());

  v1::Event split = m.NewEvent(m.grower(), ++n);
  split.mutable_split()->set_input_batch_id(m.lot2());
  for (int i = 0; i < 2; ++i) {
    v1::BatchQuantity* q = split.mutable_split()->add_outputs();
    q->set_batch_id(m.BatchCode(m.grower(), 1, 5 + i));
    q->set_grams(200000);
  }
  seal("split", split, m.grower());

  v1::Event trade = m.NewEvent(m.grower(), ++n);
  v1::Trade* t = trade.mutable_trade();
  t->set_seller_party_id(m.grower().party_id);
  t->set_buyer_party_id(m.trader().party_id);
  t->mutable_batch()->set_batch_id(m.lot1());
  t->mutable_batch()->set_grams(800000);
  auto price = Must(
      cli::CommitWithSalt(cli::kTradePricePath, std::string(32, 's'), cli::PriceValue(2480000)),
      "commit");
  t->set_price_commitment(price.commitment);
  t->set_trade_no("AG-20240915-0117");
  seal("trade", trade, m.grower(), {price.opening});

  v1::Event test = m.NewEvent(m.lab(), ++n);
  v1::QualityTest* q = test.mutable_quality_test();
  q->set_batch_id(m.lot2());
  q->set_sample_id("S-2024-0915-01");
  q->set_purpose(v1::TEST_PURPOSE_SUPERVISORY);
  q->set_limits_version("chp2020-anguo-2024.1");
  q->set_use(v1::PRODUCT_USE_MEDICINAL);
  *q->add_results() = Must(cli::ParseAnalyteResult("so2=212mg/kg", "result"), "so2");
  *q->add_results() = Must(cli::ParseAnalyteResult("pb=0.8mg/kg", "result"), "pb");
  *q->add_results() = Must(cli::ParseAnalyteResult("aflatoxin_b1=<0.5ug/kg", "result"), "afb1");
  q->set_report_no("HB-2024-0915-001");
  seal("quality_test", test, m.lab());

  v1::Event recall = m.NewEvent(m.regulator(), ++n);
  recall.mutable_recall()->set_batch_id(m.lot1());
  recall.mutable_recall()->set_reason("二氧化硫残留超标 sulfur dioxide over the limit");
  recall.mutable_recall()->set_severity(v1::RECALL_SEVERITY_CLASS_II);
  recall.mutable_recall()->mutable_ack_deadline()->set_seconds(absl::ToUnixSeconds(Market::Now()) +
                                                               7 * 86400);
  seal("recall", recall, m.regulator());

  v1::Event key = m.NewEvent(m.grower(), ++n);
  key.mutable_register_key()->set_party_id(m.grower().party_id);
  *key.mutable_register_key()->mutable_key() =
      Must(cli::MakeNewKey(*FixedKey('g'), kLogOrigin, m.grower().party_id, "scanner-2"), "key");
  seal("register_key", key, m.grower());

  v1::Event store = m.NewEvent(m.grower(), ++n);
  store.mutable_store()->set_action(v1::STORE_ACTION_IN);
  store.mutable_store()->add_batch_ids(m.lot2());
  store.mutable_store()->set_warehouse_party_id(m.grower().party_id);
  store.mutable_store()->set_location("A库-3区-12排");
  seal("store", store, m.grower());
  return out;
}

// A seed the rules reject would only test the first check that rejects it.
void CheckAccepted(Market& m, const std::string& name, const v1::SubmitRequest& request) {
  const v1::SignedEvent& signed_event = request.signed_event();
  v1::Event event;
  if (!event.ParseFromString(signed_event.payload())) std::exit(1);
  const absl::Status judged = m.Judge(request, event);
  absl::Status signature = absl::UnauthenticatedError("key not registered");
  if (auto key = domain::StateReader(m.db()).Key(signed_event.key_id()); key.ok()) {
    auto public_key =
        crypto::PublicKey::FromRaw(crypto::SignatureAlgorithm::kEd25519, key->public_key());
    signature = public_key.ok()
                    ? (*public_key)->Verify(signed_event.payload(), signed_event.signature())
                    : public_key.status();
  }
  if (!judged.ok() || !signature.ok()) {
    fprintf(stderr, "herbtrace_fuzz_seeds: event seed %s: rules %s, signature %s\n", name.c_str(),
            judged.ToString().c_str(), signature.ToString().c_str());
    std::exit(1);
  }
}

// ── fuzz_signed_note ───────────────────────────────────────────────────────────────────────────

void Notes(const Market& m, CorpusWriter& out) {
  auto log = Must(crypto::NoteSigner::Create(kLogOrigin, FixedKey(kLogKeyFill)), "log signer");
  auto witness = Must(crypto::Cosigner::Create(kWitnessName, FixedKey(kWitnessKeyFill)), "witness");
  auto sm2 = Must(crypto::NoteSigner::Create(
                      "anguo.herbtrace.example/log-sm2",
                      Must(crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kSm2), "sm2")),
                  "sm2 signer");
  const std::string note = m.checkpoint();
  auto parsed = Must(crypto::ParseNote(note), "checkpoint note");
  auto checkpoint = Must(crypto::ParseCheckpoint(parsed.text), "checkpoint");
  parsed.signatures.push_back(Must(witness->Cosign(checkpoint, 1726365600), "cosign"));
  const std::string cosigned = crypto::FormatNote(parsed);
  const crypto::NoteSigner* extra[] = {sm2.get()};
  const std::string dual = Must(crypto::SignCheckpoint(checkpoint, *log, extra), "sm2 checkpoint");

  out.Write("fuzz_signed_note", "log_checkpoint", log->VerifierKey() + "\n" + note);
  out.Write("fuzz_signed_note", "witness_cosigned", witness->VerifierKey() + "\n" + cosigned);
  out.Write("fuzz_signed_note", "sm2_checkpoint", sm2->VerifierKey() + "\n" + dual);
  out.Write("fuzz_signed_note", "checkpoint_text", "\n" + parsed.text);
}

// ── fuzz_merkle_proof ──────────────────────────────────────────────────────────────────────────

void Proofs(CorpusWriter& out) {
  auto sha256 = Must(crypto::Hasher::Create(crypto::HashAlgorithm::kSha256), "sha256");
  // The RFC 6962 reference tree's leaf inputs (tests/data/test-vectors/vectors.json).
  const std::vector<std::string> inputs = {
      "",
      std::string("\x00", 1),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  std::vector<crypto::Digest> leaves;
  for (const std::string& in : inputs) leaves.push_back(crypto::HashLeaf(*sha256, in));
  const absl::Span<const crypto::Digest> all(leaves);
  for (uint64_t size : {1, 5, 8}) {
    const crypto::Digest root = crypto::RootFromLeafHashes(*sha256, all.subspan(0, size));
    for (uint64_t index : {uint64_t{0}, size / 2, size - 1}) {
      std::string seed = absl::StrCat(std::string(1, '\0'), U64(index), U64(size),
                                      Bytes(leaves[index]), Bytes(root));
      for (const auto& h :
           crypto::InclusionProofFromLeafHashes(*sha256, all.subspan(0, size), index)) {
        seed += Bytes(h);
      }
      out.Write("fuzz_merkle_proof", absl::StrFormat("inclusion_%d_of_%d", index, size), seed);
    }
  }
  for (auto [size1, size2] : {std::pair<uint64_t, uint64_t>{1, 8}, {3, 8}, {4, 8}, {6, 7}}) {
    std::string seed =
        absl::StrCat(std::string(1, '\1'), U64(size1), U64(size2),
                     Bytes(crypto::RootFromLeafHashes(*sha256, all.subspan(0, size1))),
                     Bytes(crypto::RootFromLeafHashes(*sha256, all.subspan(0, size2))));
    for (const auto& h :
         crypto::ConsistencyProofFromLeafHashes(*sha256, all.subspan(0, size2), size1)) {
      seed += Bytes(h);
    }
    out.Write("fuzz_merkle_proof", absl::StrFormat("consistency_%d_to_%d", size1, size2), seed);
  }
  std::string tree = std::string(1, '\2') + "\3\7";
  for (const std::string& in : inputs) tree += std::string(1, static_cast<char>(in.size())) + in;
  out.Write("fuzz_merkle_proof", "tree_reference_8", tree);
  out.Write("fuzz_merkle_proof", "tree_reference_8_sm3", std::string(1, '\x82') + tree.substr(1));
}

// ── fuzz_identifiers ───────────────────────────────────────────────────────────────────────────

void Identifiers(const Market& m, CorpusWriter& out) {
  const std::string lot = m.lot1();
  const std::string package_body = lot.substr(0, 24) + "001";
  const std::string package = package_body + domain::TraceCheckDigit(package_body);
  const std::string pack_body = package.substr(0, 27) + "0000001";
  const std::string pack = pack_body + domain::TraceCheckDigit(pack_body);
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"batch_code", lot},
      {"package_code", package},
      {"pack_code", pack},
      {"party_id", m.grower().party_id},
      {"base_id", m.base_id()},
      {"uscc",
       "91130683000000003" + std::string(1, *domain::UsccCheckCharacter("91130683000000003"))},
      {"resident_id", "11010519491231002X"},
      {"key_id", m.grower().key->public_key().key_id()},
      {"event_id", "0192f0a0-5b1e-7c3a-9d10-000000000001"},
      {"herb_code", "HUANGQI"},
      {"analyte", "aflatoxin_b1"},
      {"version", "chp2020-anguo-2024.1"},
      {"date", "2024-09-15"},
      {"grams_kg", "12.5kg"},
      {"grams_jin", "3斤"},
      {"grams_t", "1.2t"},
      {"batch_quantity", lot + ":310kg"},
      {"lab_value", "0.8mg/kg"},
      {"lab_percent", "12.5%"},
      {"analyte_result", "pb=0.8mg/kg"},
      {"analyte_below_loq", "aflatoxin_b1=<0.5ug/kg"},
      {"decimal", "-12.345"},
  };
  for (const auto& [name, text] : texts) out.Write("fuzz_identifiers", name, "\3" + text);
}

// ── fuzz_catalog_csv ───────────────────────────────────────────────────────────────────────────

std::string FirstLines(const std::string& path, int lines) {
  std::ifstream in(path, std::ios::binary);
  std::string out, line;
  for (int i = 0; i < lines && std::getline(in, line); ++i) out += line + "\n";
  return out;
}

void Csv(Market& m, CorpusWriter& out) {
  std::string herbs =
      std::string(1, '\0') + FirstLines(HERBTRACE_SOURCE_DIR "/catalog/herbs.csv", 4);
  out.Write("fuzz_catalog_csv", "herbs", herbs);
  out.Write(
      "fuzz_catalog_csv", "quality_limits",
      std::string(1, '\1') + FirstLines(HERBTRACE_SOURCE_DIR "/catalog/quality-limits.csv", 6));
  out.Write("fuzz_catalog_csv", "fields",
            std::string("\2黄芪\0Huang,qi\0\"quoted\"\0two\r\nlines\0", 36));
  v1::RecallView view;
  view.set_recall_id("00000000-0000-4000-8000-000000001006");
  view.set_batch_id(m.lot1());
  for (int i = 0; i < 2; ++i) {
    v1::RecallScopeLot* lot = view.add_lots();
    lot->set_batch_id(i == 0 ? m.lot1() : m.BatchCode(m.grower(), 1, 4));
    lot->set_herb_code("HUANGQI");
    lot->set_depth(i);
    lot->set_holder_at_recall(m.grower().party_id);
    lot->set_grams_at_recall(310000);
    lot->set_ack_required(true);
    lot->set_acknowledged(i == 0);
    lot->mutable_current()->set_holder_party_id(m.trader().party_id);
    lot->mutable_current()->set_remaining_grams(310000);
    lot->mutable_current()->set_status(v1::BATCH_STATUS_RECALLED);
    if (i == 0) {
      v1::RecallAckRecord* ack = lot->add_acks();
      ack->set_action(v1::RECALL_ACTION_QUARANTINED);
      ack->set_grams(310000);
      ack->set_seq(14);
      ack->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(Market::Now()));
    }
  }
  out.Write("fuzz_catalog_csv", "recall_export",
            std::string("\3\x81", 2) + view.SerializeAsString());
  out.Write("fuzz_cli_output", "recall_view", "\3" + view.SerializeAsString());
  auto party = Must(domain::StateReader(m.db()).Party(m.grower().party_id), "grower");
  out.Write("fuzz_cli_output", "party", "\4" + party.SerializeAsString());
}

// ── fuzz_provenance ────────────────────────────────────────────────────────────────────────────

// What Trace.GetUpstream(include_proofs) returns for the grower's first lot: the registrations
// that carry the signers' keys (genesis, regulator, grower) and the harvest, each with its
// inclusion proof against the market's checkpoint.
void Provenance(Market& m, CorpusWriter& out) {
  auto sha256 = Must(crypto::Hasher::Create(crypto::HashAlgorithm::kSha256), "sha256");
  storage::LogView view(m.db(), *sha256);
  const uint64_t size = Must(view.Size(), "log size");
  auto checkpoint = Must(
      crypto::ParseCheckpoint(Must(crypto::ParseNote(m.checkpoint()), "note").text), "checkpoint");
  v1::GetUpstreamResponse response;
  response.set_batch_id(m.lot1());
  response.mutable_checkpoint()->set_note(m.checkpoint());
  response.mutable_checkpoint()->set_size(checkpoint.size);
  response.set_as_of_tree_size(checkpoint.size);
  for (uint64_t seq = 0; seq < size; ++seq) {
    v1::LedgerEntry entry;
    const std::string bytes = Must(view.EntryBytes(seq), "entry");
    if (!entry.ParseFromString(bytes)) std::exit(1);
    v1::Event event;
    event.ParseFromString(entry.signed_event().payload());
    const bool wanted = (event.has_register_party() && seq < 3) ||
                        (event.has_harvest() && event.harvest().batch_id() == m.lot1());
    if (!wanted) continue;
    if (event.has_harvest()) out.Write("fuzz_cli_output", "ledger_entry", "\1" + bytes);
    v1::ProvenEntry* proven = response.add_entries();
    proven->mutable_entry()->set_seq(seq);
    proven->mutable_entry()->set_entry(bytes);
    proven->mutable_entry()->set_leaf_hash(Bytes(Must(view.LeafHash(seq), "leaf")));
    proven->mutable_inclusion_proof()->set_leaf_index(seq);
    proven->mutable_inclusion_proof()->set_tree_size(checkpoint.size);
    for (const auto& h : Must(view.InclusionProof(seq, checkpoint.size), "proof")) {
      proven->mutable_inclusion_proof()->add_hashes(Bytes(h));
    }
  }
  auto log_verifier =
      Must(crypto::NoteVerifier::Create(
               Must(crypto::NoteSigner::Create(kLogOrigin, FixedKey(kLogKeyFill)), "log signer")
                   ->VerifierKey()),
           "log verifier");
  cli::ProvenanceCheckOptions options;
  options.log_verifier = log_verifier.get();
  options.hasher = sha256.get();
  Must(cli::CheckProvenance(m.lot1(), response, options), "provenance seed");
  out.Write("fuzz_provenance", "upstream_harvest", response.SerializeAsString());
  out.Write("fuzz_cli_output", "upstream", "\2" + response.SerializeAsString());
}

}  // namespace
}  // namespace herbtrace::fuzz

int main(int argc, char** argv) {
  using namespace herbtrace;
  if (argc != 2) {
    fprintf(stderr, "usage: herbtrace_fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  fuzz::CorpusWriter out(argv[1]);
  auto market = fuzz::Must(fuzz::Market::Create(), "market");
  const auto events = fuzz::Events(*market);
  for (const auto& [name, request] : events) {
    fuzz::CheckAccepted(*market, name, request);
    out.Write("fuzz_event", name, request.SerializeAsString());
    if (name == "trade") {
      out.Write("fuzz_cli_output", "event", std::string(1, '\0') + request.signed_event().payload());
    }
  }
  // A scanner's queue of the grower's events, as `herbctl --queue` writes it.
  const std::string queue = (std::filesystem::path(argv[1]) / "queue.tmp").string();
  std::filesystem::remove(queue);
  for (const auto& [name, request] : events) {
    if (request.signed_event().key_id() != market->grower().key->public_key().key_id()) continue;
    fuzz::Must(cli::AppendToQueue(queue, request), "queue");
  }
  auto sha256 = fuzz::Must(crypto::Hasher::Create(crypto::HashAlgorithm::kSha256), "sha256");
  fuzz::Must(cli::BuildBundle(fuzz::Must(cli::ReadQueue(queue), "read queue"),
                              *market->grower().key, *sha256, fuzz::kLogOrigin),
             "queue seed bundle");
  std::ifstream in(queue, std::ios::binary);
  out.Write("fuzz_offline_queue", "grower_queue",
            std::string(std::istreambuf_iterator<char>(in), {}));
  std::filesystem::remove(queue);
  fuzz::Notes(*market, out);
  fuzz::Proofs(out);
  fuzz::Identifiers(*market, out);
  fuzz::Csv(*market, out);
  fuzz::Provenance(*market, out);
  return 0;
}
