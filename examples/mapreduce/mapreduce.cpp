// locus-mapreduce: an example framework (docs/frameworks.md) that places work next to its data.
//
//   locus-mapreduce [options] hdfs:///PATH | webhdfs://HOST:PORT/PATH
//
// It lists PATH through WebHDFS (locality/webhdfs_client.hpp), asks Locus for one one-core lease
// per block with the block's replica hosts as preferred nodes and their racks as the fallback,
// runs a map task in each lease (it counts the lines of its block's byte range), releases each
// lease as its task ends, then runs one reduce task in a fresh lease that sums the map outputs.
// It prints the total and, as its last line, how many map tasks ran where their data is:
//
//   lines=240 files=12 blocks=24
//   node_local=23 rack_local=1 remote=0
//
// This is the shape of a Spark or MapReduce driver on Locus: the framework, not Locus, decides
// what runs in each lease. Exit status: 0 on success, 1 on any failure (with one line on
// stderr saying what failed), 2 for bad usage.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/framework_client.hpp"
#include "common/config.hpp"
#include "locality/host_map.hpp"
#include "locality/webhdfs_client.hpp"

namespace locus::examples {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A driver does not reconnect after its stream drops, so holding its leases for a failover
// would only keep cores from other jobs: a crashed driver's leases come back after this long.
constexpr uint32_t kFailoverTimeoutS = 5;
// How long the first controller call may take before the controller counts as unreachable.
constexpr auto kConnectTimeout = std::chrono::seconds{5};
// What a lease is expected to be held for (backfill plans with it): a block's map task reads
// one block, seconds at most.
constexpr int64_t kDurationHintS = 10;
// A map task that fails is run once more, in a new lease; a second failure fails the job.
constexpr int kMaxAttempts = 2;

constexpr const char* kUsage = R"(usage: locus-mapreduce [options] HDFS_PATH

HDFS_PATH: hdfs:///PATH (the NameNode of the cluster's config) or webhdfs://HOST:PORT/PATH.
Counts the lines of every file under PATH: one map task per HDFS block, placed next to the
block's replicas through Locus leases, then one reduce task. Last line of the output:
  node_local=N rack_local=N remote=N

options:
  --controller HOST:PORT  the Locus controller (default $LOCUS_CONTROLLER, else 127.0.0.1:6450)
  --namenode HOST:PORT    the NameNode's WebHDFS address, for hdfs:/// paths (default: the
                          [locality.hdfs] namenode of --config, else of $LOCUS_CONFIG, else the
                          one the controller is configured with)
  --config FILE           the cluster's locus.toml (default $LOCUS_CONFIG)
  --read local|webhdfs    how map tasks read their block: local (default) opens the file as a
                          local path (emulated clusters, or HDFS mounted with fuse-dfs/NFS);
                          webhdfs asks the NameNode (curl on the nodes), which redirects to a
                          DataNode holding the block: the node's own when the lease is node-local
  --local-root DIR        with --read local: HDFS path /P is the local file DIR/P (default /)
  --work-dir DIR          where map and reduce outputs go; must be visible to every node
                          (default: a new directory under $TMPDIR, removed after a success)
  --name NAME             the framework's name (default mapreduce-PID)
  --timeout SECONDS       give up after this long (default 600)
  -v, --verbose           one line per task on stderr
)";

struct Options {
  std::string controller;
  std::string namenode;  // "http://HOST:PORT", empty until resolved
  std::string config;
  std::string path;  // the HDFS path, "/logs"
  std::string read = "local";
  std::string local_root = "/";
  std::string work_dir;
  std::string name;
  int timeout_s = 600;
  bool verbose = false;
};

// One HDFS block: what one map task reads.
struct Block {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<std::string> hosts;  // replica hosts as HDFS names them
  std::vector<std::string> racks;  // the Locus racks of the nodes they map to
};

// Why the run stopped: printed as "locus-mapreduce: WHY", exit 1.
struct Failure {
  std::string why;
};

std::string normalizeNamenode(std::string nn) {
  if (nn.rfind("http://", 0) != 0) nn = "http://" + nn;
  while (nn.size() > 7 && nn.back() == '/') nn.pop_back();
  return nn;
}

// Splits the command line; returns the exit status for a usage error or --help.
std::optional<int> parseArgs(int argc, char** argv, Options& o) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string input;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) throw Failure{a + " needs a value"};
      out = args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--controller") {
      value(o.controller);
    } else if (a == "--namenode") {
      value(o.namenode);
      o.namenode = normalizeNamenode(o.namenode);
    } else if (a == "--config") {
      value(o.config);
    } else if (a == "--read") {
      value(o.read);
      if (o.read != "local" && o.read != "webhdfs")
        throw Failure{"--read: expected local or webhdfs, got '" + o.read + "'"};
    } else if (a == "--local-root") {
      value(o.local_root);
    } else if (a == "--work-dir") {
      value(o.work_dir);
    } else if (a == "--name") {
      value(o.name);
    } else if (a == "--timeout") {
      std::string t;
      value(t);
      char* end = nullptr;
      long v = std::strtol(t.c_str(), &end, 10);
      if (t.empty() || *end != '\0' || v < 1 || v > 7 * 86400)
        throw Failure{"--timeout: expected seconds, got '" + t + "'"};
      o.timeout_s = static_cast<int>(v);
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (!a.empty() && a[0] == '-') {
      throw Failure{"unknown option '" + a + "'"};
    } else if (input.empty()) {
      input = a;
    } else {
      throw Failure{"unexpected argument '" + a + "'"};
    }
  }
  if (input.empty()) throw Failure{"no HDFS path given (locus-mapreduce --help)"};
  if (input.rfind("webhdfs://", 0) == 0) {
    const size_t slash = input.find('/', 10);
    if (slash == std::string::npos || slash == 10)
      throw Failure{"expected webhdfs://HOST:PORT/PATH, got '" + input + "'"};
    if (o.namenode.empty()) o.namenode = normalizeNamenode(input.substr(10, slash - 10));
    o.path = input.substr(slash);
  } else if (input.rfind("hdfs:///", 0) == 0) {
    o.path = input.substr(7);
  } else if (input.rfind("hdfs://", 0) == 0) {
    throw Failure{
        "'" + input +
        "' names a NameNode RPC address; give hdfs:///PATH with --namenode HOST:HTTP_PORT, "
        "or webhdfs://HOST:HTTP_PORT/PATH"};
  } else if (!input.empty() && input[0] == '/') {
    o.path = input;
  } else {
    throw Failure{"expected hdfs:///PATH or webhdfs://HOST:PORT/PATH, got '" + input + "'"};
  }
  o.controller = cli::controllerAddress(o.controller);
  if (o.config.empty())
    if (const char* c = std::getenv("LOCUS_CONFIG"); c && *c) o.config = c;
  if (o.name.empty()) o.name = "mapreduce-" + std::to_string(getpid());
  return std::nullopt;
}

// Percent-encodes an HDFS path for a URL, keeping '/'.
std::string urlPath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string firstLine(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

class Driver {
 public:
  explicit Driver(Options o) : o_(std::move(o)), client_(o_.controller), fw_(o_.controller) {}

  // Runs the job; throws Failure. Cleans up its leases in every case (the destructor).
  void run() {
    const auto started = Clock::now();
    deadline_ = started + std::chrono::seconds(o_.timeout_s);
    auto nodes = client_.listNodes(kConnectTimeout);
    if (!nodes.ok()) throw Failure{nodes.error().message};
    nodes_ = std::move(*nodes);
    loadConfig();
    locateBlocks();
    makeWorkDir();

    proto::FrameworkRegister reg;
    reg.set_name(o_.name);
    reg.set_failover_timeout_s(kFailoverTimeoutS);
    auto registered = fw_.open(reg);
    if (!registered.ok())
      throw Failure{"registering framework " + o_.name + ": " + registered.error().message};
    open_ = true;
    // Leases of an earlier run under the same --name (within its failover timeout) are of no
    // use to this one: its tasks' outputs are gone with that run.
    for (const auto& stale : registered->leases()) fw_.release(stale.id());

    runMaps();
    const auto [sum, maps] = runReduce();
    if (maps != blocks_.size())
      throw Failure{"the reduce task summed " + std::to_string(maps) + " map outputs, expected " +
                    std::to_string(blocks_.size())};

    int node_local = 0, rack_local = 0, remote = 0;
    for (const std::string& l : locality_)
      (l == "node_local" ? node_local : l == "rack_local" ? rack_local : remote)++;
    std::printf("lines=%llu files=%zu blocks=%zu\n", static_cast<unsigned long long>(sum), files_,
                blocks_.size());
    std::printf("node_local=%d rack_local=%d remote=%d\n", node_local, rack_local, remote);
    std::fflush(stdout);
    if (o_.verbose)
      std::fprintf(stderr, "locus-mapreduce: done in %.1f s\n",
                   std::chrono::duration<double>(Clock::now() - started).count());
    succeeded_ = true;
  }

  ~Driver() {
    if (open_) releaseEverything();
    fw_.close();
    if (!own_work_dir_) return;
    std::error_code ec;
    if (succeeded_) {
      fs::remove_all(o_.work_dir, ec);
    } else {
      std::fprintf(stderr, "locus-mapreduce: task outputs kept in %s\n", o_.work_dir.c_str());
    }
  }

 private:
  // What one lease is being used for.
  struct Held {
    int block = -1;  // -1: the reduce
    int attempt = 0;
    std::string node;
    std::string locality;
    std::string out, err;
  };

  void loadConfig() {
    if (o_.config.empty()) return;
    auto config = locus::loadConfig(o_.config);
    if (!config.ok()) throw Failure{config.error().message};
    if (o_.namenode.empty() && !config->locality.hdfs_namenode.empty())
      o_.namenode = normalizeNamenode(config->locality.hdfs_namenode);
    user_ = config->locality.hdfs_user;
    timeout_ms_ = static_cast<int>(config->locality.hdfs_timeout_ms);
    hosts_ = config->locality.hdfs_hosts;
  }

  // The NameNode the controller uses for hdfs:/// inputs: its LocateData answer names it
  // ("hdfs http://nn:9870"). The controller has no call for its settings, and this is the
  // address `locus submit --input hdfs:///...` would use.
  std::string controllersNamenode() {
    auto located = client_.locateData("hdfs://" + o_.path);
    if (!located.ok())
      throw Failure{"hdfs://" + o_.path + ": " + located.error().message +
                    " (give --namenode HOST:PORT, or --config with a [locality.hdfs] namenode)"};
    const std::string& source = located->source();
    if (source.rfind("hdfs ", 0) != 0)
      throw Failure{"the controller located hdfs://" + o_.path + " in '" + source + "'"};
    return normalizeNamenode(source.substr(5));
  }

  void locateBlocks() {
    if (o_.namenode.empty()) o_.namenode = controllersNamenode();
    locality::WebHdfsOptions wo;
    wo.namenode = o_.namenode;
    wo.user = user_;
    wo.timeout_ms = timeout_ms_ > 0 ? timeout_ms_ : 5000;
    wo.cache_ttl_s = 0;
    auto locator = locality::WebHdfsLocator::create(wo);
    if (!locator.ok()) throw Failure{"--namenode " + o_.namenode + ": " + locator.error().message};
    auto files = (*locator)->locate(o_.path);
    if (!files.ok()) throw Failure{files.error().message};

    // Racks: the leaf switch of the node each replica host maps to (the controller maps hosts
    // the same way). Nodes under no switch give no rack.
    std::vector<locality::NodeIdentity> ids;
    for (const auto& n : nodes_.nodes()) ids.push_back({n.name(), n.address()});
    locality::HostMapper mapper(hosts_, ids);
    std::map<std::string, std::string> rack_of;
    for (const auto& sw : nodes_.switches())
      for (const auto& n : sw.nodes()) rack_of[n] = sw.name();

    files_ = files->size();
    for (const auto& f : *files)
      for (const auto& b : f.blocks) {
        Block block{f.path, b.offset, b.length, b.hosts, {}};
        for (const auto& h : b.hosts)
          if (auto node = mapper.map(h); node && rack_of.count(*node) &&
                                         std::find(block.racks.begin(), block.racks.end(),
                                                   rack_of[*node]) == block.racks.end())
            block.racks.push_back(rack_of[*node]);
        blocks_.push_back(std::move(block));
      }
    if (blocks_.empty())
      throw Failure{"hdfs://" + o_.path + ": no blocks to read (empty files only)"};
    if (o_.verbose)
      std::fprintf(stderr, "locus-mapreduce: %s: %zu files, %zu blocks (namenode %s)\n",
                   o_.path.c_str(), files_, blocks_.size(), o_.namenode.c_str());
  }

  void makeWorkDir() {
    std::error_code ec;
    if (o_.work_dir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/locus-mapreduce-XXXXXX";
      if (!mkdtemp(templ.data()))
        throw Failure{"cannot create a work directory in " + templ + ": " + std::strerror(errno)};
      chmod(templ.c_str(), 0755);
      o_.work_dir = templ;
      own_work_dir_ = true;
    } else {
      fs::create_directories(o_.work_dir, ec);
      if (ec) throw Failure{"--work-dir " + o_.work_dir + ": " + ec.message()};
      o_.work_dir = fs::absolute(o_.work_dir).string();
    }
  }

  // The map task's command: count the newlines of the block's byte range, to stdout.
  proto::FrameworkLaunch mapTask(uint64_t lease, int block, int attempt, Held& held) {
    const Block& b = blocks_[block];
    const std::string id = "map-" + std::to_string(block) + "-a" + std::to_string(attempt);
    held.out = o_.work_dir + "/" + id + ".out";
    held.err = o_.work_dir + "/" + id + ".err";
    proto::FrameworkLaunch l;
    l.set_lease_id(lease);
    l.set_task_id(id);
    l.set_cpus(1);
    l.set_stdout_path(held.out);
    l.set_stderr_path(held.err);
    l.set_work_dir(o_.work_dir);
    auto& env = *l.mutable_environment();
    env["MR_OFFSET"] = std::to_string(b.offset);
    env["MR_LENGTH"] = std::to_string(b.length);
    if (o_.read == "local") {
      // `tail | head` stops reading at the block's end; a missing file is an error, not 0 lines.
      env["MR_FILE"] = (fs::path(o_.local_root) / fs::path(b.file).relative_path()).string();
      l.add_argv("/bin/sh");
      l.add_argv("-c");
      l.add_argv(
          "[ -r \"$MR_FILE\" ] || { echo \"map: cannot read $MR_FILE on $LOCUS_NODENAME\" >&2; "
          "exit 66; }; "
          "tail -c +$((MR_OFFSET + 1)) \"$MR_FILE\" | head -c \"$MR_LENGTH\" | wc -l");
    } else {
      // WebHDFS OPEN: the NameNode redirects to a DataNode with the block, the caller's own
      // when it has one, which is what a node-local lease buys.
      std::string url = o_.namenode + "/webhdfs/v1" + urlPath(b.file) +
                        "?op=OPEN&offset=" + std::to_string(b.offset) +
                        "&length=" + std::to_string(b.length);
      if (!user_.empty()) url += "&user.name=" + user_;
      env["MR_URL"] = url;
      l.add_argv("/bin/bash");
      l.add_argv("-c");
      l.add_argv("set -o pipefail; curl -sSfL \"$MR_URL\" | wc -l");
    }
    return l;
  }

  void request(const std::string& id, const Block* b) {
    proto::LeaseRequest req;
    req.set_id(id);
    req.set_count(1);
    req.set_cpus(1);
    req.set_duration_hint_s(kDurationHintS);
    if (b) {
      for (const auto& h : b->hosts) req.add_nodes(h);
      for (const auto& r : b->racks) req.add_racks(r);
    }
    if (!fw_.request(req))
      throw Failure{"the controller closed the framework stream: " + fw_.why()};
  }

  void release(uint64_t lease) {
    held_.erase(lease);
    fw_.release(lease);
  }

  // The next event; throws at the deadline, when the stream ends, and on a refused call.
  proto::FrameworkEvent nextEvent(const std::string& waiting_for) {
    auto e = fw_.next(deadline_);
    if (!e) {
      if (fw_.ended()) throw Failure{"lost the controller at " + o_.controller + ": " + fw_.why()};
      throw Failure{"timed out after " + std::to_string(o_.timeout_s) + " s waiting for " +
                    waiting_for};
    }
    if (e->has_error()) {
      // A launch into a lease that ended or is being revoked meanwhile is refused naming that
      // lease ("lease 42 is CANCELLED, not granted"): that attempt failed, the run goes on.
      // Any other refusal is a bug in the driver or a request the cluster cannot serve.
      if (auto lease = refusedLease(e->error())) {
        auto it = held_.find(*lease);
        Held h = it->second;
        release(*lease);
        if (h.block < 0) throw Failure{"the controller refused the reduce task: " + e->error()};
        mapFailed(h.block, h.attempt, "launch refused: " + e->error());
        return nextEvent(waiting_for);
      }
      throw Failure{"the controller refused a call: " + e->error()};
    }
    if (e->has_revoked() && o_.verbose)
      std::fprintf(stderr, "locus-mapreduce: lease %llu revoked (%s); its task will be retried\n",
                   static_cast<unsigned long long>(e->revoked().lease_id()),
                   e->revoked().reason().c_str());
    return *e;
  }

  // The held lease a refusal names, if any.
  std::optional<uint64_t> refusedLease(const std::string& error) const {
    for (size_t at = error.find("lease "); at != std::string::npos;
         at = error.find("lease ", at + 1)) {
      unsigned long long id = 0;
      if (std::sscanf(error.c_str() + at, "lease %llu", &id) == 1 && held_.count(id)) return id;
    }
    return std::nullopt;
  }

  // Parses "map-B-aN".
  static std::optional<std::pair<int, int>> mapRequest(const std::string& id) {
    int block = 0, attempt = 0;
    char tail = 0;
    if (std::sscanf(id.c_str(), "map-%d-a%d%c", &block, &attempt, &tail) != 2) return std::nullopt;
    return std::make_pair(block, attempt);
  }

  // An attempt of `block` failed: ask for a new lease, or give up after kMaxAttempts.
  void mapFailed(int block, int attempt, const std::string& why) {
    failures_[block].push_back(why);
    if (o_.verbose)
      std::fprintf(stderr, "locus-mapreduce: map %d attempt %d failed: %s\n", block, attempt,
                   why.c_str());
    if (attempt >= kMaxAttempts) {
      std::string all;
      for (const auto& w : failures_[block]) all += (all.empty() ? "" : "; ") + w;
      const Block& b = blocks_[block];
      throw Failure{"map task for " + b.file + " bytes " + std::to_string(b.offset) + "+" +
                    std::to_string(b.length) + " failed " + std::to_string(attempt) +
                    " times: " + all};
    }
    request("map-" + std::to_string(block) + "-a" + std::to_string(attempt + 1), &blocks_[block]);
  }

  void runMaps() {
    for (size_t i = 0; i < blocks_.size(); ++i)
      request("map-" + std::to_string(i) + "-a1", &blocks_[i]);
    locality_.assign(blocks_.size(), "");
    map_outputs_.assign(blocks_.size(), "");
    size_t done = 0;
    while (done < blocks_.size()) {
      proto::FrameworkEvent e = nextEvent(std::to_string(blocks_.size() - done) + " map tasks");
      if (e.has_lease()) {
        const proto::Lease& lease = e.lease();
        auto req = mapRequest(lease.request_id());
        if (!req || req->first < 0 || static_cast<size_t>(req->first) >= blocks_.size() ||
            !map_outputs_[req->first].empty()) {
          fw_.release(lease.id());  // not ours to use (a stale attempt)
          continue;
        }
        Held& h = held_[lease.id()];
        h.block = req->first;
        h.attempt = req->second;
        h.node = lease.node();
        h.locality = lease.locality();
        if (!fw_.launch(mapTask(lease.id(), h.block, h.attempt, h)))
          throw Failure{"the controller closed the framework stream: " + fw_.why()};
      } else if (e.has_task()) {
        const proto::TaskStatus& t = e.task();
        auto it = held_.find(t.lease_id());
        if (it == held_.end() || t.state() == "RUNNING") continue;
        Held h = it->second;
        release(t.lease_id());
        std::string count = firstLine(readAll(h.out));
        const bool numeric =
            !count.empty() && count.find_first_not_of("0123456789 ") == std::string::npos;
        if (t.state() == "COMPLETED" && numeric) {
          map_outputs_[h.block] = h.out;
          locality_[h.block] = h.locality;
          ++done;
          if (o_.verbose)
            std::fprintf(stderr, "locus-mapreduce: map %d on %s (%s): %s lines\n", h.block,
                         h.node.c_str(), h.locality.empty() ? "no preference" : h.locality.c_str(),
                         count.c_str());
          continue;
        }
        std::string why = t.state() + " exit " + std::to_string(t.exit_code()) + " on " + h.node;
        if (!t.message().empty()) why += " (" + t.message() + ")";
        if (std::string err = firstLine(readAll(h.err)); !err.empty()) why += ": " + err;
        if (t.state() == "COMPLETED") why += ": output '" + count + "' is not a count";
        mapFailed(h.block, h.attempt, why);
      } else if (e.has_lease_ended()) {
        // Ended under a running task (revoked, node failure): that attempt is lost.
        auto it = held_.find(e.lease_ended().lease_id());
        if (it == held_.end()) continue;
        Held h = it->second;
        held_.erase(it);
        mapFailed(h.block, h.attempt, "lease ended on " + h.node + ": " + e.lease_ended().reason());
      }
    }
  }

  // The reduce: one task that sums the map outputs; returns (sum, outputs summed).
  std::pair<uint64_t, size_t> runReduce() {
    const std::string inputs = o_.work_dir + "/reduce.inputs";
    {
      std::ofstream out(inputs);
      for (const auto& m : map_outputs_) out << m << "\n";
      if (!out) throw Failure{"cannot write " + inputs};
    }
    request("reduce", nullptr);
    const std::string out = o_.work_dir + "/reduce.out", err = o_.work_dir + "/reduce.err";
    uint64_t lease = 0;
    while (true) {
      proto::FrameworkEvent e = nextEvent("the reduce task");
      if (e.has_lease() && e.lease().request_id() == "reduce" && lease == 0) {
        lease = e.lease().id();
        Held& h = held_[lease];
        h.node = e.lease().node();
        h.out = out;
        h.err = err;
        proto::FrameworkLaunch l;
        l.set_lease_id(lease);
        l.set_task_id("reduce");
        l.set_cpus(1);
        l.set_stdout_path(out);
        l.set_stderr_path(err);
        l.set_work_dir(o_.work_dir);
        (*l.mutable_environment())["MR_INPUTS"] = inputs;
        l.add_argv("/bin/sh");
        l.add_argv("-c");
        l.add_argv(
            "while IFS= read -r f; do cat \"$f\"; done < \"$MR_INPUTS\" | "
            "awk '{ s += $1 } END { printf \"%d %d\\n\", s, NR }'");
        if (!fw_.launch(l))
          throw Failure{"the controller closed the framework stream: " + fw_.why()};
      } else if (e.has_lease()) {
        fw_.release(e.lease().id());  // a map attempt granted after its block was done
      } else if (e.has_task() && e.task().lease_id() == lease && e.task().state() != "RUNNING") {
        const proto::TaskStatus& t = e.task();
        release(lease);
        unsigned long long sum = 0, n = 0;
        const std::string text = readAll(out);
        if (t.state() != "COMPLETED" || std::sscanf(text.c_str(), "%llu %llu", &sum, &n) != 2)
          throw Failure{"reduce task " + t.state() + " exit " + std::to_string(t.exit_code()) +
                        " on " + t.node() + ": " + firstLine(readAll(err)) +
                        (text.empty() ? "" : " (output '" + firstLine(text) + "')")};
        return {sum, n};
      } else if (e.has_lease_ended() && e.lease_ended().lease_id() == lease && held_.count(lease)) {
        throw Failure{"the reduce task's lease ended: " + e.lease_ended().reason()};
      }
    }
  }

  // Gives back every lease this framework holds or still waits for, so that nothing waits for
  // the failover timeout. Pending requests are known only by listing them.
  void releaseEverything() {
    std::set<uint64_t> leases;
    for (const auto& [id, h] : held_) leases.insert(id);
    if (auto listed = cli::listFrameworks(o_.controller); listed.ok())
      for (const auto& f : listed->frameworks())
        if (f.name() == o_.name)
          for (const auto& l : f.leases()) leases.insert(l.id());
    for (uint64_t id : leases) fw_.release(id);
    // Wait (briefly) for the releases to be confirmed, so the next job sees the cores free.
    const auto until = Clock::now() + std::chrono::seconds(2);
    size_t confirmed = 0;
    while (confirmed < leases.size() && !fw_.ended()) {
      auto e = fw_.next(until);
      if (!e) break;
      if (e->has_lease_ended() && leases.count(e->lease_ended().lease_id())) ++confirmed;
      if (e->has_error()) ++confirmed;  // already gone
    }
    held_.clear();
  }

  Options o_;
  cli::Client client_;
  cli::FrameworkSession fw_;
  Clock::time_point deadline_;
  proto::ListNodesReply nodes_;
  std::string user_;
  int timeout_ms_ = 5000;
  std::map<std::string, std::string> hosts_;  // [locality.hdfs] hosts
  size_t files_ = 0;
  std::vector<Block> blocks_;
  std::map<uint64_t, Held> held_;         // granted leases in use
  std::vector<std::string> locality_;     // per block: its successful lease's locality
  std::vector<std::string> map_outputs_;  // per block: its successful output file
  std::map<int, std::vector<std::string>> failures_;
  bool open_ = false;
  bool own_work_dir_ = false;
  bool succeeded_ = false;
};

}  // namespace
}  // namespace locus::examples

int main(int argc, char** argv) {
  using locus::examples::Failure;
  locus::examples::Options options;
  try {
    if (auto status = locus::examples::parseArgs(argc, argv, options)) return *status;
  } catch (const Failure& f) {
    std::fprintf(stderr, "locus-mapreduce: %s\n", f.why.c_str());
    return 2;
  }
  // The error first, then the driver's cleanup (its leases released, where outputs were kept).
  auto driver = std::make_unique<locus::examples::Driver>(options);
  try {
    driver->run();
  } catch (const Failure& f) {
    std::fprintf(stderr, "locus-mapreduce: %s\n", f.why.c_str());
    return 1;
  }
  return 0;
}
