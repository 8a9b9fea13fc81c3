// sinfo and scontrol show (job, node, partition, config) against Slurm 22.05's layouts.
#include <gtest/gtest.h>

#include "cli/slurm/scontrol_format.hpp"
#include "cli/slurm/sinfo_format.hpp"
#include "tests/unit/slurm/fixture.hpp"

namespace locus::slurm {
namespace {
using namespace testing;

std::string sinfo(const std::vector<std::string>& args) {
  auto opts = parseSinfoArgs(args);
  EXPECT_TRUE(opts.ok()) << opts.error().message;
  if (!opts.ok()) return "";
  auto text = formatSinfo(nodes(), *opts);
  EXPECT_TRUE(text.ok()) << text.error().message;
  return text.ok() ? *text : "";
}

TEST(Sinfo, DefaultLayoutOneLinePerState) {
  EXPECT_EQ(sinfo({}),
            "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\n"
            "locus*       up   infinite      1    mix n1\n"
            "locus*       up   infinite      1  alloc n2\n"
            "locus*       up   infinite      2   idle n[3-4]\n"
            "locus*       up   infinite      1   down n5\n");
  EXPECT_EQ(sinfo({"-h", "-t", "idle"}), "locus*       up   infinite      2   idle n[3-4]\n");
}

TEST(Sinfo, NodeOriented) {
  EXPECT_EQ(sinfo({"-N", "-n", "n[1-2]"}),
            "NODELIST  NODES PARTITION STATE \n"
            "n1            1    locus* mix   \n"
            "n2            1    locus* alloc \n");
}

TEST(Sinfo, FormatFields) {
  EXPECT_EQ(sinfo({"-h", "-o", "%P %a %l %D %t %N %c %m %G"}),
            "locus* up infinite 1 mix n1 8 16000 (null)\n"
            "locus* up infinite 1 alloc n2 8 16000 (null)\n"
            "locus* up infinite 2 idle n[3-4] 8 16000 (null)\n"
            "locus* up infinite 1 down n5 8 16000 (null)\n");
  EXPECT_EQ(sinfo({"-h", "-o", "%20P%C"}), "locus*              14/18/8/40\n");
  EXPECT_EQ(sinfo({"-h", "-p", "other"}), "");
  EXPECT_FALSE(parseSinfoArgs({"-t", "sleepy"}).ok());
}

TEST(Scontrol, ShowJobKeyValueBlock) {
  useUtc();
  auto group = [](uint32_t gid) { return "grp" + std::to_string(gid); };
  std::string text = formatScontrolJob(jobs()[0], kNow, group);
  EXPECT_EQ(text.substr(0, text.find("   Priority")),
            "JobId=101 JobName=train\n"
            "   UserId=alice(1000) GroupId=grp1000(1000) MCS_label=N/A\n");
  for (const char* line : {"   JobState=RUNNING Reason=None Dependency=(null)\n",
                           "   Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0\n",
                           "   RunTime=01:02:05 TimeLimit=02:00:00 TimeMin=N/A\n",
                           "   SubmitTime=2023-11-14T21:06:40 EligibleTime=2023-11-14T21:06:40\n",
                           "   StartTime=2023-11-14T21:11:15 EndTime=2023-11-14T23:11:15 Deadline=N/A\n",
                           "   Partition=locus AllocNode:Sid=(null):0\n",
                           "   NodeList=n[1-2]\n", "   BatchHost=n1\n",
                           "   NumNodes=2 NumCPUs=8 NumTasks=2 CPUs/Task=4 ReqB:S:C:T=0:0:*:*\n",
                           "   TRES=cpu=8,mem=8G,node=2,billing=8\n", "   WorkDir=/home/alice\n",
                           "   StdErr=/home/alice/slurm-101.out\n", "   StdOut=/home/alice/slurm-101.out\n"}) {
    SCOPED_TRACE(line);
    EXPECT_NE(text.find(line), std::string::npos) << text;
  }
  EXPECT_EQ(text.substr(text.size() - 2), "\n\n");

  text = formatScontrolJob(jobs()[3], kNow, group);
  EXPECT_EQ(text.substr(0, text.find('\n')), "JobId=104 ArrayJobId=103 ArrayTaskId=1 JobName=sweep");
  EXPECT_NE(text.find("   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)\n"), std::string::npos);
  EXPECT_NE(text.find("ExitCode=2:0\n"), std::string::npos);

  text = formatScontrolJob(jobs()[1], kNow, group);
  EXPECT_NE(text.find("   JobState=PENDING Reason=Priority Dependency=(null)\n"), std::string::npos);
  EXPECT_NE(text.find("   StartTime=Unknown EndTime=Unknown Deadline=N/A\n"), std::string::npos);
  EXPECT_NE(text.find("   NodeList=(null)\n"), std::string::npos);
}

TEST(Scontrol, ShowNodeAndPartition) {
  std::string text = formatScontrolNode(nodes()[0]);
  EXPECT_EQ(text.substr(0, text.find('\n')), "NodeName=n1 Arch=x86_64 CoresPerSocket=8");
  EXPECT_NE(text.find("   CPUAlloc=6 CPUEfctv=8 CPUTot=8 CPULoad=N/A\n"), std::string::npos);
  EXPECT_NE(text.find("   State=MIXED ThreadsPerCore=1"), std::string::npos);
  EXPECT_NE(text.find("   RealMemory=16000 AllocMem=4096 "), std::string::npos);
  EXPECT_NE(formatScontrolNode(nodes()[4]).find("   State=DOWN "), std::string::npos);
  text = formatScontrolPartition(nodes());
  EXPECT_EQ(text.substr(0, text.find('\n')), "PartitionName=locus");
  EXPECT_NE(text.find("   Nodes=n[1-5]\n"), std::string::npos);
  EXPECT_NE(text.find("   State=UP TotalCPUs=40 TotalNodes=5 SelectTypeParameters=NONE\n"), std::string::npos);
}

TEST(Scontrol, ShowConfigDefaults) {
  useUtc();
  EXPECT_EQ(formatScontrolConfig(Config{}, "10.0.0.5:6450", nodes(), kNow),
            "Configuration data as of 2023-11-14T22:13:20\n"
            "AccountingStorageType   = accounting_storage/slurmdbd\n"
            "AcctGatherNodeFreq      = 0 sec\n"
            "ClusterName             = locus\n"
            "DefMemPerNode           = UNLIMITED\n"
            "FirstJobId              = 1\n"
            "KillWait                = 10 sec\n"
            "MaxArraySize            = 4000001\n"
            "MaxJobCount             = 10000\n"
            "MaxTasksPerNode         = 8\n"
            "MinJobAge               = 300 sec\n"
            "MpiDefault              = none\n"
            "PriorityDecayHalfLife   = 7-00:00:00\n"
            "PriorityFavorSmall      = No\n"
            "PriorityFlags           = NO_FAIR_TREE\n"
            "PriorityMaxAge          = 7-00:00:00\n"
            "PriorityType            = priority/multifactor\n"
            "PriorityWeightAge       = 1000\n"
            "PriorityWeightFairShare = 10000\n"
            "PriorityWeightJobSize   = 0\n"
            "PriorityWeightPartition = 0\n"
            "PriorityWeightQOS       = 0\n"
            "ReturnToService         = 2\n"
            "SchedulerTimeSlice      = 30 sec\n"
            "SchedulerType           = sched/backfill\n"
            "SelectType              = select/cons_tres\n"
            "SelectTypeParameters    = CR_CORE_MEMORY\n"
            "SlurmctldHost[0]        = 10.0.0.5\n"
            "SlurmctldPort           = 6450\n"
            "SlurmdTimeout           = 30 sec\n"
            "TopologyPlugin          = topology/none\n");
}

TEST(Scontrol, ShowConfigFromLocusToml) {
  useUtc();
  auto cfg = parseConfig(
      "[controller]\nnode_timeout_s = 60\nkill_grace_s = 5\n"
      "[scheduler]\npolicy = \"fcfs\"\n"
      "[priority]\nweight_age = 7\nfairshare_mode = \"fairtree\"\nfavor_small = true\n"
      "max_age = \"1-00:00:00\"\n"
      "[[switch]]\nname = \"leaf\"\nnodes = \"n[1-5]\"\n",
      "test.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  std::string text = formatScontrolConfig(*cfg, "[::1]:7000", {}, kNow);
  for (const char* line :
       {"KillWait                = 5 sec\n", "SlurmdTimeout           = 60 sec\n",
        "SchedulerType           = sched/builtin\n", "PriorityWeightAge       = 7\n",
        "PriorityFlags           = \n", "PriorityFavorSmall      = Yes\n",
        "PriorityMaxAge          = 1-00:00:00\n", "TopologyPlugin          = topology/tree\n",
        "SlurmctldHost[0]        = ::1\n", "SlurmctldPort           = 7000\n",
        "MaxTasksPerNode         = 512\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  // Toil's getWaitDuration: the words after '=' on the SchedulerTimeSlice line are "30 sec".
  EXPECT_NE(text.find("\nSchedulerTimeSlice      = 30 sec\n"), std::string::npos);
  EXPECT_NE(formatScontrolConfig(Config{}, "ctl", {}, kNow).find("SlurmctldHost[0]        = ctl\n"
                                                                  "SlurmctldPort           = 6817\n"),
            std::string::npos);
}

}  // namespace
}  // namespace locus::slurm
