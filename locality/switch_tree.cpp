#include "locality/switch_tree.hpp"


#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/slurm_formats.hpp"

namespace locus::locality {
namespace {

// "switch 'leaf1' (line 12)" or "switch 'leaf1'" when the line is unknown.
std::string describe(const SwitchSpec& spec) {
  std::string s = "switch '" + spec.name + "'";
  if (spec.line > 0) s += " (line " + std::to_string(spec.line) + ")";
  return s;
}

// Heights need children first, depths parents first: one pass each over a parents-first order.
void computeLevels(SwitchTree& tree) {
  std::vector<uint32_t> order{tree.root};
  for (size_t i = 0; i < order.size(); ++i) {
    for (uint32_t c : tree.switches[order[i]].children) {
      tree.switches[c].depth = tree.switches[order[i]].depth + 1;
      order.push_back(c);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto& sw = tree.switches[*it];
    sw.height = 1;
    for (uint32_t c : sw.children) sw.height = std::max(sw.height, tree.switches[c].height + 1);
  }
}

}  // namespace

uint32_t SwitchTree::switchOfNode(std::string_view node) const {
  for (uint32_t i = 0; i < switches.size(); ++i) {
    for (const auto& n : switches[i].nodes)
      if (n == node) return i;
  }
  return kNone;
}

std::optional<uint32_t> SwitchTree::findSwitch(std::string_view name) const {
  for (uint32_t i = 0; i < switches.size(); ++i)
    if (switches[i].name == name) return i;
  return std::nullopt;
}

Result<SwitchTree> buildSwitchTree(const std::vector<SwitchSpec>& specs,
                                   const std::vector<std::string>& node_names) {
  SwitchTree tree;
  std::unordered_map<std::string, uint32_t> index;
  for (const auto& spec : specs) {
    if (spec.name.empty())
      return invalidArgument(
          "a switch needs a non-empty name" +
          (spec.line > 0 ? " (line " + std::to_string(spec.line) + ")" : std::string()));
    auto [it, inserted] = index.emplace(spec.name, static_cast<uint32_t>(tree.switches.size()));
    if (!inserted)
      return invalidArgument(describe(spec) + ": duplicate switch name (first defined at " +
                             describe(specs[it->second]) + ")");
    if (!spec.nodes.empty() && !spec.switches.empty())
      return invalidArgument(describe(spec) +
                             ": a switch lists either 'nodes' (leaf) or 'switches', not both");
    if (spec.nodes.empty() && spec.switches.empty())
      return invalidArgument(describe(spec) + ": a switch needs 'nodes' or 'switches'");
    tree.switches.push_back({});
    tree.switches.back().name = spec.name;
  }

  std::unordered_map<std::string, uint32_t> node_owner;
  for (uint32_t i = 0; i < specs.size(); ++i) {
    const SwitchSpec& spec = specs[i];
    if (!spec.nodes.empty()) {
      auto hosts = expandHostlist(spec.nodes);
      if (!hosts.ok())
        return invalidArgument(describe(spec) + ": bad nodes '" + spec.nodes +
                               "': " + hosts.error().message);
      for (auto& h : *hosts) {
        auto [it, inserted] = node_owner.emplace(h, i);
        if (!inserted) {
          if (it->second == i)
            return invalidArgument(describe(spec) + ": node '" + h + "' listed twice");
          return invalidArgument("node '" + h + "' is under two switches: " +
                                 describe(specs[it->second]) + " and " + describe(spec));
        }
        tree.switches[i].nodes.push_back(std::move(h));
      }
    } else {
      auto children = expandHostlist(spec.switches);
      if (!children.ok())
        return invalidArgument(describe(spec) + ": bad switches '" + spec.switches +
                               "': " + children.error().message);
      for (const auto& c : *children) {
        auto it = index.find(c);
        if (it == index.end())
          return invalidArgument(describe(spec) + ": unknown child switch '" + c + "'");
        uint32_t child = it->second;
        if (child == i)
          return invalidArgument(describe(spec) + ": lists itself as a child (cycle)");
        auto& parent = tree.switches[child].parent;
        if (parent == i)
          return invalidArgument(describe(spec) + ": child switch '" + c + "' listed twice");
        if (parent != SwitchTree::kNone)
          return invalidArgument("switch '" + c + "' is under two parents: " +
                                 describe(specs[parent]) + " and " + describe(spec));
        parent = i;
        tree.switches[i].children.push_back(child);
      }
    }
  }

  // Every switch has at most one parent, so a switch not reachable from a top-level one sits on
  // a cycle (or below one): a -> b -> a has no top at all.
  std::vector<uint32_t> tops;
  for (uint32_t i = 0; i < tree.switches.size(); ++i)
    if (tree.switches[i].parent == SwitchTree::kNone) tops.push_back(i);
  std::vector<bool> reached(tree.switches.size(), false);
  std::vector<uint32_t> stack = tops;
  while (!stack.empty()) {
    uint32_t s = stack.back();
    stack.pop_back();
    reached[s] = true;
    for (uint32_t c : tree.switches[s].children) stack.push_back(c);
  }
  for (uint32_t i = 0; i < tree.switches.size(); ++i) {
    if (reached[i]) continue;
    // Walk up the parents until a switch repeats: that is the cycle to name.
    std::vector<uint32_t> path;
    std::vector<bool> seen(tree.switches.size(), false);
    uint32_t s = i;
    while (!seen[s]) {
      seen[s] = true;
      path.push_back(s);
      s = tree.switches[s].parent;
    }
    // path walks child -> parent; the message reads parent -> child, as the tables list them.
    auto start = std::find(path.begin(), path.end(), s);
    std::string cycle = tree.switches[s].name;
    for (auto it = path.rbegin(); it.base() != start + 1; ++it)
      cycle += " -> " + tree.switches[*it].name;
    cycle += " -> " + tree.switches[s].name;
    return invalidArgument(describe(specs[s]) + ": switches form a cycle: " + cycle);
  }

  if (tops.size() == 1) {
    tree.root = tops[0];
  } else {
    // Zero switches (no [[switch]] at all) or several top-level ones: a virtual root above them.
    tree.root = static_cast<uint32_t>(tree.switches.size());
    tree.switches.push_back({});
    for (uint32_t t : tops) {
      tree.switches[t].parent = tree.root;
      tree.switches[tree.root].children.push_back(t);
    }
  }
  for (const auto& n : node_names) {
    if (node_owner.emplace(n, tree.root).second) tree.switches[tree.root].nodes.push_back(n);
  }
  computeLevels(tree);
  return tree;
}

}  // namespace locus::locality
