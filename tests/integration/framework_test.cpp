// Frameworks (two-level scheduling, controller/frameworks.hpp) against a real cluster: a framework
// in this test process (cli/framework_client.hpp over real gRPC with a real MUNGE credential)
// asks for leases with locality preferences, is offered resources, launches tasks in its leases
// on the real node daemons, is revoked for a higher-priority job, fails over, and shares the
// cluster with another framework and a batch account by DRF weights.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <atomic>
#include <cstdio>
#include <sstream>

#include "cli/framework_client.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

using cli::FrameworkSession;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// Racks: r1 = n1-n3, r2 = n4-n6; 2 cores per node; 1 s locality waits.
const std::string kRacks =
    std::string(kTwoRacksOfThree) + "[locality]\nlocality_wait_node = 1\nlocality_wait_rack = 1\n";

TestCluster::Options sixNodes(const std::string& extra) {
  TestCluster::Options o;
  o.nodes = 6;
  o.topology = "pack:1 numa:1 core:2 pu:1";
  o.config = std::string(kRacks) + extra;
  return o;
}

// Starts the cluster and points this process's MUNGE credentials at its munged.
void up(TestCluster& cluster) {
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(6, seconds(30)));
  ::setenv("LOCUS_MUNGE_SOCKET", cluster.mungeSocket().c_str(), 1);
}

proto::FrameworkRegister reg(const std::string& name, const std::string& mode = "", uint32_t failover_s = 0) {
  proto::FrameworkRegister r;
  r.set_name(name);
  r.set_mode(mode);
  r.set_failover_timeout_s(failover_s);
  return r;
}

proto::LeaseRequest request(const std::string& id, uint32_t cpus, std::vector<std::string> nodes, bool relax = true) {
  proto::LeaseRequest r;
  r.set_id(id);
  r.set_count(1);
  r.set_cpus(cpus);
  for (auto& n : nodes) r.add_nodes(n);
  if (!relax) r.set_relax_locality(false);
  return r;
}

// The next event `match` accepts within `timeout`; the others are kept in `skipped`.
std::optional<proto::FrameworkEvent> waitEvent(FrameworkSession& fw, const std::function<bool(const proto::FrameworkEvent&)>& match,
                                               milliseconds timeout, std::vector<proto::FrameworkEvent>* skipped = nullptr) {
  const auto deadline = steady_clock::now() + timeout;
  while (auto e = fw.next(deadline)) {
    if (match(*e)) return e;
    if (e->has_error()) ADD_FAILURE() << "framework error: " << e->error();
    if (skipped) skipped->push_back(*e);
  }
  return std::nullopt;
}

std::optional<proto::Lease> waitLease(FrameworkSession& fw, milliseconds timeout = milliseconds(20000)) {
  auto e = waitEvent(fw, [](const proto::FrameworkEvent& e) { return e.has_lease(); }, timeout);
  if (!e) return std::nullopt;
  return e->lease();
}

std::optional<proto::TaskStatus> waitTaskEnd(FrameworkSession& fw, const std::string& task, milliseconds timeout) {
  auto e = waitEvent(
      fw, [&](const proto::FrameworkEvent& e) { return e.has_task() && e.task().task_id() == task && e.task().state() != "RUNNING"; },
      timeout);
  if (!e) return std::nullopt;
  return e->task();
}

proto::FrameworkLaunch shellTask(uint64_t lease, const std::string& id, const std::string& script,
                                 const std::string& out = "") {
  proto::FrameworkLaunch l;
  l.set_lease_id(lease);
  l.set_task_id(id);
  l.add_argv("/bin/sh");
  l.add_argv("-c");
  l.add_argv(script);
  l.set_stdout_path(out);
  return l;
}

TEST(Frameworks, LeasesGoToPreferredNodesThenTheirRackThenAnywhere) {
  TestCluster cluster(sixNodes(""));
  up(cluster);
  FrameworkSession fw(cluster.address());
  auto registered = fw.open(reg("spark"));
  ASSERT_TRUE(registered.ok()) << registered.error().message;
  EXPECT_EQ(registered->name(), "spark");
  EXPECT_EQ(registered->leases_size(), 0);

  // Whole-node leases all preferring n2: n2, then the rest of rack r1 once the node wait is
  // over, then rack r2 once the rack wait is over too.
  std::vector<std::string> where, locality;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(fw.request(request("r" + std::to_string(i), 2, {"n2"})));
    auto lease = waitLease(fw);
    ASSERT_TRUE(lease) << "lease " << i << " not granted";
    where.push_back(lease->node());
    locality.push_back(lease->locality());
    EXPECT_EQ(lease->request_id(), "r" + std::to_string(i));
    EXPECT_EQ(lease->cpus(), 2u);
  }
  EXPECT_EQ(where[0], "n2");
  EXPECT_EQ(locality[0], "node_local");
  std::set<std::string> rack1{where[1], where[2]};
  EXPECT_EQ(rack1, (std::set<std::string>{"n1", "n3"}));
  EXPECT_EQ(locality[1], "rack_local");
  EXPECT_EQ(locality[2], "rack_local");
  EXPECT_GE(where[3], "n4");
  EXPECT_EQ(locality[3], "remote");

  // Leases are jobs of the framework's account, and `locus frameworks` lists them.
  auto listed = cluster.locus({"frameworks", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  json all = json::parse(listed.out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["name"], "spark");
  EXPECT_EQ(all[0]["connected"], true);
  EXPECT_EQ(all[0]["leases"].size(), 4u);
  EXPECT_EQ(all[0]["usage"]["cpus"], 8);
  const uint64_t first = all[0]["leases"][0]["id"];
  EXPECT_EQ(cluster.job(first)["state"], "RUNNING");
  EXPECT_EQ(cluster.job(first)["lease"]["framework"], "spark");
  EXPECT_EQ(cluster.job(first)["lease"]["locality"], "node_local");

  // A strict request for a busy node waits for it, whatever is free elsewhere.
  ASSERT_TRUE(fw.request(request("strict", 2, {"n2"}, /*relax=*/false)));
  EXPECT_FALSE(waitLease(fw, milliseconds(3500))) << "a strict lease went elsewhere";  // node + rack waits passed
  ASSERT_TRUE(fw.release(first));
  auto ended = waitEvent(fw, [](const auto& e) { return e.has_lease_ended(); }, milliseconds(10000));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->lease_ended().lease_id(), first);
  EXPECT_EQ(ended->lease_ended().reason(), "Released");
  auto strict = waitLease(fw);
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->node(), "n2");
  EXPECT_EQ(strict->request_id(), "strict");
}

TEST(Frameworks, TasksRunInLeasesAndTheirEndsAreReported) {
  TestCluster cluster(sixNodes(""));
  up(cluster);
  FrameworkSession fw(cluster.address());
  ASSERT_TRUE(fw.open(reg("tasks")).ok());
  ASSERT_TRUE(fw.request(request("a", 2, {"n4"})));
  auto lease = waitLease(fw);
  ASSERT_TRUE(lease);
  ASSERT_EQ(lease->node(), "n4");

  // Two one-core tasks side by side on different cores, with their output in files.
  const std::string dir = cluster.workDir();
  ASSERT_TRUE(fw.launch([&] {
    auto l = shellTask(lease->id(), "t1",
                       "echo $LOCUS_TASK_ID $LOCUS_LEASE_ID $LOCUS_FRAMEWORK $LOCUS_NODENAME $LOCUS_CPU_BIND_LIST; exit 3",
                       dir + "/t1.out");
    l.set_cpus(1);
    return l;
  }()));
  ASSERT_TRUE(fw.launch([&] {
    auto l = shellTask(lease->id(), "t2", "echo $LOCUS_CPU_BIND_LIST; sleep 300", dir + "/t2.out");
    l.set_cpus(1);
    return l;
  }()));
  auto t1 = waitTaskEnd(fw, "t1", milliseconds(20000));
  ASSERT_TRUE(t1);
  EXPECT_EQ(t1->state(), "FAILED");
  EXPECT_EQ(t1->exit_code(), 3);
  EXPECT_EQ(t1->node(), "n4");
  const auto words = [&](const std::string& path) {
    std::istringstream in(readFile(path));
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  auto out1 = words(dir + "/t1.out");
  ASSERT_EQ(out1.size(), 5u) << readFile(dir + "/t1.out");
  EXPECT_EQ(out1[0], "t1");
  EXPECT_EQ(out1[1], std::to_string(lease->id()));
  EXPECT_EQ(out1[2], "tasks");
  EXPECT_EQ(out1[3], "n4");
  ASSERT_TRUE(waitUntil([&] { return words(dir + "/t2.out").size() == 1; }, seconds(10)));
  EXPECT_NE(out1[4], words(dir + "/t2.out")[0]) << "two one-core tasks got the same core";

  // A task of an unknown lease, or a duplicate id, is refused on the stream, which goes on.
  ASSERT_TRUE(fw.launch(shellTask(999999, "x", "true")));
  auto refused = waitEvent(fw, [](const auto& e) { return e.has_error(); }, milliseconds(5000));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->error().find("not a live lease"), std::string::npos) << refused->error();

  // Killing a task ends it (and only it); the lease goes on.
  ASSERT_TRUE(fw.kill(lease->id(), "t2"));
  auto t2 = waitTaskEnd(fw, "t2", milliseconds(20000));
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->state(), "CANCELLED");
  EXPECT_EQ(cluster.job(lease->id())["state"], "RUNNING");
  EXPECT_EQ(liveProcesses("sleep 300"), 0);
  ASSERT_TRUE(fw.launch(shellTask(lease->id(), "t3", "exit 0")));
  auto t3 = waitTaskEnd(fw, "t3", milliseconds(20000));
  ASSERT_TRUE(t3);
  EXPECT_EQ(t3->state(), "COMPLETED");
  EXPECT_EQ(t3->exit_code(), 0);
}

TEST(Frameworks, DeclinedOffersAreNotReofferedBeforeTheirFilterExpires) {
  TestCluster cluster(sixNodes("[frameworks]\noffer_timeout_s = 60\n"));
  up(cluster);
  FrameworkSession fw(cluster.address());
  ASSERT_TRUE(fw.open(reg("mesos-like", "offers")).ok());

  // Every node is offered, whole: 2 cpus each.
  std::map<std::string, proto::Offer> offers;
  ASSERT_TRUE(waitUntil([&] {
    while (auto e = fw.next(steady_clock::now() + milliseconds(50)))
      if (e->has_offer()) offers[e->offer().node()] = e->offer();
    return offers.size() == 6;
  }, seconds(15)));
  EXPECT_EQ(offers["n1"].cpus(), 2u);
  EXPECT_EQ(offers["n1"].rack(), "r1");

  // Decline n1 for 4 s, n2 for 60 s; accept one cpu of n3's offer.
  const auto declined = steady_clock::now();
  ASSERT_TRUE(fw.decline(offers["n1"].id(), 4));
  ASSERT_TRUE(fw.decline(offers["n2"].id(), 60));
  proto::AcceptOffer accept;
  accept.set_offer_id(offers["n3"].id());
  accept.set_cpus(1);
  accept.set_request_id("from-offer");
  ASSERT_TRUE(fw.accept(accept));
  std::optional<proto::Lease> lease;
  std::optional<steady_clock::time_point> reoffered_n1;
  std::optional<proto::Offer> reoffered_n3;
  waitUntil([&] {
    while (auto e = fw.next(steady_clock::now() + milliseconds(50))) {
      if (e->has_lease()) lease = e->lease();
      if (e->has_offer() && e->offer().node() == "n1" && !reoffered_n1) reoffered_n1 = steady_clock::now();
      if (e->has_offer() && e->offer().node() == "n2") ADD_FAILURE() << "n2 re-offered within its 60 s filter";
      if (e->has_offer() && e->offer().node() == "n3") reoffered_n3 = e->offer();
      if (e->has_error()) ADD_FAILURE() << e->error();
    }
    return lease && reoffered_n1 && reoffered_n3;
  }, seconds(15));
  ASSERT_TRUE(lease) << "the accepted offer gave no lease";
  EXPECT_EQ(lease->node(), "n3");
  EXPECT_EQ(lease->cpus(), 1u);
  EXPECT_EQ(lease->request_id(), "from-offer");
  ASSERT_TRUE(reoffered_n1) << "n1 never offered again after its filter";
  EXPECT_GE(*reoffered_n1 - declined, milliseconds(3900)) << "n1 re-offered before its 4 s filter expired";
  ASSERT_TRUE(reoffered_n3) << "the rest of n3 was not offered again";
  EXPECT_EQ(reoffered_n3->cpus(), 1u);  // what the lease left

  // An unknown offer is refused, and the stream goes on.
  ASSERT_TRUE(fw.decline("offer-nope", 1));
  auto refused = waitEvent(fw, [](const auto& e) { return e.has_error(); }, milliseconds(5000));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->error().find("not outstanding"), std::string::npos);
}

TEST(Frameworks, ALeaseRevokedForAHigherPriorityJobGetsItsNoticeThenItsTasksEnd) {
  TestCluster cluster(sixNodes("[frameworks]\nrevocation_notice_s = 3\n"));
  up(cluster);
  FrameworkSession fw(cluster.address());
  ASSERT_TRUE(fw.open(reg("batchy")).ok());
  // The whole cluster in six leases, each running a task.
  proto::LeaseRequest all = request("all", 2, {});
  all.set_count(6);
  ASSERT_TRUE(fw.request(all));
  std::vector<proto::Lease> leases;
  for (int i = 0; i < 6; ++i) {
    auto l = waitLease(fw);
    ASSERT_TRUE(l);
    leases.push_back(*l);
    ASSERT_TRUE(fw.launch(shellTask(l->id(), "work-" + std::to_string(l->id()), "sleep 300")));
  }
  // A job of the built-in `service` QoS preempts normal work: one lease is revoked, with notice.
  auto job = cluster.submit({"--qos", "service", "-c", "2", "--wrap", "true"});
  ASSERT_TRUE(job);
  auto revoked = waitEvent(fw, [](const auto& e) { return e.has_revoked(); }, milliseconds(20000));
  ASSERT_TRUE(revoked);
  const auto noticed = steady_clock::now();
  const uint64_t victim = revoked->revoked().lease_id();
  EXPECT_EQ(revoked->revoked().notice_s() + 0u >= 2u, true) << revoked->revoked().notice_s();
  EXPECT_NE(revoked->revoked().reason().find("lease revoked for job " + std::to_string(*job)), std::string::npos)
      << revoked->revoked().reason();
  // During the notice its task still runs and the preempting job waits.
  EXPECT_EQ(cluster.job(*job)["state"], "PENDING");
  EXPECT_EQ(cluster.job(victim)["state"], "RUNNING");
  // Then the task is killed (the framework hears so first), the lease ends, and the job runs.
  std::vector<proto::FrameworkEvent> before;
  auto ended = waitEvent(fw, [&](const auto& e) { return e.has_lease_ended() && e.lease_ended().lease_id() == victim; },
                         milliseconds(20000), &before);
  ASSERT_TRUE(ended);
  EXPECT_GE(steady_clock::now() - noticed, milliseconds(1500)) << "ended before its notice was over";
  EXPECT_EQ(ended->lease_ended().reason(), "Revoked");
  auto task = std::find_if(before.begin(), before.end(), [&](const auto& e) {
    return e.has_task() && e.task().task_id() == "work-" + std::to_string(victim) && e.task().state() != "RUNNING";
  });
  ASSERT_NE(task, before.end()) << "its task's end was not reported before the lease's";
  EXPECT_EQ(task->task().state(), "CANCELLED");
  // Exactly once: the node's report of the kill is not passed on again.
  EXPECT_FALSE(waitTaskEnd(fw, "work-" + std::to_string(victim), milliseconds(1500)));
  ASSERT_TRUE(cluster.waitTerminal({*job}, seconds(30)));
  EXPECT_EQ(cluster.job(*job)["state"], "COMPLETED");
  EXPECT_EQ(cluster.job(victim)["state"], "CANCELLED");
  EXPECT_EQ(liveProcesses("sleep 300"), 5);  // the other leases' tasks run on
}

TEST(Frameworks, LeasesAreHeldForTheFailoverTimeoutThenReclaimed) {
  TestCluster cluster(sixNodes(""));
  up(cluster);
  uint64_t lease_id = 0;
  {
    FrameworkSession fw(cluster.address());
    ASSERT_TRUE(fw.open(reg("flaky", "", 4)).ok());
    ASSERT_TRUE(fw.request(request("a", 1, {"n5"})));
    auto lease = waitLease(fw);
    ASSERT_TRUE(lease);
    lease_id = lease->id();
    ASSERT_TRUE(fw.launch(shellTask(lease_id, "long", "sleep 300")));
    ASSERT_TRUE(waitUntil([] { return liveProcesses("sleep 300") == 1; }, seconds(10)));
    // Another stream cannot take the name while this one is connected.
    FrameworkSession twin(cluster.address());
    auto refused = twin.open(reg("flaky"));
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("already connected"), std::string::npos) << refused.error().message;
  }  // the stream drops: failover starts

  // Back within the timeout: the lease (and its task) are still its own.
  {
    FrameworkSession fw(cluster.address());
    auto again = fw.open(reg("flaky", "", 4));
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->leases_size(), 1);
    EXPECT_EQ(again->leases(0).id(), lease_id);
    EXPECT_EQ(again->leases(0).tasks_running(), 1u);
    EXPECT_EQ(liveProcesses("sleep 300"), 1);
  }
  // Gone for longer than the timeout: everything is given back.
  const auto dropped = steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return cluster.job(lease_id)["state"] == "CANCELLED"; }, seconds(20)));
  EXPECT_GE(steady_clock::now() - dropped, milliseconds(3500));
  EXPECT_EQ(cluster.job(lease_id)["reason"], "FrameworkFailoverTimeout");
  EXPECT_TRUE(waitUntil([] { return liveProcesses("sleep 300") == 0; }, seconds(10)));
  auto listed = cluster.locus({"frameworks", "--json"});
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_EQ(json::parse(listed.out).size(), 0u);
}

TEST(Frameworks, RegistrationErrorsAreClear) {
  TestCluster cluster(sixNodes(""));
  up(cluster);
  FrameworkSession bad(cluster.address());
  auto r = bad.open(reg("no spaces"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("only letters"), std::string::npos) << r.error().message;
  FrameworkSession mode(cluster.address());
  auto m = mode.open(reg("ok", "bogus"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("not leases or offers"), std::string::npos) << m.error().message;
  FrameworkSession fw(cluster.address());
  ASSERT_TRUE(fw.open(reg("ok")).ok());
  proto::LeaseRequest big = request("huge", 64, {});
  ASSERT_TRUE(fw.request(big));
  auto refused = waitEvent(fw, [](const auto& e) { return e.has_error(); }, milliseconds(5000));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->error().find("64"), std::string::npos) << refused->error();
  ASSERT_TRUE(fw.request(request("rackless", 1, {"nowhere"}, /*relax=*/false)));
  refused = waitEvent(fw, [](const auto& e) { return e.has_error(); }, milliseconds(5000));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->error().find("relax_locality is false"), std::string::npos) << refused->error();
  // Nothing was stored for the refused requests.
  EXPECT_EQ(cluster.jobs("all").size(), 0u);
}

// A framework that keeps `backlog` one-core leases asked for, runs a `sleep 1` task in each
// lease it is granted and gives the lease back when the task ends; until `stop`.
void busyFramework(const std::string& controller, const std::string& name, const std::string& account,
                   int backlog, const std::atomic<bool>& stop, std::atomic<int>& tasks_done) {
  FrameworkSession fw(controller);
  proto::FrameworkRegister r = reg(name);
  r.set_account(account);
  auto opened = fw.open(r);
  if (!opened.ok()) {
    ADD_FAILURE() << name << ": " << opened.error().message;
    return;
  }
  proto::LeaseRequest ask = request("work", 1, {});
  ask.set_count(static_cast<uint32_t>(backlog));
  fw.request(ask);
  int n = 0;
  while (!stop) {
    auto e = fw.next(steady_clock::now() + milliseconds(100));
    if (!e) continue;
    if (e->has_lease()) fw.launch(shellTask(e->lease().id(), "t" + std::to_string(n++), "sleep 1"));
    if (e->has_task() && e->task().state() != "RUNNING") {
      ++tasks_done;
      fw.release(e->task().lease_id());
      ask.set_count(1);
      fw.request(ask);  // keep the backlog
    }
    if (e->has_error()) ADD_FAILURE() << name << ": " << e->error();
  }
}

// Weighted DRF between two frameworks and a batch account, measured over a run: with shares
// 1 : 2 : 1 and everyone asking for more than the cluster holds, the cores held over time follow
// the weights (the account with the lowest weighted dominant share gets each freed core first).
TEST(Frameworks, FairShareBetweenTwoFrameworksAndABatchAccountFollowsTheWeights) {
  TestCluster cluster(sixNodes(
      "[priority]\nweight_age = 0\nweight_fairshare = 10000\nfairshare_mode = \"drf\"\n"
      "[[account]]\nname = \"fa\"\nshares = 1\nusers = [\"root\"]\n"
      "[[account]]\nname = \"fb\"\nshares = 2\nusers = [\"root\"]\n"
      "[[account]]\nname = \"batch\"\nshares = 1\nusers = [\"root\"]\n"));
  up(cluster);
  // The batch account's backlog: more one-core jobs than the run can finish.
  std::vector<std::string> args{"-A", "batch", "-c", "1", "--array", "1-200", "--wrap", "sleep 1"};
  ASSERT_TRUE(cluster.submit(args));
  std::atomic<bool> stop{false};
  std::atomic<int> done_a{0}, done_b{0};
  std::thread a([&] { busyFramework(cluster.address(), "fw-a", "fa", 14, stop, done_a); });
  std::thread b([&] { busyFramework(cluster.address(), "fw-b", "fb", 14, stop, done_b); });
  // Sample who holds the 12 cores, after a few seconds to settle.
  std::map<std::string, double> held;
  int samples = 0;
  const auto settle = steady_clock::now() + seconds(4);
  const auto end = settle + seconds(20);
  while (steady_clock::now() < end) {
    json running = cluster.jobs("running");
    if (steady_clock::now() >= settle) {
      for (const auto& j : running) held[j["account"].get<std::string>()] += j["ntasks"].get<double>() * j["cpus_per_task"].get<double>();
      ++samples;
    }
    std::this_thread::sleep_for(milliseconds(250));  // the sampling rate, not a wait for anything
  }
  stop = true;
  a.join();
  b.join();
  ASSERT_GT(samples, 20);
  double total = 0;
  for (const auto& [account, cores] : held) total += cores;
  ASSERT_GT(total, 0);
  const double fa = held["fa"] / total, fb = held["fb"] / total, batch = held["batch"] / total;
  std::printf("DRF 1:2:1 over %d samples: fa %.2f fb %.2f batch %.2f (tasks done: fw-a %d, fw-b %d)\n", samples, fa,
              fb, batch, done_a.load(), done_b.load());
  EXPECT_NEAR(fb, 0.50, 0.12);
  EXPECT_NEAR(fa, 0.25, 0.10);
  EXPECT_NEAR(batch, 0.25, 0.10);
  EXPECT_GT(done_a.load(), 10);
  EXPECT_GT(done_b.load(), 10);
}

}  // namespace
}  // namespace locus::testing
