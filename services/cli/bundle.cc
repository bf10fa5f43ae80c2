#include "services/cli/bundle.h"

#include "absl/strings/str_cat.h"
#include "crypto/merkle.h"
#include "herbtrace/v1/event.pb.h"
#include "services/cli/event_builder.h"
#include "services/domain/signature_algorithm.h"

namespace herbtrace::cli {

crypto::Digest BundleRoot(const crypto::Hasher& hasher, absl::Span<const std::string> payloads) {
  std::vector<crypto::Digest> leaves;
  leaves.reserve(payloads.size());
  for (const std::string& payload : payloads) leaves.push_back(crypto::HashLeaf(hasher, payload));
  return crypto::RootFromLeafHashes(hasher, leaves);
}

absl::StatusOr<v1::SubmitBundleRequest> BuildBundle(absl::Span<const v1::SubmitRequest> queued,
                                                    const crypto::PrivateKey& key,
                                                    const crypto::Hasher& hasher,
                                                    absl::string_view log_origin) {
  if (queued.empty()) return absl::InvalidArgumentError("queue: no events to upload");
  if (queued.size() > kMaxBundleEvents) {
    return absl::ResourceExhaustedError(absl::StrCat("queue: ", queued.size(),
                                                     " events; a bundle holds at most ",
                                                     kMaxBundleEvents, ": upload in parts"));
  }
  const std::string& key_id = key.public_key().key_id();
  std::string party_id;
  std::vector<std::string> payloads;
  payloads.reserve(queued.size());
  v1::SubmitBundleRequest request;
  for (size_t i = 0; i < queued.size(); ++i) {
    const v1::SignedEvent& signed_event = queued[i].signed_event();
    v1::Event event;
    if (!event.ParseFromString(signed_event.payload())) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue event ", i, ": payload is not a herbtrace.v1.Event"));
    }
    if (event.log_origin() != log_origin) {
      return absl::InvalidArgumentError(absl::StrCat("queue event ", i, " (", event.event_id(),
                                                     "): log_origin \"", event.log_origin(),
                                                     "\" is not \"", log_origin, "\""));
    }
    if (i == 0) party_id = event.party_id();
    if (event.party_id() != party_id) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue event ", i, " (", event.event_id(), "): party_id ", event.party_id(),
                       " differs from the first event's ", party_id, "; a bundle is one party's"));
    }
    if (signed_event.key_id() != key_id) {
      return absl::InvalidArgumentError(absl::StrCat("queue event ", i, " (", event.event_id(),
                                                     "): signed with key ", signed_event.key_id(),
                                                     ", not the bundle key ", key_id));
    }
    // The root signature vouches for every payload under it, so each must be one this key signed
    // when it was queued: a queue file edited since is refused here, never signed afresh.
    if (absl::Status s = key.public_key().Verify(signed_event.payload(), signed_event.signature());
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("queue event ", i, " (", event.event_id(),
                                                     "): signature: ", s.message()));
    }
    v1::BundledEvent* bundled = request.add_events();
    bundled->set_payload(signed_event.payload());
    *bundled->mutable_openings() = queued[i].openings();
    payloads.push_back(signed_event.payload());
  }
  const crypto::Digest root = BundleRoot(hasher, payloads);
  auto signature = key.Sign(BundleMessage(log_origin, payloads.size(), root));
  if (!signature.ok()) return signature.status();
  request.set_key_id(key_id);
  request.set_algorithm(domain::ToProtoAlgorithm(key.algorithm()));
  request.set_root_signature(*std::move(signature));
  return request;
}

}  // namespace herbtrace::cli
