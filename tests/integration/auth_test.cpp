// Authentication end to end (docs/admin-guide.md, "Authentication"): the controller takes every
// caller's identity from a MUNGE credential (a private munged per test cluster), refuses calls
// without one, with a forged or replayed one or one made under another key, refuses node
// daemons under another key, will not start without a working munged unless auth = "none", and
// rate-limits each user.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/private_munged.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;

// A credential from the munged at `socket`, made by the `munge` command (Debian's munge).
std::string credentialFrom(const std::string& socket) {
  auto r = runCommand({"/usr/bin/munge", "-n", "-S", socket});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string cred = r.out;
  while (!cred.empty() && (cred.back() == '\n' || cred.back() == '\r')) cred.pop_back();
  return cred;
}

// A second munged with a key of its own, as an attacker's machine would have.
struct OtherMunged {
  OtherMunged() {
    char tmpl[] = "/tmp/locus-other-munge-XXXXXX";
    dir = mkdtemp(tmpl);
    auto m = startPrivateMunged(dir + "/munge");
    EXPECT_TRUE(m.ok()) << m.error().message;
    if (m.ok()) {
      pid = m->pid;
      socket = m->socket;
    }
  }
  ~OtherMunged() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir);
  }
  std::string dir, socket;
  pid_t pid = 0;
};

class AuthCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/munge", X_OK) != 0) GTEST_SKIP() << "Debian's munge is not installed (make deps)";
    cluster_ = std::make_unique<TestCluster>(TestCluster::Options{.nodes = 1});
    ASSERT_FALSE(cluster_->mungeSocket().empty()) << "no private munged";
    ASSERT_TRUE(cluster_->startController());
    ASSERT_TRUE(cluster_->startNode(0));
    ASSERT_TRUE(cluster_->waitNodesUp(1, std::chrono::seconds(20)));
  }
  // `locus ARGS` with a fixed credential instead of a fresh one.
  CommandResult withCredential(const std::string& cred, std::vector<std::string> args) {
    std::vector<std::string> argv{binDir() + "/locus", "--controller", cluster_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, {{"LOCUS_MUNGE_CREDENTIAL", cred}, {"LOCUS_MUNGE_SOCKET", cluster_->mungeSocket()}});
  }
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(AuthCluster, ACredentialServesOnceAndOnlyUnderTheClustersKey) {
  // A good credential: one call. The same again: a replay, refused.
  const std::string cred = credentialFrom(cluster_->mungeSocket());
  auto first = withCredential(cred, {"queue"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  auto replayed = withCredential(cred, {"queue"});
  EXPECT_NE(replayed.exit_code, 0);
  EXPECT_NE(replayed.err.find("Replayed credential"), std::string::npos) << replayed.err;

  // Made under another key: does not decode.
  OtherMunged other;
  auto foreign = withCredential(credentialFrom(other.socket), {"submit", "--wrap", "true"});
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_NE(foreign.err.find("MUNGE credential refused"), std::string::npos) << foreign.err;

  // Forged text.
  auto forged = withCredential("MUNGE:AwQFAAD1bm8gcmVhbCBjcmVkZW50aWFs:", {"submit", "--wrap", "true"});
  EXPECT_NE(forged.exit_code, 0);
  EXPECT_NE(forged.err.find("MUNGE credential refused"), std::string::npos) << forged.err;

  // None at all.
  auto none = runCommand({binDir() + "/locus", "--controller", cluster_->address(), "queue"},
                         {{"LOCUS_MUNGE_SOCKET", "/nonexistent/munge.socket"}});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("authentication required"), std::string::npos) << none.err;

  // Nothing the refused calls asked for happened.
  EXPECT_EQ(cluster_->jobs("all").size(), 0u);
}

TEST_F(AuthCluster, ANodeUnderAnotherKeyCannotRegister) {
  OtherMunged other;
  // A second node daemon whose credentials come from the other munged.
  const std::string log = cluster_->dir() + "/logs/intruder.log";
  BackgroundCommand intruder({binDir() + "/locus-node", "--controller", cluster_->address(), "--name", "intruder",
                              "--state", cluster_->dir() + "/intruder", "--topology", "pack:1 core:2 pu:1"},
                             {{"LOCUS_MUNGE_SOCKET", other.socket}}, cluster_->dir());
  const std::string controller_log = cluster_->dir() + "/logs/controller.log";
  ASSERT_TRUE(waitUntil([&] { return readFile(controller_log).find("refused a node stream") != std::string::npos; },
                        std::chrono::seconds(20)))
      << readFile(controller_log);
  auto nodes = cluster_->locus({"nodes", "--json"});
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  EXPECT_EQ(nodes.out.find("intruder"), std::string::npos) << nodes.out;
  intruder.signal(SIGKILL);
}

TEST(Auth, ControllerWillNotStartWithoutMungeUnlessTold) {
  char tmpl[] = "/tmp/locus-auth-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/locus.toml") << "[controller]\nlisten = \"127.0.0.1:0\"\n";
  auto r = runCommand({binDir() + "/locus-controller", "--config", dir + "/locus.toml", "--state", dir + "/s"},
                      {{"LOCUS_MUNGE_SOCKET", dir + "/no-such.socket"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("authentication (auth = \"munge\") does not work"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("auth = \"none\""), std::string::npos) << r.err;
  fs::remove_all(dir);
}

TEST(Auth, EachUserIsRateLimited) {
  TestCluster cluster({.nodes = 1, .config = "rpc_rate = 1\nrpc_burst = 3\n"});
  ASSERT_TRUE(cluster.startController());
  // Three calls in the burst go through; the fourth within the second is told to slow down.
  int refused = 0;
  std::string err;
  for (int i = 0; i < 6; ++i) {
    auto r = cluster.locus({"queue"});
    if (r.exit_code != 0) {
      ++refused;
      err = r.err;
    }
  }
  EXPECT_GE(refused, 2) << "6 calls at a rate of 1/s with a burst of 3";
  EXPECT_NE(err.find("rate limit: too many calls from user"), std::string::npos) << err;
}

}  // namespace
}  // namespace locus::testing
