// An event the capture layer decoded and whose signature it checked, handed through the ledger
// to the domain rules as the append's context (so the payload is decoded once).
#ifndef HERBTRACE_SERVICES_DOMAIN_VERIFIED_EVENT_H_
#define HERBTRACE_SERVICES_DOMAIN_VERIFIED_EVENT_H_

#include <string>
#include <vector>

#include "herbtrace/v1/entry.pb.h"
#include "herbtrace/v1/event.pb.h"
#include "storage/ledger.h"

namespace herbtrace::domain {

struct VerifiedEvent final : storage::AppendContext {
  // Decoded from AppendRequest::signed_event.payload.
  v1::Event event;
  // The key whose signature verified: signed_event.key_id, or the bundle's key.
  std::string key_id;
  // True when the key is not yet registered and was taken from the event itself: only the
  // genesis RegisterParty of the market operator may be self-signed this way.
  bool self_signed = false;
  // Openings of committed fields, sent beside the signed bytes (never logged in clear).
  std::vector<v1::Opening> openings;
};

}  // namespace herbtrace::domain

#endif  // HERBTRACE_SERVICES_DOMAIN_VERIFIED_EVENT_H_
