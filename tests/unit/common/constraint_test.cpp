// Table tests for --constraint expressions (constraint.hpp): what matches which node, and which
// expressions are refused.
#include "common/constraint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace locus {
namespace {

struct MatchCase {
  std::string name;
  std::string expr;
  std::vector<std::string> features;
  bool want;
};

TEST(Constraint, Matches) {
  const std::vector<MatchCase> cases = {
      {"one feature present", "ib", {"ib", "nvme"}, true},
      {"one feature absent", "ib", {"nvme"}, false},
      {"no features at all", "ib", {}, false},
      {"and: both", "ib&nvme", {"nvme", "ib"}, true},
      {"and: one missing", "ib&nvme", {"ib"}, false},
      {"or: the first", "a|b", {"a"}, true},
      {"or: the second", "a|b", {"b"}, true},
      {"or: neither", "a|b", {"c"}, false},
      {"group: (a|b)&c with a and c", "(a|b)&c", {"a", "c"}, true},
      {"group: (a|b)&c without c", "(a|b)&c", {"a"}, false},
      // a|b&c = a|(b&c): a alone is enough, b alone is not.
      {"& binds tighter: a alone", "a|b&c", {"a"}, true},
      {"& binds tighter: b alone", "a|b&c", {"b"}, false},
      {"& binds tighter: b and c", "a|b&c", {"b", "c"}, true},
      {"& binds tighter, & first: c alone", "a&b|c", {"c"}, true},
      {"& binds tighter, & first: a alone", "a&b|c", {"a"}, false},
      {"nested groups", "((a|b)&(c|d))|e", {"b", "d"}, true},
      {"nested groups: one side missing", "((a|b)&(c|d))|e", {"b"}, false},
      {"matching OR brackets act as or", "[rack1|rack2]", {"rack2"}, true},
      {"matching OR brackets with and", "[rack1|rack2]&ib", {"rack1"}, false},
      {"case-sensitive", "IB", {"ib"}, false},
      {"no substring matches", "ib", {"ib2", "xib"}, false},
      {"name characters _-.:+", "gpu:a100+x.y_z-1", {"gpu:a100+x.y_z-1"}, true},
      {"a repeated name", "a&(b|a)", {"a"}, true},
  };
  for (const MatchCase& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.expr);
    const auto parsed = Constraint::parse(c.expr);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_FALSE(parsed->empty());
    EXPECT_EQ(parsed->matches(c.features), c.want);
  }
}

TEST(Constraint, EmptyMatchesEveryNode) {
  const Constraint none;
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.matches({}));
  EXPECT_TRUE(none.matches({"ib"}));
}

TEST(Constraint, NamesInOrderOfAppearance) {
  const auto parsed = Constraint::parse("ib&(nvme|ib)|[r1|r2]");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->names(), (std::vector<std::string>{"ib", "nvme", "r1", "r2"}));
}

// More than 64 instructions: evaluation leaves its fixed stack for a growing one.
TEST(Constraint, LongExpressions) {
  std::string any, all;
  std::vector<std::string> every;
  for (int i = 0; i < 100; ++i) {
    const std::string f = "f" + std::to_string(i);
    any += (i == 0 ? "" : "|") + f;
    all += (i == 0 ? "" : "&") + f;
    every.push_back(f);
  }
  // Right-nested: f0&(f1&(f2&...)), so the value stack grows to 100 deep.
  std::string deep;
  for (int i = 0; i < 99; ++i) deep += "f" + std::to_string(i) + "&(";
  deep += "f99" + std::string(99, ')');

  const auto parsed_any = Constraint::parse(any);
  const auto parsed_all = Constraint::parse(all);
  const auto parsed_deep = Constraint::parse(deep);
  ASSERT_TRUE(parsed_any.ok() && parsed_all.ok() && parsed_deep.ok());
  EXPECT_TRUE(parsed_any->matches({"f99"}));
  EXPECT_FALSE(parsed_any->matches({"g"}));
  EXPECT_TRUE(parsed_all->matches(every));
  EXPECT_TRUE(parsed_deep->matches(every));
  std::vector<std::string> one_missing = every;
  one_missing.erase(one_missing.begin() + 42);
  EXPECT_FALSE(parsed_all->matches(one_missing));
  EXPECT_FALSE(parsed_deep->matches(one_missing));
}

struct BadCase {
  std::string name;
  std::string expr;
  std::string message;
};

TEST(Constraint, Malformed) {
  const std::vector<BadCase> cases = {
      {"empty", "", "invalid --constraint: empty expression"},
      {"blank", "  ", "invalid --constraint: empty expression"},
      {"spaces", "ib & nvme", "invalid --constraint 'ib & nvme': spaces are not allowed"},
      {"dangling &", "ib&", "invalid --constraint 'ib&': a feature name is missing at the end"},
      {"dangling |", "ib|", "invalid --constraint 'ib|': a feature name is missing at the end"},
      {"leading operator", "&ib", "invalid --constraint '&ib': expected a feature name at '&'"},
      {"double operator", "a||b", "invalid --constraint 'a||b': expected a feature name at '|'"},
      {"empty group", "()", "invalid --constraint '()': expected a feature name at ')'"},
      {"unclosed (", "(a|b", "invalid --constraint '(a|b': missing ')'"},
      {"unclosed [", "[a|b", "invalid --constraint '[a|b': missing ']'"},
      {"mismatched bracket", "[a|b)", "invalid --constraint '[a|b)': missing ']'"},
      {"unopened )", "a)", "invalid --constraint 'a)': unexpected ')'"},
      {"two names without an operator", "(a)b", "invalid --constraint '(a)b': unexpected 'b'"},
      {"counts", "ib*2", "invalid --constraint 'ib*2': feature counts ('*N') are not supported"},
      {"a character that cannot start a name", "a&!b",
       "invalid --constraint 'a&!b': expected a feature name at '!'"},
      {"comma", "a,b", "invalid --constraint 'a,b': unexpected ','"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name + ": '" + c.expr + "'");
    const auto parsed = Constraint::parse(c.expr);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message, c.message);
  }
}

// A user's expression must never take the process down: parentheses nested far deeper than any
// real constraint (200,000 levels overflowed the stack of a recursive parser) are refused.
TEST(Constraint, DeepNestingIsRefusedNotACrash) {
  auto nested = [](size_t depth) {
    return std::string(depth, '(') + "a" + std::string(depth, ')');
  };
  const auto modest = Constraint::parse(nested(100));
  ASSERT_TRUE(modest.ok()) << modest.error().message;
  EXPECT_TRUE(modest->matches({"a"}));

  for (const std::string& expr : {nested(200000), std::string(200000, '[')}) {
    SCOPED_TRACE(expr.size());
    const auto parsed = Constraint::parse(expr);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("nested deeper than"), std::string::npos);
  }
}

}  // namespace
}  // namespace locus
