// High availability on etcd (issue 8): `locus up --controllers 2 --store etcd` starts a private
// etcd and two controllers; one leads, the other stands by. SIGKILL the leader while 500 jobs are
// being submitted and run: the standby takes over, every acknowledged job ends exactly once, and
// none is lost. Real etcd (Debian's etcd-server), real daemons, real CLI processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::string exported(const std::string& out, const std::string& name) {
  auto at = out.find("export " + name + "=");
  if (at == std::string::npos) return {};
  at += 8 + name.size();
  return out.substr(at, out.find('\n', at) - at);
}

struct HaCluster {
  std::string dir;
  std::map<std::string, std::string> env;
  ~HaCluster() {
    if (dir.empty()) return;
    runCommand({binDir() + "/locus", "down", "--state", dir});
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  CommandResult locus(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{binDir() + "/locus"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, env, dir);
  }
  json controllers() const {
    auto r = locus({"controllers", "--json"});
    return r.out.empty() ? json::array() : json::parse(r.out);
  }
};

// The leader's row of `locus controllers --json`; null when none leads.
json leaderOf(const json& controllers) {
  for (const auto& c : controllers)
    if (c["leader"] == true) return c;
  return nullptr;
}

TEST(HighAvailability, TheStandbyTakesOverAndEveryAcknowledgedJobEndsExactlyOnce) {
  if (!fs::exists("/usr/bin/etcd")) GTEST_SKIP() << "no /usr/bin/etcd (Debian etcd-server; make deps installs it)";
  char tmpl[] = "/tmp/locus-ha-XXXXXX";
  HaCluster cluster;
  cluster.dir = mkdtemp(tmpl);
  auto up = runCommand({binDir() + "/locus", "up", "--nodes", "3", "--controllers", "2", "--store", "etcd", "--state",
                        cluster.dir, "--topology", "pack:1 core:8 pu:1", "--detach"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  const std::string controllers = exported(up.out, "LOCUS_CONTROLLER");
  ASSERT_NE(controllers.find(','), std::string::npos) << "two controllers, listed together: " << up.out;
  cluster.env = {{"LOCUS_CONTROLLER", controllers}, {"LOCUS_MUNGE_SOCKET", exported(up.out, "LOCUS_MUNGE_SOCKET")}};
  EXPECT_TRUE(fs::exists(cluster.dir + "/pids/etcd.pid"));
  EXPECT_TRUE(fs::exists(cluster.dir + "/pids/controller-2.pid"));

  json before = cluster.controllers();
  ASSERT_EQ(before.size(), 2u) << before.dump();
  json leader = leaderOf(before);
  ASSERT_FALSE(leader.is_null()) << before.dump();
  EXPECT_EQ((before[0]["leader"] == true) + (before[1]["leader"] == true), 1) << before.dump();
  const pid_t leader_pid = leader["pid"].get<pid_t>();

  // Jobs are told of both controllers (the leader refreshes the list every 5 s as standbys
  // register in etcd), so a CLI inside a job follows the failover too.
  const std::string told = cluster.dir + "/told.txt";
  ASSERT_TRUE(waitUntil([&] {
    auto r = cluster.locus({"submit", "--parsable", "--wrap", "echo $LOCUS_CONTROLLER > " + told});
    if (r.exit_code != 0) return false;
    cluster.locus({"wait", "--quiet", "--timeout", "20", r.out.substr(0, r.out.find('\n'))});
    return readFile(told).find(',') != std::string::npos;
  }, seconds(30))) << readFile(told);
  const std::string gate = cluster.dir + "/gate", inside = cluster.dir + "/inside.txt";
  auto across = cluster.locus({"submit", "--parsable", "--wrap",
                               "while [ ! -e " + gate + " ]; do sleep 0.1; done; " + binDir() +
                                   "/locus queue > " + inside + " 2>&1; echo rc=$? >> " + inside});
  ASSERT_EQ(across.exit_code, 0) << across.err;

  // 500 jobs, each appending its id to one file when it runs.
  const std::string ran = cluster.dir + "/ran.txt";
  std::mutex mu;
  std::vector<uint64_t> acknowledged;  // guarded by mu
  std::atomic<int> refused{0};
  std::thread submitter([&] {
    int made = 0;
    while (made < 500) {
      auto r = cluster.locus({"submit", "--parsable", "-c", "1", "--wrap", "echo $SLURM_JOB_ID >> " + ran});
      if (r.exit_code != 0) {  // no leader for a moment: not acknowledged, asked again
        ++refused;
        std::this_thread::sleep_for(milliseconds(100));
        continue;
      }
      std::lock_guard lock(mu);
      acknowledged.push_back(std::stoull(r.out));
      ++made;
    }
  });
  ASSERT_TRUE(waitUntil([&] {
    std::lock_guard lock(mu);
    return acknowledged.size() >= 100;
  }, seconds(120)));
  ASSERT_EQ(::kill(leader_pid, SIGKILL), 0);
  const auto killed = steady_clock::now();
  // The standby leads, and serves, within 10 s.
  json now;
  const bool took_over = waitUntil([&] {
    now = leaderOf(cluster.controllers());
    return !now.is_null() && now["pid"].get<pid_t>() != leader_pid && cluster.locus({"queue"}).exit_code == 0;
  }, seconds(30));
  const auto serving = steady_clock::now() - killed;
  ASSERT_TRUE(took_over) << "no new leader";
  EXPECT_LT(serving, seconds(10)) << "the new leader served after "
                                  << std::chrono::duration_cast<milliseconds>(serving).count() << " ms";
  std::printf("failover: new leader serving %lld ms after the SIGKILL; %d submits refused meanwhile\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(serving).count()), refused.load());
  submitter.join();

  // The job started under the old leader reaches the new one.
  std::ofstream(gate).put('\n');
  ASSERT_TRUE(waitUntil([&] { return readFile(inside).find("rc=") != std::string::npos; }, seconds(60)));
  EXPECT_NE(readFile(inside).find("rc=0"), std::string::npos) << readFile(inside);

  // Every acknowledged job ends, COMPLETED, and ran exactly once.
  std::vector<std::string> wait{"wait", "--quiet", "--timeout", "240"};
  for (uint64_t id : acknowledged) wait.push_back(std::to_string(id));
  auto waited = cluster.locus(wait);
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  std::map<uint64_t, int> runs;
  {
    std::istringstream in(readFile(ran));
    for (uint64_t id; in >> id;) runs[id] += 1;
  }
  int lost = 0, twice = 0;
  for (uint64_t id : acknowledged) {
    if (runs[id] == 0) ++lost;
    if (runs[id] > 1) ++twice;
  }
  EXPECT_EQ(acknowledged.size(), 500u);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(twice, 0);
  auto all = cluster.locus({"queue", "--state", "all", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  std::map<uint64_t, std::string> state;
  const json listed = json::parse(all.out);
  for (const auto& j : listed["jobs"]) state[j["id"].get<uint64_t>()] = j["state"].get<std::string>();
  int completed = 0;
  for (uint64_t id : acknowledged) completed += state[id] == "COMPLETED" ? 1 : 0;
  EXPECT_EQ(completed, 500);
}

}  // namespace
}  // namespace locus::testing
