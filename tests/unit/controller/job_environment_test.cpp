#include "controller/job_environment.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace locus::controller {
namespace {

using Env = std::map<std::string, std::string>;

std::optional<std::string> get(const Env& env, const std::string& key) {
  auto it = env.find(key);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

// Job 42 of alice: n1 runs 3 tasks on cores 0-2, n2 runs 2 tasks on cores 4-5; -n 5.
Job twoNodeJob() {
  Job j;
  j.id = 42;
  j.user = "alice";
  j.uid = 1001;
  j.gid = 100;
  j.attempt = 0;
  j.spec.name = "train";
  j.spec.ntasks = 5;
  j.spec.nodes = 2;
  j.spec.cpus_per_task = 1;
  j.spec.work_dir = "/home/alice/run";
  j.spec.environment = {
      {"HOME", "/home/alice"}, {"PATH", "/usr/bin:/bin"}, {"OMP_NUM_THREADS", "4"}};
  j.allocation = {{"n1", {0, 1, 2}, 1000, 3}, {"n2", {4, 5}, 1000, 2}};
  j.state = JobState::kRunning;
  return j;
}

TEST(JobEnvironment, TwoNodeAllocation) {
  Env env = jobEnvironment(twoNodeJob());
  struct Case {
    const char* key;
    const char* value;
  };
  const Case cases[] = {
      {"LOCUS_JOB_ID", "42"},
      {"SLURM_JOB_ID", "42"},
      {"SLURM_JOBID", "42"},
      {"LOCUS_JOB_NAME", "train"},
      {"SLURM_JOB_NAME", "train"},
      // n1, n2 compress to one bracket range
      {"LOCUS_NODELIST", "n[1-2]"},
      {"SLURM_NODELIST", "n[1-2]"},
      {"SLURM_JOB_NODELIST", "n[1-2]"},
      {"SLURM_NNODES", "2"},
      {"SLURM_JOB_NUM_NODES", "2"},
      // spec.ntasks = 5 = 3 + 2
      {"SLURM_NTASKS", "5"},
      {"SLURM_NPROCS", "5"},
      {"LOCUS_NTASKS", "5"},
      // one entry per node, in allocation order
      {"SLURM_TASKS_PER_NODE", "3,2"},
      {"LOCUS_TASKS_PER_NODE", "3,2"},
      {"SLURM_CPUS_PER_TASK", "1"},
      // the batch script runs on the first node, which has 3 cores
      {"SLURM_CPUS_ON_NODE", "3"},
      {"LOCUS_NODENAME", "n1"},
      {"SLURMD_NODENAME", "n1"},
      {"SLURM_NODEID", "0"},
      {"SLURM_PROCID", "0"},
      {"LOCUS_SUBMIT_DIR", "/home/alice/run"},
      {"SLURM_SUBMIT_DIR", "/home/alice/run"},
      {"SLURM_JOB_USER", "alice"},
      {"SLURM_JOB_UID", "1001"},
      {"SLURM_RESTART_COUNT", "0"},
      {"LOCUS_JOB_ATTEMPT", "0"},
      // the user's exported environment is kept
      {"HOME", "/home/alice"},
      {"PATH", "/usr/bin:/bin"},
      {"OMP_NUM_THREADS", "4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(get(env, c.key), std::optional<std::string>(c.value));
  }
  // Not an array task, and no limits or partition given: none of these is set.
  for (const char* key :
       {"LOCUS_ARRAY_JOB_ID", "SLURM_ARRAY_JOB_ID", "LOCUS_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_ID",
        "SLURM_JOB_TIME_LIMIT", "SLURM_MEM_PER_NODE", "SLURM_JOB_PARTITION", "SLURM_JOB_ACCOUNT"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(get(env, key), std::nullopt);
  }
}

TEST(JobEnvironment, NodeListsAndTasksPerNode) {
  struct Case {
    const char* name;
    std::vector<AllocatedNode> allocation;
    const char* nodelist;
    const char* nnodes;
    const char* tasks_per_node;
    const char* nodename;
  };
  const Case cases[] = {
      {"one node", {{"n7", {0}, 0, 4}}, "n7", "1", "4", "n7"},
      {"gap in the numbers", {{"n1", {0}, 0, 1}, {"n3", {0}, 0, 1}}, "n[1,3]", "2", "1,1", "n1"},
      // allocation order is kept: the first node (script host) is n3
      {"descending", {{"n3", {0}, 0, 2}, {"n2", {0}, 0, 1}}, "n[3,2]", "2", "2,1", "n3"},
      {"different prefixes",
       {{"gpu01", {0}, 0, 1}, {"n1", {0}, 0, 1}, {"n2", {0}, 0, 1}},
       "gpu01,n[1-2]",
       "3",
       "1,1,1",
       "gpu01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Job j = twoNodeJob();
    j.allocation = c.allocation;
    Env env = jobEnvironment(j);
    EXPECT_EQ(get(env, "LOCUS_NODELIST"), std::optional<std::string>(c.nodelist));
    EXPECT_EQ(get(env, "SLURM_NODELIST"), std::optional<std::string>(c.nodelist));
    EXPECT_EQ(get(env, "SLURM_NNODES"), std::optional<std::string>(c.nnodes));
    EXPECT_EQ(get(env, "SLURM_TASKS_PER_NODE"), std::optional<std::string>(c.tasks_per_node));
    EXPECT_EQ(get(env, "LOCUS_NODENAME"), std::optional<std::string>(c.nodename));
  }
}

TEST(JobEnvironment, ArrayTaskVariables) {
  struct Case {
    const char* name;
    uint64_t array_job_id;
    std::optional<uint32_t> task_id;
    std::optional<std::string> want_job_id;
    std::optional<std::string> want_task_id;
  };
  const Case cases[] = {
      {"not an array task", 0, std::nullopt, std::nullopt, std::nullopt},
      {"array task 7 of job 40", 40, 7, "40", "7"},
      {"array task 0 is still set", 40, 0, "40", "0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Job j = twoNodeJob();
    j.array_job_id = c.array_job_id;
    j.array_task_id = c.task_id;
    Env env = jobEnvironment(j);
    EXPECT_EQ(get(env, "LOCUS_ARRAY_JOB_ID"), c.want_job_id);
    EXPECT_EQ(get(env, "SLURM_ARRAY_JOB_ID"), c.want_job_id);
    EXPECT_EQ(get(env, "LOCUS_ARRAY_TASK_ID"), c.want_task_id);
    EXPECT_EQ(get(env, "SLURM_ARRAY_TASK_ID"), c.want_task_id);
    // The task keeps its own job id.
    EXPECT_EQ(get(env, "SLURM_JOB_ID"), std::optional<std::string>("42"));
  }
}

TEST(JobEnvironment, OptionalVariables) {
  Job j = twoNodeJob();
  j.spec.time_limit_s = 3600;
  j.spec.mem_mb = 4096;
  j.spec.partition = "gpu";
  j.spec.account = "proj1";
  j.attempt = 2;
  Env env = jobEnvironment(j);
  EXPECT_EQ(get(env, "SLURM_JOB_TIME_LIMIT"), std::optional<std::string>("3600"));
  EXPECT_EQ(get(env, "SLURM_MEM_PER_NODE"), std::optional<std::string>("4096"));
  EXPECT_EQ(get(env, "SLURM_JOB_PARTITION"), std::optional<std::string>("gpu"));
  EXPECT_EQ(get(env, "SLURM_JOB_ACCOUNT"), std::optional<std::string>("proj1"));
  EXPECT_EQ(get(env, "SLURM_RESTART_COUNT"), std::optional<std::string>("2"));
  EXPECT_EQ(get(env, "LOCUS_JOB_ATTEMPT"), std::optional<std::string>("2"));
}

TEST(JobEnvironment, JobVariablesOverrideTheSubmitEnvironment) {
  // Submitted from inside another job: the outer job's ids must not leak into this one.
  Job j = twoNodeJob();
  j.spec.environment["SLURM_JOB_ID"] = "999";
  j.spec.environment["SLURM_JOBID"] = "999";
  j.spec.environment["LOCUS_NODELIST"] = "old[1-9]";
  j.spec.environment["SLURM_NTASKS"] = "64";
  Env env = jobEnvironment(j);
  EXPECT_EQ(get(env, "SLURM_JOB_ID"), std::optional<std::string>("42"));
  EXPECT_EQ(get(env, "SLURM_JOBID"), std::optional<std::string>("42"));
  EXPECT_EQ(get(env, "LOCUS_NODELIST"), std::optional<std::string>("n[1-2]"));
  EXPECT_EQ(get(env, "SLURM_NTASKS"), std::optional<std::string>("5"));
  EXPECT_EQ(get(env, "HOME"), std::optional<std::string>("/home/alice"));
}

TEST(JobEnvironment, NtasksDefaultsFromNodes) {
  struct Case {
    const char* name;
    uint32_t nodes, ntasks, ntasks_per_node;
    const char* want;
  };
  const Case cases[] = {
      {"-n wins", 2, 5, 4, "5"},
      // -N 2 --ntasks-per-node 4: 2 * 4 = 8
      {"per node times nodes", 2, 0, 4, "8"},
      // -N 2 alone: one task per node
      {"one per node", 2, 0, 0, "2"},
      {"nothing given: one task", 0, 0, 0, "1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Job j = twoNodeJob();
    j.spec.nodes = c.nodes;
    j.spec.ntasks = c.ntasks;
    j.spec.ntasks_per_node = c.ntasks_per_node;
    Env env = jobEnvironment(j);
    EXPECT_EQ(get(env, "SLURM_NTASKS"), std::optional<std::string>(c.want));
  }
}

}  // namespace
}  // namespace locus::controller
