// health: grpc.health.v1.Health/Check, for probes and for an operator asking whether a server is
// up. herbctl carries no generated code for grpc.health.v1, whose two messages are tiny: the
// request is one string (field 1, the service; empty for the whole server), the response one
// enum (field 1: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN). Both go through the
// generic stub, encoded and read with protobuf's unknown-field set.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/cli/commands.h"

namespace herbtrace::cli {
namespace {

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";
constexpr int kServiceField = 1;
constexpr int kStatusField = 1;

const char* StatusName(uint64_t status) {
  switch (status) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return "unrecognized";
  }
}

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

}  // namespace

absl::Status RunHealth(Context& ctx) {
  const std::string service = ctx.args().size() > 1 ? ctx.args()[1] : "";
  auto client = ctx.client();
  if (!client.ok()) return client.status();

  google::protobuf::UnknownFieldSet request_fields;
  if (!service.empty()) request_fields.AddLengthDelimited(kServiceField, service);
  std::string request_bytes;
  request_fields.SerializeToString(&request_bytes);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;

  grpc::GenericStub stub((*client)->channel());
  auto context = (*client)->NewContext();
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(context.get(), kCheckMethod, grpc::StubOptions(), &request, &response,
                 [&status, &done](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (auto s = FromGrpc(status, "Health.Check", (*client)->target()); !s.ok()) return s;

  google::protobuf::UnknownFieldSet response_fields;
  if (!response_fields.ParseFromString(Flatten(response))) {
    return absl::DataLossError("Health.Check: the server's answer does not parse");
  }
  uint64_t serving_status = 0;  // absent: the enum's default
  for (int i = 0; i < response_fields.field_count(); ++i) {
    const google::protobuf::UnknownField& field = response_fields.field(i);
    if (field.number() == kStatusField && field.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      serving_status = field.varint();
    }
  }
  const std::string what = service.empty() ? "server" : service;
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"service", service}, {"status", StatusName(serving_status)}});
  } else {
    ctx.out() << what << " at " << (*client)->target() << ": " << StatusName(serving_status)
              << "\n";
  }
  if (serving_status != 1) {
    return absl::UnavailableError(
        absl::StrCat(what, " at ", (*client)->target(), " is ", StatusName(serving_status)));
  }
  return absl::OkStatus();
}

}  // namespace herbtrace::cli
