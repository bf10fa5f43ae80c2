// Test helper for ledger_crash_test: appends from several threads until it is killed, and after
// every acknowledged append writes "seq event_id leaf_hex\n" to an acknowledgement file. The file
// is written with write(2), so a SIGKILL never loses a line that was written (the OS has it).
//
// usage: ledger_crash_writer LEDGER_DIR ACK_FILE RUN_TAG THREADS
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/ledger.h"
#include "tests/storage/ledger_fixture.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s LEDGER_DIR ACK_FILE RUN_TAG THREADS\n", argv[0]);
    return 2;
  }
  const std::string tag = argv[3];
  const int threads = std::atoi(argv[4]);
  const int ack_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
  if (ack_fd < 0) return 3;

  herbtrace::testing::TouchesListedBatches rule;
  herbtrace::storage::Ledger::Options options;
  options.origin = herbtrace::testing::kTestOrigin;
  options.rule = &rule;
  options.checkpoint_interval = absl::Milliseconds(20);
  auto ledger = herbtrace::storage::Ledger::Open(argv[1], options,
                                                 herbtrace::testing::TestLogSigner());
  if (!ledger.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(ledger.status().message()).c_str());
    return 4;
  }
  // Ready: the parent starts its random countdown from here.
  if (write(ack_fd, "ready\n", 6) != 6) return 5;

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        const std::string id = absl::StrCat(tag, "-", t, "-", i);
        auto receipt = (*ledger)->Append(herbtrace::testing::TestRequest(
            id, absl::StrCat("batches=", tag, "B", t % 3, ";crash test ", i)));
        if (!receipt.ok()) {
          std::fprintf(stderr, "append: %s\n", std::string(receipt.status().message()).c_str());
          std::_Exit(6);
        }
        const std::string line =
            absl::StrCat(receipt->seq(), " ", id, " ",
                         absl::BytesToHexString(receipt->leaf_hash()), "\n");
        if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          std::_Exit(7);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
