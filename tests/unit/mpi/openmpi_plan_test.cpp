// planOpenMpi: the hostfile (slots per node, nodes in first-rank order), the rankfile (physical
// CPU ids per rank) and mpirun's argv (which MCA parameters appear under which options, the
// command last). Without a rankfile path the ranks are not bound by Open MPI (--bind-to none).
#include "mpi-launcher/openmpi_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace locus::mpi {
namespace {

using Argv = std::vector<std::string>;

RankPlacement rank(std::string node, std::vector<uint32_t> cpus) {
  return {std::move(node), std::move(cpus)};
}

// Options as `locus run --mpi openmpi` fills them, rankfile included; cases change what they test.
OpenMpiOptions options() {
  OpenMpiOptions o;
  o.mpirun = "mpirun";
  o.rsh_agent = "/opt/locus/bin/locus-rsh";
  o.hostfile_path = "/tmp/m/hostfile";
  o.rankfile_path = "/tmp/m/rankfile";
  return o;
}

// Where `word` is in argv, or -1.
long indexOf(const Argv& argv, const std::string& word) {
  auto it = std::find(argv.begin(), argv.end(), word);
  return it == argv.end() ? -1 : static_cast<long>(it - argv.begin());
}

// Whether `seq` appears in argv as consecutive words ("--mca", "btl", "tcp,self").
bool hasSequence(const Argv& argv, const Argv& seq) {
  return std::search(argv.begin(), argv.end(), seq.begin(), seq.end()) != argv.end();
}

TEST(OpenMpiPlan, HostfileAndRankfile) {
  struct Case {
    std::string name;
    std::vector<RankPlacement> ranks;
    std::string hostfile;
    std::string rankfile;
  };
  const std::vector<Case> cases = {
      {"one rank", {rank("n1", {3})}, "n1 slots=1\n", "rank 0=n1 slot=3\n"},
      {"block layout: slots count the ranks of each node",
       {rank("n1", {0}), rank("n1", {1}), rank("n2", {0}), rank("n2", {1}), rank("n2", {2})},
       "n1 slots=2\nn2 slots=3\n",
       "rank 0=n1 slot=0\nrank 1=n1 slot=1\nrank 2=n2 slot=0\nrank 3=n2 slot=1\nrank 4=n2 "
       "slot=2\n"},
      // Nodes come in the order their first rank does, not by name: n3 before n1.
      {"cyclic layout: first-rank order",
       {rank("n3", {0}), rank("n1", {0}), rank("n3", {1}), rank("n1", {1})},
       "n3 slots=2\nn1 slots=2\n",
       "rank 0=n3 slot=0\nrank 1=n1 slot=0\nrank 2=n3 slot=1\nrank 3=n1 slot=1\n"},
      // -c 2 on a 2-PU-per-core node: every CPU of the rank, in the order given.
      {"several CPUs per rank",
       {rank("gpu-a", {0, 1, 8, 9}), rank("gpu-b", {2, 3, 10, 11})},
       "gpu-a slots=1\ngpu-b slots=1\n",
       "rank 0=gpu-a slot=0,1,8,9\nrank 1=gpu-b slot=2,3,10,11\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    OpenMpiPlan plan = planOpenMpi(c.ranks, {"./app"}, options());
    EXPECT_EQ(plan.hostfile, c.hostfile);
    EXPECT_EQ(plan.rankfile, c.rankfile);
  }
}

TEST(OpenMpiPlan, Argv) {
  // Option and value pairs, one per line.
  // clang-format off
  const Argv rsh = {"--mca", "plm", "rsh",
                    "--mca", "plm_rsh_agent", "/opt/locus/bin/locus-rsh",
                    "--mca", "plm_rsh_no_tree_spawn", "1"};
  const Argv attached = {"--mca", "orte_leave_session_attached", "1"};
  const Argv rankfile = {"--rankfile", "/tmp/m/rankfile",
                         "--mca", "rmaps_rank_file_physical", "1"};
  const Argv unbound = {"--bind-to", "none"};
  const Argv loopback = {"--mca", "btl", "tcp,self",
                         "--mca", "btl_tcp_if_include", "lo",
                         "--mca", "oob_tcp_if_include", "lo"};
  // clang-format on
  struct Case {
    std::string name;
    bool with_rankfile;
    bool emulated;
    bool as_root;
    Argv command;
  };
  const std::vector<Case> cases = {
      {"real cluster, user, rankfile", true, false, false, {"./ring"}},
      {"no rankfile: ranks keep their daemon's binding", false, false, false, {"./ring"}},
      {"emulated nodes: loopback transports", true, true, false, {"./ring", "-n", "3"}},
      {"as root", true, false, true, {"./ring"}},
      {"emulated, root, no rankfile", false, true, true, {"python3", "-m", "mpi4py", "x.py"}},
  };
  const std::vector<RankPlacement> ranks = {rank("n1", {0}), rank("n1", {1}), rank("n2", {0})};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    OpenMpiOptions o = options();
    if (!c.with_rankfile) o.rankfile_path.clear();
    o.emulated = c.emulated;
    o.as_root = c.as_root;
    const Argv argv = planOpenMpi(ranks, c.command, o).argv;

    const Argv head = {"mpirun", "-np", "3", "--hostfile", "/tmp/m/hostfile"};
    ASSERT_GE(argv.size(), head.size() + c.command.size());
    EXPECT_EQ(Argv(argv.begin(), argv.begin() + static_cast<long>(head.size())), head);
    // The command is last and whole: mpirun stops reading its options at the program.
    EXPECT_EQ(Argv(argv.end() - static_cast<long>(c.command.size()), argv.end()), c.command);

    EXPECT_TRUE(hasSequence(argv, rsh));
    EXPECT_TRUE(hasSequence(argv, attached));
    EXPECT_EQ(hasSequence(argv, rankfile), c.with_rankfile);
    EXPECT_EQ(indexOf(argv, "--rankfile") >= 0, c.with_rankfile);
    EXPECT_EQ(indexOf(argv, "rmaps_rank_file_physical") >= 0, c.with_rankfile);
    EXPECT_EQ(hasSequence(argv, unbound), !c.with_rankfile);
    EXPECT_EQ(indexOf(argv, "--bind-to") >= 0, !c.with_rankfile);
    EXPECT_EQ(hasSequence(argv, loopback), c.emulated);
    EXPECT_EQ(indexOf(argv, "btl") >= 0, c.emulated);
    EXPECT_EQ(indexOf(argv, "oob_tcp_if_include") >= 0, c.emulated);
    EXPECT_EQ(indexOf(argv, "--allow-run-as-root") >= 0, c.as_root);

    // Exactly the expected words, nothing more: head, options present for this case, command.
    size_t expected = head.size() + rsh.size() + attached.size() + c.command.size();
    expected += c.with_rankfile ? rankfile.size() : unbound.size();
    if (c.emulated) expected += loopback.size();
    if (c.as_root) expected += 1;
    EXPECT_EQ(argv.size(), expected);
  }
}

TEST(OpenMpiPlan, RankCountAndMpirunPath) {
  struct Case {
    std::string name;
    size_t ranks;
    std::string mpirun;
    std::string np;
  };
  const std::vector<Case> cases = {
      {"one rank", 1, "mpirun", "1"},
      {"32 ranks over 4 nodes", 32, "/usr/bin/mpirun", "32"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<RankPlacement> ranks;
    for (size_t i = 0; i < c.ranks; ++i)
      ranks.push_back(rank("n" + std::to_string(i % 4 + 1), {static_cast<uint32_t>(i / 4)}));
    OpenMpiOptions o = options();
    o.mpirun = c.mpirun;
    const OpenMpiPlan plan = planOpenMpi(ranks, {"./hello"}, o);
    ASSERT_GE(plan.argv.size(), 3u);
    EXPECT_EQ(plan.argv[0], c.mpirun);
    EXPECT_EQ(plan.argv[1], "-np");
    EXPECT_EQ(plan.argv[2], c.np);
    // Every rank has its rankfile line.
    EXPECT_EQ(static_cast<size_t>(std::count(plan.rankfile.begin(), plan.rankfile.end(), '\n')),
              c.ranks);
  }
}

}  // namespace
}  // namespace locus::mpi
