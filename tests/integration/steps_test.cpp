// Job steps (`locus run`) on a real cluster: tasks started through the node daemons on the job's
// nodes and cores, output streamed back, exit codes, stdin, signals, --kill-on-bad-exit, steps
// outside a job, refused requests, and no process left behind when the client dies.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/topology.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

class Steps : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.startController());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster_.startNode(i));
    ASSERT_TRUE(cluster_.waitNodesUp(3, std::chrono::seconds(20)));
  }
  CommandResult run(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{binDir() + "/locus", "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    env["LOCUS_CONTROLLER"] = cluster_.address();
    return runCommand(argv, env, cluster_.workDir());
  }
  void expectAllFree() {
    EXPECT_TRUE(waitUntil(
        [&] {
          auto nodes = nlohmann::json::parse(cluster_.locus({"nodes", "--json"}).out);
          for (const auto& n : nodes["nodes"])
            if (n["cpus_alloc"] != 0) return false;
          return true;
        },
        std::chrono::seconds(10)));
  }
  TestCluster cluster_{{.nodes = 3}};
};

TEST_F(Steps, TasksRunOnTheJobsNodesAndCores) {
  const std::string report =
      "echo \"rank=$LOCUS_PROCID slurm=$SLURM_PROCID node=$LOCUS_NODENAME nodeid=$LOCUS_NODEID "
      "local=$LOCUS_LOCALID step=$LOCUS_STEP_ID ntasks=$LOCUS_NTASKS "
      "cpus=$(grep Cpus_allowed_list /proc/self/status | cut -f2)\"";
  auto id = cluster_.submit({"-N", "3", "-n", "6", "-c", "2", "--wrap",
                             binDir() + "/locus run -l sh -c '" + report + "'; echo rc=$?"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(60)));
  nlohmann::json j = cluster_.job(*id);
  ASSERT_EQ(j["state"], "COMPLETED") << j.dump();
  std::string out = readFile(j["stdout"].get<std::string>());
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;

  // The job's layout: 2 tasks on each of its 3 nodes, 2 cores each, in allocation order.
  const long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::map<uint32_t, std::pair<std::string, std::vector<uint32_t>>> want;  // rank -> node, cores
  uint32_t rank = 0;
  for (const auto& a : j["allocation"]) {
    std::vector<uint32_t> cores = a["cores"];
    std::sort(cores.begin(), cores.end());
    ASSERT_EQ(cores.size(), 4u);
    for (uint32_t t = 0; t < 2; ++t, ++rank)
      want[rank] = {a["node"], {cores[t * 2], cores[t * 2 + 1]}};
  }
  std::set<uint32_t> seen;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("rank=") == std::string::npos) continue;
    // --label: "R: ..." with R the rank.
    const uint32_t label = static_cast<uint32_t>(std::stoul(line.substr(0, line.find(':'))));
    auto f = fieldsOf(line);
    const uint32_t r = static_cast<uint32_t>(std::stoul(f["rank"]));
    SCOPED_TRACE(line);
    EXPECT_EQ(label, r);
    ASSERT_TRUE(want.count(r));
    EXPECT_TRUE(seen.insert(r).second) << "rank twice";
    EXPECT_EQ(f["slurm"], f["rank"]);
    EXPECT_EQ(f["node"], want[r].first);
    EXPECT_EQ(f["nodeid"], std::to_string(r / 2));
    EXPECT_EQ(f["local"], std::to_string(r % 2));
    EXPECT_EQ(f["step"], "0");
    EXPECT_EQ(f["ntasks"], "6");
    std::vector<uint32_t> cpus;
    for (uint32_t c : want[r].second) cpus.push_back(static_cast<uint32_t>(c % host_cpus));
    EXPECT_EQ(f["cpus"], formatCpuList(cpus));
  }
  EXPECT_EQ(seen.size(), 6u) << out;
  // The step is on record.
  ASSERT_EQ(j["steps"].size(), 1u);
  EXPECT_EQ(j["steps"][0]["state"], "COMPLETED");
  EXPECT_EQ(j["steps"][0]["exit_code"], 0);
  EXPECT_EQ(j["steps"][0]["ntasks"], 6);
  EXPECT_EQ(j["steps"][0]["nodes"].size(), 3u);
}

TEST_F(Steps, ExitCodesStdinAndKillOnBadExitInsideAJob) {
  // The job finds the controller through the LOCUS_CONTROLLER the controller gives it.
  const std::string script =
      "PATH=" + binDir() + ":$PATH\n"
      "locus run -N 2 -n 2 sh -c 'exit $((LOCUS_PROCID + 3))'; echo exit=$?\n"
      "locus run -n 1 sh -c 'kill -TERM $$'; echo signal=$?\n"
      "printf 'one\\ntwo\\n' | locus run -n 1 sh -c 'wc -l'\n"
      "start=$(date +%s); locus run -K -n 3 sh -c 'if [ $LOCUS_PROCID = 1 ]; then exit 5; fi; sleep 120';"
      " echo killed=$? took=$(( $(date +%s) - start ))\n";
  auto id = cluster_.submit({"-N", "3", "-n", "3", "--wrap", script});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(60)));
  nlohmann::json j = cluster_.job(*id);
  std::string out = readFile(j["stdout"].get<std::string>());
  auto f = fieldsOf(out);
  EXPECT_EQ(f["exit"], "4") << out;       // the highest: rank 1 exits 4
  EXPECT_EQ(f["signal"], "143") << out;   // killed by SIGTERM: 128 + 15
  EXPECT_NE(out.find("\n2\n"), std::string::npos) << out;  // task 0 read both stdin lines
  EXPECT_EQ(f["killed"], "137") << out;   // the others were SIGKILLed when rank 1 failed
  EXPECT_LT(std::stoi(f["took"]), 60) << out;
  ASSERT_EQ(j["steps"].size(), 4u);
  EXPECT_EQ(j["steps"][0]["state"], "FAILED");
  EXPECT_EQ(j["steps"][0]["exit_code"], 4);
  EXPECT_EQ(j["steps"][2]["state"], "COMPLETED");
}

TEST_F(Steps, OutsideAJobTheStepGetsAnAllocationOfItsOwn) {
  auto r = run({"-N", "2", "-n", "4", "-l", "sh", "-c", "echo on $LOCUS_NODENAME job $LOCUS_JOB_ID"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> nodes;
  std::string job;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream w(line);
    std::string label, on, node, word, id;
    w >> label >> on >> node >> word >> id;
    nodes.insert(node);
    job = id;
  }
  EXPECT_EQ(nodes.size(), 2u) << r.out;
  ASSERT_FALSE(job.empty());
  const uint64_t id = std::stoull(job);
  EXPECT_TRUE(waitUntil([&] { return cluster_.job(id)["state"] == "COMPLETED"; }, std::chrono::seconds(10)));
  nlohmann::json j = cluster_.job(id);
  EXPECT_EQ(j["steps"].size(), 1u);
  expectAllFree();
  // A failing command fails its allocation too, with its exit code.
  auto bad = run({"sh", "-c", "exit 9"});
  EXPECT_EQ(bad.exit_code, 9);
  // The node reports the step's end to the controller as the client learns it: wait for both.
  ASSERT_TRUE(waitUntil([&] { return cluster_.jobs("FAILED").size() == 1; }, std::chrono::seconds(10)));
  auto jobs = cluster_.jobs("FAILED");
  EXPECT_EQ(jobs[0]["exit_code"], 9);
  expectAllFree();
  // A program that cannot start: exec's 127, the step and its allocation FAILED, the reason said.
  auto missing = run({"-N", "2", "/nonexistent/program"});
  EXPECT_EQ(missing.exit_code, 127) << missing.err;
  EXPECT_NE(missing.err.find("exec"), std::string::npos) << missing.err;
  ASSERT_TRUE(waitUntil([&] { return cluster_.jobs("FAILED").size() == 2; }, std::chrono::seconds(10)));
  jobs = cluster_.jobs("FAILED");
  nlohmann::json failed = cluster_.job(jobs[1]["id"].get<uint64_t>());
  ASSERT_EQ(failed["steps"].size(), 1u);
  EXPECT_EQ(failed["steps"][0]["state"], "FAILED");
  EXPECT_EQ(failed["steps"][0]["exit_code"], 127);
  expectAllFree();
}

TEST_F(Steps, InterruptIsForwardedToTheTasks) {
  BackgroundCommand client({binDir() + "/locus", "run", "-n", "1", "sh", "-c",
                            "trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.1; done"},
                           {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  ASSERT_TRUE(waitUntil([&] { return client.outSoFar().find("ready") != std::string::npos; },
                        std::chrono::seconds(20)));
  client.signal(SIGINT);
  auto r = client.wait(std::chrono::seconds(20));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 7) << r->out << r->err;
  EXPECT_NE(r->out.find("got-int"), std::string::npos);
}

TEST_F(Steps, ASecondInterruptKillsTheStep) {
  // The task ignores SIGINT: the first Ctrl-C reaches it and changes nothing, the second kills.
  BackgroundCommand client({binDir() + "/locus", "run", "-n", "1", "sh", "-c",
                            "trap 'echo ignored' INT; echo ready; while :; do sleep 0.1; done"},
                           {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  ASSERT_TRUE(waitUntil([&] { return client.outSoFar().find("ready") != std::string::npos; },
                        std::chrono::seconds(20)));
  client.signal(SIGINT);
  // Taken (two pending SIGINTs would be one): then the second comes well within its second.
  ASSERT_TRUE(waitUntil([&] { return client.errSoFar().find("forwarded") != std::string::npos; },
                        std::chrono::seconds(10)));
  client.signal(SIGINT);
  auto r = client.wait(std::chrono::seconds(20));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL) << r->err;
  EXPECT_NE(r->err.find("second interrupt"), std::string::npos) << r->err;
}

TEST_F(Steps, CancelWithASignalReachesTheScriptAndItsSteps) {
  const std::string script =
      "PATH=" + binDir() + ":$PATH\n"
      "trap 'echo batch-got-usr1' USR1\n"
      "locus run -n 2 sh -c 'trap \"echo step-got-usr1; exit 0\" USR1; echo ready; while :; do sleep 0.1; done' &\n"
      "wait $!; wait $!\n"  // the first wait ends at the trap, the second when the step does
      "echo step-rc=$?\n";
  auto id = cluster_.submit({"-n", "2", "--wrap", script});
  ASSERT_TRUE(id);
  auto out = [&] {
    auto j = cluster_.job(*id);
    return j["stdout"].is_string() ? readFile(j["stdout"].get<std::string>()) : std::string();
  };
  ASSERT_TRUE(waitUntil([&] {
    std::string o = out();
    return o.find("ready") != o.rfind("ready");  // both tasks are up
  }, std::chrono::seconds(20)));
  auto r = cluster_.locus({"cancel", "--signal", "USR1", std::to_string(*id)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(cluster_.waitTerminal({*id}, std::chrono::seconds(20)));
  std::string o = out();
  EXPECT_EQ(cluster_.job(*id)["state"], "COMPLETED") << o;  // signalled, not cancelled
  EXPECT_NE(o.find("batch-got-usr1"), std::string::npos) << o;
  EXPECT_NE(o.find("step-got-usr1"), o.rfind("step-got-usr1")) << o;  // both tasks
  EXPECT_NE(o.find("step-rc=0"), std::string::npos) << o;
  // A bad signal is refused; so is signalling a job that does not run.
  EXPECT_NE(cluster_.locus({"cancel", "--signal", "USR3", std::to_string(*id)}).exit_code, 0);
  auto ended = cluster_.locus({"cancel", "--signal", "USR1", std::to_string(*id)});
  EXPECT_NE(ended.exit_code, 0);
  EXPECT_NE(ended.err.find("not running"), std::string::npos) << ended.err;
}

TEST_F(Steps, NoTaskOutlivesItsClient) {
  const std::string marker = "sleep 31" + std::to_string(getpid() % 1000);
  BackgroundCommand client({binDir() + "/locus", "run", "-N", "2", "-n", "4", "sh", "-c",
                            "echo ready; exec " + marker},
                           {{"LOCUS_CONTROLLER", cluster_.address()}}, cluster_.workDir());
  ASSERT_TRUE(waitUntil([&] { return liveProcesses(marker) == 4; }, std::chrono::seconds(20)))
      << client.outSoFar();
  client.signal(SIGKILL);
  ASSERT_TRUE(client.wait(std::chrono::seconds(10)));
  // Every node daemon saw its stream break and killed its tasks.
  EXPECT_TRUE(waitUntil([&] { return liveProcesses(marker) == 0; }, std::chrono::seconds(10)))
      << liveProcesses(marker) << " left";
  // The allocation made for the step ended with it.
  EXPECT_TRUE(waitUntil([&] { return cluster_.jobs("PENDING,RUNNING").empty(); }, std::chrono::seconds(10)));
  auto all = cluster_.jobs("all");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["state"], "CANCELLED");
  expectAllFree();
}

TEST_F(Steps, BadStepsAreRefused) {
  auto running = cluster_.submit({"-n", "1", "--wrap", "sleep 300"});
  ASSERT_TRUE(running);
  ASSERT_TRUE(waitUntil([&] { return cluster_.job(*running)["state"] == "RUNNING"; }, std::chrono::seconds(20)));
  const std::string in_job = std::to_string(*running);
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    int exit_code;       // -1: any non-zero
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"true"}, {{"LOCUS_JOB_ID", "999999"}}, -1, "not found"},
      {{"-n", "2", "true"}, {{"LOCUS_JOB_ID", in_job}}, -1, "cores"},
      {{"-N", "2", "true"}, {{"LOCUS_JOB_ID", in_job}}, -1, "nodes"},
      {{}, {}, 2, "no command"},
      {{"--mpi", "bogus", "true"}, {}, 2, "--mpi"},
      {{"-n", "x", "true"}, {}, 2, "-n"},
  };
  for (const Case& c : cases) {
    std::string name;
    for (const auto& a : c.args) name += a + " ";
    SCOPED_TRACE(name);
    auto r = run(c.args, c.env);
    if (c.exit_code >= 0) EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    else EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
  }
  // A job that is not running takes no steps.
  cluster_.locus({"cancel", in_job});
  ASSERT_TRUE(cluster_.waitTerminal({*running}, std::chrono::seconds(20)));
  auto r = run({"true"}, {{"LOCUS_JOB_ID", in_job}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not running"), std::string::npos) << r.err;
  EXPECT_TRUE(cluster_.job(*running)["steps"].empty());
}

}  // namespace
}  // namespace locus::testing
