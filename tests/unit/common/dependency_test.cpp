#include "common/dependency.hpp"

#include <gtest/gtest.h>

namespace locus {
namespace {

using Kind = DependencyTerm::Kind;

TEST(ParseDependency, GoodSpecs) {
  struct Case {
    std::string text;
    bool any;
    std::vector<std::pair<Kind, std::vector<uint64_t>>> terms;
  };
  std::vector<Case> cases{
      {"afterok:12", false, {{Kind::kAfterOk, {12}}}},
      {"afterok:12:13,afterany:14", false, {{Kind::kAfterOk, {12, 13}}, {Kind::kAfterAny, {14}}}},
      {"afternotok:7?afterok:8", true, {{Kind::kAfterNotOk, {7}}, {Kind::kAfterOk, {8}}}},
      {"after:3", false, {{Kind::kAfter, {3}}}},
      {"singleton", false, {{Kind::kSingleton, {}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto dep = parseDependency(c.text);
    ASSERT_TRUE(dep.ok()) << dep.error().message;
    EXPECT_EQ(dep->any, c.any);
    ASSERT_EQ(dep->terms.size(), c.terms.size());
    for (size_t i = 0; i < c.terms.size(); ++i) {
      EXPECT_EQ(dep->terms[i].kind, c.terms[i].first);
      EXPECT_EQ(dep->terms[i].job_ids, c.terms[i].second);
    }
  }
}

TEST(ParseDependency, BadSpecsNameTheProblem) {
  struct Case {
    std::string text, message;
  };
  std::vector<Case> cases{
      {"afterwards:1", "unknown type 'afterwards'"},
      {"afterok", "needs a job id"},
      {"afterok:x", "invalid job id 'x'"},
      {"afterok:0", "invalid job id '0'"},
      {"afterok:1,afterany:2?after:3", "cannot mix"},
      {"afterok:1,", "empty term"},
      {"singleton:4", "singleton takes no job id"},
      {"afterok:12+30", "invalid job id '12+30'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto dep = parseDependency(c.text);
    ASSERT_FALSE(dep.ok());
    EXPECT_NE(dep.error().message.find(c.message), std::string::npos) << dep.error().message;
  }
}

TEST(EvaluateTerm, EveryKindAgainstEveryOutcome) {
  using V = DependencyVerdict;
  struct Case {
    Kind kind;
    JobState state;
    bool started;
    V expected;
  };
  std::vector<Case> cases{
      {Kind::kAfterOk, JobState::kPending, false, V::kWaiting},
      {Kind::kAfterOk, JobState::kRunning, true, V::kWaiting},
      {Kind::kAfterOk, JobState::kCompleted, true, V::kSatisfied},
      {Kind::kAfterOk, JobState::kFailed, true, V::kNever},
      {Kind::kAfterNotOk, JobState::kFailed, true, V::kSatisfied},
      {Kind::kAfterNotOk, JobState::kCancelled, false, V::kSatisfied},
      {Kind::kAfterNotOk, JobState::kCompleted, true, V::kNever},
      {Kind::kAfterAny, JobState::kRunning, true, V::kWaiting},
      {Kind::kAfterAny, JobState::kTimeout, true, V::kSatisfied},
      {Kind::kAfter, JobState::kPending, false, V::kWaiting},
      {Kind::kAfter, JobState::kRunning, true, V::kSatisfied},
      {Kind::kAfter, JobState::kCancelled, false, V::kNever},  // cancelled before it ever started
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(evaluateTerm(cases[i].kind, cases[i].state, cases[i].started), cases[i].expected);
  }
}

}  // namespace
}  // namespace locus
