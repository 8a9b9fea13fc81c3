#include "controller/scheduler/core_picker.hpp"

#include <gtest/gtest.h>

namespace locus::scheduler {
namespace {

struct Case {
  std::string name;
  std::vector<uint32_t> free;
  uint32_t need;
  std::vector<uint32_t> want;
};

TEST(PickDomainCounts, Table) {
  const std::vector<Case> cases = {
      {"nothing needed", {4, 4}, 0, {0, 0}},
      {"single domain: best fit", {4, 2, 3}, 2, {0, 2, 0}},
      {"single domain: exact fit wins", {4, 3, 2}, 3, {0, 3, 0}},
      {"single domain: ties go to the lower index", {4, 4}, 3, {3, 0}},
      {"skips empty domains", {0, 5}, 5, {0, 5}},
      // 4 whole, then 2 from the 2-core domain (best fit), the 3-core domain stays whole.
      {"two domains: largest whole, best fit for the rest", {4, 3, 2}, 6, {4, 0, 2}},
      // Sorted: d1 (6), d3 (5), d2 (2), d0 (1); d1 whole, 1 left: best fit d0.
      {"remainder of one goes to the smallest domain", {1, 6, 2, 5}, 7, {1, 6, 0, 0}},
      // 3 whole (d0, lower index of the tie), then 2: d1 and d2 both fit, d1 has the lower index.
      {"ties among equal domains", {3, 3, 3}, 5, {3, 2, 0}},
      {"all domains", {2, 3, 4}, 9, {2, 3, 4}},
      // d0 and d1 whole, the last core from d3, the best fit for 1; d2 stays whole.
      {"three domains needed", {4, 4, 4, 1}, 9, {4, 4, 0, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(pickDomainCounts(c.free, c.need), c.want);
  }
}

TEST(PickDomainCountsDeathTest, MoreThanFreeIsABug) {
  const std::vector<uint32_t> free = {2, 2};
  EXPECT_DEATH((void)pickDomainCounts(free, 5), "LOCUS_CHECK");
}

}  // namespace
}  // namespace locus::scheduler
