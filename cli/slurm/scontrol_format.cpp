#include "cli/slurm/scontrol_format.hpp"

#include <algorithm>

#include "cli/slurm/sinfo_format.hpp"
#include "cli/slurm/slurm_fields.hpp"
#include "common/slurm_formats.hpp"

namespace locus::slurm {
namespace {

std::string orNull(const std::string& s) { return s.empty() ? "(null)" : s; }

std::string memText(uint64_t mb) {
  if (mb > 0 && mb % 1024 == 0) return std::to_string(mb / 1024) + "G";
  return std::to_string(mb) + "M";
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string formatScontrolJob(const proto::JobInfo& j, int64_t now, const IdToName& group_name) {
  std::string o;
  auto line = [&](const std::string& text) { o += "   " + text + "\n"; };
  o += "JobId=" + std::to_string(j.id());
  if (j.array_task_id() >= 0)
    o += " ArrayJobId=" + std::to_string(j.array_job_id()) +
         " ArrayTaskId=" + std::to_string(j.array_task_id());
  o += " JobName=" + j.name() + "\n";
  line("UserId=" + j.user() + "(" + std::to_string(j.uid()) + ") GroupId=" + group_name(j.gid()) +
       "(" + std::to_string(j.gid()) + ") MCS_label=N/A");
  line("Priority=1 Nice=0 Account=" + orNull(j.account()) +
       " QOS=" + (j.qos().empty() ? "normal" : j.qos()));
  line("JobState=" + j.state() + " Reason=" + reasonOf(j) + " Dependency=(null)");
  line("Requeue=0 Restarts=" + std::to_string(j.attempt() > 0 ? j.attempt() - 1 : 0) +
       " BatchFlag=1 Reboot=0 ExitCode=" + exitCode(j));
  line("RunTime=" + hmsDuration(elapsedSeconds(j, now)) + " TimeLimit=" +
       (j.time_limit_s() > 0 ? hmsDuration(j.time_limit_s()) : "UNLIMITED") + " TimeMin=N/A");
  line("SubmitTime=" + timestamp(j.submit_time(), "Unknown") +
       " EligibleTime=" + timestamp(j.submit_time(), "Unknown"));
  line("AccrueTime=" + timestamp(j.submit_time(), "Unknown"));
  // Slurm shows a running job's expected end (start + limit) and a pending one's planned start.
  int64_t start = j.start_time() ? j.start_time() : j.expected_start_time();
  int64_t end = j.end_time();
  if (!end && j.start_time() && j.time_limit_s() > 0) end = j.start_time() + j.time_limit_s();
  line("StartTime=" + timestamp(start, "Unknown") + " EndTime=" + timestamp(end, "Unknown") +
       " Deadline=N/A");
  line("Partition=" + partitionOf(j) + " AllocNode:Sid=(null):0");
  line("ReqNodeList=(null) ExcNodeList=(null)");
  std::string nodes = nodeListOf(j);
  line("NodeList=" + orNull(nodes));
  if (!nodes.empty()) line("BatchHost=" + j.nodes(0));
  uint32_t cpus = cpuCount(j);
  uint64_t mem_total = 0;
  for (const auto& a : j.allocation()) mem_total += a.mem_mb();
  if (mem_total == 0) mem_total = j.mem_mb() * nodeCount(j);
  line("NumNodes=" + std::to_string(nodeCount(j)) + " NumCPUs=" + std::to_string(cpus) +
       " NumTasks=" + std::to_string(std::max<uint32_t>(1, j.ntasks())) +
       " CPUs/Task=" + std::to_string(std::max<uint32_t>(1, j.cpus_per_task())) + " ReqB:S:C:T=0:0:*:*");
  line("TRES=cpu=" + std::to_string(cpus) + ",mem=" + memText(mem_total) +
       ",node=" + std::to_string(nodeCount(j)) + ",billing=" + std::to_string(cpus));
  line("MinCPUsNode=" + std::to_string(std::max<uint32_t>(1, j.cpus_per_task())) +
       " MinMemoryNode=" + memText(j.mem_mb()) + " MinTmpDiskNode=0");
  line("Features=(null) DelayBoot=00:00:00");
  line("OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null)");
  line("Command=" + orNull(j.command()));
  line("WorkDir=" + j.work_dir());
  line("StdErr=" + j.stderr());
  line("StdIn=/dev/null");
  line("StdOut=" + j.stdout());
  line("Power=");
  o += "\n";
  return o;
}

std::string formatScontrolNode(const proto::NodeInfo& n) {
  std::string o;
  auto line = [&](const std::string& text) { o += "   " + text + "\n"; };
  uint32_t sockets = n.topology().packages() > 0 ? n.topology().packages() : 1;
  o += "NodeName=" + n.name() + " Arch=x86_64 CoresPerSocket=" + std::to_string(n.cpus() / sockets) + "\n";
  line("CPUAlloc=" + std::to_string(n.cpus_alloc()) + " CPUEfctv=" + std::to_string(n.cpus()) +
       " CPUTot=" + std::to_string(n.cpus()) + " CPULoad=N/A");
  std::string features;
  for (const auto& f : n.features()) features += (features.empty() ? "" : ",") + f;
  line("AvailableFeatures=" + orNull(features));
  line("ActiveFeatures=" + orNull(features));
  line("Gres=" + (n.gpus().empty() ? std::string("(null)") : "gpu:" + std::to_string(n.gpus_size())));
  std::string addr = n.address().empty() ? n.name() : n.address();
  line("NodeAddr=" + addr + " NodeHostName=" + n.name());
  line("RealMemory=" + std::to_string(n.mem_mb()) + " AllocMem=" + std::to_string(n.mem_alloc_mb()) +
       " FreeMem=N/A Sockets=" + std::to_string(sockets) + " Boards=1");
  line("State=" + upper(nodeStateLong(n)) + " ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A");
  line("Partitions=" + std::string(kDefaultPartition));
  line("BootTime=None SlurmdStartTime=None");
  line("LastBusyTime=" + timestamp(n.last_heartbeat(), "None"));
  line("CfgTRES=cpu=" + std::to_string(n.cpus()) + ",mem=" + memText(n.mem_mb()) +
       ",billing=" + std::to_string(n.cpus()));
  std::string alloc;
  if (n.cpus_alloc() > 0)
    alloc = "cpu=" + std::to_string(n.cpus_alloc()) + ",mem=" + memText(n.mem_alloc_mb());
  line("AllocTRES=" + alloc);
  line("CapWatts=n/a");
  line("CurrentWatts=0 AveWatts=0");
  line("ExtSensorsJoules=n/s ExtSensorsWatts=0 ExtSensorsTemp=n/s");
  o += "\n";
  return o;
}

std::string formatScontrolPartition(const std::vector<proto::NodeInfo>& nodes) {
  std::vector<std::string> names;
  uint64_t cpus = 0;
  for (const auto& n : nodes) {
    names.push_back(n.name());
    cpus += n.cpus();
  }
  std::string o = "PartitionName=" + std::string(kDefaultPartition) + "\n";
  auto line = [&](const std::string& text) { o += "   " + text + "\n"; };
  line("AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL");
  line("AllocNodes=ALL Default=YES QoS=N/A");
  line("DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO");
  line("MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED");
  line("Nodes=" + (names.empty() ? std::string("(null)") : compressHostlist(names)));
  line("PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO");
  line("OverTimeLimit=NONE PreemptMode=OFF");
  line("State=UP TotalCPUs=" + std::to_string(cpus) + " TotalNodes=" + std::to_string(nodes.size()) +
       " SelectTypeParameters=NONE");
  line("JobDefaults=(null)");
  line("DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED");
  o += "\n";
  return o;
}

std::string formatScontrolConfig(const Config& cfg, std::string_view controller,
                                 const std::vector<proto::NodeInfo>& nodes, int64_t now) {
  std::string o = "Configuration data as of " + timestamp(now, "Unknown") + "\n";
  auto kv = [&](std::string_view key, const std::string& value) {
    std::string k(key);
    if (k.size() < 23) k.resize(23, ' ');
    o += k + " = " + value + "\n";
  };
  auto secs = [](int64_t s) { return std::to_string(s) + " sec"; };
  // "host:port", "[::1]:port" or a bare host (Slurm's default port then).
  std::string host(controller), port = "6817";
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close != std::string::npos && close + 1 < host.size() && host[close + 1] == ':')
      port = host.substr(close + 2);
    host = host.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (auto colon = host.find(':');
             colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  uint32_t max_cpus = 0;
  for (const auto& n : nodes) max_cpus = std::max(max_cpus, n.cpus());
  const auto& p = cfg.priority;
  // Locus's policies: EASY (plain or predictive) and conservative backfill are sched/backfill,
  // firstfit/fcfs sched/builtin.
  const bool backfill = cfg.scheduler_policy == "easy" || cfg.scheduler_policy == "easy-predict" ||
                        cfg.scheduler_policy == "conservative";

  // sacct works (Locus keeps every job), so accounting is on as with slurmdbd.
  kv("AccountingStorageType", "accounting_storage/slurmdbd");
  // Toil reads these two to size its polling interval.
  kv("AcctGatherNodeFreq", secs(0));
  kv("ClusterName", "locus");
  kv("DefMemPerNode", "UNLIMITED");
  kv("FirstJobId", "1");
  kv("KillWait", secs(cfg.kill_grace.count()));
  kv("MaxArraySize", std::to_string(kMaxArrayIndex + 1));
  kv("MaxJobCount", "10000");
  kv("MaxTasksPerNode", std::to_string(max_cpus > 0 ? max_cpus : 512));
  kv("MinJobAge", secs(300));
  kv("MpiDefault", "none");
  kv("PriorityDecayHalfLife",
     p.decay_half_life_s > 0 ? formatDuration(p.decay_half_life_s) : "00:00:00");
  kv("PriorityFavorSmall", p.favor_small ? "Yes" : "No");
  kv("PriorityFlags", p.fairshare_mode == "classic" ? "NO_FAIR_TREE" : "");
  kv("PriorityMaxAge", formatDuration(p.max_age_s));
  kv("PriorityType", "priority/multifactor");
  kv("PriorityWeightAge", std::to_string(p.weight_age));
  kv("PriorityWeightFairShare", std::to_string(p.weight_fairshare));
  kv("PriorityWeightJobSize", std::to_string(p.weight_job_size));
  kv("PriorityWeightPartition", std::to_string(p.weight_pool));
  kv("PriorityWeightQOS", std::to_string(p.weight_qos));
  // A DOWN node that heartbeats again is UP with no admin action.
  kv("ReturnToService", "2");
  kv("SchedulerTimeSlice", secs(30));
  kv("SchedulerType", backfill ? "sched/backfill" : "sched/builtin");
  kv("SelectType", "select/cons_tres");
  kv("SelectTypeParameters", "CR_CORE_MEMORY");
  kv("SlurmctldHost[0]", host.empty() ? "(null)" : host);
  kv("SlurmctldPort", port);
  kv("SlurmdTimeout", secs(cfg.node_timeout.count()));
  kv("TopologyPlugin", cfg.switches.empty() ? "topology/none" : "topology/tree");
  return o;
}

}  // namespace locus::slurm
