// herbtrace.v1.Registry over real gRPC: parties with their keys, keys, bases and the herb
// catalog, with filters, paging and the exact status of every refusal.
#include <string>
#include <vector>

#include "tests/services/server/service_fixture.h"

namespace herbtrace::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RegistryServiceTest : public MarketServiceTest {
 protected:
  grpc::Status ListParties(v1::ListPartiesRequest request, v1::ListPartiesResponse* response) {
    auto context = Context();
    return registry_->ListParties(context.get(), request, response);
  }
};

TEST_F(RegistryServiceTest, GetPartyIncludesItsKeys) {
  v1::GetPartyRequest request;
  request.set_party_id(market_->trader().party_id);
  v1::Party party;
  auto context = Context();
  ASSERT_TRUE(registry_->GetParty(context.get(), request, &party).ok());
  EXPECT_EQ(party.party_id(), market_->trader().party_id);
  EXPECT_EQ(party.region_code(), "130683");
  EXPECT_THAT(party.roles(), ElementsAre(v1::PARTY_ROLE_TRADER));
  EXPECT_EQ(party.registered_by(), market_->market_operator().party_id);
  ASSERT_THAT(party.keys(), SizeIs(1));
  EXPECT_EQ(party.keys(0).key_id(), market_->trader().key_id());
  EXPECT_EQ(party.keys(0).public_key(), market_->trader().key->public_key().raw());
}

TEST_F(RegistryServiceTest, GetPartyRefusals) {
  v1::Party party;
  v1::GetPartyRequest unknown;
  unknown.set_party_id("13068399999999");
  auto c1 = Context();
  EXPECT_THAT(S(registry_->GetParty(c1.get(), unknown, &party)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("party_id: 13068399999999 is not registered")));
  v1::GetPartyRequest malformed;
  malformed.set_party_id("1306");
  auto c2 = Context();
  EXPECT_THAT(S(registry_->GetParty(c2.get(), malformed, &party)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("party_id")));
}

TEST_F(RegistryServiceTest, ListPartiesFiltersByRoleAndRegionWithoutKeys) {
  v1::ListPartiesResponse all;
  ASSERT_TRUE(ListParties(v1::ListPartiesRequest(), &all).ok());
  ASSERT_THAT(all.parties(), SizeIs(5));
  EXPECT_EQ(all.parties(0).party_id(), "13068300000001");
  EXPECT_EQ(all.parties(4).party_id(), "13068300000005");
  for (const v1::Party& p : all.parties()) EXPECT_THAT(p.keys(), SizeIs(0));
  EXPECT_TRUE(all.next_page_token().empty());

  v1::ListPartiesRequest growers;
  growers.set_role(v1::PARTY_ROLE_GROWER);
  v1::ListPartiesResponse response;
  ASSERT_TRUE(ListParties(growers, &response).ok());
  ASSERT_THAT(response.parties(), SizeIs(1));
  EXPECT_EQ(response.parties(0).party_id(), market_->grower().party_id);

  v1::ListPartiesRequest beijing;
  beijing.set_region_code_prefix("11");
  ASSERT_TRUE(ListParties(beijing, &response).ok());
  EXPECT_THAT(response.parties(), SizeIs(0));
}

TEST_F(RegistryServiceTest, ListPartiesPagesThroughEveryPartyOnce) {
  std::vector<std::string> seen;
  v1::ListPartiesRequest request;
  request.set_page_size(2);
  request.set_region_code_prefix("1306");
  int pages = 0;
  do {
    v1::ListPartiesResponse response;
    ASSERT_TRUE(ListParties(request, &response).ok());
    for (const v1::Party& p : response.parties()) seen.push_back(p.party_id());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("13068300000001", "13068300000002", "13068300000003",
                                "13068300000004", "13068300000005"));
}

TEST_F(RegistryServiceTest, ListPartiesRefusals) {
  v1::ListPartiesRequest request;
  request.set_page_size(2);
  v1::ListPartiesResponse first;
  ASSERT_TRUE(ListParties(request, &first).ok());
  v1::ListPartiesRequest other_filters;
  other_filters.set_role(v1::PARTY_ROLE_TRADER);
  other_filters.set_page_token(first.next_page_token());
  v1::ListPartiesResponse response;
  EXPECT_THAT(S(ListParties(other_filters, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  v1::ListPartiesRequest bad_region;
  bad_region.set_region_code_prefix("13A");
  EXPECT_THAT(S(ListParties(bad_region, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("region_code_prefix")));
  v1::ListPartiesRequest bad_role;
  bad_role.set_role(static_cast<v1::PartyRole>(77));
  EXPECT_THAT(S(ListParties(bad_role, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("role")));
}

TEST_F(RegistryServiceTest, GetKey) {
  v1::GetKeyRequest request;
  request.set_key_id(market_->grower().key_id());
  v1::SigningKey key;
  auto c1 = Context();
  ASSERT_TRUE(registry_->GetKey(c1.get(), request, &key).ok());
  EXPECT_EQ(key.party_id(), market_->grower().party_id);
  EXPECT_EQ(key.status(), v1::KEY_STATUS_ACTIVE);
  EXPECT_EQ(key.algorithm(), v1::SIGNATURE_ALGORITHM_ED25519);

  request.set_key_id("0011223344556677");
  auto c2 = Context();
  EXPECT_THAT(S(registry_->GetKey(c2.get(), request, &key)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("key_id: 0011223344556677")));
  request.set_key_id("XYZ");
  auto c3 = Context();
  EXPECT_THAT(S(registry_->GetKey(c3.get(), request, &key)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key_id")));
}

TEST_F(RegistryServiceTest, GetAndListBases) {
  v1::GetBaseRequest get;
  get.set_base_id(market_->base_id());
  v1::PlantingBase base;
  auto c1 = Context();
  ASSERT_TRUE(registry_->GetBase(c1.get(), get, &base).ok());
  EXPECT_EQ(base.owner_party_id(), market_->grower().party_id);
  EXPECT_EQ(base.area_centi_mu(), 1250u);
  EXPECT_THAT(base.herb_codes(), ElementsAre("HUANGQI"));

  get.set_base_id("130683000000039999");
  auto c2 = Context();
  EXPECT_THAT(S(registry_->GetBase(c2.get(), get, &base)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("base_id: 130683000000039999")));

  auto list = [&](const std::string& owner, const std::string& herb) {
    v1::ListBasesRequest request;
    request.set_owner_party_id(owner);
    request.set_herb_code(herb);
    v1::ListBasesResponse response;
    auto context = Context();
    EXPECT_TRUE(registry_->ListBases(context.get(), request, &response).ok());
    return response.bases_size();
  };
  EXPECT_EQ(list("", ""), 1);
  EXPECT_EQ(list(market_->grower().party_id, "HUANGQI"), 1);
  EXPECT_EQ(list(market_->grower().party_id, "SHANYAO"), 0);
  EXPECT_EQ(list(market_->trader().party_id, ""), 0);

  v1::ListBasesRequest bad;
  bad.set_herb_code("huangqi");
  v1::ListBasesResponse response;
  auto c3 = Context();
  EXPECT_THAT(S(registry_->ListBases(c3.get(), bad, &response)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("herb_code")));
}

TEST_F(RegistryServiceTest, GetAndListHerbsWithTheCatalogVersion) {
  v1::GetHerbRequest get;
  get.set_code("HUANGQI");
  v1::Herb herb;
  auto c1 = Context();
  ASSERT_TRUE(registry_->GetHerb(c1.get(), get, &herb).ok());
  EXPECT_EQ(herb.zh_name(), "黄芪");
  EXPECT_EQ(herb.pinyin(), "Huangqi");

  get.set_code("RENSHEN");
  auto c2 = Context();
  EXPECT_THAT(S(registry_->GetHerb(c2.get(), get, &herb)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("code: RENSHEN")));

  v1::ListHerbsRequest list;
  list.set_page_size(1);
  v1::ListHerbsResponse page1;
  auto c3 = Context();
  ASSERT_TRUE(registry_->ListHerbs(c3.get(), list, &page1).ok());
  ASSERT_THAT(page1.herbs(), SizeIs(1));
  EXPECT_EQ(page1.herbs(0).code(), "HUANGQI");
  EXPECT_EQ(page1.catalog_version(), kCatalogVersion);
  EXPECT_EQ(page1.catalog_seq(), 1u);
  list.set_page_token(page1.next_page_token());
  v1::ListHerbsResponse page2;
  auto c4 = Context();
  ASSERT_TRUE(registry_->ListHerbs(c4.get(), list, &page2).ok());
  ASSERT_THAT(page2.herbs(), SizeIs(1));
  EXPECT_EQ(page2.herbs(0).code(), "SHANYAO");
  EXPECT_TRUE(page2.next_page_token().empty());
}

}  // namespace
}  // namespace herbtrace::testing
