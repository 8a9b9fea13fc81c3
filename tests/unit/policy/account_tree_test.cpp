#include "controller/policy/account_tree.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace locus::policy {
namespace {

// root
// ├── physics 40
// │   ├── hep 30:   alice 1
// │   └── astro 10: bob 1, carol 3
// └── chem 60:      alice 2, dave 2
AccountTree threeLevels() {
  AccountTree t;
  EXPECT_TRUE(t.addAccount("physics", "root", 40).ok());
  EXPECT_TRUE(t.addAccount("chem", "root", 60).ok());
  EXPECT_TRUE(t.addAccount("hep", "physics", 30).ok());
  EXPECT_TRUE(t.addAccount("astro", "physics", 10).ok());
  EXPECT_TRUE(t.addUser("hep", "alice", 1).ok());
  EXPECT_TRUE(t.addUser("astro", "bob", 1).ok());
  EXPECT_TRUE(t.addUser("astro", "carol", 3).ok());
  EXPECT_TRUE(t.addUser("chem", "alice", 2).ok());
  EXPECT_TRUE(t.addUser("chem", "dave", 2).ok());
  return t;
}

TEST(AccountTree, NormalizedShares) {
  const AccountTree t = threeLevels();
  struct Case {
    AssocId id;
    double expected;
  };
  const std::vector<Case> cases = {
      {{"root", ""}, 1.0},
      // 40 / (40 + 60)
      {{"physics", ""}, 0.4},
      // 60 / 100
      {{"chem", ""}, 0.6},
      // 30 / (30 + 10) * 0.4
      {{"hep", ""}, 0.3},
      // 10 / 40 * 0.4
      {{"astro", ""}, 0.1},
      // sole user of hep: 1 / 1 * 0.3
      {{"hep", "alice"}, 0.3},
      // 1 / (1 + 3) * 0.1
      {{"astro", "bob"}, 0.025},
      // 3 / 4 * 0.1
      {{"astro", "carol"}, 0.075},
      // alice's second account: 2 / (2 + 2) * 0.6
      {{"chem", "alice"}, 0.3},
      {{"chem", "dave"}, 0.3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id.str());
    const Result<double> s = t.normalizedShares(c.id);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_NEAR(*s, c.expected, 1e-12);
  }
}

TEST(AccountTree, Walks) {
  const AccountTree t = threeLevels();
  EXPECT_EQ(t.accountsOf("alice"), (std::vector<std::string>{"chem", "hep"}));
  EXPECT_EQ(t.userCount(), 5u);
  // 30 + 10 under physics; 2 + 2 under chem.
  EXPECT_EQ(t.levelShares("physics"), 40u);
  EXPECT_EQ(t.levelShares("chem"), 4u);
  std::vector<std::string> order;
  for (const AssocId& id : t.preorder()) order.push_back(id.str());
  EXPECT_EQ(order,
            (std::vector<std::string>{"root", "chem", "chem/alice", "chem/dave", "physics", "astro",
                                      "astro/bob", "astro/carol", "hep", "hep/alice"}));
}

TEST(AccountTree, MoveAndModifyChangeShares) {
  AccountTree t = threeLevels();
  // astro moves under chem: chem's level is astro 10 + alice 2 + dave 2 = 14.
  ASSERT_TRUE(t.modifyAccount("astro", std::string("chem"), std::nullopt).ok());
  // 10 / 14 * 0.6
  EXPECT_NEAR(*t.normalizedShares({"astro", ""}), 10.0 / 14 * 0.6, 1e-12);
  // hep is physics' only child now: 30 / 30 * 0.4
  EXPECT_NEAR(*t.normalizedShares({"hep", ""}), 0.4, 1e-12);
  ASSERT_TRUE(t.modifyAccount("physics", std::nullopt, 140).ok());
  // 140 / (140 + 60)
  EXPECT_NEAR(*t.normalizedShares({"physics", ""}), 0.7, 1e-12);
  ASSERT_TRUE(t.modifyUser("chem", "dave", 12).ok());
  // chem level: 10 + 2 + 12 = 24; 12 / 24 * 0.3
  EXPECT_NEAR(*t.normalizedShares({"chem", "dave"}), 0.15, 1e-12);
  ASSERT_TRUE(t.removeUser("hep", "alice").ok());
  ASSERT_TRUE(t.removeAccount("hep").ok());
  EXPECT_FALSE(t.hasAccount("hep"));
  EXPECT_EQ(t.accountsOf("alice"), (std::vector<std::string>{"chem"}));
}

TEST(AccountTree, Errors) {
  struct Case {
    std::string name;
    std::function<Status(AccountTree&)> op;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"duplicate account", [](AccountTree& t) { return t.addAccount("hep", "chem", 1); },
       ErrorCode::kInvalidArgument, "account 'hep' already exists"},
      {"unknown parent", [](AccountTree& t) { return t.addAccount("bio", "nature", 1); },
       ErrorCode::kNotFound, "parent account 'nature' of 'bio' does not exist"},
      {"bad name", [](AccountTree& t) { return t.addAccount("a b", "root", 1); },
       ErrorCode::kInvalidArgument,
       "invalid account name 'a b': use letters, digits, '_', '-', '.'"},
      {"zero shares", [](AccountTree& t) { return t.addAccount("bio", "root", 0); },
       ErrorCode::kInvalidArgument, "account 'bio': shares must be at least 1"},
      {"second root", [](AccountTree& t) { return t.addAccount("root", "chem", 1); },
       ErrorCode::kInvalidArgument, "account 'root' already exists"},
      {"cycle: under own child",
       [](AccountTree& t) { return t.modifyAccount("physics", std::string("hep"), std::nullopt); },
       ErrorCode::kInvalidArgument, "moving account 'physics' under 'hep' would create a cycle"},
      {"cycle: under itself",
       [](AccountTree& t) { return t.modifyAccount("hep", std::string("hep"), std::nullopt); },
       ErrorCode::kInvalidArgument, "moving account 'hep' under 'hep' would create a cycle"},
      {"modify root", [](AccountTree& t) { return t.modifyAccount("root", std::nullopt, 5); },
       ErrorCode::kInvalidArgument, "account 'root' cannot be modified"},
      {"modify unknown", [](AccountTree& t) { return t.modifyAccount("bio", std::nullopt, 5); },
       ErrorCode::kNotFound, "account 'bio' does not exist"},
      {"remove non-empty (sub-accounts)", [](AccountTree& t) { return t.removeAccount("physics"); },
       ErrorCode::kFailedPrecondition,
       "account 'physics' is not empty: it has 2 sub-accounts and 0 users"},
      {"remove non-empty (users)", [](AccountTree& t) { return t.removeAccount("astro"); },
       ErrorCode::kFailedPrecondition,
       "account 'astro' is not empty: it has 0 sub-accounts and 2 users"},
      {"remove root", [](AccountTree& t) { return t.removeAccount("root"); },
       ErrorCode::kInvalidArgument, "account 'root' cannot be removed"},
      {"remove unknown", [](AccountTree& t) { return t.removeAccount("bio"); },
       ErrorCode::kNotFound, "account 'bio' does not exist"},
      {"duplicate user", [](AccountTree& t) { return t.addUser("astro", "bob", 1); },
       ErrorCode::kInvalidArgument, "user 'bob' is already in account 'astro'"},
      {"user in unknown account", [](AccountTree& t) { return t.addUser("bio", "bob", 1); },
       ErrorCode::kNotFound, "account 'bio' does not exist"},
      {"remove user not there", [](AccountTree& t) { return t.removeUser("hep", "bob"); },
       ErrorCode::kNotFound, "user 'bob' is not in account 'hep'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AccountTree t = threeLevels();
    const Status st = c.op(t);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, c.code);
    EXPECT_EQ(st.error().message, c.message);
    // A failed change leaves the tree as it was: physics still 0.4.
    EXPECT_NEAR(*t.normalizedShares({"physics", ""}), 0.4, 1e-12);
    EXPECT_EQ(t.preorder().size(), 10u);
  }
}

}  // namespace
}  // namespace locus::policy
