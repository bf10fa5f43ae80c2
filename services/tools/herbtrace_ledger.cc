// herbtrace-ledger: the ledger on its own, from the command line. Creates a log, signs events
// written in protobuf text format, appends them, prints the signed checkpoint, proves an entry's
// inclusion and checks the proof locally, and audits a whole ledger directory.
//
// A ledger directory holds `db/` (RocksDB) and `log-key.pem` (the log's Ed25519 key, mode 0600).
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "herbtrace/v1/event.pb.h"
#include "services/domain/file_io.h"
#include "services/domain/lineage_indexer.h"
#include "services/domain/signature_algorithm.h"
#include "services/domain/signature_audit.h"
#include "storage/audit.h"
#include "storage/ledger.h"
#include "storage/log_config.h"

ABSL_FLAG(std::string, dir, "", "ledger directory (holds db/ and log-key.pem)");
ABSL_FLAG(std::string, origin, "anguo.herbtrace.example/log", "log origin, for init");
ABSL_FLAG(std::string, hash, "sha256", "tree hash for init: sha256 or sm3");
ABSL_FLAG(std::string, key, "", "private key PEM (sign) or output path (keygen)");
ABSL_FLAG(std::string, algorithm, "ed25519", "keygen algorithm: ed25519 or sm2");
ABSL_FLAG(std::string, in, "", "input file");
ABSL_FLAG(std::string, out, "", "output file");
ABSL_FLAG(std::vector<std::string>, trust, {},
          "public key PEMs whose signatures append accepts (comma separated)");
ABSL_FLAG(int64_t, seq, -1, "entry sequence number");
ABSL_FLAG(int64_t, size, -1, "tree size (default: the latest checkpoint's)");
ABSL_FLAG(bool, signatures, false,
          "audit: also check every entry's signature against the keys the log itself registered "
          "(a herbtrace-server ledger; not one built by append with --trust keys)");

namespace herbtrace::tools {
namespace {

constexpr char kUsage[] = R"(usage: herbtrace-ledger COMMAND [flags]

  keygen     --key FILE [--algorithm ed25519|sm2]   new signing key (PKCS#8 PEM) + FILE.pub
  init       --dir DIR [--origin O] [--hash sha256|sm3]   create a ledger and its log key
  sign       --key FILE --in EVENTS.txtpb --out EVENTS.bin
             events in protobuf text format, separated by lines holding only '---'
  append     --dir DIR --in EVENTS.bin --trust A.pub[,B.pub]   verify signatures, append
  checkpoint --dir DIR                               sign and print the latest checkpoint
  entry      --dir DIR --seq N                       print one entry and its event
  prove      --dir DIR --seq N [--size M]            inclusion proof, checked locally
  audit      --dir DIR [--signatures]                verify the whole ledger [and who signed it]
)";

int Fail(const absl::Status& status) {
  std::cerr << "herbtrace-ledger: " << status.message() << "\n";
  return 1;
}

absl::Status WritePrivateFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  out << content;
  out.close();
  chmod(path.c_str(), 0600);
  return absl::OkStatus();
}

std::string Required(const absl::Flag<std::string>& flag, const char* name) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) {
    std::cerr << "herbtrace-ledger: --" << name << " is required\n" << kUsage;
    std::exit(2);
  }
  return value;
}

struct OpenedLedger {
  std::unique_ptr<storage::Ledger> ledger;
  storage::LogConfig config;
};

absl::StatusOr<std::unique_ptr<crypto::NoteSigner>> LoadLogSigner(const std::string& dir,
                                                                   const std::string& origin) {
  auto pem = domain::ReadFileToString(std::filesystem::path(dir) / "log-key.pem");
  if (!pem.ok()) return pem.status();
  auto key = crypto::PrivateKey::FromPem(*pem);
  if (!key.ok()) return key.status();
  return crypto::NoteSigner::Create(origin, *std::move(key));
}

absl::StatusOr<OpenedLedger> OpenExisting(const std::string& dir, storage::StateRule* rule) {
  const std::string db_path = (std::filesystem::path(dir) / "db").string();
  storage::LogConfig config;
  {
    auto db = storage::LedgerDb::Open(db_path, storage::LedgerDb::Options::ReadOnly());
    if (!db.ok()) return db.status();
    auto read = storage::ReadLogConfig(**db);
    if (!read.ok()) return read.status();
    config = *read;
  }
  auto signer = LoadLogSigner(dir, config.origin);
  if (!signer.ok()) return signer.status();
  storage::Ledger::Options options;
  options.origin = config.origin;
  options.hash = config.hash;
  options.rule = rule;
  auto ledger = storage::Ledger::Open(db_path, options, *std::move(signer));
  if (!ledger.ok()) return ledger.status();
  return OpenedLedger{*std::move(ledger), config};
}

int Keygen() {
  const std::string path = Required(FLAGS_key, "key");
  auto algorithm = crypto::ParseSignatureAlgorithm(absl::GetFlag(FLAGS_algorithm));
  if (!algorithm.ok()) return Fail(algorithm.status());
  auto key = crypto::PrivateKey::Generate(*algorithm);
  if (!key.ok()) return Fail(key.status());
  auto pem = (*key)->ToPem();
  if (!pem.ok()) return Fail(pem.status());
  if (auto s = WritePrivateFile(path, *pem); !s.ok()) return Fail(s);
  auto pub = (*key)->public_key().ToPem();
  if (!pub.ok()) return Fail(pub.status());
  std::ofstream(path + ".pub") << *pub;
  std::cout << "key id     " << (*key)->public_key().key_id() << "\n"
            << "algorithm  " << crypto::SignatureAlgorithmName(*algorithm) << "\n"
            << "private    " << path << "\n"
            << "public     " << path << ".pub\n";
  return 0;
}

int Init() {
  const std::string dir = Required(FLAGS_dir, "dir");
  auto hash = crypto::ParseHashAlgorithm(absl::GetFlag(FLAGS_hash));
  if (!hash.ok()) return Fail(hash.status());
  const std::filesystem::path key_path = std::filesystem::path(dir) / "log-key.pem";
  if (std::filesystem::exists(key_path)) {
    return Fail(absl::AlreadyExistsError(absl::StrCat(dir, ": already holds a ledger")));
  }
  std::filesystem::create_directories(dir);
  auto key = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
  if (!key.ok()) return Fail(key.status());
  auto pem = (*key)->ToPem();
  if (!pem.ok()) return Fail(pem.status());
  if (auto s = WritePrivateFile(key_path.string(), *pem); !s.ok()) return Fail(s);
  auto signer = crypto::NoteSigner::Create(absl::GetFlag(FLAGS_origin), *std::move(key));
  if (!signer.ok()) return Fail(signer.status());
  const std::string verifier_key = (*signer)->VerifierKey();
  storage::Ledger::Options options;
  options.origin = absl::GetFlag(FLAGS_origin);
  options.hash = *hash;
  auto ledger = storage::Ledger::Open((std::filesystem::path(dir) / "db").string(), options,
                                      *std::move(signer));
  if (!ledger.ok()) return Fail(ledger.status());
  std::cout << "ledger       " << dir << "\n"
            << "origin       " << options.origin << "\n"
            << "hash         " << crypto::HashAlgorithmName(*hash) << "\n"
            << "log key      " << verifier_key << "\n";
  return 0;
}

int Sign() {
  auto pem = domain::ReadFileToString(Required(FLAGS_key, "key"));
  if (!pem.ok()) return Fail(pem.status());
  auto key = crypto::PrivateKey::FromPem(*pem);
  if (!key.ok()) return Fail(key.status());
  auto text = domain::ReadFileToString(Required(FLAGS_in, "in"));
  if (!text.ok()) return Fail(text.status());
  const std::string out_path = Required(FLAGS_out, "out");
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  google::protobuf::io::OstreamOutputStream stream(&out);

  int count = 0;
  std::string chunk;
  auto flush = [&]() -> absl::Status {
    if (absl::StripAsciiWhitespace(chunk).empty()) return absl::OkStatus();
    v1::Event event;
    if (!google::protobuf::TextFormat::ParseFromString(chunk, &event)) {
      return absl::InvalidArgumentError(
          absl::StrCat(absl::GetFlag(FLAGS_in), ": event ", count + 1, " is not valid text format"));
    }
    // Serialized exactly once: these bytes are what is signed, stored and hashed.
    const std::string payload = event.SerializeAsString();
    auto signature = (*key)->Sign(payload);
    if (!signature.ok()) return signature.status();
    v1::SignedEvent signed_event;
    signed_event.set_payload(payload);
    signed_event.set_key_id((*key)->public_key().key_id());
    signed_event.set_algorithm(domain::ToProtoAlgorithm((*key)->algorithm()));
    signed_event.set_signature(*signature);
    if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(signed_event, &stream)) {
      return absl::InternalError(absl::StrCat(out_path, ": write failed"));
    }
    ++count;
    chunk.clear();
    return absl::OkStatus();
  };
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StripAsciiWhitespace(line) == "---") {
      if (auto s = flush(); !s.ok()) return Fail(s);
    } else {
      absl::StrAppend(&chunk, line, "\n");
    }
  }
  if (auto s = flush(); !s.ok()) return Fail(s);
  std::cout << "signed " << count << " events with key " << (*key)->public_key().key_id()
            << " into " << out_path << "\n";
  return 0;
}

int Append() {
  std::map<std::string, std::unique_ptr<crypto::PublicKey>> trusted;
  for (const std::string& path : absl::GetFlag(FLAGS_trust)) {
    auto pem = domain::ReadFileToString(path);
    if (!pem.ok()) return Fail(pem.status());
    auto key = crypto::PublicKey::FromPem(*pem);
    if (!key.ok()) return Fail(key.status());
    std::string id = (*key)->key_id();
    trusted.emplace(std::move(id), *std::move(key));
  }
  if (trusted.empty()) {
    return Fail(absl::InvalidArgumentError("--trust: at least one public key is required"));
  }
  domain::LineageIndexer indexer;
  auto opened = OpenExisting(Required(FLAGS_dir, "dir"), &indexer);
  if (!opened.ok()) return Fail(opened.status());
  const std::string in_path = Required(FLAGS_in, "in");
  std::ifstream in(in_path, std::ios::binary);
  if (!in) return Fail(absl::NotFoundError(absl::StrCat(in_path, ": cannot read")));
  google::protobuf::io::IstreamInputStream stream(&in);

  int appended = 0, rejected = 0;
  std::printf("%-5s %-38s %-10s %s\n", "seq", "event id", "tree size", "leaf hash");
  for (int n = 1;; ++n) {
    v1::SignedEvent signed_event;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&signed_event, &stream,
                                                                  &clean_eof)) {
      if (clean_eof) break;
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(in_path, ": record ", n, " is not a length-delimited SignedEvent")));
    }
    auto reject = [&](const absl::Status& s) {
      std::printf("REJECTED record %d: %s\n", n, std::string(s.message()).c_str());
      ++rejected;
    };
    auto key = trusted.find(signed_event.key_id());
    if (key == trusted.end()) {
      reject(absl::PermissionDeniedError(
          absl::StrCat("signed_event.key_id: ", signed_event.key_id(), " is not trusted")));
      continue;
    }
    if (auto s = key->second->Verify(signed_event.payload(), signed_event.signature()); !s.ok()) {
      reject(s);
      continue;
    }
    v1::Event event;
    if (!event.ParseFromString(signed_event.payload())) {
      reject(absl::InvalidArgumentError("signed_event.payload: not a herbtrace.v1.Event"));
      continue;
    }
    storage::AppendRequest request;
    request.event_id = event.event_id();
    request.signed_event = std::move(signed_event);
    for (const v1::BatchLink& link : event.expected_heads()) {
      request.expected_heads.emplace_back(link.batch_id(), link.prev_leaf_hash());
    }
    auto receipt = opened->ledger->Append(std::move(request));
    if (!receipt.ok()) {
      reject(receipt.status());
      continue;
    }
    ++appended;
    std::printf("%-5llu %-38s %-10llu %s\n", static_cast<unsigned long long>(receipt->seq()),
                receipt->event_id().c_str(),
                static_cast<unsigned long long>(receipt->tree_size()),
                absl::BytesToHexString(receipt->leaf_hash()).substr(0, 16).c_str());
  }
  auto note = opened->ledger->SignCheckpoint();
  if (!note.ok()) return Fail(note.status());
  std::cout << "appended " << appended << ", rejected " << rejected << "; log size "
            << opened->ledger->size() << "\n";
  return rejected == 0 ? 0 : 1;
}

int Checkpoint() {
  auto opened = OpenExisting(Required(FLAGS_dir, "dir"), nullptr);
  if (!opened.ok()) return Fail(opened.status());
  auto note = opened->ledger->SignCheckpoint();
  if (!note.ok()) return Fail(note.status());
  std::cout << *note << "\nverifier key: " << opened->config.verifier_key << "\n";
  return 0;
}

int Entry() {
  const int64_t seq = absl::GetFlag(FLAGS_seq);
  if (seq < 0) return Fail(absl::InvalidArgumentError("--seq: required"));
  auto opened = OpenExisting(Required(FLAGS_dir, "dir"), nullptr);
  if (!opened.ok()) return Fail(opened.status());
  auto bytes = opened->ledger->view().EntryBytes(seq);
  if (!bytes.ok()) return Fail(bytes.status());
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return Fail(absl::DataLossError(absl::StrCat("entry ", seq, ": does not parse")));
  }
  v1::Event event;
  const bool decoded = event.ParseFromString(entry.signed_event().payload());
  std::string entry_text, event_text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseUtf8StringEscaping(true);
  printer.PrintToString(entry, &entry_text);
  if (decoded) printer.PrintToString(event, &event_text);
  std::cout << "# entry " << seq << " (" << bytes->size() << " bytes, leaf "
            << crypto::ToHex(crypto::HashLeaf(opened->ledger->hasher(), *bytes)) << ")\n"
            << entry_text << "# signed event\n"
            << (decoded ? event_text : "(payload is not a herbtrace.v1.Event)\n");
  return 0;
}

int Prove() {
  const int64_t seq = absl::GetFlag(FLAGS_seq);
  if (seq < 0) return Fail(absl::InvalidArgumentError("--seq: required"));
  auto opened = OpenExisting(Required(FLAGS_dir, "dir"), nullptr);
  if (!opened.ok()) return Fail(opened.status());
  storage::Ledger& ledger = *opened->ledger;
  auto note = ledger.SignCheckpoint();
  if (!note.ok()) return Fail(note.status());
  // Check as a client would: the checkpoint against the log's public key, then the proof.
  auto verifier = crypto::NoteVerifier::Create(opened->config.verifier_key);
  if (!verifier.ok()) return Fail(verifier.status());
  auto checkpoint = crypto::OpenCheckpoint(*note, **verifier);
  if (!checkpoint.ok()) return Fail(checkpoint.status());
  const uint64_t size = absl::GetFlag(FLAGS_size) >= 0 ? absl::GetFlag(FLAGS_size)
                                                       : checkpoint->size;
  auto root = size == checkpoint->size ? absl::StatusOr<crypto::Digest>(checkpoint->root_hash)
                                       : ledger.view().RootAt(size);
  if (!root.ok()) return Fail(root.status());
  auto bytes = ledger.view().EntryBytes(seq);
  if (!bytes.ok()) return Fail(bytes.status());
  const crypto::Digest leaf = crypto::HashLeaf(ledger.hasher(), *bytes);
  auto proof = ledger.view().InclusionProof(seq, size);
  if (!proof.ok()) return Fail(proof.status());
  std::cout << "checkpoint\n" << *note << "\nentry      " << seq << "\nleaf hash  "
            << crypto::ToHex(leaf) << "\ntree size  " << size << "\nroot       "
            << crypto::ToHex(*root) << "\nproof (" << proof->size() << " hashes)\n";
  for (const crypto::Digest& h : *proof) std::cout << "  " << crypto::ToHex(h) << "\n";
  if (auto s = crypto::VerifyInclusion(ledger.hasher(), seq, size, leaf, *proof, *root); !s.ok()) {
    return Fail(s);
  }
  std::cout << "verified: entry " << seq << " is in the tree of size " << size
            << (size == checkpoint->size ? " signed by the log\n" : "\n");
  return 0;
}

int Audit() {
  const std::string dir = Required(FLAGS_dir, "dir");
  auto db = storage::LedgerDb::Open((std::filesystem::path(dir) / "db").string(),
                                    storage::LedgerDb::Options::ReadOnly());
  if (!db.ok()) return Fail(db.status());
  const absl::Time start = absl::Now();
  storage::AuditOptions options;
  options.progress = [](uint64_t n) { std::cerr << "  audited " << n << " entries\n"; };
  auto report = storage::AuditLedger(**db, options);
  if (!report.ok()) return Fail(report.status());
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  if (!report->ok()) {
    std::cout << "AUDIT FAILED"
              << (report->failure->seq ? absl::StrCat(" at entry ", *report->failure->seq) : "")
              << ": " << report->failure->reason << "\n"
              << "entries verified before the break: " << report->entries_checked << "\n";
    return 1;
  }
  std::cout << "audit passed: " << report->entries_checked << " entries, root "
            << crypto::ToHex(report->root) << "\n"
            << "signed checkpoint at size "
            << (report->checkpoint_size ? absl::StrCat(*report->checkpoint_size) : "(none)")
            << " matches; " << absl::StrFormat("%.0f", report->entries_checked / std::max(secs, 1e-9))
            << " entries/s\n";
  if (!absl::GetFlag(FLAGS_signatures)) return 0;

  const absl::Time signatures_start = absl::Now();
  domain::SignatureAuditOptions signature_options;
  signature_options.progress = [](uint64_t n) {
    std::cerr << "  signatures of " << n << " entries\n";
  };
  auto signatures = domain::AuditSignatures(**db, signature_options);
  if (!signatures.ok()) return Fail(signatures.status());
  if (!signatures->ok()) {
    std::cout << "SIGNATURE AUDIT FAILED"
              << (signatures->failure->seq ? absl::StrCat(" at entry ", *signatures->failure->seq)
                                           : "")
              << ": " << signatures->failure->reason << "\n";
    return 1;
  }
  const double signature_secs = absl::ToDoubleSeconds(absl::Now() - signatures_start);
  std::cout << "signatures verified: " << signatures->entries_checked << " entries ("
            << signatures->bundled_entries << " in bundles), " << signatures->signatures_verified
            << " signatures, " << signatures->keys_registered << " keys registered, "
            << signatures->keys_revoked << " revoked; "
            << absl::StrFormat("%.0f", signatures->entries_checked / std::max(signature_secs, 1e-9))
            << " entries/s\n";
  return 0;
}

}  // namespace
}  // namespace herbtrace::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(herbtrace::tools::kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << herbtrace::tools::kUsage;
    return 2;
  }
  const std::string command = args[1];
  using namespace herbtrace::tools;
  if (command == "keygen") return Keygen();
  if (command == "init") return Init();
  if (command == "sign") return Sign();
  if (command == "append") return Append();
  if (command == "checkpoint") return Checkpoint();
  if (command == "entry") return Entry();
  if (command == "prove") return Prove();
  if (command == "audit") return Audit();
  std::cerr << "herbtrace-ledger: unknown command '" << command << "'\n" << kUsage;
  return 2;
}
