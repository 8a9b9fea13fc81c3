// LeaderElection against a real etcd: one leader at a time, takeover within the lease TTL,
// and a deposed leader that knows it (on_lost) and cannot write (fencing).
#include "controller/store/leader_election.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/etcd_server.hpp"

namespace locus::controller {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// What on_lost reported, waited on with a deadline.
struct LostLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> why;

  std::function<void(const std::string&)> callback() {
    return [this](const std::string& w) {
      std::lock_guard lock(mu);
      why.push_back(w);
      cv.notify_all();
    };
  }
  bool waitFor(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return !why.empty(); });
  }
  size_t count() {
    std::lock_guard lock(mu);
    return why.size();
  }
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  static constexpr auto kTtl = 2s;  // etcd's minimum with its default election timeout

  void SetUp() override {
    std::string why;
    etcd_ = testing::EtcdServer::shared(&why);
    if (!etcd_) GTEST_SKIP() << why;
    static int n = 0;
    key_ = "/locus/election-test-" + std::to_string(++n) + "/leader";
  }
  std::unique_ptr<LeaderElection> candidate(const std::string& id, LostLog* lost = nullptr,
                                            testing::EtcdServer* etcd = nullptr,
                                            std::chrono::seconds ttl = kTtl) {
    LeaderElectionOptions o;
    o.etcd.endpoints = {(etcd ? etcd : etcd_)->endpoint()};
    o.key = key_;
    o.id = id;
    o.address = id + ".example.org:6817";
    o.ttl = ttl;
    o.poll_interval = 100ms;
    if (lost) o.on_lost = lost->callback();
    auto e = LeaderElection::create(o);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return e.ok() ? std::move(*e) : nullptr;
  }
  std::shared_ptr<EtcdClient> client(testing::EtcdServer* etcd = nullptr) {
    auto c = EtcdClient::create({{(etcd ? etcd : etcd_)->endpoint()}});
    EXPECT_TRUE(c.ok());
    return c.ok() ? std::shared_ptr<EtcdClient>(std::move(*c)) : nullptr;
  }
  std::unique_ptr<EtcdStore> storeFencedBy(const LeaderElection& e) {
    EtcdStoreOptions o;
    o.prefix = key_ + "-state/";
    o.fence = e.fence();
    auto s = EtcdStore::open(client(), o);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }

  testing::EtcdServer* etcd_ = nullptr;
  std::string key_;
};

TEST_F(LeaderElectionTest, ExactlyOneOfTwoCandidatesLeads) {
  auto a = candidate("a");
  auto b = candidate("b");
  ASSERT_TRUE(a && b);
  auto none = a->currentLeader();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // Both at once, from two threads.
  std::atomic<int> ready{0};
  Result<bool> won_a = false, won_b = false;
  auto run = [&](LeaderElection& e, Result<bool>& out) {
    ++ready;
    while (ready < 2) std::this_thread::yield();
    out = e.tryAcquire();
  };
  std::thread ta(run, std::ref(*a), std::ref(won_a));
  std::thread tb(run, std::ref(*b), std::ref(won_b));
  ta.join();
  tb.join();
  ASSERT_TRUE(won_a.ok() && won_b.ok());
  ASSERT_NE(*won_a, *won_b) << "exactly one must win";
  LeaderElection& leader = *won_a ? *a : *b;
  LeaderElection& standby = *won_a ? *b : *a;
  const std::string leader_id = *won_a ? "a" : "b";
  EXPECT_TRUE(leader.isLeader());
  EXPECT_FALSE(standby.isLeader());
  EXPECT_TRUE(leader.fence().has_value());
  EXPECT_FALSE(standby.fence().has_value());
  auto again = standby.tryAcquire();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);

  // Everyone sees the same leader, with the address clients need.
  for (LeaderElection* e : {a.get(), b.get()}) {
    auto info = e->currentLeader();
    ASSERT_TRUE(info.ok() && info->has_value());
    EXPECT_EQ((*info)->id, leader_id);
    EXPECT_EQ((*info)->address, leader_id + ".example.org:6817");
    EXPECT_EQ((*info)->create_revision, leader.fence()->create_revision);
  }
  auto c = client();
  auto info = currentLeader(*c, key_);
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->id, leader_id);
}

TEST_F(LeaderElectionTest, ResignHandsOverWithinAPoll) {
  LostLog lost;
  auto a = candidate("a", &lost);
  auto b = candidate("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->campaign(5000ms).ok());
  Status b_won = unavailable("not run");
  std::thread tb([&] { b_won = b->campaign(10000ms); });
  auto leads = b->currentLeader();
  ASSERT_TRUE(leads.ok() && leads->has_value());
  EXPECT_EQ((*leads)->id, "a");
  const auto resigned = Clock::now();
  ASSERT_TRUE(a->resign().ok());
  EXPECT_FALSE(a->isLeader());
  tb.join();
  const double took = secondsSince(resigned);
  ASSERT_TRUE(b_won.ok()) << b_won.error().message;
  EXPECT_TRUE(b->isLeader());
  std::printf("takeover after resign: %.3f s\n", took);
  EXPECT_LT(took, 1.0) << "a resigned leader's key goes at once; a standby polls every 100 ms";
  EXPECT_EQ(lost.count(), 0u) << "resigning is not losing";
  ASSERT_TRUE(a->resign().ok()) << "resigning again is a no-op";
}

// A leader that stops (SIGSTOP, a long GC pause, a frozen VM) sends no keepalives: its lease runs
// out, a standby takes over, and the old leader — knowing its lease is past — neither thinks it
// leads nor can write once it runs again.
TEST_F(LeaderElectionTest, StoppedLeaderIsReplacedAndFenced) {
  LostLog lost;
  auto a = candidate("a", &lost);
  auto b = candidate("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->campaign(5000ms).ok());
  auto a_store = storeFencedBy(*a);
  ASSERT_NE(a_store, nullptr);
  Job job;
  job.id = 1;
  ASSERT_TRUE(a_store->saveJob(job).ok());

  a->freezeForTesting(true);
  const auto frozen = Clock::now();
  ASSERT_TRUE(b->campaign(10000ms).ok());
  const double took = secondsSince(frozen);
  std::printf("takeover after the leader stopped: %.3f s (TTL %lld s)\n", took,
              static_cast<long long>(a->ttl().count()));
  EXPECT_LT(took, std::chrono::duration<double>(a->ttl()).count() + 1.5);
  EXPECT_FALSE(a->isLeader()) << "a's lease is past: it must not think it leads alongside b";

  // a's writes are refused, whether it noticed or not: b's term is in the leader key now.
  job.id = 2;
  Status s = a_store->saveJob(job);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition) << s.error().message;
  ASSERT_TRUE(a_store->begin().ok());
  for (uint64_t id = 3; id < 10; ++id) {
    job.id = id;
    ASSERT_TRUE(a_store->saveJob(job).ok());
  }
  EXPECT_FALSE(a_store->commit().ok());
  auto b_store = storeFencedBy(*b);
  ASSERT_NE(b_store, nullptr);
  auto jobs = b_store->loadJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u) << "only a's write from when it led";
  job.id = 10;
  ASSERT_TRUE(b_store->saveJob(job).ok());

  // When a runs again it reports the loss at once, and does not touch b's key.
  a->freezeForTesting(false);
  ASSERT_TRUE(lost.waitFor(1000ms)) << "on_lost not called within 1 s of resuming";
  EXPECT_NE(lost.why.front().find("not renewed"), std::string::npos) << lost.why.front();
  EXPECT_TRUE(b->isLeader());
  auto info = b->currentLeader();
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->id, "b");
}

TEST_F(LeaderElectionTest, DeletedLeaderKeyIsNoticed) {
  LostLog lost;
  auto a = candidate("a", &lost);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->campaign(5000ms).ok());
  ASSERT_TRUE(client()->del(key_).ok());  // an operator's etcdctl del, a restore from backup
  const auto deleted = Clock::now();
  ASSERT_TRUE(lost.waitFor(std::chrono::duration_cast<std::chrono::milliseconds>(kTtl)))
      << "on_lost not called within a TTL of the key's deletion";
  std::printf("deleted leader key noticed after %.3f s\n", secondsSince(deleted));
  EXPECT_NE(lost.why.front().find("deleted"), std::string::npos) << lost.why.front();
  EXPECT_FALSE(a->isLeader());
  EXPECT_FALSE(a->fence().has_value());
  // It may lead again: a new term.
  ASSERT_TRUE(a->campaign(5000ms).ok());
  EXPECT_TRUE(a->isLeader());
}

TEST_F(LeaderElectionTest, LeaderCutOffFromEtcdLosesWithinTheTtl) {
  std::string why;
  auto etcd = testing::EtcdServer::start(&why);
  ASSERT_NE(etcd, nullptr) << why;
  LostLog lost;
  auto a = candidate("a", &lost, etcd.get());
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->campaign(5000ms).ok());
  etcd->kill();
  const auto killed = Clock::now();
  ASSERT_TRUE(lost.waitFor(std::chrono::duration_cast<std::chrono::milliseconds>(kTtl)))
      << "on_lost not called within a TTL of etcd's death";
  std::printf("leader cut off from etcd gave up after %.3f s\n", secondsSince(killed));
  EXPECT_FALSE(a->isLeader());
  auto r = a->tryAcquire();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

// The real thing: a leader process SIGKILLed; a standby in this process takes over. With the
// default TTL (3 s), as a controller would run.
TEST_F(LeaderElectionTest, KilledLeaderProcessIsReplacedWithinTheTtl) {
  const std::chrono::seconds ttl = LeaderElectionOptions{}.ttl;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto a = candidate("child", nullptr, nullptr, ttl);
    const char c = a && a->campaign(5000ms).ok() ? 'L' : 'F';
    if (write(fds[1], &c, 1) != 1) _exit(2);
    for (;;) pause();  // leads until killed
  }
  // Whatever happens below, the child is killed and reaped.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{child};
  close(fds[1]);
  char c = 0;
  pollfd p{fds[0], POLLIN, 0};
  const bool answered = poll(&p, 1, 10000) == 1 && read(fds[0], &c, 1) == 1;
  close(fds[0]);
  ASSERT_TRUE(answered && c == 'L') << "the child did not become leader";
  auto b = candidate("b", nullptr, nullptr, ttl);
  ASSERT_NE(b, nullptr);
  auto held = b->tryAcquire();
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(*held) << "the child leads";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  reaper.pid = 0;
  const auto killed = Clock::now();
  ASSERT_TRUE(b->campaign(10000ms).ok());
  const double took = secondsSince(killed);
  std::printf("takeover after SIGKILL of the leader: %.3f s (TTL %lld s)\n", took,
              static_cast<long long>(b->ttl().count()));
  EXPECT_LT(took, std::chrono::duration<double>(ttl).count() + 1.5);
  auto info = b->currentLeader();
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->id, "b");
}

TEST_F(LeaderElectionTest, CampaignTimesOutOrStops) {
  auto a = candidate("a");
  auto b = candidate("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->campaign(5000ms).ok());
  auto start = Clock::now();
  Status s = b->campaign(300ms);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_GE(secondsSince(start), 0.3);
  EXPECT_LT(secondsSince(start), 1.5);

  Status stopped;
  std::thread t([&] { stopped = b->campaign(60000ms); });
  start = Clock::now();
  b->stop();
  t.join();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_LT(secondsSince(start), 1.0);
  EXPECT_TRUE(a->isLeader());
}

TEST(LeaderElectionCreate, RefusesBadOptions) {
  struct Case {
    const char* name;
    LeaderElectionOptions options;
  };
  LeaderElectionOptions good;
  good.etcd.endpoints = {"127.0.0.1:2379"};
  good.key = "/locus/c/leader";
  good.id = "a";
  auto no_key = good, no_id = good, no_endpoints = good, short_ttl = good;
  no_key.key.clear();
  no_id.id.clear();
  no_endpoints.etcd.endpoints.clear();
  short_ttl.ttl = 0s;
  const Case cases[] = {
      {"no key", no_key}, {"no id", no_id}, {"no endpoints", no_endpoints}, {"ttl 0", short_ttl}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto e = LeaderElection::create(c.options);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(LeaderElection::create(good).ok()) << "creating connects to nothing yet";
}

}  // namespace
}  // namespace locus::controller
