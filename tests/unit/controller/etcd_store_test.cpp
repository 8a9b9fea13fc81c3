// What only the etcd store does: one txn per commit, fencing by the leader key, etcd's op limit.
// The record round-trips it shares with SQLite are in store_test.cpp (StoreTest/*.etcd).
#include "controller/store/etcd_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/etcd_server.hpp"

namespace locus::controller {
namespace {

using Clock = std::chrono::steady_clock;

Job job(uint64_t id, const std::string& script = "#!/bin/sh\ntrue\n") {
  Job j;
  j.id = id;
  j.user = "alice";
  j.spec.name = "job" + std::to_string(id);
  j.spec.script = script;
  j.state = JobState::kPending;
  return j;
}

std::vector<uint64_t> idsOf(const std::vector<Job>& jobs) {
  std::vector<uint64_t> ids;
  for (const auto& j : jobs) ids.push_back(j.id);
  return ids;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    etcd_ = testing::EtcdServer::shared(&why);
    if (!etcd_) GTEST_SKIP() << why;
    static int n = 0;
    prefix_ = "/locus/etcd-store-test-" + std::to_string(++n) + "/";
    auto c = EtcdClient::create({{etcd_->endpoint()}});
    ASSERT_TRUE(c.ok());
    client_ = std::move(*c);
  }
  std::unique_ptr<EtcdStore> open(EtcdStoreOptions options = {}) {
    options.prefix = prefix_;
    auto s = EtcdStore::open(client_, options);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::vector<uint64_t> storedJobIds() {
    auto s = open();
    if (!s) return {};
    auto jobs = s->loadJobs();
    EXPECT_TRUE(jobs.ok()) << jobs.error().message;
    return jobs.ok() ? idsOf(*jobs) : std::vector<uint64_t>{};
  }
  // A leader key as LeaderElection writes it; returns its create_revision.
  int64_t makeLeaderKey(const std::string& value) {
    auto r = client_->txn({EtcdCompare::absent(leaderKey())}, {EtcdOp::put(leaderKey(), value)});
    EXPECT_TRUE(r.ok() && r->succeeded);
    return r.ok() ? r->revision : 0;
  }
  std::string leaderKey() const { return prefix_ + "leader"; }

  testing::EtcdServer* etcd_ = nullptr;
  std::string prefix_;
  std::shared_ptr<EtcdClient> client_;
};

TEST_F(EtcdStoreTest, KeyLayout) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->begin().ok());
  ASSERT_TRUE(store->saveJob(job(42)).ok());
  ASSERT_TRUE(store->saveNode({"n1", "topo", 7}).ok());
  ASSERT_TRUE(store->saveUsage("proj/alice", 1.5, 10).ok());
  ASSERT_TRUE(store->appendAccountChange("{}").ok());
  ASSERT_TRUE(store->appendQuotaChange("{}").ok());
  ASSERT_TRUE(store->saveService("web", "{}").ok());
  Event e;
  e.id = 9;
  ASSERT_TRUE(store->saveEvent(e).ok());
  EXPECT_EQ(store->pendingOps(), 7u);
  ASSERT_TRUE(store->commit().ok());
  auto all = client_->getPrefix(prefix_);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> keys;
  for (const auto& kv : *all) keys.push_back(kv.key.substr(prefix_.size()));
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "account_changes/00000000000000000001", "events/00000000000000000009",
                      "jobs/00000000000000000042", "nodes/n1", "quota_changes/00000000000000000001",
                      "services/web", "usage/proj/alice"}));
  EXPECT_EQ(store->jobKey(42), prefix_ + "jobs/00000000000000000042");
}

TEST_F(EtcdStoreTest, OpenChecksThePrefixAndEtcd) {
  EtcdStoreOptions bad;
  bad.prefix = "/locus/no-slash";
  auto s = EtcdStore::open(client_, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(fd);
  auto dead = EtcdClient::create({{"127.0.0.1:" + std::to_string(ntohs(a.sin_port))}});
  ASSERT_TRUE(dead.ok());
  EtcdStoreOptions o;
  o.prefix = prefix_;
  auto unreachable = EtcdStore::open(std::move(*dead), o);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable);
}

// A commit is one txn: when etcd refuses it, nothing of it lands — not the first jobs either.
TEST_F(EtcdStoreTest, ACommitLandsWholeOrNotAtAll) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->begin().ok());
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
  ASSERT_TRUE(store->commit().ok());

  ASSERT_TRUE(store->begin().ok());
  for (uint64_t id = 4; id <= 20; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
  Job changed = job(1);
  changed.state = JobState::kRunning;
  ASSERT_TRUE(store->saveJob(changed).ok());
  // The last one is above etcd's request size limit (1.5 MiB by default).
  ASSERT_TRUE(store->saveJob(job(21, std::string(3 << 20, 'x'))).ok());
  Status s = store->commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition) << s.error().message;

  EXPECT_EQ(storedJobIds(), (std::vector<uint64_t>{1, 2, 3}));
  auto jobs = open()->loadJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->front().state, JobState::kPending) << "job 1's change was not to land";
  // The failed commit ended the transaction; the store goes on.
  store->rollback();
  ASSERT_TRUE(store->begin().ok());
  ASSERT_TRUE(store->saveJob(changed).ok());
  ASSERT_TRUE(store->commit().ok());
  EXPECT_EQ(storedJobIds(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(EtcdStoreTest, CommitsAboveTheOpLimitAreRefusedOrSplit) {
  {
    EtcdStoreOptions o;
    o.max_txn_ops = 10;
    auto store = open(o);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    for (uint64_t id = 1; id <= 10; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
    ASSERT_TRUE(store->saveJob(job(5)).ok());  // again: still one op
    EXPECT_EQ(store->pendingOps(), 10u);
    ASSERT_TRUE(store->commit().ok()) << "10 ops fit a limit of 10";
    ASSERT_TRUE(store->begin().ok());
    for (uint64_t id = 11; id <= 21; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
    Status s = store->commit();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(s.error().message.find("--max-txn-ops"), std::string::npos) << s.error().message;
    EXPECT_EQ(storedJobIds().size(), 10u);
  }
  {
    EtcdStoreOptions o;
    o.max_txn_ops = 10;
    o.split_large_commits = true;
    auto store = open(o);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    for (uint64_t id = 11; id <= 35; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
    ASSERT_TRUE(store->appendAccountChange("{\"op\":\"add\"}").ok());
    ASSERT_TRUE(store->commit().ok());
    EXPECT_EQ(storedJobIds().size(), 35u);
    auto changes = store->loadAccountChanges();
    ASSERT_TRUE(changes.ok());
    EXPECT_EQ(changes->size(), 1u);
  }
  {
    // etcd's own limit (128 by default) when the store is told more: refused as a whole too.
    EtcdStoreOptions o;
    o.max_txn_ops = 1000;
    auto store = open(o);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    for (uint64_t id = 100; id < 300; ++id) ASSERT_TRUE(store->saveJob(job(id)).ok());
    Status s = store->commit();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition) << s.error().message;
    EXPECT_EQ(storedJobIds().size(), 35u);
  }
}

TEST_F(EtcdStoreTest, FencedWritesNeedTheLeaderKey) {
  const std::string mine = R"({"id":"c1","address":"h1:7000"})";
  const int64_t rev = makeLeaderKey(mine);
  ASSERT_GT(rev, 0);
  struct Case {
    const char* name;
    EtcdFence fence;
    bool lands;
  };
  const Case cases[] = {
      {"our key", {leaderKey(), mine, rev}, true},
      {"another value", {leaderKey(), R"({"id":"c2","address":"h2:7000"})", rev}, false},
      {"an older term", {leaderKey(), mine, rev - 1}, false},
      {"another key", {prefix_ + "other-leader", mine, rev}, false},
  };
  uint64_t id = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EtcdStoreOptions o;
    o.fence = c.fence;
    auto store = open(o);
    ASSERT_NE(store, nullptr);
    ++id;
    ASSERT_TRUE(store->begin().ok());
    ASSERT_TRUE(store->saveJob(job(id)).ok());
    Event e;
    e.id = id;
    ASSERT_TRUE(store->saveEvent(e).ok());
    Status s = store->commit();
    EXPECT_EQ(s.ok(), c.lands) << (s.ok() ? "" : s.error().message);
    if (!c.lands) {
      EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
      EXPECT_NE(s.error().message.find("not the leader"), std::string::npos) << s.error().message;
    }
    // Writes outside a transaction are fenced the same way.
    Status alone = store->saveNode({"n" + std::to_string(id), "", 1});
    EXPECT_EQ(alone.ok(), c.lands);
    auto ids = storedJobIds();
    EXPECT_EQ(std::count(ids.begin(), ids.end(), id), c.lands ? 1 : 0);
  }
  // The key goes (the leader's lease expired) and comes back for someone else: our old fence fails.
  ASSERT_TRUE(client_->del(leaderKey()).ok());
  EtcdStoreOptions o;
  o.fence = EtcdFence{leaderKey(), mine, rev};
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  Status s = store->saveJob(job(100));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("nobody holds it"), std::string::npos) << s.error().message;
  const int64_t rev2 = makeLeaderKey(mine);  // the same value, a new term
  s = store->saveJob(job(100));
  ASSERT_FALSE(s.ok()) << "a fence from an earlier term must fail even with an equal value";
  store->setFence(EtcdFence{leaderKey(), mine, rev2});
  ASSERT_TRUE(store->saveJob(job(100)).ok());
}

// Two writers of one change log without a fence (a misconfiguration): the second append on a
// stale sequence number fails instead of overwriting the first's entry, and the retry appends.
TEST_F(EtcdStoreTest, AppendsNeverOverwrite) {
  auto a = open();
  auto b = open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->appendAccountChange("a1").ok());
  ASSERT_TRUE(b->appendAccountChange("b1").ok());  // b reads the log's end: after a1
  EXPECT_FALSE(a->appendAccountChange("a2").ok()) << "a's next sequence number is b1's";
  ASSERT_TRUE(a->appendAccountChange("a2").ok()) << "read again after the failure";
  auto log = a->loadAccountChanges();
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*log, (std::vector<std::string>{"a1", "b1", "a2"}));
}

// Flags for etcd that fit the controller's commits (docs/reliability.md): a commit carries a
// job record (~1.2 kB of JSON, 1.6 kB in base64) and an event per transition.
const std::vector<std::string> kControllerEtcdFlags = {"--max-txn-ops=10000",
                                                       "--max-request-bytes=16777216"};

// Not a pass/fail check beyond sanity: prints what a commit costs (docs/reliability.md), each
// job saved with its event as Controller::persist does, fenced, on an etcd started with the
// flags above.
TEST_F(EtcdStoreTest, CommitLatency) {
  std::string why;
  auto etcd = testing::EtcdServer::start(&why, kControllerEtcdFlags);
  ASSERT_NE(etcd, nullptr) << why;
  auto c = EtcdClient::create({{etcd->endpoint()}});
  ASSERT_TRUE(c.ok());
  client_ = std::move(*c);
  const std::string mine = R"({"id":"c1","address":"h1:7000"})";
  EtcdStoreOptions o;
  o.fence = EtcdFence{leaderKey(), mine, makeLeaderKey(mine)};
  o.max_txn_ops = 10000;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  Job proto =
      job(0, "#!/bin/bash\n#SBATCH -N 1\nsrun ./a.out --input data/part-$SLURM_ARRAY_TASK_ID\n");
  proto.spec.environment = {{"OMP_NUM_THREADS", "4"}, {"PATH", "/usr/bin:/bin"}};
  std::printf("job record: %zu bytes of JSON\n", jobToJson(proto).size());
  uint64_t next = 1;
  for (size_t batch : {size_t{1}, size_t{100}, size_t{1000}}) {
    const int rounds = batch >= 1000 ? 5 : 20;
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
      ASSERT_TRUE(store->begin().ok());
      for (size_t i = 0; i < batch; ++i) {
        proto.id = next++;
        ASSERT_TRUE(store->saveJob(proto).ok());
        Event e;
        e.id = proto.id;
        e.job_id = proto.id;
        e.kind = "submitted";
        e.user = proto.user;
        e.new_state = "PENDING";
        ASSERT_TRUE(store->saveEvent(e).ok());
      }
      const auto start = Clock::now();
      Status s = store->commit();
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
    std::sort(ms.begin(), ms.end());
    std::printf(
        "commit of %zu job(s) + event(s), fenced: median %.2f ms, max %.2f ms (%d rounds)\n", batch,
        ms[rounds / 2], ms.back(), rounds);
    RecordProperty("commit_" + std::to_string(batch) + "_median_ms",
                   std::to_string(ms[rounds / 2]));
    EXPECT_LT(ms[rounds / 2], 5000.0);
  }
  const auto start = Clock::now();
  auto jobs = store->loadJobs();
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), next - 1);
  std::printf("loadJobs of %zu jobs: %.1f ms\n", jobs->size(), load_ms);
  client_.reset();
}

}  // namespace
}  // namespace locus::controller
