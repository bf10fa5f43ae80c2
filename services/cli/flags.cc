#include "services/cli/flags.h"

#include "absl/flags/flag.h"

// Global.
ABSL_FLAG(std::string, server, "127.0.0.1:50051", "server address host:port");
ABSL_FLAG(std::string, key, "", "the signer's private key, PKCS#8 PEM (keygen: where to write it)");
ABSL_FLAG(std::string, party, "", "acting party id (14 digits)");
ABSL_FLAG(std::string, origin, "anguo.herbtrace.example/log", "log origin (checkpoint origin)");
ABSL_FLAG(bool, json, false, "print JSON instead of tables");
ABSL_FLAG(std::string, queue, "",
          "offline queue file: event commands append signed events to it instead of submitting; "
          "upload submits it as one bundle");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(15), "deadline of every RPC");
ABSL_FLAG(std::string, hash, "sha256", "the log's tree hash: sha256 or sm3");
ABSL_FLAG(std::string, tls_ca, "", "CA certificate PEM: connect with TLS");
ABSL_FLAG(std::string, tls_cert, "", "client certificate PEM for mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "client certificate key PEM for mutual TLS");
ABSL_FLAG(bool, plaintext, false, "allow a plaintext connection to a non-loopback server");

// Every event command.
ABSL_FLAG(std::string, at, "", "when the event happened, RFC 3339 (default: now)");
ABSL_FLAG(std::string, event_id, "", "event id to use (default: a fresh UUID v7); reuse to retry");
ABSL_FLAG(std::vector<std::string>, expect_head, {},
          "BATCH=HEX: the head leaf hash the event expects for a batch (optimistic concurrency)");
ABSL_FLAG(std::string, extra, "",
          "protobuf text format merged into the Event before signing, for fields without a flag");
ABSL_FLAG(bool, dry_run, false, "print the event that would be signed; sign and send nothing");
ABSL_FLAG(int32_t, node_type, 0,
          "node type digit of batch codes made with #SEQ (default: the one the party's roles "
          "allow, preferring harvest 1, process 2, split/merge 4)");

// Registration.
ABSL_FLAG(std::string, party_id, "", "register party: the party's id (14 digits)");
ABSL_FLAG(std::string, name, "", "register party/base: name");
ABSL_FLAG(std::vector<std::string>, roles, {}, "register party: roles, e.g. grower,trader");
ABSL_FLAG(std::string, uscc, "", "register party: unified social credit code");
ABSL_FLAG(bool, natural_person, false, "register party: an individual without a USCC");
ABSL_FLAG(std::string, identity, "",
          "register party: resident identity number of a natural person (committed, not logged)");
ABSL_FLAG(std::string, region, "", "region code (6 digits); default from the id");
ABSL_FLAG(std::string, address, "", "register party: address");
ABSL_FLAG(std::string, status, "", "register party: active or suspended");
ABSL_FLAG(std::vector<std::string>, new_key, {},
          "register party/key: key PEM files (private: proof made here; public: give --pop)");
ABSL_FLAG(std::vector<std::string>, pop, {},
          "register party/key: base64 proofs of possession for public --new_key files, in order");
ABSL_FLAG(std::string, device_label, "", "register party/key: device label of the new key");
ABSL_FLAG(std::string, owner, "", "register key / key-proof: owner party (default --party)");
ABSL_FLAG(std::string, base_id, "", "register base: 18-digit base id, or a 4-digit serial");
ABSL_FLAG(std::string, latlon, "", "register base: LAT,LON in decimal degrees (WGS-84)");
ABSL_FLAG(std::string, location, "", "store: location in the warehouse, e.g. A库-3区-12排");
ABSL_FLAG(std::string, area_mu, "", "register base: area in mu, e.g. 12.5");
ABSL_FLAG(std::vector<std::string>, herbs, {}, "register base: herb codes grown");
ABSL_FLAG(std::string, cultivation, "cultivated",
          "register base: cultivated, wild_nurtured or wild");
ABSL_FLAG(std::string, reason, "", "revoke-key, recall, release: reason");
ABSL_FLAG(std::string, catalog_version, "",
          "catalog load: version (default: herbs- and the file's SHA-256 prefix)");
ABSL_FLAG(std::string, supersedes, "", "limits load: the version in force (empty for the first)");
ABSL_FLAG(std::string, effective_from, "", "limits load: date of the regulation, YYYY-MM-DD");
ABSL_FLAG(std::string, source_document, "", "limits load: source document");

// Custody, quality and recall events.
ABSL_FLAG(
    std::string, batch, "",
    "batch code; for new batches a 25-digit code or #SEQ to build one; for trade BATCH[:GRAMS]");
ABSL_FLAG(std::string, base, "", "harvest: base id");
ABSL_FLAG(std::string, herb, "", "harvest: herb code, e.g. HUANGQI");
ABSL_FLAG(std::string, grams, "", "quantity: 12500, 12500g, 12.5kg, 3斤");
ABSL_FLAG(std::string, date, "", "harvest: harvest date YYYY-MM-DD (default: today, UTC+8)");
ABSL_FLAG(std::string, plot, "", "harvest: plot within the base");
ABSL_FLAG(std::string, planted_on, "", "harvest: planting date YYYY-MM-DD");
ABSL_FLAG(std::string, kind, "", "process: drying, cleaning, slicing, sulfur_fumigation, …");
ABSL_FLAG(std::string, input, "", "process: BATCH:GRAMS consumed; split: input BATCH");
ABSL_FLAG(std::vector<std::string>, inputs, {}, "merge: BATCH:GRAMS,… consumed");
ABSL_FLAG(std::string, output, "", "process/merge: new batch code or #SEQ");
ABSL_FLAG(std::vector<std::string>, outputs, {}, "split: CODE:GRAMS,… (CODE may be #SEQ)");
ABSL_FLAG(std::string, output_grams, "", "process/merge: grams of the new batch");
ABSL_FLAG(std::string, loss_grams, "", "process: loss (default: input − output)");
ABSL_FLAG(std::string, description, "", "process: description");
ABSL_FLAG(std::string, to, "", "ship: recipient party");
ABSL_FLAG(std::vector<std::string>, batches, {},
          "ship: BATCH[:GRAMS],… (grams default to what is left); store: BATCH,…");
ABSL_FLAG(std::string, carrier, "", "ship: carrier");
ABSL_FLAG(std::string, plate, "", "ship: vehicle plate");
ABSL_FLAG(std::string, waybill, "", "ship: waybill number");
ABSL_FLAG(std::string, transfer, "", "receive: event id of the ship, trade or recall return");
ABSL_FLAG(std::vector<std::string>, received, {}, "receive: BATCH:GRAMS,… received");
ABSL_FLAG(std::string, note, "", "receive, ack: note");
ABSL_FLAG(std::string, action, "",
          "store: in, out, reading; ack: quarantined, destroyed, returned");
ABSL_FLAG(std::string, warehouse, "", "store: warehouse party (default --party)");
ABSL_FLAG(std::string, storage_class, "", "store: ambient, cool, cool_dark, cold");
ABSL_FLAG(std::string, buyer, "", "trade: buyer party");
ABSL_FLAG(std::string, seller, "", "trade: seller party (default --party)");
ABSL_FLAG(int64_t, price_fen, -1, "trade: total price in fen (committed; never logged in clear)");
ABSL_FLAG(std::string, scale, "", "trade: market scale id");
ABSL_FLAG(std::string, trade_no, "", "trade: trade desk ticket number");
ABSL_FLAG(std::string, sample, "", "test: the lab's sample id");
ABSL_FLAG(std::string, sampled_at, "", "test: sampling time RFC 3339 (default: --at or now)");
ABSL_FLAG(std::string, sample_grams, "", "test: sample size");
ABSL_FLAG(std::string, purpose, "commissioned", "test: commissioned, supervisory, retest");
ABSL_FLAG(std::string, limits_version, "", "test: limits version the results are judged by");
ABSL_FLAG(std::string, use, "medicinal", "test: medicinal or food");
ABSL_FLAG(std::vector<std::string>, results, {},
          "test: ANALYTE=VALUE,… e.g. pb=0.8mg/kg,so2=<10mg/kg (< : below the LOQ given)");
ABSL_FLAG(std::string, method, "", "test: method applied to every result");
ABSL_FLAG(std::string, report_no, "", "test: report number");
ABSL_FLAG(std::string, report_file, "", "test: the signed report file (its SHA-256 is signed)");
ABSL_FLAG(std::string, severity, "", "recall: 1, 2 or 3 (class I, II, III)");
ABSL_FLAG(std::string, ack_by, "", "recall: acknowledgement deadline, RFC 3339 or days (7d)");
ABSL_FLAG(std::string, test_event, "", "recall: the failed QualityTest's event id");
ABSL_FLAG(std::string, recall_id, "", "ack: the recall (its IssueRecall event id)");
ABSL_FLAG(std::string, return_to, "", "ack: party the lot is returned to (returned)");
ABSL_FLAG(std::string, recipient, "", "dispense: pharmacy, hospital or consumer");
ABSL_FLAG(std::string, recipient_party, "", "dispense: recipient party (pharmacy, hospital)");
ABSL_FLAG(std::string, retest_event, "", "release: the QualityTest supporting the release");

// Queries and verification.
ABSL_FLAG(std::string, log_key, "", "the log's C2SP verifier key (name+hash+base64)");
ABSL_FLAG(
    std::string, trusted_checkpoint, "",
    "verify, checkpoint: a checkpoint note file kept from before; the new one must extend it");
ABSL_FLAG(std::string, sort, "", "recall export: column to sort by");
ABSL_FLAG(bool, desc, false, "recall export: sort descending");
ABSL_FLAG(bool, unacknowledged, false, "recall export: only lots not yet acknowledged");
ABSL_FLAG(bool, bom, false, "recall export: start with a UTF-8 byte order mark (for Excel)");
ABSL_FLAG(bool, include_empty, false, "trace down: also list lots with nothing left");
ABSL_FLAG(bool, signatures, false,
          "audit: also check every entry's signature against the keys the log registered");
