#include "cli/slurm/sinfo_format.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "cli/slurm/slurm_args.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "common/slurm_formats.hpp"

namespace locus::slurm {
namespace {

struct Field {
  char type = 0;
  int width = 0;
  bool right = false;
  bool fit_names = false;  // "%#N": as wide as the longest value
  std::string suffix;
};

std::string title(char t) {
  switch (t) {
    case 'P': return "PARTITION";
    case 'a': return "AVAIL";
    case 'l': return "TIMELIMIT";
    case 'D': return "NODES";
    case 't': case 'T': return "STATE";
    case 'N': return "NODELIST";
    case 'n': return "HOSTNAMES";
    case 'c': return "CPUS";
    case 'm': return "MEMORY";
    case 'G': return "GRES";
    case 'C': return "CPUS(A/I/O/T)";
    case 'F': return "NODES(A/I/O/T)";
    case 'O': return "CPU_LOAD";
    case 'e': return "FREE_MEM";
    case 'f': return "AVAIL_FEATURES";
    case 'z': return "S:C:T";
  }
  return "";
}

Result<std::vector<Field>> parseFormat(std::string_view format) {
  std::vector<Field> fields;
  size_t pos = format.find('%');
  if (pos == std::string_view::npos) pos = format.size();
  if (pos > 0) fields.push_back({0, 0, false, false, std::string(format.substr(0, pos))});
  while (pos < format.size()) {
    ++pos;
    Field f;
    if (pos < format.size() && format[pos] == '.') {
      f.right = true;
      ++pos;
    } else if (pos < format.size() && format[pos] == '-') {
      ++pos;
    }
    if (pos < format.size() && format[pos] == '#') {
      f.fit_names = true;
      ++pos;
    }
    while (pos < format.size() && std::isdigit(static_cast<unsigned char>(format[pos])))
      f.width = f.width * 10 + (format[pos++] - '0');
    if (pos >= format.size()) return invalidArgument("Invalid node format specification: incomplete field");
    f.type = format[pos++];
    if (title(f.type).empty())
      return invalidArgument(std::string("Invalid node format specification: ") + f.type);
    size_t next = format.find('%', pos);
    if (next == std::string_view::npos) next = format.size();
    f.suffix = std::string(format.substr(pos, next - pos));
    fields.push_back(std::move(f));
    pos = next;
  }
  return fields;
}

int stateOrder(const std::string& compact) {
  if (compact == "mix") return 0;
  if (compact == "alloc") return 1;
  if (compact == "idle") return 2;
  return 3;
}

std::string gresOf(const proto::NodeInfo& n) {
  if (n.gpus().empty()) return "(null)";
  return "gpu:" + std::to_string(n.gpus_size());
}

// A node's value for a field that does not summarise a group (everything but %D %N %n %C).
std::string nodeValue(char t, const proto::NodeInfo& n) {
  switch (t) {
    case 'P': return std::string(kDefaultPartition) + "*";
    case 'a': return "up";
    case 'l': return "infinite";
    case 't': return nodeStateCompact(n);
    case 'T': return nodeStateLong(n);
    case 'c': return std::to_string(n.cpus());
    case 'm': return std::to_string(n.mem_mb());
    case 'G': return gresOf(n);
    case 'O': return "N/A";
    case 'e': return "N/A";
    case 'f': {
      if (n.features().empty()) return "(null)";
      std::string s;
      for (const auto& f : n.features()) s += (s.empty() ? "" : ",") + f;
      return s;
    }
    case 'z': return "1:" + std::to_string(n.cpus()) + ":1";
  }
  return "";
}

struct Group {
  std::vector<const proto::NodeInfo*> nodes;
};

std::string groupValue(char t, const Group& g) {
  switch (t) {
    case 'D': return std::to_string(g.nodes.size());
    case 'N': case 'n': {
      std::vector<std::string> names;
      for (const auto* n : g.nodes) names.push_back(n->name());
      return compressHostlist(names);
    }
    case 'F': {
      size_t alloc = 0, idle = 0, other = 0;
      for (const auto* n : g.nodes) {
        std::string c = nodeStateCompact(*n);
        if (c == "idle") ++idle;
        else if (c == "down") ++other;
        else ++alloc;
      }
      return std::to_string(alloc) + "/" + std::to_string(idle) + "/" + std::to_string(other) + "/" +
             std::to_string(g.nodes.size());
    }
    case 'C': {
      uint64_t alloc = 0, idle = 0, other = 0, total = 0;
      for (const auto* n : g.nodes) {
        total += n->cpus();
        if (n->state() != "UP") other += n->cpus();
        else {
          alloc += n->cpus_alloc();
          idle += n->cpus() - std::min(n->cpus(), n->cpus_alloc());
        }
      }
      return std::to_string(alloc) + "/" + std::to_string(idle) + "/" + std::to_string(other) + "/" +
             std::to_string(total);
    }
  }
  return nodeValue(t, *g.nodes.front());
}

}  // namespace

std::string nodeStateCompact(const proto::NodeInfo& node) {
  if (node.state() != "UP") return "down";
  if (node.cpus_alloc() == 0) return "idle";
  if (node.cpus_alloc() >= node.cpus()) return "alloc";
  return "mix";
}

std::string nodeStateLong(const proto::NodeInfo& node) {
  std::string c = nodeStateCompact(node);
  if (c == "mix") return "mixed";
  if (c == "alloc") return "allocated";
  return c;
}

Result<SinfoOptions> parseSinfoArgs(const std::vector<std::string>& args) {
  static const std::vector<OptionSpec> kSpecs{
      {'N', "Node", false}, {'h', "noheader", false}, {'o', "format", true},
      {'p', "partition", true}, {'n', "nodes", true}, {'t', "states", true},
      {'s', "summarize", false}, {'a', "all", false}, {'l', "long", false},
      {0, "help", false}, {'v', "verbose", false}, {'e', "exact", false}};
  auto parsed = parseArgs(args, kSpecs);
  if (!parsed.ok()) return parsed.error();
  if (!parsed->positionals.empty())
    return invalidArgument("Unrecognized option: " + parsed->positionals.front());
  SinfoOptions o;
  o.node_oriented = parsed->has("Node");
  o.noheader = parsed->has("noheader");
  o.format = parsed->last("format");
  o.partitions = parsed->list("partition");
  o.nodes = parsed->list("nodes");
  for (auto s : parsed->list("states")) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "mixed") s = "mix";
    if (s == "allocated") s = "alloc";
    if (s != "idle" && s != "mix" && s != "alloc" && s != "down" && s != "drain" && s != "drained" &&
        s != "draining" && s != "unknown" && s != "fail" && s != "maint" && s != "reserved" && s != "all")
      return invalidArgument("Bad node state specified: " + s);
    o.states.push_back(s);
  }
  o.summarize = parsed->has("summarize");
  o.help = parsed->has("help");
  return o;
}

Result<std::string> formatSinfo(const std::vector<proto::NodeInfo>& all, const SinfoOptions& opts) {
  std::string format = opts.format;
  if (format.empty()) {
    if (opts.node_oriented) format = "%#N %.6D %.9P %6t";
    else if (opts.summarize) format = "%9P %.5a %.10l %.16F %N";
    else format = "%9P %.5a %.10l %.6D %.6t %N";
  }
  auto fields = parseFormat(format);
  if (!fields.ok()) return fields.error();

  std::vector<const proto::NodeInfo*> nodes;
  std::vector<std::string> wanted_nodes;
  for (const auto& h : opts.nodes) {
    auto expanded = expandHostlist(h);
    if (!expanded.ok()) return invalidArgument("Invalid node name specified: " + h);
    wanted_nodes.insert(wanted_nodes.end(), expanded->begin(), expanded->end());
  }
  bool partition_ok = opts.partitions.empty() ||
                      std::find(opts.partitions.begin(), opts.partitions.end(), kDefaultPartition) !=
                          opts.partitions.end();
  for (const auto& n : all) {
    if (!partition_ok) break;
    if (!wanted_nodes.empty() &&
        std::find(wanted_nodes.begin(), wanted_nodes.end(), n.name()) == wanted_nodes.end())
      continue;
    if (!opts.states.empty() && std::find(opts.states.begin(), opts.states.end(), "all") == opts.states.end() &&
        std::find(opts.states.begin(), opts.states.end(), nodeStateCompact(n)) == opts.states.end())
      continue;
    nodes.push_back(&n);
  }
  std::stable_sort(nodes.begin(), nodes.end(), [&](const proto::NodeInfo* a, const proto::NodeInfo* b) {
    if (opts.node_oriented) return false;  // node order as listed by the controller
    return stateOrder(nodeStateCompact(*a)) < stateOrder(nodeStateCompact(*b));
  });

  // Group nodes whose per-node printed values agree; -N and %n/%N-free formats still group.
  std::vector<Group> groups;
  if (opts.node_oriented) {
    for (const auto* n : nodes) groups.push_back({{n}});
  } else {
    std::map<std::string, size_t> index;
    for (const auto* n : nodes) {
      std::string key;
      for (const auto& f : *fields)
        if (f.type && f.type != 'D' && f.type != 'N' && f.type != 'n' && f.type != 'C' && f.type != 'F')
          key += nodeValue(f.type, *n) + '\x1f';
      if (opts.summarize) key.clear();
      auto [it, inserted] = index.emplace(key, groups.size());
      if (inserted) groups.push_back({});
      groups[it->second].nodes.push_back(n);
    }
  }

  // "%#X": as wide as the widest value and its title.
  for (auto& f : *fields) {
    if (!f.fit_names) continue;
    size_t w = title(f.type).size();
    for (const auto& g : groups) w = std::max(w, groupValue(f.type, g).size());
    f.width = static_cast<int>(w);
  }
  std::string out;
  auto line = [&](auto&& text_of) {
    for (const auto& f : *fields) {
      if (f.type) out += fitField(text_of(f.type), f.width, f.right);
      out += f.suffix;
    }
    out += '\n';
  };
  if (!opts.noheader) line([](char t) { return title(t); });
  for (const auto& g : groups) line([&](char t) { return groupValue(t, g); });
  return out;
}

}  // namespace locus::slurm
