// herbctl: the HerbTrace command line for growers, traders, labs and regulators.
//
// Exit codes: 0 ok; 1 rejected by the server, verification failed, or any other failure;
// 2 usage (unknown command, missing or malformed flag).
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "services/cli/commands.h"
#include "services/cli/flags.h"

namespace herbtrace::cli {
namespace {

constexpr char kUsage[] = R"(usage: herbctl COMMAND [args] [flags]

global flags: --server 127.0.0.1:50051  --key SIGNER.pem  --party ID  --origin ORIGIN  --json
              --queue FILE (offline)  --deadline 15s  --hash sha256|sm3
              --tls_ca CA.pem [--tls_cert C.pem --tls_key K.pem]   (mutual TLS; or env
              HERBTRACE_CA_CERT, HERBTRACE_CERT, HERBTRACE_KEY)
event flags:  --at RFC3339  --event_id UUID  --expect_head BATCH=HEX  --extra 'TEXTPROTO'  --dry_run

keys and registry
  keygen [ed25519|sm2] --key FILE             new key: FILE (0600) and FILE.pub; prints key id
  key-proof --key FILE --owner PARTY          proof of possession for a registrar (--pop)
  register party --party_id ID --name N --roles grower,… [--uscc U | --natural_person --identity N]
                 [--new_key K.pem[,…] | --new_key K.pub --pop B64]
  register key --new_key K.pem [--owner PARTY] [--device_label L]
  register base --base_id 0001 --name N --latlon 38.4185,115.3234 --area_mu 12.5 --herbs HUANGQI,…
  revoke-key KEYID --reason R
  catalog load herbs.csv [--catalog_version V]
  limits load quality-limits.csv VERSION [--supersedes OLD] [--catalog_file herbs.csv]

events (each signed once and submitted, or appended to --queue)
  harvest  --batch CODE|#SEQ --base BASE --herb HUANGQI --grams 150kg [--date D --plot P]
  process  --kind drying --input BATCH:GRAMS --output CODE|#SEQ --output_grams G [--loss_grams G]
  split    --input BATCH --outputs CODE|#SEQ:GRAMS,…
  merge    --inputs BATCH:GRAMS,… --output CODE|#SEQ [--output_grams G]
  ship     --to PARTY --batches BATCH[:GRAMS],… [--carrier C --plate P --waybill W]
  receive  --transfer EVENT_ID --received BATCH:GRAMS,…
  store    --action in|out|reading --batches BATCH,… [--warehouse P --location L --storage_class cool]
  trade    --buyer PARTY --batch BATCH[:GRAMS] --price_fen 123450   (price committed, not logged)
  test     --batch BATCH --limits_version V --results pb=0.8mg/kg,so2=<10mg/kg [--sample S]
  recall   --batch BATCH --reason R --severity 1|2|3 [--ack_by 7d] [--test_event ID]
  ack      --recall_id ID --batch BATCH --action quarantined|destroyed|returned [--grams G]
  dispense --batch BATCH --grams G --recipient pharmacy|hospital|consumer [--recipient_party P]
  release  --batch BATCH --reason R [--retest_event ID]
  upload   --queue FILE                        the queue as ONE signed bundle

queries
  batch CODE                                  state of a batch
  history CODE [--log_key VKEY]               every entry that touched it
  trace up CODE | trace down CODE [--include_empty]
  recall show ID | recall list | recall export ID [--sort COLUMN --desc --unacknowledged --bom] > f.csv
  price TRADE_EVENT_ID                        a trade's price (its seller, buyer, regulators)
  checkpoint [--log_key VKEY [--trusted_checkpoint FILE]]
  verify CODE --log_key VKEY [--trusted_checkpoint FILE]
         checks the batch's whole provenance locally against the log's key

operations
  audit [--signatures]                        the server re-checks its whole log (regulators, the
                                              market operator); long: give --deadline 30m
  health [SERVICE]                            grpc.health.v1 check; exit 0 only when SERVING

exit codes: 0 ok, 1 rejected or verification failed, 2 usage
)";

struct Entry {
  const char* name;
  absl::Status (*run)(Context&);
};

constexpr Entry kCommands[] = {
    {"keygen", RunKeygen},     {"key-proof", RunKeyProof},
    {"register", RunRegister}, {"revoke-key", RunRevokeKey},
    {"catalog", RunCatalog},   {"limits", RunLimits},
    {"harvest", RunHarvest},   {"process", RunProcess},
    {"split", RunSplit},       {"merge", RunMerge},
    {"ship", RunShip},         {"receive", RunReceive},
    {"store", RunStore},       {"trade", RunTrade},
    {"test", RunTest},         {"recall", RunRecall},
    {"ack", RunAck},           {"dispense", RunDispense},
    {"release", RunRelease},   {"upload", RunUpload},
    {"batch", RunBatch},       {"history", RunHistory},
    {"trace", RunTrace},       {"checkpoint", RunCheckpoint},
    {"verify", RunVerify},     {"price", RunPrice},
    {"audit", RunAudit},       {"health", RunHealth},
};

}  // namespace
}  // namespace herbtrace::cli

int main(int argc, char** argv) {
  using namespace herbtrace::cli;
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  const std::string command = args[0];
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  for (const Entry& entry : kCommands) {
    if (command != entry.name) continue;
    Context ctx(std::move(args), std::cout);
    const absl::Status status = entry.run(ctx);
    std::cout.flush();
    if (status.ok()) return 0;
    std::cerr << "herbctl " << command << ": " << status.message() << "\n";
    if (IsUsageError(status)) {
      std::cerr << "(herbctl help for usage)\n";
      return 2;
    }
    return 1;
  }
  std::cerr << "herbctl: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
