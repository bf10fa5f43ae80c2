// herbctl's command-line flags, defined in flags.cc. Global ones apply to every command; the
// rest are read only by the commands that document them in the usage text (main.cc).
#ifndef HERBTRACE_SERVICES_CLI_FLAGS_H_
#define HERBTRACE_SERVICES_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

// Global.
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(std::string, key);
ABSL_DECLARE_FLAG(std::string, party);
ABSL_DECLARE_FLAG(std::string, origin);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, queue);
ABSL_DECLARE_FLAG(absl::Duration, deadline);
ABSL_DECLARE_FLAG(std::string, hash);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(bool, plaintext);

// Every event command.
ABSL_DECLARE_FLAG(std::string, at);
ABSL_DECLARE_FLAG(std::string, event_id);
ABSL_DECLARE_FLAG(std::vector<std::string>, expect_head);
ABSL_DECLARE_FLAG(std::string, extra);
ABSL_DECLARE_FLAG(bool, dry_run);
ABSL_DECLARE_FLAG(int32_t, node_type);

// Registration.
ABSL_DECLARE_FLAG(std::string, party_id);
ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::vector<std::string>, roles);
ABSL_DECLARE_FLAG(std::string, uscc);
ABSL_DECLARE_FLAG(bool, natural_person);
ABSL_DECLARE_FLAG(std::string, identity);
ABSL_DECLARE_FLAG(std::string, region);
ABSL_DECLARE_FLAG(std::string, address);
ABSL_DECLARE_FLAG(std::string, status);
ABSL_DECLARE_FLAG(std::vector<std::string>, new_key);
ABSL_DECLARE_FLAG(std::vector<std::string>, pop);
ABSL_DECLARE_FLAG(std::string, device_label);
ABSL_DECLARE_FLAG(std::string, owner);
ABSL_DECLARE_FLAG(std::string, base_id);
ABSL_DECLARE_FLAG(std::string, latlon);
ABSL_DECLARE_FLAG(std::string, location);
ABSL_DECLARE_FLAG(std::string, area_mu);
ABSL_DECLARE_FLAG(std::vector<std::string>, herbs);
ABSL_DECLARE_FLAG(std::string, cultivation);
ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, catalog_version);
ABSL_DECLARE_FLAG(std::string, supersedes);
ABSL_DECLARE_FLAG(std::string, effective_from);
ABSL_DECLARE_FLAG(std::string, source_document);

// Custody, quality and recall events.
ABSL_DECLARE_FLAG(std::string, batch);
ABSL_DECLARE_FLAG(std::string, base);
ABSL_DECLARE_FLAG(std::string, herb);
ABSL_DECLARE_FLAG(std::string, grams);
ABSL_DECLARE_FLAG(std::string, date);
ABSL_DECLARE_FLAG(std::string, plot);
ABSL_DECLARE_FLAG(std::string, planted_on);
ABSL_DECLARE_FLAG(std::string, kind);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::vector<std::string>, inputs);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::vector<std::string>, outputs);
ABSL_DECLARE_FLAG(std::string, output_grams);
ABSL_DECLARE_FLAG(std::string, loss_grams);
ABSL_DECLARE_FLAG(std::string, description);
ABSL_DECLARE_FLAG(std::string, to);
ABSL_DECLARE_FLAG(std::vector<std::string>, batches);
ABSL_DECLARE_FLAG(std::string, carrier);
ABSL_DECLARE_FLAG(std::string, plate);
ABSL_DECLARE_FLAG(std::string, waybill);
ABSL_DECLARE_FLAG(std::string, transfer);
ABSL_DECLARE_FLAG(std::vector<std::string>, received);
ABSL_DECLARE_FLAG(std::string, note);
ABSL_DECLARE_FLAG(std::string, action);
ABSL_DECLARE_FLAG(std::string, warehouse);
ABSL_DECLARE_FLAG(std::string, storage_class);
ABSL_DECLARE_FLAG(std::string, buyer);
ABSL_DECLARE_FLAG(std::string, seller);
ABSL_DECLARE_FLAG(int64_t, price_fen);
ABSL_DECLARE_FLAG(std::string, scale);
ABSL_DECLARE_FLAG(std::string, trade_no);
ABSL_DECLARE_FLAG(std::string, sample);
ABSL_DECLARE_FLAG(std::string, sampled_at);
ABSL_DECLARE_FLAG(std::string, sample_grams);
ABSL_DECLARE_FLAG(std::string, purpose);
ABSL_DECLARE_FLAG(std::string, limits_version);
ABSL_DECLARE_FLAG(std::string, use);
ABSL_DECLARE_FLAG(std::vector<std::string>, results);
ABSL_DECLARE_FLAG(std::string, method);
ABSL_DECLARE_FLAG(std::string, report_no);
ABSL_DECLARE_FLAG(std::string, report_file);
ABSL_DECLARE_FLAG(std::string, severity);
ABSL_DECLARE_FLAG(std::string, ack_by);
ABSL_DECLARE_FLAG(std::string, test_event);
ABSL_DECLARE_FLAG(std::string, recall_id);
ABSL_DECLARE_FLAG(std::string, return_to);
ABSL_DECLARE_FLAG(std::string, recipient);
ABSL_DECLARE_FLAG(std::string, recipient_party);
ABSL_DECLARE_FLAG(std::string, retest_event);

// Queries and verification.
ABSL_DECLARE_FLAG(std::string, log_key);
ABSL_DECLARE_FLAG(std::string, trusted_checkpoint);
ABSL_DECLARE_FLAG(std::string, sort);
ABSL_DECLARE_FLAG(bool, desc);
ABSL_DECLARE_FLAG(bool, unacknowledged);
ABSL_DECLARE_FLAG(bool, bom);
ABSL_DECLARE_FLAG(bool, include_empty);
ABSL_DECLARE_FLAG(bool, signatures);

#endif  // HERBTRACE_SERVICES_CLI_FLAGS_H_
