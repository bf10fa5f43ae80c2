// catalog load FILE and limits load FILE VERSION: the data files of catalog/ signed into the
// ledger. Parsing is services/domain/catalog_files.h's, the one CSV reader of the project.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "services/cli/commands.h"
#include "services/cli/flags.h"
#include "services/cli/trace_code.h"
#include "services/domain/catalog_files.h"
#include "services/domain/file_io.h"

ABSL_FLAG(std::string, catalog_file, "",
          "limits load: herbs.csv to map herb names to codes (default: the server's catalog)");

namespace herbtrace::cli {
namespace {

// The catalog in force on the server, as a LoadHerbCatalog (codes and names are what matter).
absl::StatusOr<v1::LoadHerbCatalog> ServerCatalog(Context& ctx) {
  auto client = ctx.client();
  if (!client.ok()) return client.status();
  v1::LoadHerbCatalog catalog;
  v1::ListHerbsRequest request;
  request.set_page_size(1000);
  for (int page = 0; page < 1000; ++page) {
    v1::ListHerbsResponse response;
    auto context = (*client)->NewContext();
    if (auto s = FromGrpc((*client)->registry().ListHerbs(context.get(), request, &response),
                          "Registry.ListHerbs", (*client)->target());
        !s.ok()) {
      return s;
    }
    catalog.set_version(response.catalog_version());
    for (const v1::Herb& herb : response.herbs()) *catalog.add_herbs() = herb;
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (catalog.herbs().empty()) {
    return absl::FailedPreconditionError(
        "limits load: the server has no herb catalog yet: load it first (herbctl catalog load), "
        "or give --catalog_file herbs.csv");
  }
  return catalog;
}

}  // namespace

absl::Status RunCatalog(Context& ctx) {
  auto verb = ctx.Arg(1, "load");
  if (!verb.ok()) return verb.status();
  if (*verb != "load") return UsageError(absl::StrCat("catalog: \"", *verb, "\": use load FILE"));
  auto path = ctx.Arg(2, "the herbs.csv file");
  if (!path.ok()) return path.status();
  auto csv = domain::ReadFileToString(*path);
  if (!csv.ok()) return UsageError(csv.status().message());
  std::string version = absl::GetFlag(FLAGS_catalog_version);
  if (version.empty()) {
    // Versions are unique in the log; the content's hash names this content.
    auto sha256 = crypto::Hasher::Create(crypto::HashAlgorithm::kSha256);
    if (!sha256.ok()) return sha256.status();
    version = absl::StrCat("herbs-", crypto::ToHex((*sha256)->Hash(*csv)).substr(0, 12));
  }
  auto catalog = domain::ParseHerbCatalog(*csv, version, *path);
  if (!catalog.ok()) return catalog.status();
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  int qi_yao = 0;
  for (const v1::Herb& herb : catalog->herbs()) qi_yao += herb.qi_yao() ? 1 : 0;
  if (!ctx.json()) {
    ctx.out() << "catalog " << version << ": " << catalog->herbs_size() << " herbs (" << qi_yao
              << " 祁药) from " << *path << "\n";
  }
  *event->mutable_load_herb_catalog() = *std::move(catalog);
  BuiltEvent built;
  built.event = *std::move(event);
  return SignAndSend(ctx, std::move(built));
}

absl::Status RunLimits(Context& ctx) {
  auto verb = ctx.Arg(1, "load");
  if (!verb.ok()) return verb.status();
  if (*verb != "load") {
    return UsageError(absl::StrCat("limits: \"", *verb, "\": use load FILE VERSION"));
  }
  auto path = ctx.Arg(2, "the quality-limits.csv file");
  if (!path.ok()) return path.status();
  auto version = ctx.Arg(3, "the new limits VERSION");
  if (!version.ok()) return version.status();
  auto csv = domain::ReadFileToString(*path);
  if (!csv.ok()) return UsageError(csv.status().message());

  v1::LoadHerbCatalog catalog;
  if (const std::string herbs = absl::GetFlag(FLAGS_catalog_file); !herbs.empty()) {
    auto herbs_csv = domain::ReadFileToString(herbs);
    if (!herbs_csv.ok())
      return UsageError(absl::StrCat("--catalog_file: ", herbs_csv.status().message()));
    auto parsed = domain::ParseHerbCatalog(*herbs_csv, "local", herbs);
    if (!parsed.ok()) return parsed.status();
    catalog = *std::move(parsed);
  } else if (ctx.offline()) {
    return UsageError("limits load: offline, give --catalog_file herbs.csv");
  } else {
    auto server = ServerCatalog(ctx);
    if (!server.ok()) return server.status();
    catalog = *std::move(server);
  }

  auto limits =
      domain::ParseQualityLimits(*csv, catalog, *version, absl::GetFlag(FLAGS_supersedes), *path);
  if (!limits.ok()) return limits.status();
  if (const std::string from = absl::GetFlag(FLAGS_effective_from); !from.empty()) {
    auto date = ParseDate(from, "--effective_from");
    if (!date.ok()) return AsUsage(date.status());
    *limits->limits.mutable_effective_from() = *date;
  }
  if (const std::string doc = absl::GetFlag(FLAGS_source_document); !doc.empty()) {
    limits->limits.set_source_document(doc);
  }
  for (const std::string& skipped : limits->skipped) {
    std::cerr << "herbctl: skipped " << skipped << "\n";
  }
  auto event = EventFromFlags(ctx);
  if (!event.ok()) return event.status();
  if (!ctx.json()) {
    ctx.out() << "limits " << *version << ": " << limits->limits.rows_size() << " rows from "
              << *path << " (" << limits->skipped.size() << " skipped)"
              << (limits->limits.supersedes().empty()
                      ? ""
                      : absl::StrCat(", superseding ", limits->limits.supersedes()))
              << "\n";
  }
  *event->mutable_load_quality_limits() = std::move(limits->limits);
  BuiltEvent built;
  built.event = *std::move(event);
  return SignAndSend(ctx, std::move(built));
}

}  // namespace herbtrace::cli
