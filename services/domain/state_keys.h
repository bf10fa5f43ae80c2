// Keys of the domain state, shared by the rules (writers) and StateReader. The grammar is written
// out at the top of state_reader.h; this header only spells it once in code.
#ifndef HERBTRACE_SERVICES_DOMAIN_STATE_KEYS_H_
#define HERBTRACE_SERVICES_DOMAIN_STATE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "storage/key_codec.h"

namespace herbtrace::domain::keys {

inline constexpr absl::string_view kSep("\0", 1);

// registry
inline constexpr absl::string_view kPartyPrefix = "party/";
inline constexpr absl::string_view kPartyRolePrefix = "party-role/";
inline constexpr absl::string_view kPartyKeyPrefix = "party-key/";
inline constexpr absl::string_view kKeyPrefix = "key/";
inline constexpr absl::string_view kBasePrefix = "base/";
inline constexpr absl::string_view kHerbPrefix = "herb/";
inline constexpr absl::string_view kCatalogPrefix = "catalog/";
inline constexpr absl::string_view kCatalogCurrent = "catalog-current";
inline constexpr absl::string_view kLimitsPrefix = "limits/";
inline constexpr absl::string_view kLimitSeqPrefix = "limitseq/";
inline constexpr absl::string_view kLimitsCurrent = "limits-current";
inline constexpr absl::string_view kRecallPrefix = "recall/";
inline constexpr absl::string_view kRecallLotPrefix = "recall-lot/";
inline constexpr absl::string_view kRecallAckPrefix = "recall-ack/";
inline constexpr absl::string_view kRecallReturnPrefix = "recall-return/";
inline constexpr absl::string_view kTestPrefix = "test/";
inline constexpr absl::string_view kTransferPrefix = "transfer/";
inline constexpr absl::string_view kTransferLotPrefix = "transfer-lot/";
inline constexpr absl::string_view kTransferDonePrefix = "transfer-done/";

inline std::string Party(absl::string_view party_id) {
  return absl::StrCat(kPartyPrefix, party_id);
}
// Two decimal digits keep the roles in numeric order.
inline std::string PartyRolePrefix(int role) {
  return absl::StrCat(kPartyRolePrefix, absl::StrFormat("%02d", role), "/");
}
inline std::string PartyRole(int role, absl::string_view party_id) {
  return absl::StrCat(PartyRolePrefix(role), party_id);
}
inline std::string PartyKeyPrefix(absl::string_view party_id) {
  return absl::StrCat(kPartyKeyPrefix, party_id, kSep);
}
inline std::string PartyKey(absl::string_view party_id, absl::string_view key_id) {
  return absl::StrCat(PartyKeyPrefix(party_id), key_id);
}
inline std::string Key(absl::string_view key_id) { return absl::StrCat(kKeyPrefix, key_id); }
inline std::string Base(absl::string_view base_id) { return absl::StrCat(kBasePrefix, base_id); }
inline std::string Herb(absl::string_view code) { return absl::StrCat(kHerbPrefix, code); }
inline std::string Catalog(absl::string_view version) {
  return absl::StrCat(kCatalogPrefix, version);
}
inline std::string Limits(absl::string_view version) {
  return absl::StrCat(kLimitsPrefix, version);
}
inline std::string LimitSeq(absl::string_view version) {
  return absl::StrCat(kLimitSeqPrefix, version);
}
inline std::string Recall(absl::string_view recall_id) {
  return absl::StrCat(kRecallPrefix, recall_id);
}
inline std::string RecallLotPrefix(absl::string_view recall_id) {
  return absl::StrCat(kRecallLotPrefix, recall_id, kSep);
}
inline std::string RecallLot(absl::string_view recall_id, absl::string_view batch_id) {
  return absl::StrCat(RecallLotPrefix(recall_id), batch_id);
}
inline std::string RecallAckPrefix(absl::string_view recall_id) {
  return absl::StrCat(kRecallAckPrefix, recall_id, kSep);
}
inline std::string RecallAckLotPrefix(absl::string_view recall_id, absl::string_view batch_id) {
  return absl::StrCat(RecallAckPrefix(recall_id), batch_id, kSep);
}
inline std::string RecallAck(absl::string_view recall_id, absl::string_view batch_id,
                             uint64_t seq) {
  return absl::StrCat(RecallAckLotPrefix(recall_id, batch_id), storage::BigEndian64(seq));
}
inline std::string RecallReturnPrefix(absl::string_view recall_id) {
  return absl::StrCat(kRecallReturnPrefix, recall_id, kSep);
}
inline std::string RecallReturn(absl::string_view recall_id, absl::string_view batch_id) {
  return absl::StrCat(RecallReturnPrefix(recall_id), batch_id);
}
inline std::string TestPrefix(absl::string_view batch_id) {
  return absl::StrCat(kTestPrefix, batch_id, kSep);
}
inline std::string Test(absl::string_view batch_id, uint64_t seq) {
  return absl::StrCat(TestPrefix(batch_id), storage::BigEndian64(seq));
}
inline std::string Transfer(absl::string_view event_id) {
  return absl::StrCat(kTransferPrefix, event_id);
}
inline std::string TransferLotPrefix(absl::string_view event_id) {
  return absl::StrCat(kTransferLotPrefix, event_id, kSep);
}
inline std::string TransferLot(absl::string_view event_id, absl::string_view batch_id) {
  return absl::StrCat(TransferLotPrefix(event_id), batch_id);
}
inline std::string TransferDone(absl::string_view event_id) {
  return absl::StrCat(kTransferDonePrefix, event_id);
}

// holder_batches
inline std::string HolderPrefix(absl::string_view party_id) { return absl::StrCat(party_id, kSep); }
inline std::string Holder(absl::string_view party_id, absl::string_view batch_id) {
  return absl::StrCat(party_id, kSep, batch_id);
}

// lineage_down / lineage_up (lineage_indexer.h)
inline std::string LineagePrefix(absl::string_view batch_id) {
  return absl::StrCat(batch_id, kSep);
}
inline std::string Lineage(absl::string_view from, absl::string_view to) {
  return absl::StrCat(from, kSep, to);
}

// confidential
inline std::string Opening(uint64_t seq, absl::string_view field_path) {
  return absl::StrCat(storage::BigEndian64(seq), field_path);
}

}  // namespace herbtrace::domain::keys

#endif  // HERBTRACE_SERVICES_DOMAIN_STATE_KEYS_H_
