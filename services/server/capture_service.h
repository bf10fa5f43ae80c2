// herbtrace.v1.Capture: Submit, SubmitStream and SubmitBundle.
//
// Each event is decoded and its signature checked on the gRPC thread that received it, against
// the signing key in the registry (or, for the genesis RegisterParty only, the bootstrap key in
// the event itself); then it is handed to the ledger's sequencer, where the domain rules run, and
// answered from the sequencer's completion — never blocking a reactor on a disk write.
//
// Access (access_policy.h): a party's client certificate must be the signer's — the party that
// owns the key that signed the event, or the bundle's root — else PERMISSION_DENIED naming
// "signed_event.key_id" (or the bundle's "key_id") before anything reaches the ledger. The
// host's administrative console submits events of any signer; the domain rules then check the
// signer's key, status and roles for the event's kind as for everyone.
#ifndef HERBTRACE_SERVICES_SERVER_CAPTURE_SERVICE_H_
#define HERBTRACE_SERVICES_SERVER_CAPTURE_SERVICE_H_

#include <memory>

#include "herbtrace/v1/capture.grpc.pb.h"
#include "services/server/caller.h"
#include "storage/ledger.h"

namespace herbtrace::server {

struct CaptureOptions {
  // The market operator's bootstrap key id (see domain::DomainConfig::bootstrap_key_id).
  std::string bootstrap_key_id;
  // Most events a bundle may carry, and in flight per stream before the stream stops reading.
  size_t max_bundle_events = 4096;
  size_t max_stream_in_flight = 256;
  // Events handed to the ledger and not yet answered, across every call and connection (a bundle
  // counts its events): a Submit or SubmitBundle that does not fit is refused with
  // RESOURCE_EXHAUSTED before its signature is checked, and the client retries with the same
  // event_id (or the same bundle). A SubmitStream is never refused for it: it stops reading
  // while the budget is spent, keeping at most one event in flight, so the total may pass this
  // by one event per open stream (append_budget.h). Raised to max_bundle_events if smaller, so
  // that every bundle the service accepts can fit.
  size_t max_appends_in_flight = 16384;
  // Who the callers are (caller.h).
  CallerOptions callers;
};

// REQUIRES: ledger outlives the service; the ledger's rule is a domain::DomainRules.
std::unique_ptr<v1::Capture::CallbackService> NewCaptureService(storage::Ledger& ledger,
                                                                 CaptureOptions options);

}  // namespace herbtrace::server

#endif  // HERBTRACE_SERVICES_SERVER_CAPTURE_SERVICE_H_
