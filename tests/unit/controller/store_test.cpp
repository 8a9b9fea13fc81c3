#include "controller/store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "controller/store/etcd_store.hpp"
#include "tests/etcd_server.hpp"

namespace locus {
// Readable JobState in failure messages (found by ADL); inline so other tests may define it too.
inline void PrintTo(JobState s, std::ostream* os) { *os << toString(s); }
}  // namespace locus

namespace locus::controller {
namespace {

namespace fs = std::filesystem;

// Every field of a JobSpec, one by one: comparing jobToJson() outputs would miss a field the codec
// drops on both sides.
void expectSameSpec(const JobSpec& got, const JobSpec& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.script, want.script);
  EXPECT_EQ(got.script_path, want.script_path);
  EXPECT_EQ(got.args, want.args);
  EXPECT_EQ(got.nodes, want.nodes);
  EXPECT_EQ(got.ntasks, want.ntasks);
  EXPECT_EQ(got.ntasks_per_node, want.ntasks_per_node);
  EXPECT_EQ(got.cpus_per_task, want.cpus_per_task);
  EXPECT_EQ(got.mem_mb, want.mem_mb);
  EXPECT_EQ(got.mem_per_cpu_mb, want.mem_per_cpu_mb);
  EXPECT_EQ(got.time_limit_s, want.time_limit_s);
  EXPECT_EQ(got.stdout_path, want.stdout_path);
  EXPECT_EQ(got.stderr_path, want.stderr_path);
  EXPECT_EQ(got.work_dir, want.work_dir);
  EXPECT_EQ(got.array_spec, want.array_spec);
  EXPECT_EQ(got.requeue, want.requeue);
  EXPECT_EQ(got.export_spec, want.export_spec);
  EXPECT_EQ(got.environment, want.environment);
  EXPECT_EQ(got.partition, want.partition);
  EXPECT_EQ(got.account, want.account);
  EXPECT_EQ(got.qos, want.qos);
  EXPECT_EQ(got.gres, want.gres);
  EXPECT_EQ(got.gpus, want.gpus);
  EXPECT_EQ(got.constraint, want.constraint);
  EXPECT_EQ(got.dependency, want.dependency);
  EXPECT_EQ(got.exclusive, want.exclusive);
  EXPECT_EQ(got.warnings, want.warnings);
  EXPECT_EQ(got.inputs, want.inputs);
  EXPECT_EQ(got.dataflow, want.dataflow);
  EXPECT_EQ(got.split, want.split);
}

void expectSameJob(const Job& got, const Job& want) {
  SCOPED_TRACE("job " + std::to_string(want.id));
  EXPECT_EQ(got.id, want.id);
  expectSameSpec(got.spec, want.spec);
  EXPECT_EQ(got.user, want.user);
  EXPECT_EQ(got.uid, want.uid);
  EXPECT_EQ(got.gid, want.gid);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.term_signal, want.term_signal);
  EXPECT_EQ(got.attempt, want.attempt);
  EXPECT_EQ(got.priority, want.priority);
  EXPECT_EQ(got.submit_time, want.submit_time);
  EXPECT_EQ(got.start_time, want.start_time);
  EXPECT_EQ(got.end_time, want.end_time);
  EXPECT_EQ(got.array_job_id, want.array_job_id);
  EXPECT_EQ(got.array_task_id, want.array_task_id);
  EXPECT_EQ(got.array_max_running, want.array_max_running);
  ASSERT_EQ(got.allocation.size(), want.allocation.size());
  for (size_t i = 0; i < want.allocation.size(); ++i) {
    SCOPED_TRACE("allocation " + std::to_string(i));
    EXPECT_EQ(got.allocation[i].node, want.allocation[i].node);
    EXPECT_EQ(got.allocation[i].cores, want.allocation[i].cores);
    EXPECT_EQ(got.allocation[i].mem_mb, want.allocation[i].mem_mb);
    EXPECT_EQ(got.allocation[i].ntasks, want.allocation[i].ntasks);
  }
  EXPECT_EQ(got.stdout_path, want.stdout_path);
  EXPECT_EQ(got.stderr_path, want.stderr_path);
  EXPECT_EQ(got.completing, want.completing);
  EXPECT_EQ(got.cancel_requested, want.cancel_requested);
  ASSERT_EQ(got.input.size(), want.input.size());
  for (size_t i = 0; i < want.input.size(); ++i) {
    EXPECT_EQ(got.input[i].path, want.input[i].path);
    EXPECT_EQ(got.input[i].offset, want.input[i].offset);
    EXPECT_EQ(got.input[i].length, want.input[i].length);
    EXPECT_EQ(got.input[i].hosts, want.input[i].hosts);
    EXPECT_EQ(got.input[i].nodes, want.input[i].nodes);
  }
  EXPECT_EQ(got.locality, want.locality);
  EXPECT_EQ(got.bytes_node_local, want.bytes_node_local);
  EXPECT_EQ(got.bytes_rack_local, want.bytes_rack_local);
  EXPECT_EQ(got.bytes_remote, want.bytes_remote);
}

// A job with every field away from its default, so a field the store drops shows up.
Job fullJob(uint64_t id) {
  Job j;
  j.id = id;
  JobSpec& s = j.spec;
  s.name = "train \"big\" model";
  s.script = "#!/bin/bash\n#SBATCH -N 2\necho \"héllo\"\tdone\\n\n";
  s.script_path = "/home/alice/train.sh";
  s.args = {"--epochs", "10", "with space", ""};
  s.nodes = 2;
  s.ntasks = 5;
  s.ntasks_per_node = 3;
  s.cpus_per_task = 4;
  s.mem_mb = 6'000'000'000ull;  // above 2^32: the record keeps 64 bits
  s.mem_per_cpu_mb = 2048;
  s.time_limit_s = 86400 + 3600;
  s.stdout_path = "out-%j.txt";
  s.stderr_path = "err-%j.txt";
  s.work_dir = "/home/alice/run";
  s.array_spec = "1-100%10";
  s.requeue = true;
  s.export_spec = "NONE,OMP_NUM_THREADS=4";
  s.environment = {{"OMP_NUM_THREADS", "4"}, {"EMPTY", ""}, {"QUOTE", "a\"b=c"}};
  s.partition = "gpu";
  s.account = "proj1";
  s.qos = "high";
  s.gres = "gpu:2";
  s.gpus = "2";
  s.constraint = "ib&nvme";
  s.dependency = "afterok:3";
  s.exclusive = true;
  s.warnings = {"option --mail-user ignored", "option --licenses ignored"};
  s.inputs = {"hdfs:///logs/2026-11", "dataset:climate"};
  s.dataflow = true;
  s.split = "file";
  j.input = {{"/logs/2026-11/a", 134217728, 5'000'000'000ull, {"dn1.example.org", "dn9"}, {"n1"}},
             {"/logs/2026-11/b", 0, 7, {"n2"}, {"n2"}}};
  j.locality = "rack_local";
  j.bytes_node_local = 1;
  j.bytes_rack_local = 5'000'000'000ull;
  j.bytes_remote = 3;
  j.user = "alice";
  j.uid = 1001;
  j.gid = 100;
  j.state = JobState::kTimeout;
  j.reason = "TimeLimit";
  j.exit_code = 143;  // 128 + SIGTERM
  j.term_signal = 15;
  j.attempt = 2;
  j.priority = -17;
  j.submit_time = 1'700'000'000;
  j.start_time = 1'700'000'100;
  j.end_time = 1'700'090'200;
  j.array_job_id = id - 1;
  j.array_task_id = 7;
  j.array_max_running = 10;
  j.allocation = {{"n1", {0, 1, 2, 5}, 3000, 3, {}, {}}, {"n2", {4, 7}, 2000, 2, {}, {}}};
  j.stdout_path = "/home/alice/run/out-42.txt";
  j.stderr_path = "/home/alice/run/err-42.txt";
  j.completing = true;
  j.cancel_requested = true;
  return j;
}

// Every test of StoreTest runs against both backends: the SQLite file and etcd (a private etcd
// for this binary, tests apart by key prefix; skipped when there is no etcd binary).
enum class Backend { kSqlite, kEtcd };

std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "etcd";
}

class StoreTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "locus_store_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  virtual Backend backend() const { return Backend::kSqlite; }

  // Opens the store again over the same state (the same file, the same etcd prefix).
  std::unique_ptr<Store> open() {
    if (backend() == Backend::kSqlite) {
      auto s = Store::open(dir_.string());
      EXPECT_TRUE(s.ok()) << s.error().message;
      return s.ok() ? std::move(*s) : nullptr;
    }
    auto client = EtcdClient::create({{etcd_->endpoint()}});
    EXPECT_TRUE(client.ok()) << client.error().message;
    if (!client.ok()) return nullptr;
    EtcdStoreOptions options;
    options.prefix = prefix_;
    auto s = EtcdStore::open(std::move(*client), options);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Commits `jobs` in one transaction, closes the store and opens it again.
  std::unique_ptr<Store> saveAndReopen(std::unique_ptr<Store> store, const std::vector<Job>& jobs) {
    EXPECT_TRUE(store->begin().ok());
    for (const Job& j : jobs) EXPECT_TRUE(store->saveJob(j).ok());
    EXPECT_TRUE(store->commit().ok());
    store.reset();
    return open();
  }
  // Replaces job `id`'s record behind the store's back, as a bad disk or a hand edit would.
  void corruptJobRecord(uint64_t id, const std::string& text) {
    if (backend() == Backend::kSqlite) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((dir_ / "locus.db").c_str(), &db), SQLITE_OK);
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE jobs SET record = ? WHERE id = ?", -1, &stmt, nullptr), SQLITE_OK);
      sqlite3_bind_text(stmt, 1, text.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(id));
      EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_finalize(stmt);
      EXPECT_EQ(sqlite3_changes(db), 1);
      sqlite3_close(db);
      return;
    }
    auto client = EtcdClient::create({{etcd_->endpoint()}});
    ASSERT_TRUE(client.ok());
    auto store = open();
    ASSERT_NE(store, nullptr);
    const std::string key = dynamic_cast<EtcdStore&>(*store).jobKey(id);
    ASSERT_TRUE((*client)->get(key).ok() && (*client)->get(key)->has_value()) << key;
    ASSERT_TRUE((*client)->put(key, text).ok());
  }

  fs::path dir_;
  testing::EtcdServer* etcd_ = nullptr;
  std::string prefix_;
};

class StoreTest : public StoreTestBase, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    if (GetParam() == Backend::kEtcd) {
      std::string why;
      etcd_ = testing::EtcdServer::shared(&why);
      if (!etcd_) GTEST_SKIP() << "etcd backend not tested: " << why;
      static int n = 0;
      prefix_ = "/locus/store-test-" + std::to_string(++n) + "/";
    }
  }
  Backend backend() const override { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::kSqlite, Backend::kEtcd), backendName);

// What only the SQLite store does: files in the state directory.
using SqliteStoreTest = StoreTestBase;

TEST_P(StoreTest, FreshStoreIsEmpty) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  if (GetParam() == Backend::kSqlite) {
    EXPECT_TRUE(fs::exists(dir_ / "locus.db"));
  }
  auto jobs = store->loadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.error().message;
  EXPECT_TRUE(jobs->empty());
  auto nodes = store->loadNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_TRUE(nodes->empty());
}

TEST_F(SqliteStoreTest, CreatesMissingStateDirectory) {
  fs::path nested = dir_ / "a/b/state";  // none of a, b, state exists yet
  auto s = Store::open(nested.string());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(fs::exists(nested / "locus.db"));
}

TEST_F(SqliteStoreTest, OpenFailsWhenStateDirIsAFile) {
  std::ofstream(dir_ / "file") << "x";
  auto s = Store::open((dir_ / "file" / "state").string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST_P(StoreTest, JobsSurviveReopen) {
  struct Case {
    const char* name;
    Job job;
  };
  Job minimal;  // all defaults except the id: no allocation, no array, empty maps
  minimal.id = 1;
  Job array_task_zero = fullJob(3);
  array_task_zero.array_task_id = 0;  // set to 0 must not read back as unset
  Job not_array = fullJob(4);
  not_array.array_job_id = 0;
  not_array.array_task_id.reset();
  not_array.completing = false;
  not_array.cancel_requested = false;
  not_array.state = JobState::kRunning;
  not_array.exit_code = -1;
  Job large_id = fullJob(uint64_t{1} << 40);
  const Case cases[] = {
      {"defaults", minimal},
      {"every field set", fullJob(42)},
      {"array task 0", array_task_zero},
      {"not an array task", not_array},
      {"id above 2^32", large_id},
  };
  std::vector<Job> jobs;
  for (const Case& c : cases) jobs.push_back(c.job);

  auto store = saveAndReopen(open(), jobs);
  ASSERT_NE(store, nullptr);
  auto loaded = store->loadJobs();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  // loadJobs orders by id: 1, 3, 4, 42, 2^40 — case order 0, 2, 3, 1, 4.
  ASSERT_EQ(loaded->size(), 5u);
  const size_t order[] = {0, 2, 3, 1, 4};
  for (size_t i = 0; i < 5; ++i) {
    const Case& c = cases[order[i]];
    SCOPED_TRACE(c.name);
    expectSameJob((*loaded)[i], c.job);
  }
  EXPECT_FALSE((*loaded)[2].array_task_id.has_value());  // "not an array task"
  ASSERT_TRUE((*loaded)[1].array_task_id.has_value());   // "array task 0"
  EXPECT_EQ(*(*loaded)[1].array_task_id, 0u);
}

TEST_P(StoreTest, LoadJobsKeepsWhatTheFilterWantsAndShowsItEveryJob) {
  std::vector<Job> jobs;
  for (uint64_t id : {5, 6, 7, 8}) {
    Job job = fullJob(id);
    job.user = "user" + std::to_string(id);
    job.state = id % 2 == 0 ? JobState::kCompleted : JobState::kPending;
    job.start_time = 1000 + static_cast<int64_t>(id);
    job.end_time = id % 2 == 0 ? 2000 + static_cast<int64_t>(id) : 0;
    job.completing = id == 8;
    job.array_job_id = id == 6 ? 5 : 0;
    job.framework = id == 7 ? "spark" : "";
    jobs.push_back(job);
  }
  auto store = saveAndReopen(open(), jobs);
  ASSERT_NE(store, nullptr);
  std::vector<JobSummary> seen;
  std::vector<Job> kept;
  Status loaded = store->loadJobs(
      [&](const JobSummary& job) {
        seen.push_back(job);
        return job.state == JobState::kPending;
      },
      [&](Job&& job) { kept.push_back(std::move(job)); });
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(seen.size(), 4u);
  // Each summary says what the record does (SQLite reads it with json_extract, not the codec).
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(jobs[i].id);
    const JobSummary want = JobSummary::of(jobs[i]);
    EXPECT_EQ(seen[i].id, want.id);
    EXPECT_EQ(seen[i].user, want.user);
    EXPECT_EQ(seen[i].state, want.state);
    EXPECT_EQ(seen[i].completing, want.completing);
    EXPECT_EQ(seen[i].start_time, want.start_time);
    EXPECT_EQ(seen[i].end_time, want.end_time);
    EXPECT_EQ(seen[i].array_job_id, want.array_job_id);
    EXPECT_EQ(seen[i].lease, want.lease);
  }
  EXPECT_TRUE(seen[3].completing);
  EXPECT_EQ(seen[1].array_job_id, 5u);
  EXPECT_TRUE(seen[2].lease);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 5u);
  EXPECT_EQ(kept[1].id, 7u);
  EXPECT_EQ(kept[1].framework, "spark");  // the kept ones decoded whole
}

TEST_P(StoreTest, SavingAnIdAgainKeepsTheLast) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Job first = fullJob(7);
  first.state = JobState::kPending;
  first.allocation.clear();
  Job second = fullJob(7);
  second.state = JobState::kRunning;
  Job third = fullJob(7);
  third.state = JobState::kCompleted;
  third.exit_code = 0;

  // Twice in one transaction, then once more in a later one: one row, the third version.
  ASSERT_TRUE(store->begin().ok());
  ASSERT_TRUE(store->saveJob(first).ok());
  ASSERT_TRUE(store->saveJob(second).ok());
  ASSERT_TRUE(store->commit().ok());
  {
    auto loaded = store->loadJobs();
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->size(), 1u);
    expectSameJob(loaded->front(), second);
  }
  store = saveAndReopen(std::move(store), {third});
  ASSERT_NE(store, nullptr);
  auto loaded = store->loadJobs();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  expectSameJob(loaded->front(), third);
}

TEST_P(StoreTest, RollbackLeavesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Job kept = fullJob(1);
  store = saveAndReopen(std::move(store), {kept});
  ASSERT_NE(store, nullptr);

  ASSERT_TRUE(store->begin().ok());
  Job changed = kept;
  changed.state = JobState::kCancelled;
  ASSERT_TRUE(store->saveJob(changed).ok());
  ASSERT_TRUE(store->saveJob(fullJob(2)).ok());
  ASSERT_TRUE(store->saveNode({"n9", "topo", 5}).ok());
  store->rollback();
  store->rollback();  // a second rollback outside a transaction is a no-op

  for (int reopened = 0; reopened < 2; ++reopened) {
    SCOPED_TRACE(reopened ? "after reopen" : "same handle");
    auto jobs = store->loadJobs();
    ASSERT_TRUE(jobs.ok());
    ASSERT_EQ(jobs->size(), 1u);
    expectSameJob(jobs->front(), kept);
    auto nodes = store->loadNodes();
    ASSERT_TRUE(nodes.ok());
    EXPECT_TRUE(nodes->empty());
    store.reset();
    store = open();
    ASSERT_NE(store, nullptr);
  }
  // The store is usable after a rollback: a new transaction commits.
  ASSERT_TRUE(store->begin().ok());
  ASSERT_TRUE(store->saveJob(fullJob(2)).ok());
  ASSERT_TRUE(store->commit().ok());
  auto jobs = store->loadJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 2u);
}

TEST_P(StoreTest, NodesSurviveReopen) {
  const std::string with_nul("\x0a\x02n1\0\x12\xff\x00z", 10);
  ASSERT_EQ(with_nul.size(), 10u);
  ASSERT_EQ(with_nul[4], '\0');
  struct Case {
    const char* name;
    StoredNode node;
  };
  const Case cases[] = {
      // loadNodes orders by name: the table is in that order.
      {"empty topology", {"a-empty", "", 0}},
      {"topology with NUL bytes", {"n1", with_nul, 123456789}},
      {"boot id with the top bit set", {"n2", "plain", std::numeric_limits<uint64_t>::max() - 1}},
  };
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    // Saved out of order, and n1 twice: the last save wins.
    ASSERT_TRUE(store->saveNode(cases[2].node).ok());
    ASSERT_TRUE(store->saveNode({"n1", "old", 1}).ok());
    ASSERT_TRUE(store->saveNode(cases[1].node).ok());
    ASSERT_TRUE(store->saveNode(cases[0].node).ok());
    ASSERT_TRUE(store->commit().ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto nodes = store->loadNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ((*nodes)[i].name, cases[i].node.name);
    EXPECT_EQ((*nodes)[i].topology.size(), cases[i].node.topology.size());
    EXPECT_EQ((*nodes)[i].topology, cases[i].node.topology);
    EXPECT_EQ((*nodes)[i].boot_id, cases[i].node.boot_id);
  }
}

TEST_P(StoreTest, UsageChangesAndServicesSurviveReopen) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    ASSERT_TRUE(store->saveUsage("proj1", 1.5, 100).ok());
    ASSERT_TRUE(store->saveUsage("proj1/alice", 0.1 + 0.2, -5).ok());  // not a short decimal
    ASSERT_TRUE(store->saveUsage("proj1", 2.25, 200).ok());            // the last save wins
    ASSERT_TRUE(store->commit().ok());
    // Outside a transaction, each append and save commits alone.
    ASSERT_TRUE(store->appendAccountChange(R"({"op":"add","name":"a"})").ok());
    ASSERT_TRUE(store->appendAccountChange(R"({"op":"add","name":"b"})").ok());
    ASSERT_TRUE(store->appendQuotaChange(R"({"pool":"gpu"})").ok());
    ASSERT_TRUE(store->saveService("web", "web-record-1").ok());
    ASSERT_TRUE(store->saveService("api", "api-record").ok());
    ASSERT_TRUE(store->saveService("web", "web-record-2").ok());
    ASSERT_TRUE(store->saveService("gone", "x").ok());
    ASSERT_TRUE(store->deleteService("gone").ok());
    ASSERT_TRUE(store->deleteService("never-there").ok());  // deleting nothing is not an error
  }
  // A new handle continues the change logs after the last entry, in order.
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->begin().ok());
    ASSERT_TRUE(store->appendAccountChange(R"({"op":"add","name":"c"})").ok());
    ASSERT_TRUE(store->appendAccountChange(R"({"op":"remove","name":"a"})").ok());
    ASSERT_TRUE(store->commit().ok());
    ASSERT_TRUE(store->begin().ok());
    ASSERT_TRUE(store->appendQuotaChange(R"({"pool":"dropped"})").ok());
    store->rollback();
    ASSERT_TRUE(store->appendQuotaChange(R"({"pool":"cpu"})").ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto usage = store->loadUsage();
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  std::map<std::string, std::pair<double, int64_t>> by_assoc;
  for (const auto& [assoc, value, as_of] : *usage) by_assoc[assoc] = {value, as_of};
  ASSERT_EQ(by_assoc.size(), 2u);
  EXPECT_EQ(by_assoc["proj1"], std::make_pair(2.25, int64_t{200}));
  EXPECT_EQ(by_assoc["proj1/alice"].first, 0.1 + 0.2);  // bit for bit
  EXPECT_EQ(by_assoc["proj1/alice"].second, -5);
  auto accounts = store->loadAccountChanges();
  ASSERT_TRUE(accounts.ok()) << accounts.error().message;
  EXPECT_EQ(*accounts, (std::vector<std::string>{R"({"op":"add","name":"a"})", R"({"op":"add","name":"b"})",
                                                 R"({"op":"add","name":"c"})", R"({"op":"remove","name":"a"})"}));
  auto quotas = store->loadQuotaChanges();
  ASSERT_TRUE(quotas.ok()) << quotas.error().message;
  EXPECT_EQ(*quotas, (std::vector<std::string>{R"({"pool":"gpu"})", R"({"pool":"cpu"})"}));
  auto services = store->loadServices();
  ASSERT_TRUE(services.ok()) << services.error().message;
  EXPECT_EQ(*services, (std::vector<std::string>{"api-record", "web-record-2"}));  // name order
}

Event event(uint64_t id) {
  Event e;
  e.id = id;
  e.time = 1'700'000'000 + static_cast<int64_t>(id);
  e.kind = "failed";
  e.job_id = 40 + id;
  e.node = "n3";
  e.user = "bob \"b\"";
  e.old_state = "RUNNING";
  e.new_state = "FAILED";
  e.reason = "NonZeroExitCode";
  e.exit_code = -3;
  e.array_job_id = uint64_t{1} << 40;
  e.array_task_id = 2;
  e.attempt = 7;
  return e;
}

std::vector<uint64_t> eventIds(const std::vector<Event>& events) {
  std::vector<uint64_t> ids;
  for (const auto& e : events) ids.push_back(e.id);
  return ids;
}

TEST_P(StoreTest, EventsSaveLoadNewestAndPrune) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->begin().ok());
  for (uint64_t id : {9, 10, 11, 1, 2, 3}) ASSERT_TRUE(store->saveEvent(event(id)).ok());
  ASSERT_TRUE(store->commit().ok());
  store = open();
  ASSERT_NE(store, nullptr);
  auto all = store->loadEvents(100);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(eventIds(*all), (std::vector<uint64_t>{1, 2, 3, 9, 10, 11}));  // id order, 9 < 10 too
  const Event want = event(10);
  const Event& got = (*all)[4];
  EXPECT_EQ(got.time, want.time);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.node, want.node);
  EXPECT_EQ(got.user, want.user);
  EXPECT_EQ(got.old_state, want.old_state);
  EXPECT_EQ(got.new_state, want.new_state);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.array_job_id, want.array_job_id);
  EXPECT_EQ(got.array_task_id, want.array_task_id);
  EXPECT_EQ(got.attempt, want.attempt);

  auto newest = store->loadEvents(2);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(eventIds(*newest), (std::vector<uint64_t>{10, 11}));  // the newest, oldest first
  auto none = store->loadEvents(0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // A reader behind the controller's memory: the first `max` after an id, in id order (9 and
  // 10 sort as numbers in etcd's keys too).
  auto after = store->loadEventsAfter(2, 3);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(eventIds(*after), (std::vector<uint64_t>{3, 9, 10}));
  EXPECT_EQ(after->back().kind, want.kind);
  EXPECT_EQ(eventIds(*store->loadEventsAfter(9, 100)), (std::vector<uint64_t>{10, 11}));
  EXPECT_TRUE(store->loadEventsAfter(11, 100)->empty());
  EXPECT_TRUE(store->loadEventsAfter(UINT64_MAX, 100)->empty());

  ASSERT_TRUE(store->pruneEvents(9).ok());  // outside a transaction: commits alone
  auto pruned = store->loadEvents(100);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(eventIds(*pruned), (std::vector<uint64_t>{10, 11}));
}

// Within one transaction the writes apply in order: etcd's txn takes a key once, so the etcd
// store must give the same result as SQLite's statement-by-statement one.
TEST_P(StoreTest, LaterWritesInATransactionWin) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->begin().ok());
  for (uint64_t id = 1; id <= 6; ++id) ASSERT_TRUE(store->saveEvent(event(id)).ok());
  ASSERT_TRUE(store->saveService("kept", "1").ok());
  ASSERT_TRUE(store->saveService("dropped", "1").ok());
  ASSERT_TRUE(store->commit().ok());

  ASSERT_TRUE(store->begin().ok());
  ASSERT_TRUE(store->pruneEvents(4).ok());            // 1..4 go,
  ASSERT_TRUE(store->saveEvent(event(2)).ok());       // 2 comes back (inside the pruned range),
  ASSERT_TRUE(store->saveEvent(event(7)).ok());       // 7 is new,
  ASSERT_TRUE(store->pruneEvents(1).ok());            // a range already deleted, and
  ASSERT_TRUE(store->deleteService("kept").ok());     // a delete and then a save of one key,
  ASSERT_TRUE(store->saveService("kept", "2").ok());
  ASSERT_TRUE(store->saveService("dropped", "2").ok());  // a save and then a delete.
  ASSERT_TRUE(store->deleteService("dropped").ok());
  ASSERT_TRUE(store->saveService("new", "n").ok());
  ASSERT_TRUE(store->commit().ok());

  store = open();
  ASSERT_NE(store, nullptr);
  auto events = store->loadEvents(100);
  ASSERT_TRUE(events.ok()) << events.error().message;
  EXPECT_EQ(eventIds(*events), (std::vector<uint64_t>{2, 5, 6, 7}));
  auto services = store->loadServices();
  ASSERT_TRUE(services.ok());
  EXPECT_EQ(*services, (std::vector<std::string>{"2", "n"}));  // "kept", "new"
}

TEST_P(StoreTest, TransactionMisuseIsAnError) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->commit().ok());  // no transaction open
  ASSERT_TRUE(store->begin().ok());
  EXPECT_FALSE(store->begin().ok());  // no nesting
  ASSERT_TRUE(store->saveJob(fullJob(1)).ok());
  ASSERT_TRUE(store->commit().ok());
  auto jobs = store->loadJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
}

TEST_F(SqliteStoreTest, JournalModeIsWal) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    store = saveAndReopen(std::move(store), {fullJob(1)});
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "locus.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_EQ(mode, "wal");
}

TEST_P(StoreTest, CorruptRecordIsAnErrorOnLoad) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    store = saveAndReopen(std::move(store), {fullJob(1)});
  }
  corruptJobRecord(1, "{\"id\": 1");
  if (HasFatalFailure()) return;

  auto store = open();
  ASSERT_NE(store, nullptr);
  auto jobs = store->loadJobs();
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.error().code, ErrorCode::kInternal);
  EXPECT_NE(jobs.error().message.find("corrupt job record"), std::string::npos)
      << jobs.error().message;
}

// ---- JSON codec -------------------------------------------------------------------------------

TEST(JobJson, RoundTrip) {
  Job j = fullJob(42);
  auto back = jobFromJson(jobToJson(j));
  ASSERT_TRUE(back.ok()) << back.error().message;
  expectSameJob(*back, j);
}

TEST(JobJson, GarbageIsAnError) {
  // A valid record with one thing wrong, to show each rejection is about that one thing.
  const std::string good = jobToJson(fullJob(42));
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  struct Case {
    const char* name;
    std::string text;
  };
  const Case cases[] = {
      {"empty", ""},
      {"not JSON", "hello"},
      {"truncated", good.substr(0, good.size() / 2)},
      {"an array", "[1, 2, 3]"},
      {"a number", "42"},
      {"empty object", "{}"},
      {"null", "null"},
      {"id is a string", replace("\"id\":42", "\"id\":\"42\"")},
      {"unknown state", replace("\"state\":\"TIMEOUT\"", "\"state\":\"SLEEPING\"")},
      {"spec missing", replace("\"spec\":", "\"spek\":")},
      {"allocation not an array of objects", replace("\"allocation\":[", "\"allocation\":[1,")},
      {"cores not numbers", replace("\"cores\":[0,1,2,5]", "\"cores\":[\"a\"]")},
      {"environment value not a string", replace("\"environment\":{", "\"environment\":{\"X\":1,")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = jobFromJson(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_FALSE(r.error().message.empty());
  }
  ASSERT_TRUE(jobFromJson(good).ok()) << "the base record itself must parse";
}

}  // namespace
}  // namespace locus::controller
