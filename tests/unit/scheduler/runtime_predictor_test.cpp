// EASY++ run-time predictions: the average of a user's last two run times, capped at the limit,
// and the corrections of a prediction that proved short.
#include "controller/scheduler/runtime_predictor.hpp"

#include <gtest/gtest.h>

namespace locus::scheduler {
namespace {

TEST(RuntimePredictor, NoHistoryIsTheTimeLimit) {
  RuntimePredictor p;
  EXPECT_EQ(p.predict("alice", 3600), 3600);
  EXPECT_EQ(p.predict("alice", 0), 0);  // unlimited stays unlimited: planned as held forever
}

TEST(RuntimePredictor, AveragesTheLastTwoRunsCappedAtTheLimit) {
  RuntimePredictor p;
  p.observe("alice", 600);
  EXPECT_EQ(p.predict("alice", 3600), 600);  // one run known: that one
  p.observe("alice", 1000);
  EXPECT_EQ(p.predict("alice", 3600), 800);  // (600 + 1000) / 2
  EXPECT_EQ(p.predict("alice", 700), 700);   // never above the limit
  EXPECT_EQ(p.predict("alice", 0), 800);     // unlimited: the prediction
  p.observe("alice", 3000);
  EXPECT_EQ(p.predict("alice", 14400), 2000);  // 600 has dropped out: (1000 + 3000) / 2
  p.observe("alice", 0);                       // never ran: no history
  p.observe("alice", -5);
  EXPECT_EQ(p.predict("alice", 14400), 2000);
  EXPECT_EQ(p.predict("bob", 14400), 14400);  // per user
  p.observe("bob", 1);
  p.observe("bob", 2);
  EXPECT_EQ(p.predict("bob", 14400), 2);  // (1 + 2) / 2 rounded up: at least 1 s
}

TEST(RuntimePredictor, CorrectionsWalkTheLadderUpToTheLimit) {
  // The header's example: started at 0, predicted 800 s, limit 4 h.
  const int64_t limit = 4 * 3600;
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 0), 800);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 799), 800);
  // At its predicted end it still runs: + 1 min, then + 5, 15, 30 min, 1 h, 2 h.
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 800), 860);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 860), 1100);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 1100), 1700);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 1700), 2600);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 2600), 4400);
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 4400), 8000);
  // 800 + 5 h is past the limit: the limit.
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, 8000), limit);
  // Overdue (not yet killed): left at the limit.
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 800, limit, limit + 5), limit);
  // Relative to the start.
  EXPECT_EQ(RuntimePredictor::correctedEnd(1000, 800, limit, 1850), 1000 + 860);
  // No prediction: the limit.
  EXPECT_EQ(RuntimePredictor::correctedEnd(1000, 0, limit, 1850), 1000 + limit);
  // Unlimited: past 100 h the step doubles.
  EXPECT_EQ(RuntimePredictor::correctedEnd(0, 10, 0, 10 + 100 * 3600), 10 + 200 * 3600);
}

}  // namespace
}  // namespace locus::scheduler
