// locus data locate URI [--json]: where an input's blocks are and which Locus nodes hold them,
// as the scheduler will see it (controller/data_inputs.hpp). Hosts that map to no node are
// warned about: that is how locality silently breaks when HDFS and Locus name machines apart.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/client.hpp"
#include "cli/commands.hpp"

namespace locus::cli {
namespace {

constexpr const char* kDataUsage = R"(usage: locus data locate URI [--json]

URI is hdfs:///PATH (the NameNode of [locality.hdfs] namenode), webhdfs://HOST:PORT/PATH, or
dataset:NAME (the [locality] catalog, else datasets staged in the nodes' cache_dirs).
Prints every file's blocks, their replica hosts and the Locus node (and rack) each maps to; a
host that maps to no node is listed under warnings and the exit status is 0 all the same.
)";

std::string sizeText(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

int locate(Args& args, const Globals& g) {
  const bool json = args.flag("--json");
  auto rest = args.positionals();
  if (!args.error().empty()) return fail(args.error(), 2);
  if (rest.size() != 1) return fail("usage: locus data locate URI [--json]", 2);
  Client client(g.controller);
  auto reply = client.locateData(rest[0]);
  if (!reply.ok()) return fail(reply.error().message);
  if (json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : reply->files()) {
      nlohmann::json blocks = nlohmann::json::array();
      for (const auto& b : f.blocks()) {
        nlohmann::json replicas = nlohmann::json::array();
        for (int i = 0; i < b.hosts_size(); ++i) {
          const std::string node = i < b.nodes_size() ? b.nodes(i) : "";
          const std::string rack = i < b.racks_size() ? b.racks(i) : "";
          replicas.push_back({{"host", b.hosts(i)},
                              {"node", node.empty() ? nlohmann::json(nullptr) : nlohmann::json(node)},
                              {"rack", rack.empty() ? nlohmann::json(nullptr) : nlohmann::json(rack)}});
        }
        blocks.push_back({{"offset", b.offset()}, {"length", b.length()}, {"replicas", replicas}});
      }
      files.push_back({{"path", f.path()}, {"size", f.size()}, {"blocks", blocks}});
    }
    nlohmann::json out = {{"uri", rest[0]},
                          {"source", reply->source()},
                          {"files", files},
                          {"warnings", std::vector<std::string>(reply->warnings().begin(), reply->warnings().end())}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  uint64_t total = 0, blocks = 0;
  for (const auto& f : reply->files()) {
    total += f.size();
    blocks += static_cast<uint64_t>(f.blocks_size());
  }
  std::printf("%s (%s): %d file(s), %llu block(s), %s\n", rest[0].c_str(), reply->source().c_str(),
              reply->files_size(), static_cast<unsigned long long>(blocks), sizeText(total).c_str());
  for (const auto& f : reply->files()) {
    std::printf("%s  %s\n", f.path().c_str(), sizeText(f.size()).c_str());
    for (const auto& b : f.blocks()) {
      std::string replicas;
      for (int i = 0; i < b.hosts_size(); ++i) {
        const std::string node = i < b.nodes_size() ? b.nodes(i) : "";
        const std::string rack = i < b.racks_size() ? b.racks(i) : "";
        if (!replicas.empty()) replicas += ", ";
        replicas += b.hosts(i) + " -> " + (node.empty() ? "(no node)" : node);
        if (!rack.empty()) replicas += "@" + rack;
      }
      std::printf("  @%-12llu %10s  %s\n", static_cast<unsigned long long>(b.offset()), sizeText(b.length()).c_str(),
                  replicas.c_str());
    }
  }
  for (const auto& w : reply->warnings()) std::fprintf(stderr, "locus: warning: %s\n", w.c_str());
  return 0;
}

}  // namespace

int runData(const std::vector<std::string>& raw, const Globals& g) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    std::fputs(kDataUsage, raw.empty() ? stderr : stdout);
    return raw.empty() ? 2 : 0;
  }
  Args args(std::vector<std::string>(raw.begin() + 1, raw.end()));
  if (raw[0] == "locate") return locate(args, g);
  return fail("unknown data command '" + raw[0] + "' (locate)", 2);
}

}  // namespace locus::cli
