// Real Open MPI programs (tests/mpi, built with mpicc) across emulated nodes through
// `locus run --mpi openmpi` and the `srun` shim: every rank runs on the node and cores Locus
// allocated, results are right, an aborting rank ends the step and leaves nothing behind, and
// real #SBATCH MPI scripts run with only their site module loads removed.
#include <dirent.h>
#include <signal.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/topology.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;

std::string mpiProgram(const std::string& name) { return std::string(LOCUS_MPI_DIR) + "/mpi_" + name; }

class Mpi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.startController());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster_.startNode(i));
    ASSERT_TRUE(cluster_.waitNodesUp(3, std::chrono::seconds(20)));
  }
  // 3 nodes of 8 cores, 2 x 64 GB NUMA domains each (room for the real scripts' memory).
  // 32 ranks that poll busily share 2 CPUs with the daemons: a longer node timeout.
  TestCluster cluster_{{.nodes = 3, .topology = "pack:1 numa:2(memory=68719476736) core:4 pu:1", .node_timeout_s = 20}};
};

TEST_F(Mpi, RanksRunWhereLocusPutThemAndComputeTheRightResult) {
  const std::string script = "PATH=" + binDir() + ":$PATH\n"
                             "locus run --mpi openmpi " + mpiProgram("ring") + "; echo ring-rc=$?\n"
                             "locus run " + mpiProgram("allreduce") + "; echo allreduce-rc=$?\n";
  auto id = cluster_.submit({"-N", "3", "-n", "6", "-t", "5:00", "--wrap", script});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(120)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  ASSERT_EQ(j["state"], "COMPLETED") << out;
  auto f = fieldsOf(out);
  EXPECT_EQ(f["ring-rc"], "0") << out;
  EXPECT_EQ(f["ring"], "15") << out;  // 0 + 1 + ... + 5: every rank passed the token on
  // Without --mpi too: the program is linked with Open MPI, so it starts as one MPI job.
  EXPECT_EQ(f["allreduce-rc"], "0") << out;
  EXPECT_EQ(f["allreduce"], "21") << out;  // 1 + 2 + ... + 6
  EXPECT_EQ(f["size"], "6") << out;

  // The job's layout: 2 ranks on each node in allocation order, one core each.
  const long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::map<uint32_t, std::pair<std::string, uint32_t>> want;  // rank -> node, host CPU
  std::map<std::string, std::set<uint32_t>> node_cpus;
  uint32_t rank = 0;
  for (const auto& a : j["allocation"]) {
    std::vector<uint32_t> cores = a["cores"];
    std::sort(cores.begin(), cores.end());
    for (uint32_t t = 0; t < 2; ++t, ++rank) {
      want[rank] = {a["node"], cores[t] % host_cpus};
      node_cpus[a["node"]].insert(cores[t] % host_cpus);
    }
  }
  std::set<uint32_t> seen;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("rank=", 0) != 0) continue;
    auto r = fieldsOf(line);
    const uint32_t k = static_cast<uint32_t>(std::stoul(r["rank"]));
    SCOPED_TRACE(line);
    EXPECT_TRUE(seen.insert(k).second);
    EXPECT_EQ(r["size"], "6");
    EXPECT_EQ(r["node"], want.at(k).first);
    // Each rank on its own core when the node's cores map to distinct host CPUs (a rankfile),
    // else on its node's cores (the emulated node is bigger than this machine).
    const auto& mine = node_cpus[want.at(k).first];
    if (mine.size() == 2)
      EXPECT_EQ(r["cpus"], std::to_string(want.at(k).second));
    else
      EXPECT_EQ(r["cpus"], formatCpuList({mine.begin(), mine.end()}));
  }
  EXPECT_EQ(seen.size(), 6u) << out;
  // Each run started one Open MPI daemon per node, each a step through its node daemon.
  ASSERT_EQ(j["steps"].size(), 6u);
  for (const auto& s : j["steps"]) {
    EXPECT_EQ(s["name"], "orted");
    EXPECT_EQ(s["state"], "COMPLETED");
  }
}

TEST_F(Mpi, AnAbortingRankEndsTheStepAndLeavesNothingBehind) {
  const std::string script = "PATH=" + binDir() + ":$PATH\n"
                             "locus run --mpi openmpi " + mpiProgram("abort") + "; echo abort-rc=$?\n";
  auto id = cluster_.submit({"-N", "3", "-n", "6", "-t", "5:00", "--wrap", script});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(120)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  EXPECT_EQ(fieldsOf(out)["abort-rc"], "3") << out;  // MPI_Abort's error code
  EXPECT_NE(out.find("MPI_ABORT was invoked on rank 1"), std::string::npos) << out;
  EXPECT_TRUE(waitUntil([&] { return liveProcesses(mpiProgram("abort")) == 0; }, std::chrono::seconds(10)));
  for (const auto& s : j["steps"]) EXPECT_NE(s["state"], "RUNNING") << s.dump();
}

// A batch script that calls Open MPI's own mpirun (no locus run): Open MPI sees the Slurm
// variables Locus sets, takes the hosts and slots from them and starts its daemons with `srun`
// (the shim), one task per node; each daemon holds the job's cores on its node.
TEST_F(Mpi, PlainMpirunInAJobTakesTheAllocationFromTheEnvironment) {
  const std::string script = "PATH=" + binDir() + ":$PATH\n"
                             "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
                             "mpirun " + mpiProgram("ring") + "; echo mpirun-rc=$?\n";
  auto id = cluster_.submit({"-N", "3", "-n", "6", "-t", "5:00", "--wrap", script});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(120)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  ASSERT_EQ(j["state"], "COMPLETED") << out << readFile(j["stderr"].get<std::string>());
  auto f = fieldsOf(out);
  EXPECT_EQ(f["mpirun-rc"], "0") << out;
  EXPECT_EQ(f["ring"], "15") << out;
  std::map<std::string, std::set<std::string>> cpus_of_node;  // node -> the CPUs its ranks ran on
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("rank=", 0) != 0) continue;
    auto r = fieldsOf(line);
    cpus_of_node[r["node"]].insert(r["cpus"]);
  }
  ASSERT_EQ(cpus_of_node.size(), 3u) << out;  // 2 ranks on each node, as the job was laid out
  for (const auto& [node, cpus] : cpus_of_node) EXPECT_EQ(cpus.size(), 2u) << node << "\n" << out;
  ASSERT_EQ(j["steps"].size(), 1u) << j["steps"].dump();
  EXPECT_EQ(j["steps"][0]["name"], "orted");
  EXPECT_EQ(j["steps"][0]["nodes"].size(), 3u);
}

// Outside a job, `locus run --mpi openmpi` first gets an allocation (as srun does), launches
// from a step on its first node, and gives the allocation back with the program's status.
TEST_F(Mpi, OutsideAJobTheMpiLaunchGetsAnAllocationOfItsOwn) {
  auto r = runCommand({binDir() + "/locus", "run", "-N", "3", "-n", "6", "--mpi", "openmpi", mpiProgram("ring")},
                      {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fieldsOf(r.out)["ring"], "15") << r.out;
  std::set<std::string> nodes;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("rank=", 0) == 0) nodes.insert(fieldsOf(line)["node"]);
  EXPECT_EQ(nodes.size(), 3u) << r.out;
  ASSERT_TRUE(waitUntil([&] { return cluster_.jobs("COMPLETED").size() == 1; }, std::chrono::seconds(10)));
  nlohmann::json j = cluster_.job(cluster_.jobs("COMPLETED")[0]["id"].get<uint64_t>());
  // The launcher's step, then one Open MPI daemon per node.
  ASSERT_EQ(j["steps"].size(), 4u) << j["steps"].dump();
  EXPECT_EQ(j["steps"][0]["name"], "mpi_ring");
  // MPI_Abort's code comes back as the exit status, and fails the allocation.
  r = runCommand({binDir() + "/locus", "run", "-n", "2", mpiProgram("abort")},
                 {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(waitUntil([&] { return cluster_.jobs("FAILED").size() == 1; }, std::chrono::seconds(10)));
}

// mpirun starts each node's daemon through locus-mpi-agent, which hands it to the `locus run`
// that started mpirun. An agent killed (as mpirun kills its agents when it gives up) takes its
// node's daemon and ranks with it: nothing of the step is left on any node.
TEST_F(Mpi, AKilledLaunchAgentTakesItsNodesDaemonAndRanksWithIt) {
  const std::string marker = "sleep 4" + std::to_string(getpid() % 1000);
  const std::string script = "PATH=" + binDir() + ":$PATH\n"
                             "locus run --mpi openmpi " + marker + "; echo mpi-rc=$?\n";
  auto id = cluster_.submit({"-N", "3", "-n", "3", "-t", "5:00", "--wrap", script});
  ASSERT_TRUE(id);
  // Every rank runs: three agents wait for their daemons.
  ASSERT_TRUE(waitUntil([&] { return liveProcesses(marker) == 3; }, std::chrono::seconds(60)));
  const std::string agent = binDir() + "/locus-mpi-agent";
  int agents = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string argv0;
    if (in && std::getline(in, argv0, '\0') && argv0 == agent) {
      std::ifstream env(entry.path() / "environ");
      std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
      if (all.find("LOCUS_JOB_ID=" + std::to_string(*id) + std::string(1, '\0')) == std::string::npos) continue;
      kill(std::stoi(entry.path().filename().string()), SIGKILL);
      ++agents;
    }
  }
  EXPECT_EQ(agents, 3);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(60)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  EXPECT_NE(fieldsOf(out)["mpi-rc"], "0") << out;
  EXPECT_TRUE(waitUntil([&] { return liveProcesses(marker) == 0; }, std::chrono::seconds(10)));
  for (const auto& s : j["steps"]) EXPECT_NE(s["state"], "RUNNING") << s.dump();
}

// Without `locus run` behind it (no LOCUS_RSH_SOCKET: a user's own mpirun given the agent),
// locus-mpi-agent does what locus-rsh does: the command runs on the named node as a step.
TEST_F(Mpi, TheLaunchAgentAloneRunsTheCommandOnItsNode) {
  const std::string script = "unset LOCUS_RSH_SOCKET\n" + binDir() + "/locus-mpi-agent " +
                             cluster_.nodeName(2) + " 'echo agent-node=$LOCUS_NODENAME'; echo agent-rc=$?\n" +
                             binDir() + "/locus-mpi-agent " + cluster_.nodeName(1) + " exit 7; echo failed-rc=$?\n";
  auto id = cluster_.submit({"-N", "3", "-n", "3", "-t", "5:00", "--wrap", script});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(60)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  auto f = fieldsOf(out);
  EXPECT_EQ(f["agent-node"], cluster_.nodeName(2)) << out;
  EXPECT_EQ(f["agent-rc"], "0") << out;
  EXPECT_EQ(f["failed-rc"], "7") << out;  // the remote command's status, as ssh gives it
  ASSERT_EQ(j["steps"].size(), 2u);
  EXPECT_EQ(j["steps"][0]["nodes"], nlohmann::json::array({cluster_.nodeName(2)})) << j["steps"].dump();
}

// Two real MPI scripts from ../shared/data/sbatch, submitted with sbatch as they are except for
// their `module load` lines (site software this machine lacks). Their programs (./mpi_pi built
// by `make`, ./pi_monte_carlo.x) are stood in for by tests/mpi's allreduce program.
TEST_F(Mpi, RealSbatchMpiScriptsRunThroughTheSrunShim) {
  const std::string shared = std::string(LOCUS_SHARED_DIR) + "/data/sbatch/";
  const std::vector<std::string> scripts = {"accre__archived-examples__mpi-job__mpi_job.slurm",
                                            "fasrc__Parallel_Computing__MPI__Example1__run.sbatch"};
  for (const auto& s : scripts)
    if (!fs::exists(shared + s)) GTEST_SKIP() << shared + s << " is absent";
  const std::string work = cluster_.workDir();
  std::ofstream(work + "/Makefile") << "mpi_pi:\n\tcp " << mpiProgram("allreduce") << " mpi_pi\n";
  fs::copy_file(mpiProgram("allreduce"), work + "/pi_monte_carlo.x", fs::copy_options::overwrite_existing);
  std::vector<uint64_t> ids;
  for (const auto& name : scripts) {
    std::ifstream in(shared + name);
    std::ostringstream kept;
    for (std::string line; std::getline(in, line);)
      if (line.rfind("module ", 0) != 0) kept << line << "\n";
    std::ofstream(work + "/" + name) << kept.str();
    auto r = runCommand({binDir() + "/sbatch", "--parsable", name},
                        {{"LOCUS_CONTROLLER", cluster_.address()}, {"PATH", binDir() + ":/usr/bin:/bin"}}, work);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    ids.push_back(std::stoull(r.out));
  }
  ASSERT_TRUE(cluster_.waitTerminal(ids, std::chrono::seconds(180)));
  // accre: 3 nodes x 8 tasks -> 24 ranks; the log has the node list, then rank 0's sum.
  nlohmann::json accre = cluster_.job(ids[0]);
  std::string log = readFile(work + "/job.log");
  EXPECT_EQ(accre["state"], "COMPLETED") << log;
  EXPECT_NE(log.find("n[1-3]"), std::string::npos) << log;
  EXPECT_NE(log.find("allreduce=300 size=24"), std::string::npos) << log;  // 1 + ... + 24
  // fasrc: srun -n $SLURM_NTASKS --mpi=pmix with 8 tasks.
  nlohmann::json fasrc = cluster_.job(ids[1]);
  std::string pi = readFile(work + "/pi_monte_carlo.out");
  EXPECT_EQ(fasrc["state"], "COMPLETED") << pi << readFile(work + "/pi_monte_carlo.err");
  EXPECT_NE(pi.find("allreduce=36 size=8"), std::string::npos) << pi;  // 1 + ... + 8
}

}  // namespace
}  // namespace locus::testing
