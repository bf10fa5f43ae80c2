#include "services/server/registry_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/domain/identifiers.h"
#include "services/server/access_policy.h"
#include "services/server/paging.h"
#include "services/server/reactors.h"
#include "services/server/registry_lookup.h"

namespace herbtrace::server {
namespace {

// A NotFound from the reader, or one of our own naming the request field.
absl::Status NotFoundOr(const absl::Status& status, absl::string_view field,
                        absl::string_view id) {
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(field, ": ", id, " is not registered"));
  }
  return status;
}

bool StringLess(const std::string& a, const std::string& b) { return a < b; }

class RegistryServiceImpl final : public v1::Registry::CallbackService {
 public:
  RegistryServiceImpl(LogSource& source, Executor& executor, RegistryServiceOptions options)
      : source_(source), executor_(executor), access_(source.state(), options.callers) {}

  grpc::ServerUnaryReactor* GetParty(grpc::CallbackServerContext* context,
                                     const v1::GetPartyRequest* request,
                                     v1::Party* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryGetParty); !caller.ok()) {
        return caller.status();
      }
      if (auto s = domain::ValidatePartyId(request->party_id(), "party_id"); !s.ok()) return s;
      auto party = source_.state().Party(request->party_id());
      if (!party.ok()) return NotFoundOr(party.status(), "party_id", request->party_id());
      *response = *std::move(party);
      std::sort(response->mutable_keys()->begin(), response->mutable_keys()->end(),
                [](const v1::SigningKey& a, const v1::SigningKey& b) {
                  return a.key_id() < b.key_id();
                });
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListParties(grpc::CallbackServerContext* context,
                                        const v1::ListPartiesRequest* request,
                                        v1::ListPartiesResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryListParties); !caller.ok()) {
        return caller.status();
      }
      if (auto s = domain::ValidateRegionCodePrefix(request->region_code_prefix(),
                                                    "region_code_prefix");
          !s.ok()) {
        return s;
      }
      if (!v1::PartyRole_IsValid(request->role())) {
        return absl::InvalidArgumentError(absl::StrCat("role: unknown value ", request->role()));
      }
      const std::string filters =
          absl::StrCat("parties\n", request->role(), "\n", request->region_code_prefix());
      auto page = ParsePageRequest(request->page_size(), request->page_token(), filters);
      if (!page.ok()) return page.status();
      auto parties = source_.state().Parties();
      if (!parties.ok()) return parties.status();
      std::vector<v1::Party> matching;
      for (v1::Party& party : *parties) {
        if (request->role() != v1::PARTY_ROLE_UNSPECIFIED && !HasRole(party, request->role())) {
          continue;
        }
        if (!absl::StartsWith(party.region_code(), request->region_code_prefix())) continue;
        party.clear_keys();
        matching.push_back(std::move(party));
      }
      std::sort(matching.begin(), matching.end(),
                [](const v1::Party& a, const v1::Party& b) { return a.party_id() < b.party_id(); });
      auto out = TakePage(
          std::move(matching), *page, filters, [](const v1::Party& p) { return p.party_id(); },
          StringLess, response->mutable_next_page_token());
      for (v1::Party& party : out) *response->add_parties() = std::move(party);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetKey(grpc::CallbackServerContext* context,
                                   const v1::GetKeyRequest* request,
                                   v1::SigningKey* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryGetKey); !caller.ok()) {
        return caller.status();
      }
      if (auto s = domain::ValidateKeyId(request->key_id(), "key_id"); !s.ok()) return s;
      auto key = source_.state().Key(request->key_id());
      if (!key.ok()) return NotFoundOr(key.status(), "key_id", request->key_id());
      *response = *std::move(key);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetBase(grpc::CallbackServerContext* context,
                                    const v1::GetBaseRequest* request,
                                    v1::PlantingBase* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryGetBase); !caller.ok()) {
        return caller.status();
      }
      if (auto s = domain::ValidateBaseId(request->base_id(), "base_id"); !s.ok()) return s;
      auto base = source_.state().Base(request->base_id());
      if (!base.ok()) return NotFoundOr(base.status(), "base_id", request->base_id());
      *response = *std::move(base);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListBases(grpc::CallbackServerContext* context,
                                      const v1::ListBasesRequest* request,
                                      v1::ListBasesResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryListBases); !caller.ok()) {
        return caller.status();
      }
      if (!request->owner_party_id().empty()) {
        if (auto s = domain::ValidatePartyId(request->owner_party_id(), "owner_party_id");
            !s.ok()) {
          return s;
        }
      }
      if (!request->herb_code().empty()) {
        if (auto s = domain::ValidateHerbCode(request->herb_code(), "herb_code"); !s.ok()) return s;
      }
      if (auto s = domain::ValidateRegionCodePrefix(request->region_code_prefix(),
                                                    "region_code_prefix");
          !s.ok()) {
        return s;
      }
      const std::string filters =
          absl::StrCat("bases\n", request->owner_party_id(), "\n", request->herb_code(), "\n",
                       request->region_code_prefix());
      auto page = ParsePageRequest(request->page_size(), request->page_token(), filters);
      if (!page.ok()) return page.status();
      auto bases = source_.state().Bases(request->owner_party_id());
      if (!bases.ok()) return bases.status();
      std::vector<v1::PlantingBase> matching;
      for (v1::PlantingBase& base : *bases) {
        if (!request->owner_party_id().empty() &&
            base.owner_party_id() != request->owner_party_id()) {
          continue;
        }
        if (!request->herb_code().empty() &&
            std::find(base.herb_codes().begin(), base.herb_codes().end(), request->herb_code()) ==
                base.herb_codes().end()) {
          continue;
        }
        if (!absl::StartsWith(base.region_code(), request->region_code_prefix())) continue;
        matching.push_back(std::move(base));
      }
      std::sort(matching.begin(), matching.end(),
                [](const v1::PlantingBase& a, const v1::PlantingBase& b) {
                  return a.base_id() < b.base_id();
                });
      auto out = TakePage(
          std::move(matching), *page, filters,
          [](const v1::PlantingBase& b) { return b.base_id(); }, StringLess,
          response->mutable_next_page_token());
      for (v1::PlantingBase& base : out) *response->add_bases() = std::move(base);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetHerb(grpc::CallbackServerContext* context,
                                    const v1::GetHerbRequest* request,
                                    v1::Herb* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryGetHerb); !caller.ok()) {
        return caller.status();
      }
      if (auto s = domain::ValidateHerbCode(request->code(), "code"); !s.ok()) return s;
      auto herb = source_.state().Herb(request->code());
      if (!herb.ok()) {
        if (absl::IsNotFound(herb.status())) {
          return absl::NotFoundError(
              absl::StrCat("code: ", request->code(), " is not in the herb catalog"));
        }
        return herb.status();
      }
      *response = *std::move(herb);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListHerbs(grpc::CallbackServerContext* context,
                                      const v1::ListHerbsRequest* request,
                                      v1::ListHerbsResponse* response) override {
    return RunUnary(context, executor_, [this, context, request, response]() -> absl::Status {
      if (auto caller = access_.Admit(*context, Rpc::kRegistryListHerbs); !caller.ok()) {
        return caller.status();
      }
      const std::string filters = "herbs";
      auto page = ParsePageRequest(request->page_size(), request->page_token(), filters);
      if (!page.ok()) return page.status();
      auto herbs = source_.state().Herbs();
      if (!herbs.ok()) return herbs.status();
      std::sort(herbs->begin(), herbs->end(),
                [](const v1::Herb& a, const v1::Herb& b) { return a.code() < b.code(); });
      auto out = TakePage(
          *std::move(herbs), *page, filters, [](const v1::Herb& h) { return h.code(); },
          StringLess, response->mutable_next_page_token());
      for (v1::Herb& herb : out) *response->add_herbs() = std::move(herb);
      auto catalog = CurrentCatalog(source_.db());
      if (!catalog.ok()) return catalog.status();
      if (catalog->has_value()) {
        response->set_catalog_version((*catalog)->version);
        response->set_catalog_seq((*catalog)->seq);
      }
      return absl::OkStatus();
    });
  }

 private:
  LogSource& source_;
  Executor& executor_;
  const AccessControl access_;
};

}  // namespace

std::unique_ptr<v1::Registry::CallbackService> NewRegistryService(
    LogSource& source, Executor& executor, RegistryServiceOptions options) {
  return std::make_unique<RegistryServiceImpl>(source, executor, options);
}

}  // namespace herbtrace::server
