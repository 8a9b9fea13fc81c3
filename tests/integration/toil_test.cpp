// Toil 5.9 (Debian's `toil`) end to end on a real Locus cluster: a workflow run with
// `--batchSystem slurm`, the drop-in commands first on PATH. Toil submits every job with
// `sbatch --wrap`, polls `squeue -h --format '%i %t %M'` and `sacct -n -j ID --format
// JobIDRaw,State,ExitCode -P -S 1970-01-01` (falling back to `scontrol show job ID`), so this
// checks that the shims accept what a real workflow engine sends and that it parses the output.
// Skipped when toil is not installed (`apt-get install toil`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;

// A root job with three children that each write a file, or (--fail) one job that raises.
constexpr const char* kWorkflow = R"(import os
from toil.common import Toil
from toil.job import Job

RES = dict(cores=1, memory="1G", disk="10M")

def child(job, path):
    with open(path, "w") as f:
        f.write("written by %s\n" % os.path.basename(path))

def root(job, outdir):
    for i in range(3):
        job.addChildJobFn(child, os.path.join(outdir, "child%d.txt" % i), **RES)

def fail(job):
    raise RuntimeError("this job fails on purpose")

if __name__ == "__main__":
    parser = Job.Runner.getDefaultArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--fail", action="store_true")
    options = parser.parse_args()
    with Toil(options) as toil:
        if options.fail:
            toil.start(Job.wrapJobFn(fail, **RES))
        else:
            toil.start(Job.wrapJobFn(root, options.outdir, **RES))
)";

// The `toil` launcher on PATH, or "" when Toil is not installed.
std::string findToil() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / "toil";
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// The interpreter Toil is installed for, from its launcher's "#!" line (Debian: /usr/bin/python3;
// a `python3` earlier on PATH, from pyenv say, may not have the toil module).
std::string toilPython(const std::string& launcher) {
  std::ifstream in(launcher);
  std::string line;
  std::getline(in, line);
  if (line.rfind("#!", 0) != 0) return "";
  std::string interp = line.substr(2);
  interp = interp.substr(0, interp.find(' '));
  return interp;
}

class Toil : public ::testing::Test {
 protected:
  static TestCluster::Options twoNodes() {
    TestCluster::Options o;
    o.nodes = 2;
    return o;
  }
  Toil() : cluster_(twoNodes()) {}
  void SetUp() override {
    std::string launcher = findToil();
    if (launcher.empty()) GTEST_SKIP() << "toil is not installed (apt-get install toil)";
    python_ = toilPython(launcher);
    if (python_.empty() || access(python_.c_str(), X_OK) != 0)
      GTEST_SKIP() << "cannot tell which python runs " << launcher;
    ASSERT_TRUE(cluster_.startController());
    ASSERT_TRUE(cluster_.startNode(0));
    ASSERT_TRUE(cluster_.startNode(1));
    ASSERT_TRUE(cluster_.waitNodesUp(2, std::chrono::seconds(20)));
    std::ofstream(cluster_.dir() + "/workflow.py") << kWorkflow;
    fs::create_directories(cluster_.dir() + "/out");
    fs::create_directories(cluster_.dir() + "/toilwork");
  }

  std::map<std::string, std::string> env() const {
    const char* path = std::getenv("PATH");
    return {{"PATH", binDir() + ":" + (path ? path : "/usr/bin:/bin")},
            {"LOCUS_CONTROLLER", cluster_.address()}};
  }

  // Runs the workflow to its end (at most `timeout`); fails the test if it does not end.
  CommandResult runWorkflow(const std::string& jobstore, bool fail, std::chrono::seconds timeout) {
    std::vector<std::string> argv{python_, cluster_.dir() + "/workflow.py",
                                  "file:" + cluster_.dir() + "/" + jobstore,
                                  "--batchSystem", "slurm",
                                  // Poll every second (else Toil asks scontrol show config).
                                  "--statePollingWait", "1",
                                  // Toil submits at most one job per local core by default.
                                  "--maxLocalJobs", "8",
                                  "--retryCount", "0",
                                  "--defaultMemory", "1G", "--defaultDisk", "10M",
                                  "--disableCaching",
                                  "--workDir", cluster_.dir() + "/toilwork",
                                  "--logLevel", "INFO",
                                  "--outdir", cluster_.dir() + "/out"};
    if (fail) argv.push_back("--fail");
    BackgroundCommand toil(argv, env(), cluster_.workDir());
    auto result = toil.wait(timeout);
    if (!result) {
      ADD_FAILURE() << "toil did not finish in " << timeout.count() << " s\n"
                    << toil.errSoFar().substr(0, 20000);
      return {};
    }
    return *result;
  }

  // sacct's record of the jobs Toil submitted: "NAME|STATE|EXIT" lines, job lines only.
  std::vector<std::string> toilJobs() const {
    auto r = runCommand({binDir() + "/sacct", "-a", "-X", "-P", "-n", "-S", "1970-01-01", "-o",
                         "JobName,State,ExitCode"},
                        env(), cluster_.workDir());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines;
    std::stringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("toil_job_", 0) == 0) lines.push_back(line);
    return lines;
  }

  TestCluster cluster_;
  std::string python_;
};

TEST_F(Toil, WorkflowRunsEveryJobThroughSbatch) {
  auto r = runWorkflow("jobstore", false, std::chrono::seconds(100));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 20000 ? r.err.size() - 20000 : 0);
  for (int i = 0; i < 3; ++i) {
    std::string file = cluster_.dir() + "/out/child" + std::to_string(i) + ".txt";
    EXPECT_EQ(readFile(file), "written by child" + std::to_string(i) + ".txt\n") << file;
  }
  // The root and its three children each went through sbatch as a Locus job and completed.
  auto jobs = toilJobs();
  EXPECT_GE(jobs.size(), 4u);
  for (const auto& j : jobs) EXPECT_NE(j.find("|COMPLETED|0:0"), std::string::npos) << j;
}

TEST_F(Toil, ReadsItsPollingIntervalFromScontrolShowConfig) {
  // Without --statePollingWait Toil parses `scontrol show config`: 1.2 x SchedulerTimeSlice (30 s).
  auto r = runCommand({python_, "-c",
                       "from toil.batchSystems.slurm import SlurmBatchSystem\n"
                       "print(SlurmBatchSystem.getWaitDuration())"},
                      env(), cluster_.workDir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "36\n");
}

TEST_F(Toil, FailingJobFailsTheWorkflow) {
  auto r = runWorkflow("jobstore-fail", true, std::chrono::seconds(100));
  EXPECT_NE(r.exit_code, 0) << r.err.substr(r.err.size() > 20000 ? r.err.size() - 20000 : 0);
  EXPECT_NE(r.err.find("this job fails on purpose"), std::string::npos)
      << r.err.substr(r.err.size() > 20000 ? r.err.size() - 20000 : 0);
  // Locus saw the job fail with the worker's exit code.
  auto jobs = toilJobs();
  ASSERT_FALSE(jobs.empty());
  EXPECT_TRUE(std::any_of(jobs.begin(), jobs.end(), [](const std::string& j) {
    return j.find("|FAILED|") != std::string::npos;
  })) << ::testing::PrintToString(jobs);
}

}  // namespace
}  // namespace locus::testing
