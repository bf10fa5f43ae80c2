// The fast path reads protobuf's wire format (tag = field number << 3 | wire type; varints; a
// varint length before every string, bytes and nested message) and accepts only what protobuf
// certainly accepts with the same values:
//   - one-byte tags (field numbers 1..15) whose wire type is the declared field's: varint for
//     integer, bool and enum fields, length-delimited for strings, bytes and messages;
//   - varints in their shortest form, lengths below 2^28 and within the message;
//   - each singular field at most once (protobuf's "last one wins" and message merging are left
//     to protobuf), repeated fields of messages, strings and bytes only (never packed scalars);
//   - strings in ASCII (protobuf checks proto3 strings for UTF-8; ASCII is always valid);
//   - nested messages of the same plain shape, at most kMaxDepth deep.
// Everything else goes to LedgerEntry::ParseFromArray, which then decides.
#include "storage/entry_scan.h"

#include <array>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/descriptor.h"

namespace herbtrace::storage {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

enum class FieldKind : uint8_t {
  kOutside,  // undeclared, or of a type the fast path leaves to protobuf
  kVarint,
  kBytes,
  kString,
  kMessage,
};

constexpr int kMaxPlainField = 15;  // the largest field number with a one-byte tag
constexpr int kMaxDepth = 16;

struct MessageShape {
  std::array<FieldKind, kMaxPlainField + 1> kinds{};
  std::array<const MessageShape*, kMaxPlainField + 1> nested{};
  uint32_t repeated = 0;  // one bit per field number
};

// The shapes of LedgerEntry and every message it nests, read once from the descriptors, so the
// fast path follows the schema as it is compiled in.
class EntryShapes {
 public:
  static const EntryShapes& Get() {
    static const EntryShapes* const shapes = new EntryShapes();
    return *shapes;
  }
  const MessageShape& entry() const { return *entry_; }
  // False when a field the scanner reads is not of the kind it reads it as: then every entry
  // goes to protobuf.
  bool usable() const { return usable_; }

 private:
  EntryShapes() {
    entry_ = Build(v1::LedgerEntry::descriptor());
    const MessageShape& e = *entry_;
    const MessageShape* signed_event = e.nested[v1::LedgerEntry::kSignedEventFieldNumber];
    const MessageShape* link = e.nested[v1::LedgerEntry::kBatchPrevFieldNumber];
    usable_ = e.kinds[v1::LedgerEntry::kSeqFieldNumber] == FieldKind::kVarint &&
              e.kinds[v1::LedgerEntry::kEventIdFieldNumber] == FieldKind::kString &&
              e.kinds[v1::LedgerEntry::kSignedEventFieldNumber] == FieldKind::kMessage &&
              e.kinds[v1::LedgerEntry::kBatchPrevFieldNumber] == FieldKind::kMessage &&
              (e.repeated >> v1::LedgerEntry::kBatchPrevFieldNumber & 1) != 0 &&
              signed_event->kinds[v1::SignedEvent::kPayloadFieldNumber] == FieldKind::kBytes &&
              link->kinds[v1::BatchLink::kBatchIdFieldNumber] == FieldKind::kString &&
              link->kinds[v1::BatchLink::kPrevLeafHashFieldNumber] == FieldKind::kBytes;
  }

  const MessageShape* Build(const Descriptor* descriptor) {
    if (auto it = built_.find(descriptor); it != built_.end()) return it->second;
    shapes_.push_back(std::make_unique<MessageShape>());
    MessageShape* shape = shapes_.back().get();
    built_[descriptor] = shape;
    // Proto2 has required fields, which a plain scan would not check.
    if (descriptor->file()->syntax() != FileDescriptor::SYNTAX_PROTO3) return shape;
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      const int number = field->number();
      if (number > kMaxPlainField) continue;
      FieldKind kind = FieldKind::kOutside;
      switch (field->type()) {
        case FieldDescriptor::TYPE_INT32:
        case FieldDescriptor::TYPE_INT64:
        case FieldDescriptor::TYPE_UINT32:
        case FieldDescriptor::TYPE_UINT64:
        case FieldDescriptor::TYPE_BOOL:
        case FieldDescriptor::TYPE_ENUM:
          // Repeated scalars may come packed or not; left to protobuf.
          if (!field->is_repeated()) kind = FieldKind::kVarint;
          break;
        case FieldDescriptor::TYPE_BYTES:
          kind = FieldKind::kBytes;
          break;
        case FieldDescriptor::TYPE_STRING:
          kind = FieldKind::kString;
          break;
        case FieldDescriptor::TYPE_MESSAGE:
          kind = FieldKind::kMessage;
          shape->nested[number] = Build(field->message_type());
          break;
        default:
          break;
      }
      shape->kinds[number] = kind;
      if (field->is_repeated()) shape->repeated |= uint32_t{1} << number;
    }
    return shape;
  }

  std::vector<std::unique_ptr<MessageShape>> shapes_;
  absl::flat_hash_map<const Descriptor*, const MessageShape*> built_;
  const MessageShape* entry_ = nullptr;
  bool usable_ = false;
};

// Steps through the fields of one message's bytes, checking each against the message's shape.
class FieldCursor {
 public:
  FieldCursor(const MessageShape& shape, absl::string_view bytes)
      : shape_(shape),
        p_(reinterpret_cast<const uint8_t*>(bytes.data())),
        end_(p_ + bytes.size()) {}

  // Moves to the next field. False at the end of the message, or at a field outside the fast
  // path (then plain() is false).
  bool Next() {
    if (p_ == end_) return false;
    const uint8_t tag = *p_++;
    if (tag >= 0x80) return Outside();
    number_ = tag >> 3;
    const int wire_type = tag & 7;
    if (number_ == 0) return Outside();
    kind_ = shape_.kinds[number_];
    const uint32_t bit = uint32_t{1} << number_;
    if ((shape_.repeated & bit) == 0) {
      if ((seen_ & bit) != 0) return Outside();
      seen_ |= bit;
    }
    switch (kind_) {
      case FieldKind::kOutside:
        return Outside();
      case FieldKind::kVarint:
        if (wire_type != 0 || !ReadVarint(10, varint_)) return Outside();
        return true;
      case FieldKind::kBytes:
      case FieldKind::kString:
      case FieldKind::kMessage: {
        uint64_t length = 0;
        if (wire_type != 2 || !ReadVarint(4, length) ||
            length > static_cast<uint64_t>(end_ - p_)) {
          return Outside();
        }
        bytes_ = absl::string_view(reinterpret_cast<const char*>(p_), length);
        p_ += length;
        if (kind_ == FieldKind::kString) {
          for (const char c : bytes_) {
            if (static_cast<uint8_t>(c) >= 0x80) return Outside();
          }
        }
        return true;
      }
    }
    return Outside();
  }

  bool plain() const { return plain_; }
  int number() const { return number_; }
  FieldKind kind() const { return kind_; }
  uint64_t varint() const { return varint_; }
  absl::string_view bytes() const { return bytes_; }
  const MessageShape& nested() const { return *shape_.nested[number_]; }

 private:
  bool Outside() {
    plain_ = false;
    return false;
  }

  // A varint of at most `max_bytes` bytes in its shortest form.
  bool ReadVarint(int max_bytes, uint64_t& value) {
    value = 0;
    for (int i = 0; i < max_bytes && p_ != end_; ++i) {
      const uint8_t byte = *p_++;
      value |= uint64_t{byte & 0x7fu} << (7 * i);
      if (byte < 0x80) {
        if (i > 0 && byte == 0) return false;       // not the shortest form
        if (i == 9 && byte > 1) return false;       // beyond 64 bits
        return true;
      }
    }
    return false;
  }

  const MessageShape& shape_;
  const uint8_t* p_;
  const uint8_t* const end_;
  uint32_t seen_ = 0;
  bool plain_ = true;
  int number_ = 0;
  FieldKind kind_ = FieldKind::kOutside;
  uint64_t varint_ = 0;
  absl::string_view bytes_;
};

// Checks a message the scanner does not read from.
bool SkimPlain(const MessageShape& shape, absl::string_view bytes, int depth) {
  if (depth > kMaxDepth) return false;
  FieldCursor cursor(shape, bytes);
  while (cursor.Next()) {
    if (cursor.kind() == FieldKind::kMessage &&
        !SkimPlain(cursor.nested(), cursor.bytes(), depth + 1)) {
      return false;
    }
  }
  return cursor.plain();
}

}  // namespace

bool EntryScanner::Scan(absl::string_view bytes) {
  if (ScanPlain(bytes)) return true;
  return Parse(bytes);
}

bool EntryScanner::ScanPlain(absl::string_view bytes) {
  const EntryShapes& shapes = EntryShapes::Get();
  if (!shapes.usable()) return false;
  seq_ = 0;
  event_id_ = absl::string_view();
  payload_ = absl::string_view();
  batch_prev_.clear();
  FieldCursor entry(shapes.entry(), bytes);
  while (entry.Next()) {
    switch (entry.number()) {
      case v1::LedgerEntry::kSeqFieldNumber:
        seq_ = entry.varint();
        break;
      case v1::LedgerEntry::kEventIdFieldNumber:
        event_id_ = entry.bytes();
        break;
      case v1::LedgerEntry::kSignedEventFieldNumber: {
        FieldCursor signed_event(entry.nested(), entry.bytes());
        while (signed_event.Next()) {
          if (signed_event.number() == v1::SignedEvent::kPayloadFieldNumber) {
            payload_ = signed_event.bytes();
          } else if (signed_event.kind() == FieldKind::kMessage &&
                     !SkimPlain(signed_event.nested(), signed_event.bytes(), 2)) {
            return false;
          }
        }
        if (!signed_event.plain()) return false;
        break;
      }
      case v1::LedgerEntry::kBatchPrevFieldNumber: {
        ScannedBatchLink& link = batch_prev_.emplace_back();
        FieldCursor cursor(entry.nested(), entry.bytes());
        while (cursor.Next()) {
          if (cursor.number() == v1::BatchLink::kBatchIdFieldNumber) {
            link.batch_id = cursor.bytes();
          } else if (cursor.number() == v1::BatchLink::kPrevLeafHashFieldNumber) {
            link.prev_leaf_hash = cursor.bytes();
          } else if (cursor.kind() == FieldKind::kMessage &&
                     !SkimPlain(cursor.nested(), cursor.bytes(), 2)) {
            return false;
          }
        }
        if (!cursor.plain()) return false;
        break;
      }
      default:
        if (entry.kind() == FieldKind::kMessage && !SkimPlain(entry.nested(), entry.bytes(), 1)) {
          return false;
        }
    }
  }
  return entry.plain();
}

bool EntryScanner::Parse(absl::string_view bytes) {
  ++parsed_by_protobuf_;
  batch_prev_.clear();
  if (!parsed_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  seq_ = parsed_.seq();
  event_id_ = parsed_.event_id();
  payload_ = parsed_.signed_event().payload();
  for (const v1::BatchLink& link : parsed_.batch_prev()) {
    batch_prev_.push_back(ScannedBatchLink{link.batch_id(), link.prev_leaf_hash()});
  }
  return true;
}

}  // namespace herbtrace::storage
