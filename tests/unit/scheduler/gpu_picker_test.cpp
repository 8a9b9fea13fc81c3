// Table tests for pickGpuSet: which GPUs of one node a job gets once its cores are chosen. GPU
// sets are written as index lists ({2, 3}) and compared as masks.
#include "controller/scheduler/gpu_picker.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <utility>
#include <vector>

namespace locus::scheduler {
namespace {

uint64_t mask(std::initializer_list<uint32_t> ids) {
  uint64_t m = 0;
  for (uint32_t g : ids) m |= uint64_t{1} << g;
  return m;
}

// Symmetric NVLink masks for `gpus` GPUs from a list of connected pairs.
std::vector<uint64_t> links(size_t gpus,
                            std::initializer_list<std::pair<uint32_t, uint32_t>> pairs) {
  std::vector<uint64_t> out(gpus, 0);
  for (auto [a, b] : pairs) {
    out[a] |= uint64_t{1} << b;
    out[b] |= uint64_t{1} << a;
  }
  return out;
}

// DGX-1 (V100) hybrid cube-mesh: two fully connected quads {0-3} and {4-7}, plus one link
// across from each GPU to its twin (0-4, 1-5, 2-6, 3-7). Quads sit on NUMA domains 0 and 1.
std::vector<uint64_t> dgx1Links() {
  return links(8, {{0, 1},
                   {0, 2},
                   {0, 3},
                   {1, 2},
                   {1, 3},
                   {2, 3},
                   {4, 5},
                   {4, 6},
                   {4, 7},
                   {5, 6},
                   {5, 7},
                   {6, 7},
                   {0, 4},
                   {1, 5},
                   {2, 6},
                   {3, 7}});
}
const std::vector<int32_t> kDgx1Numa = {0, 0, 0, 0, 1, 1, 1, 1};
const std::vector<int32_t> kTwoDomains = {0, 0, 1, 1};

struct Case {
  std::string name;
  uint64_t free;
  std::vector<int32_t> numa;
  std::vector<uint64_t> links;
  std::vector<uint32_t> preferred;
  uint32_t k;
  uint64_t want;
};

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(pickGpuSet(c.free, c.numa, c.links, c.preferred, c.k), c.want);
  }
}

TEST(PickGpuSet, NumaOrder) {
  runCases({
      {"one GPU from the preferred domain", mask({0, 1, 2, 3}), kTwoDomains, {}, {1}, 1, mask({2})},
      {"no preference: lowest indices", mask({0, 1, 2, 3}), kTwoDomains, {}, {}, 2, mask({0, 1})},
      {"two GPUs from the preferred domain",
       mask({0, 1, 2, 3}),
       kTwoDomains,
       {},
       {1},
       2,
       mask({2, 3})},
      // Domain 1 has only GPU 2 free; the second GPU falls back to the lowest other one.
      {"falls back to other domains when the preferred one runs out",
       mask({0, 1, 2}),
       kTwoDomains,
       {},
       {1},
       2,
       mask({0, 2})},
      // Preferred {1, 0}: GPUs 2, 3 first, then 0.
      {"preferred domains in the order given",
       mask({0, 1, 2, 3}),
       kTwoDomains,
       {},
       {1, 0},
       3,
       mask({0, 2, 3})},
      // Three domains, {2, 0} preferred: GPU 2 (domain 2), GPU 0 (domain 0), not GPU 1.
      {"a later preferred domain beats an unlisted one",
       mask({0, 1, 2}),
       {0, 1, 2},
       {},
       {2, 0},
       2,
       mask({0, 2})},
      {"unknown NUMA (-1) only after the preferred domain",
       mask({0, 1}),
       {-1, 0},
       {},
       {0},
       1,
       mask({1})},
      {"busy GPUs of the preferred domain are skipped",
       mask({0, 1, 3}),
       kTwoDomains,
       {},
       {1},
       1,
       mask({3})},
      {"fewer free than asked: all the free ones",
       mask({1, 3}),
       kTwoDomains,
       {},
       {0},
       3,
       mask({1, 3})},
      {"none free", 0, kTwoDomains, {}, {0}, 2, 0},
      {"nothing asked", mask({0, 1, 2, 3}), kTwoDomains, {}, {0}, 0, 0},
      // Bits above numa.size() are not GPUs of this node.
      {"free bits beyond the node's GPUs are ignored",
       mask({1, 5, 6}),
       kTwoDomains,
       {},
       {},
       2,
       mask({1})},
  });
}

TEST(PickGpuSet, NvlinkCliques) {
  runCases({
      // Pairs {0, 2} and {1, 3}; NUMA order alone would give {0, 1}.
      {"an NVLink pair beats NUMA order",
       mask({0, 1, 2, 3}),
       {0, 0, 0, 0},
       links(4, {{0, 2}, {1, 3}}),
       {0},
       2,
       mask({0, 2})},
      // GPU 0 busy: pair {0, 2} is broken, {1, 3} is whole.
      {"two NVLink pairs, one broken: the whole pair",
       mask({1, 2, 3}),
       {0, 0, 0, 0},
       links(4, {{0, 2}, {1, 3}}),
       {0},
       2,
       mask({1, 3})},
      // Pair {2, 3} is on the preferred domain 1; pair {0, 1} is not.
      {"the pair on the preferred domain",
       mask({0, 1, 2, 3}),
       kTwoDomains,
       links(4, {{0, 1}, {2, 3}}),
       {1},
       2,
       mask({2, 3})},
      {"no connected pair free: NUMA order",
       mask({0, 2}),
       kTwoDomains,
       links(4, {{0, 1}, {2, 3}}),
       {1},
       2,
       mask({0, 2})},
      {"no links known: NUMA order", mask({0, 1, 2, 3}), kTwoDomains, {}, {1}, 2, mask({2, 3})},
      {"one GPU ignores links",
       mask({0, 1, 2, 3}),
       kTwoDomains,
       links(4, {{0, 1}}),
       {1},
       1,
       mask({2})},
      {"DGX-1, 4 GPUs near domain 0: the first quad",
       0xFF,
       kDgx1Numa,
       dgx1Links(),
       {0},
       4,
       mask({0, 1, 2, 3})},
      {"DGX-1, 4 GPUs near domain 1: the second quad",
       0xFF,
       kDgx1Numa,
       dgx1Links(),
       {1},
       4,
       mask({4, 5, 6, 7})},
      // GPU 1 busy: no quad is left in {0, 2, 3}; {4-7} is still whole, across domains.
      {"DGX-1, first quad broken: the other quad",
       mask({0, 2, 3, 4, 5, 6, 7}),
       kDgx1Numa,
       dgx1Links(),
       {0},
       4,
       mask({4, 5, 6, 7})},
      // 0-4 is a link, but no third GPU is linked to both: {0, 1, 2} is a triangle.
      {"DGX-1, 3 GPUs: a triangle inside the preferred quad",
       0xFF,
       kDgx1Numa,
       dgx1Links(),
       {0},
       3,
       mask({0, 1, 2})},
      // Free {0, 4, 5}: the pair {4, 5} rather than {0, 4} (also linked) because 4 and 5 are
      // on preferred domain 1.
      {"DGX-1, 2 GPUs: a linked pair on the preferred domain",
       mask({0, 4, 5}),
       kDgx1Numa,
       dgx1Links(),
       {1},
       2,
       mask({4, 5})},
      {"DGX-1, 5 GPUs: no 5-clique, NUMA order",
       0xFF,
       kDgx1Numa,
       dgx1Links(),
       {1},
       5,
       mask({0, 4, 5, 6, 7})},
      {"NVSwitch (all linked): NUMA order",
       0xFF,
       kDgx1Numa,
       links(8, {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {1, 2}, {1, 3}, {1, 4},
                 {1, 5}, {1, 6}, {1, 7}, {2, 3}, {2, 4}, {2, 5}, {2, 6}, {2, 7}, {3, 4}, {3, 5},
                 {3, 6}, {3, 7}, {4, 5}, {4, 6}, {4, 7}, {5, 6}, {5, 7}, {6, 7}}),
       {1},
       3,
       mask({4, 5, 6})},
      // Triangle {3, 4, 5}, and each of its GPUs also linked to one GPU outside it (0-3, 1-4,
      // 2-5). Growing a set from any GPU by taking its first linked peer never closes the
      // triangle, yet the triangle exists and must be found.
      {"a triangle whose GPUs each have an earlier peer outside it",
       0x3F,
       {0, 0, 0, 0, 0, 0},
       links(6, {{0, 3}, {1, 4}, {2, 5}, {3, 4}, {4, 5}, {3, 5}}),
       {0},
       3,
       mask({3, 4, 5})},
  });
}

// Whether every GPU of `set` is linked to every other.
bool connected(uint64_t set, const std::vector<uint64_t>& links) {
  for (uint64_t b = set; b != 0; b &= b - 1) {
    const int g = std::countr_zero(b);
    if ((set & ~(uint64_t{1} << g) & ~links[static_cast<size_t>(g)]) != 0) return false;
  }
  return true;
}

// Whether some k of the GPUs in `free` are all linked to each other (every subset tried).
bool cliqueExists(uint64_t free, const std::vector<uint64_t>& links, uint32_t k) {
  for (uint64_t s = free;; s = (s - 1) & free) {
    if (std::popcount(s) == static_cast<int>(k) && connected(s, links)) return true;
    if (s == 0) return false;
  }
}

// Properties on random 12-GPU nodes (fixed seed; 60% of the pairs linked, GPUs 0-5 on domain 0
// and 6-11 on domain 1): the pick is a subset of the free GPUs of size min(k, free); and
// whenever k free GPUs are fully NVLink-connected, the pick is such a set.
TEST(PickGpuSet, PropertiesOnRandomNodes) {
  constexpr uint32_t kGpus = 12;
  std::mt19937 rng(42);
  const std::vector<int32_t> numa = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
  const std::vector<std::vector<uint32_t>> prefs = {{}, {0}, {1}, {1, 0}};
  for (int iter = 0; iter < 5000; ++iter) {
    std::vector<uint64_t> l(kGpus, 0);
    for (uint32_t a = 0; a < kGpus; ++a) {
      for (uint32_t b = a + 1; b < kGpus; ++b) {
        if (rng() % 10 >= 6) continue;
        l[a] |= uint64_t{1} << b;
        l[b] |= uint64_t{1} << a;
      }
    }
    const uint64_t free = rng() % (uint64_t{1} << kGpus);
    const uint32_t k = 1 + rng() % 6;
    const auto& pref = prefs[rng() % prefs.size()];
    SCOPED_TRACE("iteration " + std::to_string(iter) + " free " + std::to_string(free) + " k " +
                 std::to_string(k));
    const uint64_t got = pickGpuSet(free, numa, l, pref, k);
    ASSERT_EQ(got & ~free, 0u);
    ASSERT_EQ(std::popcount(got), std::min(std::popcount(free), static_cast<int>(k)));
    if (k >= 2 && cliqueExists(free, l, k)) {
      ASSERT_TRUE(connected(got, l));
    }
  }
}

}  // namespace
}  // namespace locus::scheduler
