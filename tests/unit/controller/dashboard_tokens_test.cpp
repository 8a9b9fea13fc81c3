// Dashboard tokens (`locus token`): random, hex, tied to their admin, refused once expired, and
// only for lifetimes from 1 s to DashboardTokens::kMaxTtl. The clock is passed in.
#include "controller/dashboard/dashboard_tokens.hpp"

#include <gtest/gtest.h>

#include <set>

namespace locus::controller {
namespace {

using std::chrono::seconds;
const DashboardTokens::Clock::time_point kT0{seconds{1'800'000'000}};

TEST(DashboardTokens, ATokenActsAsItsAdminUntilItExpires) {
  DashboardTokens tokens;
  auto token = tokens.issue("root", 0, seconds{60}, kT0);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->size(), 64u);  // 256 bits in hex
  EXPECT_EQ(token->find_first_not_of("0123456789abcdef"), std::string::npos) << *token;

  auto holder = tokens.check(*token, kT0 + seconds{59});
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->user, "root");
  EXPECT_EQ(holder->uid, 0u);
  EXPECT_EQ(holder->expires, kT0 + seconds{60});
  EXPECT_FALSE(tokens.check(*token, kT0 + seconds{60})) << "expired at its expiry";
  EXPECT_FALSE(tokens.check(*token, kT0 + seconds{3600}));
}

TEST(DashboardTokens, UnknownOrAlteredTokensAreRefused) {
  DashboardTokens tokens;
  auto token = tokens.issue("alice", 1001, seconds{60}, kT0);
  ASSERT_TRUE(token.ok());
  std::string altered = *token;
  altered.back() = altered.back() == '0' ? '1' : '0';
  for (const std::string& t :
       {std::string(), altered, token->substr(0, 63), *token + "0", std::string(64, '0')}) {
    SCOPED_TRACE("'" + t + "'");
    EXPECT_FALSE(tokens.check(t, kT0));
  }
  EXPECT_TRUE(tokens.check(*token, kT0));
}

TEST(DashboardTokens, EachIsNewAndLifetimesAreBounded) {
  DashboardTokens tokens;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto token = tokens.issue("root", 0, seconds{1}, kT0);
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(seen.insert(*token).second) << "a token twice: " << *token;
  }
  struct Case {
    const char* name;
    seconds ttl;
    bool ok;
  };
  const Case cases[] = {
      {"zero", seconds{0}, false},
      {"negative", seconds{-5}, false},
      {"one second", seconds{1}, true},
      {"the default", seconds{DashboardTokens::kDefaultTtl}, true},
      {"the longest", seconds{DashboardTokens::kMaxTtl}, true},
      {"longer", seconds{DashboardTokens::kMaxTtl} + seconds{1}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto token = tokens.issue("root", 0, c.ttl, kT0);
    EXPECT_EQ(token.ok(), c.ok);
    if (!c.ok) {
      EXPECT_EQ(token.error().code, ErrorCode::kInvalidArgument);
    }
  }
  // Issuing forgets the expired ones; the live ones stay.
  auto live = tokens.issue("root", 0, seconds{3600}, kT0 + seconds{10});
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(tokens.check(*live, kT0 + seconds{20}));
  EXPECT_FALSE(tokens.check(*seen.begin(), kT0 + seconds{20}));
}

}  // namespace
}  // namespace locus::controller
