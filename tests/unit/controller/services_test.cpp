// Table tests for the service reconciler (controller/services.hpp): scaling, replacing unhealthy
// replicas, and rolling updates that keep the healthy minimum and the surge limit.
#include "controller/services.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace locus::controller {
namespace {

Service service(uint32_t replicas, uint32_t current = 1, double min_healthy = 0.75, double max_surge = 0.25) {
  Service s;
  s.name = "web";
  s.replicas = replicas;
  s.min_healthy = min_healthy;
  s.max_surge = max_surge;
  for (uint32_t r = 1; r <= current; ++r) s.revisions.push_back({r, "serve v" + std::to_string(r), {}, 1, 0, 0});
  s.current = current;
  return s;
}

// id, revision, state: 'p' pending, 's' started (running, not yet healthy), 'h' healthy, 'u' unhealthy
ReplicaView replica(uint64_t id, uint32_t revision, char state, int64_t start = 0) {
  ReplicaView v;
  v.job_id = id;
  v.revision = revision;
  v.running = state != 'p';
  v.healthy = state == 'h';
  v.unhealthy = state == 'u';
  v.start_time = start == 0 ? static_cast<int64_t>(id) : start;
  return v;
}

std::vector<uint64_t> sorted(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ServiceReconcile, ScalesToTheReplicaCount) {
  auto plan = planReconcile(service(3), {replica(1, 1, 'h')}, true);
  EXPECT_EQ(plan.create, 2u);
  EXPECT_TRUE(plan.stop.empty());
  // During a restart back-off nothing is created.
  plan = planReconcile(service(3), {replica(1, 1, 'h')}, false);
  EXPECT_EQ(plan.create, 0u);
  // Down: pending first, then not yet healthy, then the youngest.
  plan = planReconcile(service(1), {replica(1, 1, 'h', 10), replica(2, 1, 'h', 20), replica(3, 1, 's'), replica(4, 1, 'p')},
                       true);
  EXPECT_EQ(plan.create, 0u);
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{4, 3, 2}));
  EXPECT_TRUE(planReconcile(service(2), {replica(1, 1, 'h'), replica(2, 1, 's')}, true).stop.empty());
}

TEST(ServiceReconcile, AnUnhealthyReplicaIsReplaced) {
  auto plan = planReconcile(service(2), {replica(1, 1, 'h'), replica(2, 1, 'u')}, true);
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{2}));
  EXPECT_EQ(plan.create, 1u);
}

TEST(ServiceReconcile, DeletingStopsEverything) {
  Service s = service(2);
  s.deleting = true;
  auto plan = planReconcile(s, {replica(1, 1, 'h'), replica(2, 1, 'p')}, true);
  EXPECT_EQ(sorted(plan.stop), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(plan.create, 0u);
}

// R = 4, min-healthy 0.5 (>= 2 healthy), max-surge 0.25 (<= 5 in all).
TEST(ServiceReconcile, ARollingUpdateKeepsTheHealthyMinimumAndTheSurge) {
  const Service s = service(4, 2, 0.5, 0.25);
  EXPECT_EQ(minHealthy(s), 2u);
  EXPECT_EQ(maxTotal(s), 5u);
  // Start: 4 old healthy. One new replica (5 in all); two old stopped (2 healthy left), the
  // youngest first.
  auto plan = planReconcile(s, {replica(1, 1, 'h'), replica(2, 1, 'h'), replica(3, 1, 'h'), replica(4, 1, 'h')}, true);
  EXPECT_EQ(plan.create, 1u);
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{4, 3}));
  // Next: 2 old healthy + 1 new pending: 2 more new (5 in all), no old stopped (2 is the minimum).
  plan = planReconcile(s, {replica(1, 1, 'h'), replica(2, 1, 'h'), replica(5, 2, 'p')}, true);
  EXPECT_EQ(plan.create, 2u);
  EXPECT_TRUE(plan.stop.empty());
  // One new turned healthy: one old may go (3 healthy -> 2).
  plan = planReconcile(s, {replica(1, 1, 'h'), replica(2, 1, 'h'), replica(5, 2, 'h'), replica(6, 2, 's'), replica(7, 2, 'p')},
                       true);
  EXPECT_EQ(plan.create, 0u);  // 5 in all already
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{2}));
  // An old replica that is not healthy goes at once, whatever the count.
  plan = planReconcile(s, {replica(1, 1, 's'), replica(5, 2, 'h'), replica(6, 2, 'h')}, true);
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{1}));
  EXPECT_EQ(plan.create, 2u);
  // Done: 4 new, healthy, the last old stopped.
  plan = planReconcile(s, {replica(2, 1, 'h'), replica(5, 2, 'h'), replica(6, 2, 'h'), replica(7, 2, 'h'), replica(8, 2, 'h')},
                       true);
  EXPECT_EQ(plan.stop, (std::vector<uint64_t>{2}));
  EXPECT_EQ(plan.create, 0u);
}

TEST(ServiceReconcile, SmallServicesCanStillRoll) {
  // 2 replicas at the defaults (0.75, 0.25): both must stay healthy, so one extra is allowed.
  const Service s = service(2, 2);
  EXPECT_EQ(minHealthy(s), 2u);
  EXPECT_EQ(maxTotal(s), 3u);
  auto plan = planReconcile(s, {replica(1, 1, 'h'), replica(2, 1, 'h')}, true);
  EXPECT_EQ(plan.create, 1u);
  EXPECT_TRUE(plan.stop.empty());
}

TEST(ServiceReconcile, RecordsRoundTripThroughJson) {
  Service s = service(3, 2, 0.5, 0.5);
  s.health.http_path = "/healthz";
  s.port = true;
  s.revisions[1].environment["GREETING"] = "hi";
  auto back = serviceFromJson(serviceToJson(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->replicas, 3u);
  EXPECT_EQ(back->current, 2u);
  EXPECT_EQ(back->health.http_path, "/healthz");
  EXPECT_EQ(back->revision(2).environment.at("GREETING"), "hi");
  EXPECT_EQ(back->revision(1).command, "serve v1");
  EXPECT_FALSE(serviceFromJson("{\"name\": 3}"));
  EXPECT_FALSE(serviceFromJson("not json"));
}

}  // namespace
}  // namespace locus::controller
