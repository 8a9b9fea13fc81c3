// The Slurm drop-in commands against a real cluster: sbatch, squeue, scancel, sacct, scontrol
// as scripts call them, parsed the way scripts parse them.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

class SlurmShims : public ::testing::Test {
 protected:
  SlurmShims() : cluster_({.nodes = 1}) {}
  void SetUp() override {
    ASSERT_TRUE(cluster_.startController());
    ASSERT_TRUE(cluster_.startNode(0));
    ASSERT_TRUE(cluster_.waitNodesUp(1, std::chrono::seconds(20)));
  }
  CommandResult slurm(const std::string& command, const std::vector<std::string>& args) {
    std::vector<std::string> argv{binDir() + "/" + command};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  }
  TestCluster cluster_;
};

TEST_F(SlurmShims, SubmitQueueCancelAccount) {
  auto sub = slurm("sbatch", {"--parsable", "-J", "sleeper", "--wrap", "sleep 300"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  std::string id = sub.out.substr(0, sub.out.find('\n'));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(sub.out, id + "\n");

  // squeue -h -j ID -o "%i %T" until the job runs.
  ASSERT_TRUE(waitUntil([&] { return slurm("squeue", {"-h", "-j", id, "-o", "%i %T"}).out == id + " RUNNING\n"; },
                        std::chrono::seconds(20)));
  auto q = slurm("squeue", {});
  EXPECT_EQ(q.exit_code, 0);
  EXPECT_EQ(q.out.rfind("             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n", 0), 0u)
      << q.out;
  EXPECT_NE(q.out.find(" sleeper "), std::string::npos) << q.out;

  auto show = slurm("scontrol", {"show", "job", id});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.rfind("JobId=" + id + " JobName=sleeper\n", 0), 0u) << show.out;
  EXPECT_NE(show.out.find(" JobState=RUNNING "), std::string::npos) << show.out;

  auto cancel = slurm("scancel", {id});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  ASSERT_TRUE(cluster_.waitTerminal({std::stoull(id)}, std::chrono::seconds(20)));

  auto acct = slurm("sacct", {"-j", id, "-P", "-n", "-o", "JobID,State,ExitCode"});
  EXPECT_EQ(acct.exit_code, 0) << acct.err;
  EXPECT_EQ(acct.out, id + "|CANCELLED|0:15\n" + id + ".batch|CANCELLED|0:15\n");

  // A finished job is still visible to squeue -j, and a normal one completes with 0:0.
  EXPECT_EQ(slurm("squeue", {"-h", "-j", id, "-o", "%t"}).out, "CA\n");
  sub = slurm("sbatch", {"--wrap", "true"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  ASSERT_EQ(sub.out.rfind("Submitted batch job ", 0), 0u) << sub.out;
  std::string id2 = sub.out.substr(20, sub.out.size() - 21);
  ASSERT_TRUE(cluster_.waitTerminal({std::stoull(id2)}, std::chrono::seconds(20)));
  EXPECT_EQ(slurm("sacct", {"-X", "-j", id2, "-P", "-n", "-o", "State,ExitCode"}).out, "COMPLETED|0:0\n");
}

TEST_F(SlurmShims, ScancelSignalReachesTheRunningScript) {
  // The script traps USR1 and ends cleanly: signalled, not cancelled.
  auto sub = slurm("sbatch", {"--parsable", "--wrap",
                              "trap 'echo got-usr1; exit 0' USR1; echo ready; while :; do sleep 0.1; done"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  std::string id = sub.out.substr(0, sub.out.find('\n'));
  auto out = [&] {
    auto j = cluster_.job(std::stoull(id));
    return j["stdout"].is_string() ? readFile(j["stdout"].get<std::string>()) : std::string();
  };
  ASSERT_TRUE(waitUntil([&] { return out().find("ready") != std::string::npos; }, std::chrono::seconds(20)));
  auto r = slurm("scancel", {"--signal=USR1", id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(cluster_.waitTerminal({std::stoull(id)}, std::chrono::seconds(20)));
  EXPECT_NE(out().find("got-usr1"), std::string::npos) << out();
  EXPECT_EQ(slurm("sacct", {"-X", "-j", id, "-P", "-n", "-o", "State,ExitCode"}).out, "COMPLETED|0:0\n");
  // A job that no longer runs cannot be signalled; a bad signal name is refused.
  r = slurm("scancel", {"-s", "USR1", id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "scancel: error: Kill job error on job id " + id + ": Job/step already completing or completed\n");
  r = slurm("scancel", {"--signal", "NOPE", id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Invalid job signal"), std::string::npos) << r.err;
}

TEST_F(SlurmShims, ErrorsAsSlurmGivesThem) {
  auto r = slurm("scancel", {"999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "scancel: error: Kill job error on job id 999999: Invalid job id specified\n");
  r = slurm("scontrol", {"show", "job", "999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "slurm_load_jobs error: Invalid job id specified\n");
  r = slurm("squeue", {"-j", "999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "slurm_load_jobs error: Invalid job id specified\n");
  r = slurm("scontrol", {"hold", "999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Invalid job id specified"), std::string::npos) << r.err;
  r = slurm("scontrol", {"suspend", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not supported"), std::string::npos);
  r = slurm("sbatch", {"--mem=abc", "--wrap", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind("sbatch: error: ", 0), 0u) << r.err;
  auto info = slurm("sinfo", {"-h", "-o", "%P %D %t"});
  EXPECT_EQ(info.out, "locus* 1 idle\n");
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// Every real #SBATCH script in ../shared/data/sbatch submits through `sbatch` unchanged, on an
// emulated cluster big enough for the largest: 4 nodes of 64 cores, 512 GB and 4 RTX A4000 GPUs
// (tests/data/gpu-node-2x32c-4gpu.xml), with the features the scripts' sites give their nodes
// ("skylake"). Their site module loads then fail at run time; submission is what is checked. The
// scripts are read from shared/ at test time (they are other people's code, not copied here).
TEST(SlurmScripts, RealSbatchScriptsSubmitUnchanged) {
  const std::string dir = std::string(LOCUS_SHARED_DIR) + "/data/sbatch";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent";
  TestCluster cluster({.nodes = 4,
                       .topology_xml = std::string(LOCUS_TEST_DATA) + "/gpu-node-2x32c-4gpu.xml",
                       .config = "[[node]]\nnames = \"n[1-4]\"\nfeatures = [\"skylake\"]\n"});
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(4, std::chrono::seconds(20)));
  std::vector<std::string> ids{"cancel"};
  size_t scripts = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().filename().string());
    ++scripts;
    auto r = runCommand({binDir() + "/sbatch", "--parsable", entry.path().string()},
                        {{"LOCUS_CONTROLLER", cluster.address()}}, cluster.workDir());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code == 0) ids.push_back(r.out.substr(0, r.out.find('\n')));
  }
  EXPECT_GE(scripts, 20u);
  cluster.locus(ids);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// sacctmgr, read-only: the account tree as scripts query it (`sacctmgr -nP show assoc ...`).
TEST(SlurmScripts, SacctmgrListsTheAccountTree) {
  TestCluster cluster({.nodes = 1,
                       .config = "[[account]]\nname = \"physics\"\nshares = 3\nusers = [\"root\"]\n"
                                 "[[account]]\nname = \"theory\"\nparent = \"physics\"\n"});
  ASSERT_TRUE(cluster.startController());
  std::map<std::string, std::string> env{{"LOCUS_CONTROLLER", cluster.address()}};
  auto assoc = runCommand({binDir() + "/sacctmgr", "-nP", "show", "assoc", "where", "user=root",
                           "format=account,user,share"}, env);
  EXPECT_EQ(assoc.exit_code, 0) << assoc.err;
  EXPECT_EQ(assoc.out, "physics|root|1\n");
  auto accounts = runCommand({binDir() + "/sacctmgr", "-nP", "list", "accounts", "format=Account,ParentName,Share"}, env);
  EXPECT_EQ(accounts.exit_code, 0) << accounts.err;
  EXPECT_NE(accounts.out.find("physics|root|3\n"), std::string::npos) << accounts.out;
  EXPECT_NE(accounts.out.find("theory|physics|1\n"), std::string::npos) << accounts.out;
  auto user = runCommand({binDir() + "/sacctmgr", "-nP", "show", "user", "root"}, env);
  EXPECT_EQ(user.out, "root|physics|Administrator\n") << user.err;
  auto users = runCommand({binDir() + "/sacctmgr", "-nP", "show", "users", "name=root"}, env);
  EXPECT_EQ(users.out, "root|physics|Administrator\n") << users.err;
  auto bad = runCommand({binDir() + "/sacctmgr", "add", "account", "x"}, env);
  EXPECT_NE(bad.exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
