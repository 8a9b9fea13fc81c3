// FreePool's indexes against a scan over all nodes: the bucket walks (with their summary bitmaps
// and the separate index of nodes with a free GPU) must visit exactly the nodes a scan finds, in
// the same order, whatever was set, limited, hidden or taken before.
#include "controller/scheduler/free_pool.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::node;

// What a walk may visit: listed (listable, not hidden, some free core) and fitting `need`.
bool eligible(const FreePool& pool, const std::vector<uint8_t>& listable,
              const std::vector<uint8_t>& hidden, uint32_t n, const Need& need) {
  if (!listable[n] || hidden[n] || pool.freeCores(n) == 0) return false;
  return pool.freeCores(n) >= std::max<uint64_t>(need.cores, 1) && pool.fitsBesidesCores(n, need);
}

// Best-fit order by scan: fewest free cores first, then node index.
std::vector<uint32_t> scanBestFit(const FreePool& pool, const std::vector<uint8_t>& listable,
                                  const std::vector<uint8_t>& hidden, const Need& need) {
  std::vector<uint32_t> out;
  for (uint32_t n = 0; n < pool.size(); ++n)
    if (eligible(pool, listable, hidden, n, need)) out.push_back(n);
  std::stable_sort(out.begin(), out.end(),
                   [&](uint32_t a, uint32_t b) { return pool.freeCores(a) < pool.freeCores(b); });
  return out;
}

std::vector<uint32_t> scanMostFree(const FreePool& pool, const std::vector<uint8_t>& listable,
                                   const std::vector<uint8_t>& hidden, const Need& need) {
  std::vector<uint32_t> out;
  for (uint32_t n = 0; n < pool.size(); ++n)
    if (eligible(pool, listable, hidden, n, need)) out.push_back(n);
  std::stable_sort(out.begin(), out.end(),
                   [&](uint32_t a, uint32_t b) { return pool.freeCores(a) > pool.freeCores(b); });
  return out;
}

TEST(FreePoolTest, WalksMatchAScanAfterRandomChanges) {
  // 5,000 nodes: more than 4,096, so the summary bitmaps have more than one word per bucket.
  constexpr uint32_t kNodes = 5000;
  constexpr uint32_t kMaxCores = 16;
  std::mt19937_64 rng(7);
  std::vector<uint32_t> cores(kNodes), gpus(kNodes);
  std::vector<uint64_t> mem(kNodes);
  std::vector<uint8_t> listable(kNodes), hidden(kNodes, 0);
  for (uint32_t n = 0; n < kNodes; ++n) {
    cores[n] = static_cast<uint32_t>(rng() % (kMaxCores + 1));
    mem[n] = rng() % 4 * 1000;
    // GPU nodes clustered at the end, as GPU racks are, plus a few scattered.
    gpus[n] = (n >= 3 * kNodes / 4 || rng() % 50 == 0) ? static_cast<uint32_t>(rng() % 5) : 0;
    listable[n] = rng() % 20 != 0;
  }
  FreePool pool(cores, mem, gpus, listable, kMaxCores);
  std::vector<uint64_t> allowed(pool.maskWords(), 0);
  for (auto& w : allowed) w = rng();

  std::vector<uint32_t> hidden_nodes;
  for (int step = 0; step < 150; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const uint32_t n = static_cast<uint32_t>(rng() % kNodes);
    switch (rng() % 5) {
      case 0:
        if (!hidden[n]) {
          pool.set(n, static_cast<uint32_t>(rng() % (kMaxCores + 1)), rng() % 4 * 1000,
                   static_cast<uint32_t>(rng() % 5));
        }
        break;
      case 1:
        if (!hidden[n]) {
          pool.limit(n, static_cast<uint32_t>(rng() % (kMaxCores + 1)), rng() % 4 * 1000,
                     static_cast<uint32_t>(rng() % 5));
        }
        break;
      case 2:
        if (!hidden[n]) pool.unlimit(n);
        break;
      case 3:
        if (!hidden[n] && listable[n] && pool.freeCores(n) > 0) {
          pool.hide(n);
          hidden[n] = 1;
          hidden_nodes.push_back(n);
        }
        break;
      case 4:
        if (!hidden_nodes.empty()) {
          const uint32_t h = hidden_nodes.back();
          hidden_nodes.pop_back();
          hidden[h] = 0;
          if (rng() % 2 == 0) {
            pool.unhide(h);
          } else {
            (void)pool.take(h, static_cast<uint32_t>(rng() % (pool.freeCores(h) + 1)),
                            rng() % (pool.freeMem(h) + 1),
                            static_cast<uint32_t>(rng() % (pool.freeGpus(h) + 1)), 1);
          }
        }
        break;
    }
    for (uint32_t want_gpus : {0u, 1u, 3u}) {
      for (uint64_t want_cores : {0u, 1u, 7u, 16u, 17u}) {
        for (const std::vector<uint64_t>* mask :
             {static_cast<const std::vector<uint64_t>*>(nullptr),
              static_cast<const std::vector<uint64_t>*>(&allowed)}) {
          const Need need{want_cores, step % 2 == 0 ? 0u : 1000u, want_gpus, mask};
          SCOPED_TRACE("cores " + std::to_string(want_cores) + " gpus " +
                       std::to_string(want_gpus) + (mask ? " masked" : ""));
          const std::vector<uint32_t> best = scanBestFit(pool, listable, hidden, need);
          std::vector<uint32_t> walked;
          pool.visitBestFit(need, [&](uint32_t v) {
            walked.push_back(v);
            return true;
          });
          ASSERT_EQ(walked, best);
          const std::optional<uint32_t> fit = pool.bestFit(need);
          ASSERT_EQ(fit, best.empty() ? std::nullopt : std::optional<uint32_t>(best.front()));
          walked.clear();
          pool.visitMostFree(need, [&](uint32_t v) {
            walked.push_back(v);
            return true;
          });
          ASSERT_EQ(walked, scanMostFree(pool, listable, hidden, need));
        }
      }
    }
  }
}

// A GPU request is answered from the index of nodes with a free GPU; nodes enter and leave it
// as their GPUs are taken and limited.
TEST(FreePoolTest, GpuIndexFollowsTakesAndLimits) {
  FreePool pool({8, 8, 8}, {0, 0, 0}, {0, 2, 1}, {1, 1, 1}, 8);
  const Need one_gpu{1, 0, 1, nullptr};
  const Need two_gpus{1, 0, 2, nullptr};
  EXPECT_EQ(pool.bestFit(one_gpu), 1u);  // equal cores: the lower index
  EXPECT_EQ(pool.bestFit(two_gpus), 1u);
  pool.hide(1);
  (void)pool.take(1, 1, 0, 2, 1);  // node 1: 7 cores, no GPU left
  EXPECT_EQ(pool.bestFit(one_gpu), 2u);
  EXPECT_EQ(pool.bestFit(two_gpus), std::nullopt);
  pool.limit(2, 8, 0, 0);  // a reservation holds node 2's GPU
  EXPECT_EQ(pool.bestFit(one_gpu), std::nullopt);
  EXPECT_EQ(pool.bestFit(Need{1, 0, 0, nullptr}), 1u);  // CPU requests still see every node
  pool.unlimit(2);
  EXPECT_EQ(pool.bestFit(one_gpu), 2u);
  pool.set(0, 4, 0, 3);  // count-only: node 0 gains GPUs and is the best fit by cores
  EXPECT_EQ(pool.bestFit(one_gpu), 0u);
  EXPECT_EQ(pool.bestFit(two_gpus), 0u);
}

// Core ids are read from the NodeStates on take(), lowest first per domain; two takes from the
// same node continue where the first stopped, and the NodeStates are not changed.
TEST(FreePoolTest, TakesCoreIdsFromTheNodeStates) {
  const std::vector<NodeState> nodes = {node("n0").numa(2, 4).busy({1}),
                                        node("n1").numa(2, 4).gpus({0, 1}).busyGpus({0}),
                                        node("n2").numa(2, 4).down()};
  FreePool pool(nodes);
  EXPECT_EQ(pool.listedNodes(), 2u);
  EXPECT_EQ(pool.freeCores(0), 7u);
  EXPECT_EQ(pool.freeGpus(1), 1u);
  EXPECT_EQ(pool.bestFit(Need{1, 0, 0, nullptr}), 0u);
  EXPECT_EQ(pool.bestFit(Need{1, 0, 1, nullptr}), 1u);

  pool.hide(0);
  const NodeAllocation a = pool.take(0, 2, 0, 0, 2);
  EXPECT_EQ(a.cores, (std::vector<uint32_t>{0, 2}));  // domain 0 holds 3 free: the best fit
  pool.hide(0);
  const NodeAllocation b = pool.take(0, 3, 0, 0, 3);
  EXPECT_EQ(b.cores, (std::vector<uint32_t>{4, 5, 6}));  // domain 1 holds 4, domain 0 only 1
  EXPECT_EQ(pool.freeCores(0), 2u);

  pool.hide(1);
  const NodeAllocation g = pool.take(1, 2, 0, 1, 2);
  EXPECT_EQ(g.cores, (std::vector<uint32_t>{4, 5}));  // the domain of the free GPU
  EXPECT_EQ(g.gpus, (std::vector<uint32_t>{1}));
  EXPECT_EQ(pool.bestFit(Need{1, 0, 1, nullptr}), std::nullopt);

  EXPECT_EQ(nodes[0].free_cores_by_numa[0], (std::vector<uint32_t>{0, 2, 3}));
  EXPECT_EQ(nodes[1].free_gpus, uint64_t{2});
}

}  // namespace
}  // namespace locus::scheduler
