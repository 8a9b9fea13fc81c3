#include "locality/switch_tree.hpp"

#include "common/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace locus::locality {
namespace {

SwitchSpec leaf(std::string name, std::string nodes, int line = 0) {
  return {std::move(name), std::move(nodes), "", line};
}
SwitchSpec inner(std::string name, std::string switches, int line = 0) {
  return {std::move(name), "", std::move(switches), line};
}

std::vector<std::string> childNames(const SwitchTree& t, uint32_t s) {
  std::vector<std::string> out;
  for (uint32_t c : t.switches[s].children) out.push_back(t.switches[c].name);
  return out;
}

TEST(BuildSwitchTree, TwoLevelsOneRoot) {
  auto r = buildSwitchTree(
      {leaf("leaf1", "n[1-2]"), leaf("leaf2", "n[3-4]"), inner("spine", "leaf[1-2]")}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SwitchTree& t = *r;
  ASSERT_EQ(t.switches.size(), 3u);  // no virtual root: "spine" is the only top
  EXPECT_EQ(t.switches[t.root].name, "spine");
  EXPECT_EQ(t.switches[t.root].height, 2u);
  EXPECT_EQ(t.switches[t.root].depth, 0u);
  EXPECT_EQ(childNames(t, t.root), (std::vector<std::string>{"leaf1", "leaf2"}));
  EXPECT_EQ(t.switches[0].nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(t.switches[0].height, 1u);
  EXPECT_EQ(t.switches[0].depth, 1u);
  EXPECT_EQ(t.switchOfNode("n3"), 1u);
  EXPECT_EQ(t.switchOfNode("zz"), SwitchTree::kNone);
  EXPECT_EQ(t.findSwitch("leaf2"), 1u);
}

TEST(BuildSwitchTree, SeveralTopsGetAVirtualRoot) {
  // Like Slurm with two top-level switches: a root named "" above both.
  auto r = buildSwitchTree({leaf("a", "n[1-2]"), leaf("b", "n[3-4]")}, {"n1", "x1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SwitchTree& t = *r;
  ASSERT_EQ(t.switches.size(), 3u);
  EXPECT_EQ(t.switches[t.root].name, "");
  EXPECT_EQ(childNames(t, t.root), (std::vector<std::string>{"a", "b"}));
  // x1 is under no switch: it hangs off the root; n1 stays under "a".
  EXPECT_EQ(t.switches[t.root].nodes, (std::vector<std::string>{"x1"}));
  EXPECT_EQ(t.switchOfNode("n1"), 0u);
  EXPECT_EQ(t.switches[t.root].height, 2u);
}

TEST(BuildSwitchTree, NoSwitchesPutsEveryNodeUnderTheRoot) {
  auto r = buildSwitchTree({}, {"n1", "n2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->switches.size(), 1u);
  EXPECT_EQ(r->switches[0].name, "");
  EXPECT_EQ(r->switches[0].nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(r->switches[0].height, 1u);
}

TEST(BuildSwitchTree, UnbalancedHeights) {
  // core -> {spine -> leaf1, leaf2}: core has height 3 although leaf2 sits at depth 1.
  auto r = buildSwitchTree({leaf("leaf1", "n1"), leaf("leaf2", "n2"), inner("spine", "leaf1"),
                            inner("core", "spine,leaf2")},
                           {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->switches[r->root].name, "core");
  EXPECT_EQ(r->switches[r->root].height, 3u);
  EXPECT_EQ(r->switches[*r->findSwitch("leaf1")].depth, 2u);
  EXPECT_EQ(r->switches[*r->findSwitch("leaf2")].depth, 1u);
}

struct ErrorCase {
  std::string name;
  std::vector<SwitchSpec> specs;
  std::string message;  // expected substring
};

TEST(BuildSwitchTree, ConfigErrorsNameTheSwitchAndLine) {
  const std::vector<ErrorCase> cases = {
      {"unknown child",
       {leaf("leaf1", "n1", 3), inner("spine", "leaf[1-2]", 7)},
       "switch 'spine' (line 7): unknown child switch 'leaf2'"},
      {"both nodes and switches",
       {leaf("leaf1", "n1"), {"s", "n2", "leaf1", 4}},
       "switch 's' (line 4): a switch lists either 'nodes' (leaf) or 'switches', not both"},
      {"neither", {{"s", "", "", 5}}, "switch 's' (line 5): a switch needs 'nodes' or 'switches'"},
      {"node under two leaves",
       {leaf("leaf1", "n[1-4]", 2), leaf("leaf2", "n[4-6]", 6)},
       "node 'n4' is under two switches: switch 'leaf1' (line 2) and switch 'leaf2' (line 6)"},
      {"switch under two parents",
       {leaf("leaf1", "n1"), inner("s1", "leaf1", 3), inner("s2", "leaf1", 5)},
       "switch 'leaf1' is under two parents: switch 's1' (line 3) and switch 's2' (line 5)"},
      {"cycle of two",
       {leaf("leaf1", "n1"), inner("a", "b,leaf1", 3), inner("b", "a", 5)},
       "switches form a cycle"},
      {"self cycle", {inner("a", "a", 9)}, "switch 'a' (line 9): lists itself as a child (cycle)"},
      {"duplicate name",
       {leaf("leaf1", "n1", 1), leaf("leaf1", "n2", 4)},
       "switch 'leaf1' (line 4): duplicate switch name"},
      {"bad hostlist", {leaf("leaf1", "n[1-", 2)}, "switch 'leaf1' (line 2): bad nodes 'n[1-'"},
      {"empty name", {leaf("", "n1", 8)}, "non-empty name (line 8)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = buildSwitchTree(c.specs, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

TEST(BuildSwitchTree, CycleMessageNamesTheLoop) {
  auto r = buildSwitchTree({leaf("leaf1", "n1"), inner("top", "leaf1"), inner("a", "b"),
                            inner("b", "c"), inner("c", "a")},
                           {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("a -> b -> c -> a"), std::string::npos) << r.error().message;
}

TEST(ParseSwitchSection, ReadsTablesWithLines) {
  const std::string text =
      "[controller]\n"
      "listen = \"127.0.0.1:0\"\n"
      "[[switch]]\n"
      "name = \"leaf1\"\n"
      "nodes = \"n[001-032]\"\n"
      "[[switch]]\n"
      "name = \"spine\"\n"
      "switches = \"leaf[1-4]\"\n";
  auto r = parseConfig(text, "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->switches.size(), 2u);
  EXPECT_EQ(r->switches[0].name, "leaf1");
  EXPECT_EQ(r->switches[0].nodes, "n[001-032]");
  EXPECT_EQ(r->switches[0].line, 3);
  EXPECT_EQ(r->switches[1].switches, "leaf[1-4]");
  EXPECT_EQ(r->switches[1].line, 6);
}

TEST(ParseSwitchSection, NoSwitchSectionIsEmpty) {
  auto r = parseConfig("[scheduler]\npolicy = \"easy\"\n", "locus.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->switches.empty());
}

TEST(ParseSwitchSection, Errors) {
  struct Case {
    std::string name, text, message;
  };
  const std::vector<Case> cases = {
      {"unknown key", "[[switch]]\nname = \"a\"\nnode = \"n1\"\n",
       "locus.toml:3: unknown key 'switch.node'"},
      {"not a string", "[[switch]]\nname = \"a\"\nnodes = [\"n1\"]\n",
       "locus.toml:3: key 'switch.nodes' must be a string"},
      {"missing name", "[[switch]]\nnodes = \"n1\"\n",
       "locus.toml:1: [[switch]] needs a non-empty 'name'"},
      {"not tables", "switch = \"x\"\n", "'switch' must be an array of tables"},
      {"syntax", "[[switch]\n", "locus.toml:1:"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parseConfig(c.text, "locus.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace locus::locality
