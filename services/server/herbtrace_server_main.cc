// herbtrace-server: every HerbTrace gRPC service in one process, or one role of a split
// deployment (ARCHITECTURE.md, "One binary or many"):
//
//   --mode=all     Ledger, Capture, Registry, Trace, Recall on one embedded ledger (the default)
//   --mode=writer  Ledger, Capture, Registry: the one process that appends
//   --mode=reader  Trace, Recall, Registry and Ledger reads on a RocksDB secondary instance of a
//                  writer's database (same filesystem), catching up with it continuously
//
// Every mode also serves grpc.health.v1.Health and server reflection.
//
// Transport and access: with --tls_cert, --tls_key and --client_ca the listener speaks mutual
// TLS and every caller is the party its client certificate names (deploy/make-certs.sh), held
// to the access table in services/server/access_policy.cc. Without them it listens in
// plaintext on loopback only (or anywhere with --allow_insecure_remote), and a plaintext caller
// is the host's administrative console, which reads everything, unless --plaintext_admin=false.
// A TLS server keeps such a console on --admin_listen (loopback or a Unix socket) if given.
//
// A writer's data directory holds db/ (RocksDB) and log-key.pem (the log's Ed25519 key, created
// on the first start, mode 0600). A reader's holds secondary/ (its own MANIFEST copy and info
// log); --primary_dir names the writer's data directory.
//
// SIGINT or SIGTERM: health turns NOT_SERVING, calls in flight get --shutdown_grace to finish,
// then the ledger drains its queue, signs a last checkpoint and closes.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/signed_note.h"
#include "rocksdb/cache.h"
#include "services/domain/domain_rules.h"
#include "services/domain/file_io.h"
#include "services/server/capture_service.h"
#include "services/server/executor.h"
#include "services/server/ledger_service.h"
#include "services/server/log_source.h"
#include "services/server/memory_limit.h"
#include "services/server/recall_service.h"
#include "services/server/registry_service.h"
#include "services/server/server_host.h"
#include "services/server/trace_service.h"
#include "storage/cache_warmer.h"
#include "storage/ledger.h"

ABSL_FLAG(std::string, mode, "all", "all, writer or reader");
ABSL_FLAG(std::string, data_dir, "",
          "this process's data: the ledger (db/, log-key.pem) or a reader's secondary/");
ABSL_FLAG(std::string, primary_dir, "", "reader: the writer's --data_dir (same filesystem)");
ABSL_FLAG(std::string, origin, "anguo.herbtrace.example/log",
          "log origin (first line of every checkpoint); fixed when the log is created");
ABSL_FLAG(std::string, hash, "sha256", "tree hash for a new log: sha256 or sm3");
ABSL_FLAG(std::string, bootstrap_key, "",
          "writer/all: the market operator's public key (PEM); only it may sign the genesis "
          "RegisterParty");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "host:port to serve on (port 0: any free port)");
ABSL_FLAG(bool, allow_insecure_remote, false,
          "serve a non-loopback address without TLS (a network trusted like this host only: its "
          "plaintext callers are the administrative console)");
ABSL_FLAG(std::string, tls_cert, "", "the server's certificate chain (PEM): serve mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "the server certificate's private key (PEM)");
ABSL_FLAG(std::string, client_ca, "",
          "the CA (PEM) every client certificate must chain to; each names its party");
ABSL_FLAG(std::string, admin_listen, "",
          "with TLS: also serve the host's plaintext administrative console here (loopback "
          "host:port or unix:PATH only), e.g. for the operator's genesis registration");
ABSL_FLAG(bool, plaintext_admin, true,
          "without TLS: a plaintext caller on loopback is the host's administrative console and "
          "reads everything; false refuses every plaintext call (UNAUTHENTICATED)");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once serving (for scripts)");
ABSL_FLAG(int32_t, max_message_bytes, 4 << 20, "largest gRPC message either way");
ABSL_FLAG(int32_t, max_concurrent_streams, 100, "concurrent calls per client connection");
ABSL_FLAG(int32_t, max_transport_memory_mib, 256,
          "memory all connections' transport buffers may hold together, in MiB");
ABSL_FLAG(int32_t, threads, 0, "threads for reads (0: max(4, cores))");
ABSL_FLAG(absl::Duration, catch_up_interval, absl::Milliseconds(100),
          "reader: how often to catch up with the writer");
ABSL_FLAG(absl::Duration, wait_for_primary, absl::Seconds(30),
          "reader: how long to wait at start for the writer to create its ledger");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "on SIGINT/SIGTERM: how long calls in flight may take to finish");
ABSL_FLAG(int64_t, block_cache_mib, 0,
          "RocksDB block cache for the ledger's reads, MiB (0: a quarter of the memory available, "
          "the machine's or the container's limit)");
ABSL_FLAG(bool, warm_block_cache, true,
          "read the ledger's tables into the block cache while it is at rest (index families "
          "first, then the newest entries), so that queries do not wait for the disk");
ABSL_FLAG(int64_t, max_lineage_lots, 10'000, "most lots one upstream/downstream query covers");
ABSL_FLAG(int64_t, max_appends_in_flight, 16'384,
          "writer: most events handed to the ledger and not yet answered, over every connection "
          "(a bundle counts its events; at least 4096, the largest bundle); a Submit or "
          "SubmitBundle beyond it gets RESOURCE_EXHAUSTED, a SubmitStream waits");

namespace herbtrace::server {
namespace {

constexpr char kUsage[] = R"(herbtrace-server: the HerbTrace gRPC services.

  herbtrace-server --data_dir=DIR --bootstrap_key=OPERATOR.pub [--mode=all] [--listen=127.0.0.1:50051]
  herbtrace-server --mode=writer --data_dir=DIR --bootstrap_key=OPERATOR.pub [--listen=...]
  herbtrace-server --mode=reader --data_dir=DIR --primary_dir=WRITER_DIR [--listen=...]

  mutual TLS: --tls_cert=server.pem --tls_key=server-key.pem --client_ca=ca.pem
              (deploy/make-certs.sh OUT --party PARTY_ID ... makes them)
)";

enum class Mode { kAll, kWriter, kReader };

int Fail(const absl::Status& status) {
  std::cerr << "herbtrace-server: " << status.message() << "\n";
  return 1;
}

int Usage(const std::string& message) {
  std::cerr << "herbtrace-server: " << message << "\n\n" << kUsage;
  return 2;
}

// The log's signing key: DATA/log-key.pem, generated (Ed25519, mode 0600) on the first start.
absl::StatusOr<std::unique_ptr<crypto::NoteSigner>> LoadOrCreateLogSigner(
    const std::filesystem::path& dir, const std::string& origin) {
  const std::filesystem::path path = dir / "log-key.pem";
  std::unique_ptr<crypto::PrivateKey> key;
  if (std::filesystem::exists(path)) {
    auto pem = domain::ReadFileToString(path);
    if (!pem.ok()) return pem.status();
    auto loaded = crypto::PrivateKey::FromPem(*pem);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat(path.string(), ": ", loaded.status().message()));
    }
    key = *std::move(loaded);
  } else {
    auto generated = crypto::PrivateKey::Generate(crypto::SignatureAlgorithm::kEd25519);
    if (!generated.ok()) return generated.status();
    auto pem = (*generated)->ToPem();
    if (!pem.ok()) return pem.status();
    const std::filesystem::path tmp = dir / "log-key.pem.tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp.string(), ": cannot write"));
      ::chmod(tmp.c_str(), 0600);
      out << *pem;
      if (!out.flush()) return absl::UnavailableError(absl::StrCat(tmp.string(), ": write failed"));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return absl::UnavailableError(absl::StrCat(path.string(), ": ", ec.message()));
    std::cout << "created log key " << path.string() << "\n";
    key = *std::move(generated);
  }
  if (key->algorithm() != crypto::SignatureAlgorithm::kEd25519) {
    return absl::FailedPreconditionError(absl::StrCat(
        path.string(), ": the log signs checkpoints with Ed25519 (C2SP clients require it)"));
  }
  return crypto::NoteSigner::Create(origin, std::move(key));
}

absl::StatusOr<std::string> BootstrapKeyId(const std::string& path) {
  auto pem = domain::ReadFileToString(path);
  if (!pem.ok()) return pem.status();
  auto key = crypto::PublicKey::FromPem(*pem);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("--bootstrap_key ", path, ": ", key.status().message()));
  }
  return (*key)->key_id();
}

// --block_cache_mib, or a quarter of the memory available: the block cache is the ledger's only
// reliable cache (see storage/cache_warmer.h).
size_t BlockCacheBytes() {
  const int64_t mib = absl::GetFlag(FLAGS_block_cache_mib);
  if (mib > 0) return static_cast<size_t>(mib) << 20;
  const uint64_t memory = MemoryAvailable();
  return memory == 0 ? size_t{256} << 20 : static_cast<size_t>(memory / 4);
}

absl::StatusOr<std::unique_ptr<LogSource>> OpenReplica(const std::filesystem::path& primary_dir,
                                                       const std::filesystem::path& data_dir) {
  LogSource::ReplicaOptions options;
  options.block_cache_bytes = BlockCacheBytes();
  options.primary_db_path = (primary_dir / "db").string();
  options.secondary_path = (data_dir / "secondary").string();
  options.catch_up_interval = absl::GetFlag(FLAGS_catch_up_interval);
  const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_wait_for_primary);
  bool told = false;
  for (;;) {
    auto source = LogSource::OpenReplica(options);
    if (source.ok() || !absl::IsNotFound(source.status()) || absl::Now() >= deadline) {
      return source;
    }
    if (!told) {
      std::cout << "waiting for the writer's ledger at " << options.primary_db_path << "\n";
      told = true;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

// --tls_cert, --tls_key, --client_ca: all three or none.
absl::StatusOr<std::optional<ServerHostOptions::Tls>> TlsFromFlags() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  const std::string ca = absl::GetFlag(FLAGS_client_ca);
  if (cert.empty() && key.empty() && ca.empty()) return std::nullopt;
  if (cert.empty() || key.empty() || ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert, --tls_key and --client_ca go together (mutual TLS needs all three)");
  }
  ServerHostOptions::Tls tls;
  for (auto [flag, path, out] : {std::tuple{"--tls_cert", &cert, &tls.cert_chain_pem},
                                 std::tuple{"--tls_key", &key, &tls.private_key_pem},
                                 std::tuple{"--client_ca", &ca, &tls.client_ca_pem}}) {
    auto pem = domain::ReadFileToString(*path);
    if (!pem.ok()) {
      return absl::Status(pem.status().code(),
                          absl::StrCat(flag, " ", *path, ": ", pem.status().message()));
    }
    *out = *std::move(pem);
  }
  return tls;
}

int Run() {
  const std::string mode_name = absl::GetFlag(FLAGS_mode);
  Mode mode;
  if (mode_name == "all") {
    mode = Mode::kAll;
  } else if (mode_name == "writer") {
    mode = Mode::kWriter;
  } else if (mode_name == "reader") {
    mode = Mode::kReader;
  } else {
    return Usage(absl::StrCat("--mode: \"", mode_name, "\" is not all, writer or reader"));
  }
  if (absl::GetFlag(FLAGS_max_lineage_lots) <= 0) return Usage("--max_lineage_lots must be > 0");
  if (absl::GetFlag(FLAGS_block_cache_mib) < 0) {
    return Usage("--block_cache_mib must be >= 0 (0: a quarter of the memory available)");
  }
  if (const size_t largest_bundle = CaptureOptions().max_bundle_events;
      absl::GetFlag(FLAGS_max_appends_in_flight) < static_cast<int64_t>(largest_bundle)) {
    return Usage(absl::StrCat("--max_appends_in_flight must be at least ", largest_bundle,
                              " (the largest bundle)"));
  }
  if (absl::GetFlag(FLAGS_max_transport_memory_mib) < 16) {
    return Usage("--max_transport_memory_mib must be at least 16");
  }
  if (absl::GetFlag(FLAGS_max_message_bytes) < (1 << 20)) {
    return Usage("--max_message_bytes must be at least 1 MiB (1048576)");
  }
  auto tls = TlsFromFlags();
  if (!tls.ok()) return Usage(std::string(tls.status().message()));
  CallerOptions callers;
  callers.plaintext_admin = absl::GetFlag(FLAGS_plaintext_admin);
  callers.plaintext_remote_admin = absl::GetFlag(FLAGS_allow_insecure_remote);
  const std::string data_flag = absl::GetFlag(FLAGS_data_dir);
  if (data_flag.empty()) return Usage("--data_dir is required");
  const std::filesystem::path data_dir(data_flag);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Fail(absl::UnavailableError(absl::StrCat(data_flag, ": ", ec.message())));

  // Debian's abseil is built with absl::Mutex deadlock detection on: every lock of every mutex
  // (the ledger's queue, each stream's state, the key cache) then updates a global lock graph
  // under a global lock. The tests keep it to find lock-order bugs; the server runs without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // SIGINT and SIGTERM are taken by sigwait below, in this thread only: blocked before any other
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
  Executor executor("reads", static_cast<size_t>(threads));
  Executor audit_executor("audit", 1, 16);

  std::unique_ptr<domain::DomainRules> rules;
  std::unique_ptr<storage::Ledger> ledger;
  std::unique_ptr<LogSource> source;
  std::unique_ptr<storage::CacheWarmer> warmer;  // reads through source: declared after it
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::vector<std::string> service_names;

  if (mode == Mode::kReader) {
    const std::string primary = absl::GetFlag(FLAGS_primary_dir);
    if (primary.empty()) return Usage("--primary_dir (the writer's --data_dir) is required");
    auto replica = OpenReplica(primary, data_dir);
    if (!replica.ok()) return Fail(replica.status());
    source = *std::move(replica);
  } else {
    const std::string bootstrap = absl::GetFlag(FLAGS_bootstrap_key);
    if (bootstrap.empty()) {
      return Usage("--bootstrap_key (the market operator's public key PEM) is required");
    }
    auto bootstrap_key_id = BootstrapKeyId(bootstrap);
    if (!bootstrap_key_id.ok()) return Fail(bootstrap_key_id.status());
    auto hash = crypto::ParseHashAlgorithm(absl::GetFlag(FLAGS_hash));
    if (!hash.ok()) return Fail(hash.status());
    const std::string origin = absl::GetFlag(FLAGS_origin);
    auto signer = LoadOrCreateLogSigner(data_dir, origin);
    if (!signer.ok()) return Fail(signer.status());

    domain::DomainConfig config;
    config.log_origin = origin;
    config.bootstrap_key_id = *bootstrap_key_id;
    rules = std::make_unique<domain::DomainRules>(config);
    storage::Ledger::Options options;
    options.origin = origin;
    options.hash = *hash;
    options.rule = rules.get();
    options.block_cache_bytes = BlockCacheBytes();
    auto opened = storage::Ledger::Open((data_dir / "db").string(), options, *std::move(signer));
    if (!opened.ok()) return Fail(opened.status());
    ledger = *std::move(opened);
    auto embedded = LogSource::ForLedger(*ledger);
    if (!embedded.ok()) return Fail(embedded.status());
    source = *std::move(embedded);

    CaptureOptions capture;
    capture.bootstrap_key_id = *bootstrap_key_id;
    capture.max_appends_in_flight =
        static_cast<size_t>(absl::GetFlag(FLAGS_max_appends_in_flight));
    capture.callers = callers;
    services.push_back(NewCaptureService(*ledger, capture));
    service_names.push_back("herbtrace.v1.Capture");
  }

  LedgerServiceOptions ledger_options;
  ledger_options.callers = callers;
  services.push_back(NewLedgerService(*source, executor, audit_executor, ledger_options));
  service_names.push_back(mode == Mode::kReader ? "herbtrace.v1.Ledger (reads)"
                                                : "herbtrace.v1.Ledger");
  RegistryServiceOptions registry_options;
  registry_options.callers = callers;
  services.push_back(NewRegistryService(*source, executor, registry_options));
  service_names.push_back("herbtrace.v1.Registry");
  if (mode != Mode::kWriter) {
    TraceServiceOptions trace;
    trace.max_lineage_lots = static_cast<size_t>(absl::GetFlag(FLAGS_max_lineage_lots));
    trace.callers = callers;
    // Responses stay under what this server may send (and a default client may receive).
    trace.max_response_bytes = std::min<size_t>(
        trace.max_response_bytes,
        static_cast<size_t>(absl::GetFlag(FLAGS_max_message_bytes)) - (64 << 10));
    services.push_back(NewTraceService(*source, executor, trace));
    RecallServiceOptions recall;
    recall.callers = callers;
    services.push_back(NewRecallService(*source, executor, recall));
    service_names.push_back("herbtrace.v1.Trace");
    service_names.push_back("herbtrace.v1.Recall");
  }

  ServerHostOptions host_options;
  host_options.listen = absl::GetFlag(FLAGS_listen);
  host_options.allow_insecure_remote = absl::GetFlag(FLAGS_allow_insecure_remote);
  host_options.tls = *std::move(tls);
  host_options.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  if (!host_options.admin_listen.empty() && !host_options.tls.has_value()) {
    return Usage("--admin_listen is for a TLS server (without TLS, --listen is the console)");
  }
  host_options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  host_options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  host_options.max_transport_memory_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_transport_memory_mib)) << 20;
  std::vector<grpc::Service*> raw;
  for (auto& s : services) raw.push_back(s.get());
  auto host = ServerHost::Start(host_options, raw);
  if (!host.ok()) return Fail(host.status());

  const std::string address = (*host)->address();
  auto size = source->Size();
  const bool with_tls = (*host)->tls();
  const std::string transport =
      with_tls ? "mutual TLS: every caller is the party of its client certificate"
               : (callers.plaintext_admin
                      ? "plaintext: callers are the host's administrative console"
                      : "plaintext, administrative console off: every call is refused");
  const std::string grpcurl =
      with_tls ? "grpcurl -cacert CA.pem -cert PARTY.pem -key PARTY-key.pem " : "grpcurl -plaintext ";
  const std::string herbctl =
      with_tls ? absl::StrCat("herbctl --server=", address,
                              " --tls_ca=CA.pem --tls_cert=PARTY.pem --tls_key=PARTY-key.pem")
               : absl::StrCat("herbctl --server=", address);
  // Before the banner: a script that waits for "listening on" then reads the port finds it.
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*host)->port() << "\n";
    std::filesystem::rename(tmp, port_file, ec);
  }
  std::cout << "herbtrace-server (" << mode_name << ") listening on " << address << "\n"
            << "  transport  " << transport << "\n"
            << ((*host)->admin_address().empty()
                    ? std::string()
                    : absl::StrCat("  console    ", (*host)->admin_address(),
                                   callers.plaintext_admin
                                       ? " (plaintext, this host only)\n"
                                       : " (off: --plaintext_admin=false)\n"))
            << "  log        " << source->config().origin << ", "
            << crypto::HashAlgorithmName(source->config().hash) << ", "
            << (size.ok() ? absl::StrCat(*size, " entries") : std::string("size unknown"))
            << "\n"
            << "  log key    " << source->config().verifier_key << "\n"
            << "  data       " << data_dir.string() << "\n"
            << "  services   " << absl::StrJoin(service_names, ", ")
            << ", grpc.health.v1.Health, reflection\n"
            << "  try        " << grpcurl << address << " list\n"
            << "             " << grpcurl << address << " herbtrace.v1.Ledger/GetCheckpoint\n"
            << "             " << herbctl << " checkpoint\n"
            << (mode == Mode::kWriter
                    ? std::string()
                    : absl::StrCat("             ", herbctl, " batch <trace code>\n"))
            << "  stop       Ctrl-C or SIGTERM\n"
            << std::flush;
  // After the banner, so that its lines never interleave with it.
  if (absl::GetFlag(FLAGS_warm_block_cache)) {
    storage::CacheWarmer::Options warm;
    const storage::LedgerDb& db = source->db();
    warm.on_pass = [&db](const storage::CacheWarmer::Pass& pass) {
      std::cout << absl::StreamFormat(
                       "block cache: read %d tables (%.1f MiB) in %.2f s; %.0f of %.0f MiB in "
                       "use%s\n",
                       pass.tables_read, pass.bytes_read / 1048576.0,
                       absl::ToDoubleSeconds(pass.took), db.block_cache().GetUsage() / 1048576.0,
                       db.block_cache().GetCapacity() / 1048576.0,
                       pass.budget_reached ? " (full: the rest is read as asked for)" : "")
                << std::flush;
    };
    warmer = storage::CacheWarmer::Start(db, warm);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cout << "herbtrace-server: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down\n"
            << std::flush;
  warmer.reset();  // no more table reads while calls finish
  (*host)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  executor.Stop();
  audit_executor.Stop();
  host->reset();
  services.clear();
  source.reset();
  ledger.reset();  // drains, signs a last checkpoint, closes RocksDB
  std::cout << "herbtrace-server: stopped\n";
  return 0;
}

}  // namespace
}  // namespace herbtrace::server

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(herbtrace::server::kUsage);
  absl::ParseCommandLine(argc, argv);
  return herbtrace::server::Run();
}
