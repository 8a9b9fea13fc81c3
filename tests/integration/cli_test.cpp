// The CLI and the daemons refuse bad input with one clear line and a non-zero exit, storing
// nothing; `locus up` / `locus down` start and stop a whole cluster.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {
namespace fs = std::filesystem;

TEST(Cli, BadSubmissionsAreRefusedAndNothingIsStored) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  std::ofstream(cluster.workDir() + "/binary.sh") << std::string("\x7f" "ELF\0\0\0\x02", 8);
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string message;  // must appear in the one error line
  };
  std::vector<Case> cases{
      {"bad memory", {"--mem=abc", "--wrap", "true"}, "--mem"},
      {"bad time", {"--time=1:2:3:4", "--wrap", "true"}, "--time"},
      {"zero nodes", {"--nodes=0", "--wrap", "true"}, "--nodes"},
      {"missing script", {"no-such-script.sh"}, "no-such-script.sh"},
      {"binary script", {"binary.sh"}, "binary"},
      {"bad array", {"--array=5-1", "--wrap", "true"}, "--array"},
      {"unknown option", {"--frobnicate", "--wrap", "true"}, "--frobnicate"},
      {"more cpus than any node", {"-c", "64", "--wrap", "true"}, "cpus"},
      {"more nodes than the cluster", {"-N", "3", "--wrap", "true"}, "nodes"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> args{"submit"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = cluster.locus(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_TRUE(cluster.jobs("all").empty());
  // Unknown commands and job ids.
  EXPECT_NE(cluster.locus({"frobnicate"}).exit_code, 0);
  auto r = cluster.locus({"show", "999"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos);
  EXPECT_NE(cluster.locus({"cancel", "abc"}).exit_code, 0);
  EXPECT_EQ(cluster.locus({"wait", "999"}).exit_code, 2);
}

TEST(Cli, ControllerRefusesABadConfigNamingKeyAndLine) {
  char tmpl[] = "/tmp/locus-cfg-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/locus.toml") << "[controller]\nlisen = \"127.0.0.1:0\"\n";
  auto r = runCommand({binDir() + "/locus-controller", "--config", dir + "/locus.toml", "--state", dir + "/s"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("locus.toml:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("controller.lisen"), std::string::npos) << r.err;
  std::ofstream(dir + "/locus.toml", std::ios::trunc) << "[controller]\nnode_timeout_s = \"soon\"\n";
  r = runCommand({binDir() + "/locus-controller", "--config", dir + "/locus.toml", "--state", dir + "/s"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("node_timeout_s"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

TEST(Cli, UpRunsJobsAndDownStopsEveryDaemon) {
  char tmpl[] = "/tmp/locus-up-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // A failed assertion must not leave the cluster running: stopped (again) on the way out.
  struct Down {
    std::string dir;
    ~Down() {
      runCommand({binDir() + "/locus", "down", "--state", dir});
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } down_on_exit{dir};
  auto up = runCommand({binDir() + "/locus", "up", "--nodes", "2", "--state", dir, "--topology",
                        "pack:1 core:4 pu:1", "--detach"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  ASSERT_EQ(up.out.rfind("export LOCUS_CONTROLLER=127.0.0.1:", 0), 0u) << up.out;
  std::string address = up.out.substr(up.out.find('=') + 1);
  address.erase(address.find('\n'));
  // And the controller's HTTP address (/metrics), on the next line, for the same eval.
  EXPECT_NE(up.out.find("\nexport LOCUS_HTTP=127.0.0.1:"), std::string::npos) << up.out;
  // And the private munged's socket (no system munged here): calls without it are refused.
  const auto munge_at = up.out.find("\nexport LOCUS_MUNGE_SOCKET=");
  ASSERT_NE(munge_at, std::string::npos) << up.out;
  std::string socket = up.out.substr(munge_at + std::string("\nexport LOCUS_MUNGE_SOCKET=").size());
  socket.erase(socket.find('\n'));
  EXPECT_EQ(socket, dir + "/munge/munge.socket");
  std::map<std::string, std::string> env{{"LOCUS_CONTROLLER", address}, {"LOCUS_MUNGE_SOCKET", socket}};
  auto refused = runCommand({binDir() + "/locus", "queue"}, {{"LOCUS_CONTROLLER", address}, {"LOCUS_MUNGE_SOCKET", "/nonexistent"}});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("authentication required"), std::string::npos) << refused.err;
  auto submit = runCommand({binDir() + "/locus", "submit", "--parsable", "--wrap", "echo hi"}, env, dir);
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto wait = runCommand({binDir() + "/locus", "wait", "--timeout", "60", submit.out.substr(0, submit.out.size() - 1)}, env);
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
  EXPECT_EQ(readFile(dir + "/locus-" + submit.out.substr(0, submit.out.size() - 1) + ".out"), "hi\n");

  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator(dir + "/pids")) pids.push_back(std::stoi(readFile(e.path())));
  ASSERT_EQ(pids.size(), 4u);  // the controller, two nodes, munged
  auto down = runCommand({binDir() + "/locus", "down", "--state", dir});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  for (pid_t pid : pids) {
    // Gone, or a zombie waiting for its (exited) parent's reaper: not running either way.
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    EXPECT_TRUE(stat.empty() || stat.find(") Z") != std::string::npos) << "pid " << pid << " still running";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// As root, the node daemon runs each task as the user who submitted it; others may not cancel it.
TEST(Cli, TasksRunAsTheSubmittingUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  // nobody must reach the binaries, the work directory and its job script in the node's spool.
  fs::permissions(cluster.dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(cluster.workDir(), fs::perms::all | fs::perms::sticky_bit);
  // The build tree may sit where nobody cannot reach it (under /root, say): use a copy.
  const std::string cli = cluster.dir() + "/locus";
  fs::copy_file(binDir() + "/locus", cli);
  auto as_nobody = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  cli, "--controller", cluster.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, {}, cluster.workDir());
  };
  auto submitted = as_nobody({"submit", "--parsable", "--wrap", "id -u; id -g"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  uint64_t id = std::stoull(submitted.out);
  ASSERT_TRUE(cluster.waitTerminal({id}, std::chrono::seconds(30)));
  auto job = cluster.job(id);
  EXPECT_EQ(job["state"], "COMPLETED") << job.dump();
  EXPECT_EQ(job["user"], "nobody");
  EXPECT_EQ(readFile(job["stdout"]), "65534\n65534\n");

  // root's job cannot be cancelled by nobody, and the denial changes nothing.
  auto mine = cluster.submit({"--wrap", "sleep 300"});
  ASSERT_TRUE(mine);
  auto denied = as_nobody({"cancel", std::to_string(*mine)});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("permission denied: job " + std::to_string(*mine) + " belongs to root"),
            std::string::npos)
      << denied.err;
  EXPECT_NE(cluster.job(*mine)["state"], "CANCELLED");
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*mine)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// [[switch]] tables describe the network; `locus nodes --topology` shows the tree with free and
// total cores per subtree, and a broken tree stops the controller at start with its line.
TEST(Cli, NodesTopologyShowsTheSwitchTree) {
  TestCluster cluster({.nodes = 2,
                       .config = "[[switch]]\nname = \"leaf1\"\nnodes = \"n1\"\n"
                                 "[[switch]]\nname = \"leaf2\"\nnodes = \"n2\"\n"
                                 "[[switch]]\nname = \"spine\"\nswitches = \"leaf[1-2]\"\n"});
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
  auto busy = cluster.submit({"-c", "3", "--wrap", "sleep 300"});
  ASSERT_TRUE(busy);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*busy)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  auto r = cluster.locus({"nodes", "--topology"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2 nodes of 8 cores, 3 of them taken on one node.
  EXPECT_NE(r.out.find("spine                    cores 13/16 free  nodes 2/2 up"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  leaf1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  leaf2"), std::string::npos) << r.out;
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*busy)}).exit_code, 0);

  char tmpl[] = "/tmp/locus-topo-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/locus.toml") << "[[switch]]\nname = \"a\"\nswitches = \"b\"\n";
  auto bad = runCommand({binDir() + "/locus-controller", "--config", dir + "/locus.toml", "--state", dir + "/s"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("switch 'a' (line 1): unknown child switch 'b'"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// Out-of-range requests are refused with INVALID_ARGUMENT naming the field, and store nothing.
TEST(Cli, OutOfRangeRequestsAreRefusedAndStoreNothing) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  const std::string big = cluster.workDir() + "/big.sh";
  {
    std::ofstream out(big);
    out << "#!/bin/sh\n";
    const std::string line(1023, '#');
    for (int i = 0; i < 5 * 1024; ++i) out << line << '\n';  // 5 MiB of comments
  }
  // The CLI refuses it first; the controller's own bound (for other clients) is unit-tested.
  auto r = cluster.locus({"submit", big});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is larger than 4 MiB"), std::string::npos) << r.err;
  r = cluster.locus({"submit", "--cpus-per-task", "1000000", "--wrap", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--cpus-per-task 1000000 is more than"), std::string::npos) << r.err;
  r = cluster.locus({"queue", "--state", "bogus"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown job state 'bogus'"), std::string::npos) << r.err;
  EXPECT_EQ(cluster.jobs("all").size(), 0u);
}

}  // namespace
}  // namespace locus::testing
