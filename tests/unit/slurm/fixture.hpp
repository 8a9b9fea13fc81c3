#pragma once
// A fixed cluster state for the Slurm golden tests: five jobs, three nodes, `kNow`, and UTC so
// local-time stamps are the same on every machine.
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "proto/locus.pb.h"

namespace locus::slurm::testing {

inline constexpr int64_t kNow = 1700000000;  // 2023-11-14T22:13:20 UTC

inline void useUtc() {
  setenv("TZ", "UTC", 1);
  tzset();
}

inline proto::JobInfo job(uint64_t id, const std::string& name, const std::string& user, uint32_t uid,
                          const std::string& state) {
  proto::JobInfo j;
  j.set_id(id);
  j.set_name(name);
  j.set_user(user);
  j.set_uid(uid);
  j.set_gid(uid);
  j.set_state(state);
  j.set_exit_code(-1);
  j.set_array_task_id(-1);
  j.set_ntasks(1);
  j.set_cpus_per_task(1);
  j.set_submit_time(kNow - 4000);
  j.set_work_dir("/home/" + user);
  j.set_command("/home/" + user + "/" + name + ".sh");
  j.set_stdout("/home/" + user + "/slurm-" + std::to_string(id) + ".out");
  j.set_stderr(j.stdout());
  return j;
}

inline void allocate(proto::JobInfo& j, const std::string& node, uint32_t cores, uint64_t mem_mb) {
  j.add_nodes(node);
  auto* a = j.add_allocation();
  a->set_node(node);
  for (uint32_t c = 0; c < cores; ++c) a->add_cores(c);
  a->set_mem_mb(mem_mb);
  a->set_ntasks(1);
}

inline void addStep(proto::JobInfo& j, uint32_t id, const std::string& name, const std::string& state,
                    int32_t exit_code, uint32_t ntasks, const std::vector<std::string>& nodes,
                    int64_t start, int64_t end) {
  auto* s = j.add_steps();
  s->set_id(id);
  s->set_name(name);
  s->set_state(state);
  s->set_exit_code(exit_code);
  s->set_ntasks(ntasks);
  for (const auto& n : nodes) s->add_nodes(n);
  s->set_start_time(start);
  s->set_end_time(end);
}

// 101 train   alice RUNNING   on n1,n2 (4 cores, 4 GiB each) for 1:02:05, limit 2 h
//             steps: 0 hostname COMPLETED (10 s), 1 train.py RUNNING, both 2 tasks on n1,n2
// 102 prep    bob   PENDING   (Priority), 1 task x 2 cpus, limit 30 min
// 103 (103_0) alice COMPLETED on n3, exit 0, ran 9 min
// 104 (103_1) alice FAILED    on n3, exit 2, ran 100 s; step 0 check FAILED with exit 2
// 105 a-very-long-job-name alice CANCELLED by SIGTERM on n1 after 1 day and a bit;
//             step 0 sim CANCELLED, its task killed by SIGTERM (exit 143)
inline std::vector<proto::JobInfo> jobs() {
  std::vector<proto::JobInfo> v;
  auto j = job(101, "train", "alice", 1000, "RUNNING");
  j.set_start_time(kNow - 3725);
  j.set_time_limit_s(7200);
  j.set_nodes_requested(2);
  j.set_ntasks(2);
  j.set_cpus_per_task(4);
  j.set_mem_mb(4096);
  allocate(j, "n1", 4, 4096);
  allocate(j, "n2", 4, 4096);
  addStep(j, 1, "train.py", "RUNNING", -1, 2, {"n1", "n2"}, kNow - 3600, 0);
  addStep(j, 0, "hostname", "COMPLETED", 0, 2, {"n1", "n2"}, kNow - 3700, kNow - 3690);
  v.push_back(j);

  j = job(102, "prep", "bob", 1001, "PENDING");
  j.set_reason("Priority");
  j.set_cpus_per_task(2);
  j.set_time_limit_s(1800);
  j.set_mem_mb(1000);
  v.push_back(j);

  j = job(103, "sweep", "alice", 1000, "COMPLETED");
  j.set_array_job_id(103);
  j.set_array_task_id(0);
  j.set_start_time(kNow - 600);
  j.set_end_time(kNow - 60);
  j.set_exit_code(0);
  j.set_max_rss_kb(1572864);  // the node's measurement: 1.5 GiB
  j.set_mem_mb(1000);
  allocate(j, "n3", 1, 1000);
  v.push_back(j);

  j = job(104, "sweep", "alice", 1000, "FAILED");
  j.set_array_job_id(103);
  j.set_array_task_id(1);
  j.set_start_time(kNow - 600);
  j.set_end_time(kNow - 500);
  j.set_exit_code(2);
  j.set_mem_mb(1000);
  allocate(j, "n3", 1, 1000);
  addStep(j, 0, "check", "FAILED", 2, 1, {"n3"}, kNow - 590, kNow - 510);
  v.push_back(j);

  j = job(105, "a-very-long-job-name", "alice", 1000, "CANCELLED");
  j.set_reason("Cancelled");
  j.set_submit_time(kNow - 90100);
  j.set_start_time(kNow - 90010);
  j.set_end_time(kNow - 10);
  j.set_exit_code(143);
  j.set_term_signal(15);
  j.set_mem_mb(2048);
  allocate(j, "n1", 2, 2048);
  addStep(j, 0, "sim", "CANCELLED", 143, 1, {"n1"}, kNow - 90000, kNow - 10);
  v.push_back(j);
  return v;
}

inline proto::NodeInfo node(const std::string& name, const std::string& state, uint32_t cpus,
                            uint32_t alloc) {
  proto::NodeInfo n;
  n.set_name(name);
  n.set_state(state);
  n.set_cpus(cpus);
  n.set_cpus_alloc(alloc);
  n.set_mem_mb(16000);
  n.set_mem_alloc_mb(alloc ? 4096 : 0);
  n.mutable_topology()->set_packages(1);
  return n;
}

// n1 mix, n2 alloc, n3 idle, n4 idle, n5 down
inline std::vector<proto::NodeInfo> nodes() {
  return {node("n1", "UP", 8, 6), node("n2", "UP", 8, 8), node("n3", "UP", 8, 0),
          node("n4", "UP", 8, 0), node("n5", "DOWN", 8, 0)};
}

}  // namespace locus::slurm::testing
