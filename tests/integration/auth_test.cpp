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

namespace locus::testing {
namespace {

// Two real Unix users (created here when root; the test needs root to switch users): each runs
// the CLI as themselves, authenticated by their own MUNGE credential. The owner may cancel and
// hold their job; the other user is refused and changes nothing; an admin may act on anyone's
// job; --account is accepted only for an account the user belongs to.
class TwoUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create and switch users";
    if (access("/usr/sbin/useradd", X_OK) != 0) GTEST_SKIP() << "no useradd";
    for (const char* name : {"locus-t-alice", "locus-t-bob"}) {
      if (runCommand({"/usr/bin/id", "-u", name}).exit_code != 0) {
        auto r = runCommand({"/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        created_.push_back(name);
      }
      uids_.push_back(std::stoi(runCommand({"/usr/bin/id", "-u", name}).out));
    }
    cluster_ = std::make_unique<TestCluster>(TestCluster::Options{
        .nodes = 1,
        .config = "[[account]]\nname = \"physics\"\nusers = [\"locus-t-alice\"]\n"
                  "[[account]]\nname = \"chemistry\"\nusers = [\"locus-t-bob\"]\n"});
    ASSERT_TRUE(cluster_->startController());
    ASSERT_TRUE(cluster_->startNode(0));
    ASSERT_TRUE(cluster_->waitNodesUp(1, std::chrono::seconds(20)));
    // The users must reach the CLI, the munge socket and the work directory.
    fs::permissions(cluster_->dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                         fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(cluster_->workDir(), fs::perms::all | fs::perms::sticky_bit);
    cli_ = cluster_->dir() + "/locus";
    fs::copy_file(binDir() + "/locus", cli_);
  }
  void TearDown() override {
    cluster_.reset();
    for (const auto& name : created_) runCommand({"/usr/sbin/userdel", name});
  }
  CommandResult as(int who, std::vector<std::string> args) {
    const std::string id = std::to_string(uids_[who]);
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=" + id, "--regid=65534", "--clear-groups",
                                  cli_, "--controller", cluster_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, {{"LOCUS_MUNGE_SOCKET", cluster_->mungeSocket()}}, cluster_->workDir());
  }
  std::unique_ptr<TestCluster> cluster_;
  std::vector<std::string> created_;
  std::vector<int> uids_;
  std::string cli_;
};

TEST_F(TwoUsers, OwnersActOthersAreRefusedAdminsMay) {
  constexpr int kAlice = 0, kBob = 1;
  auto submitted = as(kAlice, {"submit", "--parsable", "--wrap", "sleep 300"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string id = std::to_string(std::stoull(submitted.out));
  ASSERT_TRUE(waitUntil([&] { return cluster_->job(std::stoull(id))["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  EXPECT_EQ(cluster_->job(std::stoull(id))["user"], "locus-t-alice");
  EXPECT_EQ(cluster_->job(std::stoull(id))["account"], "physics");

  // Bob may look, not touch.
  EXPECT_EQ(as(kBob, {"queue"}).exit_code, 0);
  for (const char* verb : {"cancel", "requeue", "hold"}) {
    auto denied = as(kBob, {verb, id});
    EXPECT_NE(denied.exit_code, 0) << verb;
    EXPECT_NE(denied.err.find("permission denied: job " + id + " belongs to locus-t-alice"), std::string::npos)
        << verb << ": " << denied.err;
  }
  auto job = cluster_->job(std::stoull(id));
  EXPECT_EQ(job["state"], "RUNNING");
  EXPECT_EQ(job["attempt"], 0);

  // An account he is not in.
  auto wrong = as(kBob, {"submit", "-A", "physics", "--wrap", "true"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("does not belong to account 'physics'"), std::string::npos) << wrong.err;

  // Alice may; so may root (an admin) on Bob's job.
  EXPECT_EQ(as(kAlice, {"cancel", id}).exit_code, 0);
  EXPECT_TRUE(cluster_->waitTerminal({std::stoull(id)}, std::chrono::seconds(20)));
  EXPECT_EQ(cluster_->job(std::stoull(id))["state"], "CANCELLED");
  auto bobs = as(kBob, {"submit", "--parsable", "--wrap", "sleep 300"});
  ASSERT_EQ(bobs.exit_code, 0) << bobs.err;
  EXPECT_EQ(cluster_->job(std::stoull(bobs.out))["user"], "locus-t-bob");
  EXPECT_EQ(cluster_->locus({"cancel", std::to_string(std::stoull(bobs.out))}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
