// Preemption, pools and pool quotas in the live controller, with real batch processes:
// - a `service` job (built-in QoS, no configuration) on a full cluster preempts the youngest
//   `normal` jobs it needs and no more; they get SIGTERM (their trap runs), SIGKILL after the
//   grace, go back to PENDING as their next attempt while it runs, and run again after it;
// - preempt_mode "cancel" and --no-requeue end the victim CANCELLED (reason Preempted);
// - a job in its QoS's preempt_exempt_time, or of a QoS with preempt_mode "off", is not
//   preempted: the preempting job waits (Resources) until the exemption is over;
// - a pool's jobs run only on its nodes and an unknown pool is refused; an account over its max
//   in a pool waits (PoolQuotaMaxLimit); an account within its guarantee takes back what another
//   account borrows, by preempting the borrower's youngest job, but never below the borrower's
//   own guarantee.
// Nodes are n1 ("left") and n2 ("right"), 4 cores each; -C left/right pins a job to one.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include <filesystem>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

using std::chrono::seconds;

const std::string kTopology = "pack:1 numa:1 core:4 pu:1";
// Short passes; features that let a job ask for one node (there is no -w).
const std::string kBase =
    "[scheduler]\ninterval_ms = 200\n"
    "[[node]]\nnames = \"n1\"\nfeatures = [\"left\"]\n"
    "[[node]]\nnames = \"n2\"\nfeatures = [\"right\"]\n";

TestCluster::Options twoNodes(const std::string& config) {
  TestCluster::Options options;
  options.nodes = 2;
  options.topology = kTopology;
  options.config = config;
  return options;
}

std::string currentUser() {
  const passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "root";
}

std::string id(uint64_t v) { return std::to_string(v); }

// A batch script that appends its attempt to WORK/runs-TAG and waits for WORK/gate. On SIGTERM
// its trap appends "TERM" to WORK/term-TAG and then sleeps on, so only the SIGKILL after the
// kill grace (1 s in the test config) ends it: its victims take that long to end.
std::string gatedScript(const TestCluster& cluster, const std::string& tag) {
  const std::string w = cluster.workDir();
  return "trap 'echo TERM >> " + w + "/term-" + tag + "; sleep 30' TERM\n"
         "echo $LOCUS_RESTART_COUNT >> " + w + "/runs-" + tag + "\n"
         "while [ ! -e " + w + "/gate ]; do sleep 0.1; done\n";
}

void openGate(const TestCluster& cluster) { std::ofstream(cluster.workDir() + "/gate").put('\n'); }

bool waitState(const TestCluster& cluster, uint64_t job, const std::string& state, seconds timeout = seconds(20)) {
  return waitUntil([&] { return cluster.job(job)["state"] == state; }, timeout);
}

int64_t unixSeconds() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "2026-12-06T21:14:04Z" (the JSON's times) as seconds since the epoch; 0 if not such a time.
int64_t epochSeconds(const nlohmann::json& time) {
  if (!time.is_string()) return 0;
  std::tm tm{};
  const std::string text = time;
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return timegm(&tm);
}

std::vector<std::string> nodesOf(const nlohmann::json& job) {
  std::vector<std::string> out;
  for (const auto& n : job["nodes"]) out.push_back(n);
  return out;
}

// "job=V preempted (MODE) for job=P" lines of the controller's log.
int preemptionsLogged(const TestCluster& cluster, const std::string& victim = "") {
  const std::string log = readFile(cluster.dir() + "/logs/controller.log");
  const std::string needle = victim.empty() ? " preempted (" : "job=" + victim + " preempted (";
  int n = 0;
  for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
  return n;
}

// `victim` was preempted once, for `by`, in `mode`: `locus show --json`'s preempted_by and
// preemption say so, and the controller logged it once.
void expectPreemptedFor(const TestCluster& cluster, uint64_t victim, uint64_t by, const std::string& mode) {
  const auto j = cluster.job(victim);
  EXPECT_EQ(j["preempted_by"], by) << j.dump();
  const std::string text = j["preemption"].is_string() ? j["preemption"].get<std::string>() : "";
  EXPECT_NE(text.find("preempted (" + mode + ") for job " + id(by)), std::string::npos) << j.dump();
  const std::string log = readFile(cluster.dir() + "/logs/controller.log");
  EXPECT_NE(log.find("job=" + id(victim) + " preempted (" + mode + ") for job=" + id(by) + ":"), std::string::npos)
      << "job " << victim << " not logged as preempted (" << mode << ") for job " << by;
  EXPECT_EQ(preemptionsLogged(cluster, id(victim)), 1) << "job " << victim;
  // A requeued victim's reason "Preempted" lasts only until the next pass gives it its own
  // ("Resources" here), so what happened is checked through `locus why`, which tells it either way.
  const auto why = cluster.locus({"why", id(victim)});
  EXPECT_EQ(why.exit_code, 0) << why.err;
  EXPECT_NE(why.out.find("preempted (" + mode + ") for job " + id(by)), std::string::npos) << why.out;
}

class Preemption : public ::testing::Test {
 protected:
  void start(TestCluster& cluster) {
    ASSERT_TRUE(cluster.startController());
    ASSERT_TRUE(cluster.startNode(0));
    ASSERT_TRUE(cluster.startNode(1));
    ASSERT_TRUE(cluster.waitNodesUp(2, seconds(20)));
  }
};

TEST_F(Preemption, AServiceJobPreemptsTheYoungestNormalJobsItNeedsAndTheyRunAgainAfterIt) {
  TestCluster cluster(twoNodes(kBase));  // no [[qos]]: the built-in levels
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  // Four 2-core normal jobs fill both nodes, started oldest to youngest: j1 and j3 on n1, j2 and
  // j4 on n2.
  std::vector<uint64_t> j;
  for (int i = 0; i < 4; ++i) {
    auto job = cluster.submit({"-c", "2", "-C", i % 2 == 0 ? "left" : "right", "--wrap",
                               gatedScript(cluster, "j" + std::to_string(i + 1))});
    ASSERT_TRUE(job);
    ASSERT_TRUE(waitState(cluster, *job, "RUNNING"));
    j.push_back(*job);
  }
  // A 4-core service job needs a whole node. Youngest first: j4 (n2: 2 free, no), j3 (n1: 2
  // free, no), j2 (n2: 4 free, fits); pruned oldest first, j3 is not needed. Victims: j4, j2.
  auto service = cluster.submit({"--qos", "service", "-c", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(service);
  // While the victims' trap sleeps through the 1 s grace, the service job waits for them.
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*service)["reason"] == "Preempting"; }, seconds(20)))
      << cluster.job(*service).dump();
  EXPECT_EQ(cluster.job(*service)["state"], "PENDING");
  ASSERT_TRUE(waitState(cluster, *service, "RUNNING")) << cluster.job(*service).dump();
  EXPECT_EQ(nodesOf(cluster.job(*service)), std::vector<std::string>{"n2"});

  for (uint64_t victim : {j[1], j[3]}) {
    auto v = cluster.job(victim);
    EXPECT_EQ(v["state"], "PENDING") << v.dump();
    EXPECT_EQ(v["attempt"], 1) << v.dump();
    expectPreemptedFor(cluster, victim, *service, "requeue");
  }
  // The trap saw SIGTERM once and did not outlive the grace; the victims have not run again.
  EXPECT_EQ(readFile(cluster.workDir() + "/term-j2"), "TERM\n");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-j4"), "TERM\n");
  EXPECT_EQ(readFile(cluster.workDir() + "/runs-j2"), "0\n");
  EXPECT_EQ(readFile(cluster.workDir() + "/runs-j4"), "0\n");
  // The others run on untouched; nothing else was preempted.
  for (uint64_t other : {j[0], j[2]}) {
    auto o = cluster.job(other);
    EXPECT_EQ(o["state"], "RUNNING") << o.dump();
    EXPECT_EQ(o["attempt"], 0) << o.dump();
  }
  EXPECT_EQ(readFile(cluster.workDir() + "/term-j1"), "");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-j3"), "");
  EXPECT_EQ(preemptionsLogged(cluster), 2);

  // When the service job ends, the victims run again as attempt 1, and everything completes.
  ASSERT_EQ(cluster.locus({"cancel", id(*service)}).exit_code, 0);
  for (uint64_t victim : {j[1], j[3]}) ASSERT_TRUE(waitState(cluster, victim, "RUNNING")) << cluster.job(victim).dump();
  ASSERT_TRUE(waitUntil([&] { return readFile(cluster.workDir() + "/runs-j2") == "0\n1\n" &&
                                     readFile(cluster.workDir() + "/runs-j4") == "0\n1\n"; },
                        seconds(20)));
  openGate(cluster);
  ASSERT_TRUE(cluster.waitTerminal(j, seconds(30)));
  for (uint64_t job : j) EXPECT_EQ(cluster.job(job)["state"], "COMPLETED") << cluster.job(job).dump();
  EXPECT_EQ(cluster.job(*service)["state"], "CANCELLED");
  EXPECT_EQ(cluster.job(j[1])["attempt"], 1);
  EXPECT_EQ(cluster.job(j[0])["attempt"], 0);
  EXPECT_EQ(preemptionsLogged(cluster), 2);
}

TEST_F(Preemption, CancelModeAndNoRequeueEndTheVictimCancelled) {
  TestCluster cluster(twoNodes(kBase +
                               "[[qos]]\nname = \"normal\"\n"
                               "[[qos]]\nname = \"scavenger\"\npreempt_mode = \"cancel\"\n"
                               "[[qos]]\nname = \"service\"\npreempt = [\"normal\", \"scavenger\"]\n"));
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  auto scavenger = cluster.submit({"-q", "scavenger", "-c", "4", "-C", "left", "--wrap", gatedScript(cluster, "scav")});
  auto no_requeue = cluster.submit({"--no-requeue", "-c", "4", "-C", "right", "--wrap", gatedScript(cluster, "noreq")});
  ASSERT_TRUE(scavenger && no_requeue);
  ASSERT_TRUE(waitState(cluster, *scavenger, "RUNNING"));
  ASSERT_TRUE(waitState(cluster, *no_requeue, "RUNNING"));

  // Cancel mode: the victim is CANCELLED at once, its processes get the grace to end; the
  // service job waits for them.
  auto left = cluster.submit({"-q", "service", "-c", "4", "-C", "left", "--wrap", "sleep 300"});
  ASSERT_TRUE(left);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*left)["reason"] == "Preempting"; }, seconds(20)))
      << cluster.job(*left).dump();
  ASSERT_TRUE(waitState(cluster, *left, "RUNNING")) << cluster.job(*left).dump();
  auto v = cluster.job(*scavenger);
  EXPECT_EQ(v["state"], "CANCELLED") << v.dump();
  EXPECT_EQ(v["reason"], "Preempted") << v.dump();
  EXPECT_EQ(v["attempt"], 0) << v.dump();
  expectPreemptedFor(cluster, *scavenger, *left, "cancel");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-scav"), "TERM\n");
  EXPECT_EQ(cluster.job(*no_requeue)["state"], "RUNNING");

  // --no-requeue under a requeue-mode QoS: preemption cancels it instead.
  auto right = cluster.submit({"-q", "service", "-c", "4", "-C", "right", "--wrap", "sleep 300"});
  ASSERT_TRUE(right);
  ASSERT_TRUE(waitState(cluster, *right, "RUNNING")) << cluster.job(*right).dump();
  v = cluster.job(*no_requeue);
  EXPECT_EQ(v["state"], "CANCELLED") << v.dump();
  EXPECT_EQ(v["reason"], "Preempted") << v.dump();
  EXPECT_EQ(v["attempt"], 0) << v.dump();
  expectPreemptedFor(cluster, *no_requeue, *right, "cancel");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-noreq"), "TERM\n");
  // Neither ran again.
  EXPECT_EQ(readFile(cluster.workDir() + "/runs-scav"), "0\n");
  EXPECT_EQ(readFile(cluster.workDir() + "/runs-noreq"), "0\n");
  EXPECT_EQ(cluster.locus({"cancel", id(*left), id(*right)}).exit_code, 0);
}

// The state letter of /proc/PID/stat ('T' stopped, 'S' sleeping, ...); 0 when it is gone.
char processState(const std::string& pid_file) {
  std::string pid = readFile(pid_file);
  while (!pid.empty() && pid.back() == '\n') pid.pop_back();
  if (pid.empty()) return 0;
  std::string stat = readFile("/proc/" + pid + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

// Suspend mode: the victim's processes are stopped (SIGSTOP), its cores go to the preempting
// job at once, and it continues (SIGCONT) when they are free again — not requeued, same attempt.
// A suspended job can be cancelled; its processes then end.
TEST_F(Preemption, SuspendModeStopsTheVictimAndContinuesItWhenItsCoresAreFree) {
  TestCluster cluster(twoNodes(kBase +
                               "[[qos]]\nname = \"normal\"\n"
                               "[[qos]]\nname = \"low\"\npreempt_mode = \"suspend\"\n"
                               "[[qos]]\nname = \"service\"\npreempt = [\"normal\", \"low\"]\n"));
  ASSERT_NO_FATAL_FAILURE(start(cluster));
  const std::string w = cluster.workDir();
  auto counting = [&](const std::string& tag) {
    return "echo $$ > " + w + "/pid-" + tag + "\n"
           "while [ ! -e " + w + "/gate ]; do sleep 0.1; done\n"
           "echo finished >> " + w + "/done-" + tag + "\n";
  };
  auto low = cluster.submit({"-q", "low", "-c", "4", "-C", "left", "--wrap", counting("low")});
  ASSERT_TRUE(low);
  ASSERT_TRUE(waitState(cluster, *low, "RUNNING"));
  ASSERT_TRUE(waitUntil([&] { return processState(w + "/pid-low") != 0; }, seconds(20)));

  auto high = cluster.submit({"-q", "service", "-c", "4", "-C", "left", "--wrap", "sleep 300"});
  ASSERT_TRUE(high);
  ASSERT_TRUE(waitState(cluster, *high, "RUNNING")) << cluster.job(*high).dump();
  auto v = cluster.job(*low);
  EXPECT_EQ(v["state"], "SUSPENDED") << v.dump();
  EXPECT_EQ(v["reason"], "Preempted") << v.dump();
  EXPECT_EQ(v["attempt"], 0) << v.dump();
  expectPreemptedFor(cluster, *low, *high, "suspend");
  EXPECT_TRUE(waitUntil([&] { return processState(w + "/pid-low") == 'T'; }, seconds(10)))
      << "state " << processState(w + "/pid-low");
  // The queue shows it (Slurm's S), and it holds no cores on n1: the high job has all four.
  auto queue = cluster.locus({"queue"});
  EXPECT_NE(queue.out.find("SUSPENDED"), std::string::npos) << queue.out;
  const auto h = cluster.job(*high);
  EXPECT_EQ(nodesOf(h), std::vector<std::string>{cluster.nodeName(0)}) << h.dump();

  // The high job ends: the low one continues on its own cores, same attempt, and finishes.
  EXPECT_EQ(cluster.locus({"cancel", id(*high)}).exit_code, 0);
  ASSERT_TRUE(waitState(cluster, *low, "RUNNING")) << cluster.job(*low).dump();
  EXPECT_TRUE(waitUntil([&] {
    char st = processState(w + "/pid-low");
    return st != 'T' && st != 0;
  }, seconds(10)));
  openGate(cluster);
  ASSERT_TRUE(waitState(cluster, *low, "COMPLETED")) << cluster.job(*low).dump();
  EXPECT_EQ(cluster.job(*low)["attempt"], 0);
  EXPECT_EQ(readFile(w + "/done-low"), "finished\n");

  // Suspended, then cancelled: it ends, and nothing of it is left.
  std::filesystem::remove(w + "/gate");
  auto low2 = cluster.submit({"-q", "low", "-c", "4", "-C", "right", "--wrap", counting("low2")});
  ASSERT_TRUE(low2);
  ASSERT_TRUE(waitState(cluster, *low2, "RUNNING"));
  ASSERT_TRUE(waitUntil([&] { return processState(w + "/pid-low2") != 0; }, seconds(20)));
  auto high2 = cluster.submit({"-q", "service", "-c", "4", "-C", "right", "--wrap", "sleep 300"});
  ASSERT_TRUE(high2);
  ASSERT_TRUE(waitState(cluster, *low2, "SUSPENDED")) << cluster.job(*low2).dump();
  ASSERT_TRUE(waitState(cluster, *high2, "RUNNING"));
  EXPECT_EQ(cluster.locus({"cancel", id(*low2)}).exit_code, 0);
  ASSERT_TRUE(waitState(cluster, *low2, "CANCELLED"));
  EXPECT_TRUE(waitUntil([&] { return processState(w + "/pid-low2") == 0; }, seconds(20)));
  EXPECT_EQ(cluster.job(*high2)["state"], "RUNNING");
  EXPECT_EQ(cluster.locus({"cancel", id(*high2)}).exit_code, 0);
}

TEST_F(Preemption, ExemptTimeAndModeOffKeepJobsFromBeingPreempted) {
  TestCluster cluster(twoNodes(kBase +
                               "[[qos]]\nname = \"normal\"\npreempt_exempt_time = \"0:06\"\n"
                               "[[qos]]\nname = \"pinned\"\npreempt_mode = \"off\"\n"
                               "[[qos]]\nname = \"service\"\npreempt = [\"normal\", \"pinned\"]\n"));
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  auto pinned = cluster.submit({"-q", "pinned", "-c", "4", "-C", "left", "--wrap", gatedScript(cluster, "pinned")});
  ASSERT_TRUE(pinned);
  ASSERT_TRUE(waitState(cluster, *pinned, "RUNNING"));
  auto young = cluster.submit({"-c", "4", "-C", "right", "--wrap", gatedScript(cluster, "young")});
  ASSERT_TRUE(young);
  ASSERT_TRUE(waitState(cluster, *young, "RUNNING"));
  // The controller's clock is this machine's: how long the young job has run, in its seconds.
  const int64_t young_start = epochSeconds(cluster.job(*young)["start_time"]);
  ASSERT_GT(young_start, 0) << cluster.job(*young).dump();
  auto youngRan = [&] { return unixSeconds() - young_start; };

  // The service job may preempt both levels, but "pinned" is off and "young" is exempt for its
  // first 6 s: a pass finds no victim and leaves it waiting for resources.
  auto service = cluster.submit({"-q", "service", "-c", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(service);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*service)["reason"] == "Resources"; }, seconds(20)))
      << cluster.job(*service).dump();
  ASSERT_LE(youngRan(), 4) << "too slow to check inside the exemption";
  EXPECT_EQ(cluster.job(*service)["state"], "PENDING");
  EXPECT_EQ(cluster.job(*young)["state"], "RUNNING");
  EXPECT_EQ(cluster.job(*pinned)["state"], "RUNNING");
  EXPECT_EQ(preemptionsLogged(cluster), 0);

  // Passes run every 200 ms. Once the exemption is over the young job is the victim; the pinned
  // one never is, however many passes find no other room.
  bool pinned_kept = true;
  std::string service_reasons_while_exempt;
  ASSERT_TRUE(waitUntil(
      [&] {
        auto p = cluster.job(*pinned);
        if (p["state"] != "RUNNING" || p["attempt"] != 0) pinned_kept = false;
        const std::string reason = cluster.job(*service)["reason"];
        if (youngRan() <= 4 && reason != "Resources")
          service_reasons_while_exempt += reason + " ";
        return cluster.job(*young)["attempt"] == 1;
      },
      seconds(30)))
      << cluster.job(*young).dump();
  EXPECT_GE(youngRan(), 6) << "preempted inside its exempt time";
  EXPECT_EQ(service_reasons_while_exempt, "");
  ASSERT_TRUE(waitState(cluster, *service, "RUNNING")) << cluster.job(*service).dump();
  EXPECT_EQ(nodesOf(cluster.job(*service)), std::vector<std::string>{"n2"});
  EXPECT_TRUE(pinned_kept);
  auto p = cluster.job(*pinned);
  EXPECT_EQ(p["state"], "RUNNING") << p.dump();
  EXPECT_EQ(p["attempt"], 0) << p.dump();
  EXPECT_EQ(readFile(cluster.workDir() + "/term-pinned"), "");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-young"), "TERM\n");
  expectPreemptedFor(cluster, *young, *service, "requeue");
  EXPECT_EQ(preemptionsLogged(cluster), 1);
  EXPECT_EQ(cluster.locus({"cancel", id(*pinned), id(*young), id(*service)}).exit_code, 0);
}

const std::string kPools =
    "[[pool]]\nname = \"left\"\nnodes = \"n1\"\n"
    "[[pool]]\nname = \"all\"\nnodes = \"n[1-2]\"\ndefault = true\n"
    "[[pool.quota]]\naccount = \"physics\"\nguaranteed = { cores = 4 }\nmax = { cores = 6 }\n"
    "[[pool.quota]]\naccount = \"bio\"\nguaranteed = { cores = 6 }\n";

std::string accounts() {
  const std::string user = currentUser();
  return "[[account]]\nname = \"physics\"\nusers = [\"" + user + "\"]\n"
         "[[account]]\nname = \"bio\"\nusers = [\"" + user + "\"]\n";
}

TEST_F(Preemption, PoolJobsRunOnlyOnTheirPoolsNodesAndUnknownPoolsAreRefused) {
  TestCluster cluster(twoNodes(kBase + accounts() + kPools));
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  auto filler = cluster.submit({"-p", "left", "-A", "bio", "-c", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(filler);
  ASSERT_TRUE(waitState(cluster, *filler, "RUNNING"));
  EXPECT_EQ(nodesOf(cluster.job(*filler)), std::vector<std::string>{"n1"});
  // n2 is idle, but not in the pool: the next job of the pool waits for n1.
  auto waiting = cluster.submit({"-p", "left", "-A", "bio", "-c", "1", "--wrap", "sleep 300"});
  ASSERT_TRUE(waiting);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*waiting)["reason"] == "Resources"; }, seconds(20)))
      << cluster.job(*waiting).dump();
  EXPECT_EQ(cluster.job(*waiting)["state"], "PENDING");
  // The default pool holds n2 too: a job there starts at once, on n2.
  auto elsewhere = cluster.submit({"-A", "bio", "-c", "1", "--wrap", "sleep 300"});
  ASSERT_TRUE(elsewhere);
  ASSERT_TRUE(waitState(cluster, *elsewhere, "RUNNING"));
  EXPECT_EQ(nodesOf(cluster.job(*elsewhere)), std::vector<std::string>{"n2"});
  EXPECT_EQ(cluster.job(*waiting)["state"], "PENDING");
  ASSERT_EQ(cluster.locus({"cancel", id(*filler)}).exit_code, 0);
  ASSERT_TRUE(waitState(cluster, *waiting, "RUNNING")) << cluster.job(*waiting).dump();
  EXPECT_EQ(nodesOf(cluster.job(*waiting)), std::vector<std::string>{"n1"});

  auto unknown = cluster.locus({"submit", "-p", "nowhere", "-A", "bio", "--wrap", "true"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("invalid partition specified"), std::string::npos) << unknown.err;
  EXPECT_EQ(cluster.locus({"cancel", id(*waiting), id(*elsewhere)}).exit_code, 0);
}

TEST_F(Preemption, AnAccountAtItsPoolMaxWaitsWithPoolQuotaMaxLimit) {
  TestCluster cluster(twoNodes(kBase + accounts() + kPools));
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  // physics may hold 6 cores in "all": 4 run, 4 more would be 8 (the cluster has 4 free), 2 more fit.
  auto first = cluster.submit({"-A", "physics", "-c", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(first);
  ASSERT_TRUE(waitState(cluster, *first, "RUNNING"));
  auto over = cluster.submit({"-A", "physics", "-c", "4", "--wrap", "sleep 300"});
  ASSERT_TRUE(over);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*over)["reason"] == "PoolQuotaMaxLimit"; }, seconds(20)))
      << cluster.job(*over).dump();
  EXPECT_EQ(cluster.job(*over)["state"], "PENDING");
  auto up_to_max = cluster.submit({"-A", "physics", "-c", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(up_to_max);
  ASSERT_TRUE(waitState(cluster, *up_to_max, "RUNNING")) << cluster.job(*up_to_max).dump();
  EXPECT_EQ(cluster.job(*over)["state"], "PENDING");
  EXPECT_EQ(cluster.job(*over)["reason"], "PoolQuotaMaxLimit");
  // Another account is not held back by physics' max.
  auto other = cluster.submit({"-A", "bio", "-c", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(other);
  ASSERT_TRUE(waitState(cluster, *other, "RUNNING")) << cluster.job(*other).dump();
  // Below its max again, the waiting job runs.
  ASSERT_EQ(cluster.locus({"cancel", id(*first), id(*other)}).exit_code, 0);
  ASSERT_TRUE(waitState(cluster, *over, "RUNNING")) << cluster.job(*over).dump();
  EXPECT_EQ(cluster.locus({"cancel", id(*over), id(*up_to_max)}).exit_code, 0);
}

TEST_F(Preemption, AGuaranteeIsTakenBackFromTheBorrowersYoungestJobButNotBelowItsGuarantee) {
  TestCluster cluster(twoNodes(kBase + accounts() + kPools));
  ASSERT_NO_FATAL_FAILURE(start(cluster));

  // bio (guaranteed 6 cores in "all") fills all 8: it borrows 2 of physics' guaranteed 4.
  std::vector<uint64_t> b;
  for (int i = 0; i < 4; ++i) {
    auto job = cluster.submit({"-A", "bio", "-c", "2", "-C", i % 2 == 0 ? "left" : "right", "--wrap",
                               gatedScript(cluster, "b" + std::to_string(i + 1))});
    ASSERT_TRUE(job);
    ASSERT_TRUE(waitState(cluster, *job, "RUNNING"));
    b.push_back(*job);
  }
  // physics within its guarantee takes back the 2 borrowed cores: bio's youngest job, b4.
  auto reclaim = cluster.submit({"-A", "physics", "-c", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(reclaim);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*reclaim)["reason"] == "Preempting"; }, seconds(20)))
      << cluster.job(*reclaim).dump();
  ASSERT_TRUE(waitState(cluster, *reclaim, "RUNNING")) << cluster.job(*reclaim).dump();
  EXPECT_EQ(nodesOf(cluster.job(*reclaim)), std::vector<std::string>{"n2"});
  auto victim = cluster.job(b[3]);
  EXPECT_EQ(victim["state"], "PENDING") << victim.dump();
  EXPECT_EQ(victim["attempt"], 1) << victim.dump();
  expectPreemptedFor(cluster, b[3], *reclaim, "requeue");
  EXPECT_EQ(readFile(cluster.workDir() + "/term-b4"), "TERM\n");

  // physics is still within its guarantee (2 of 4), but bio holds exactly its own 6: nothing
  // more is taken, the job waits for resources.
  auto more = cluster.submit({"-A", "physics", "-c", "2", "--wrap", "sleep 300"});
  ASSERT_TRUE(more);
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*more)["reason"] == "Resources"; }, seconds(20)))
      << cluster.job(*more).dump();
  EXPECT_EQ(cluster.job(*more)["state"], "PENDING");
  for (int i = 0; i < 3; ++i) {
    auto kept = cluster.job(b[i]);
    EXPECT_EQ(kept["state"], "RUNNING") << kept.dump();
    EXPECT_EQ(kept["attempt"], 0) << kept.dump();
  }
  EXPECT_EQ(readFile(cluster.workDir() + "/term-b1") + readFile(cluster.workDir() + "/term-b2") +
                readFile(cluster.workDir() + "/term-b3"),
            "");
  EXPECT_EQ(preemptionsLogged(cluster), 1);
  std::vector<std::string> cancel{"cancel", id(*reclaim), id(*more)};
  for (uint64_t job : b) cancel.push_back(id(job));
  EXPECT_EQ(cluster.locus(cancel).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
