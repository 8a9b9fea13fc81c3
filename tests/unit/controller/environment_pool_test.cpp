// EnvironmentPool (controller/environment_pool.hpp): one copy of each distinct environment,
// shared while jobs hold it and forgotten once none does; and the controller's jobs sharing it
// through a submit, the store and a restart.
#include "controller/environment_pool.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/config.hpp"
#include "controller/controller.hpp"
#include "controller/job_environment.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

using Environment = EnvironmentPool::Environment;

const Environment kShell = {{"HOME", "/home/alice"},
                            {"PATH", "/opt/openmpi/bin:/usr/local/bin:/usr/bin:/bin"},
                            {"OMP_NUM_THREADS", "4"}};

TEST(EnvironmentPool, EqualEnvironmentsShareOneCopy) {
  EnvironmentPool pool;
  auto a = pool.intern(kShell);
  auto b = pool.intern(kShell);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(*a, kShell);
  Environment other = kShell;
  other["OMP_NUM_THREADS"] = "8";
  auto c = pool.intern(other);
  EXPECT_NE(c.get(), a.get());
  EXPECT_EQ(c->at("OMP_NUM_THREADS"), "8");
  EXPECT_EQ(pool.size(), 2u);
  // Nothing to share in an empty environment.
  EXPECT_EQ(pool.intern({}), nullptr);
}

TEST(EnvironmentPool, AnEnvironmentNoJobHoldsIsNotKept) {
  EnvironmentPool pool;
  (void)pool.intern(kShell);
  // The last holder is gone: the pool held only a weak reference, so nothing is held.
  EXPECT_EQ(pool.held(), 0u);
  auto again = pool.intern(kShell);
  EXPECT_EQ(*again, kShell);
  EXPECT_EQ(pool.held(), 1u);
  // Thousands of distinct environments, each dropped at once: sweeps keep the pool small.
  for (int i = 0; i < 5000; ++i) {
    Environment e = kShell;
    e["SEQ"] = std::to_string(i);
    (void)pool.intern(std::move(e));
  }
  EXPECT_LT(pool.size(), 600u);
  // The one still held survives the sweeps and is still the shared copy.
  EXPECT_EQ(pool.intern(kShell).get(), again.get());
}

TEST(EnvironmentPool, ShareMovesTheSpecsEnvironmentIntoThePool) {
  EnvironmentPool pool;
  Job a, b;
  a.spec.environment = kShell;
  b.spec.environment = kShell;
  pool.share(a);
  pool.share(b);
  EXPECT_TRUE(a.spec.environment.empty());
  EXPECT_EQ(a.shared_environment.get(), b.shared_environment.get());
  EXPECT_EQ(a.environment(), kShell);
  // What the job's launch exports reads the shared copy.
  EXPECT_EQ(jobEnvironment(a).at("OMP_NUM_THREADS"), "4");
  // A job with no environment: nothing shared, the accessor reads the (empty) spec's.
  Job none;
  pool.share(none);
  EXPECT_EQ(none.shared_environment, nullptr);
  EXPECT_TRUE(none.environment().empty());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locus-envpool-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Submits straight to a controller (no nodes, no RPC) and reads its jobs back from the store,
// which must have each job's whole environment whether or not memory shares it.
TEST(ControllerEnvironments, SubmitsFromOneShellShareItsEnvironmentAndTheStoreHasItAll) {
  TempDir dir;
  Config config;
  config.state_dir = dir.path();
  auto submit = [](Controller& c, const Environment& env) {
    proto::SubmitJobRequest req;
    req.mutable_spec()->set_script("#!/bin/sh\ntrue\n");
    req.mutable_spec()->set_work_dir("/tmp");
    for (const auto& [k, v] : env) (*req.mutable_spec()->mutable_environment())[k] = v;
    req.set_user("alice");
    req.set_uid(1000);
    auto reply = c.submit(req);
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    return reply.ok() ? reply->job_id() : 0;
  };
  Environment other = kShell;
  other["HOME"] = "/home/bob";
  {
    auto c = Controller::create(config);
    ASSERT_TRUE(c.ok()) << c.error().message;
    submit(**c, kShell);
    submit(**c, kShell);
    submit(**c, other);
    EXPECT_EQ((*c)->environmentsInMemory(), 2u);
  }
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok());
  auto jobs = (*store)->loadJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].spec.environment, kShell);
  EXPECT_EQ((*jobs)[1].spec.environment, kShell);
  EXPECT_EQ((*jobs)[2].spec.environment, other);
  store->reset();
  // A restarted controller shares them again, and what it stores next is still whole.
  auto c = Controller::create(config);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ((*c)->environmentsInMemory(), 2u);
}

}  // namespace
}  // namespace locus::controller
