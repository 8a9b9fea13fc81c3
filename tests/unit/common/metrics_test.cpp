#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace locus::metrics {
namespace {

TEST(Metrics, CounterAddsAcrossThreads) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) c.add();
    });
  for (auto& t : threads) t.join();
  c.add(5);
  EXPECT_EQ(c.value(), 4005u);
}

TEST(Metrics, HistogramBucketsAreCumulativeAndInclusive) {
  Histogram h({0.1, 1, 10});
  // 0.1 lands in le="0.1" (bounds are inclusive); 50 only in +Inf.
  for (double v : {0.05, 0.1, 0.5, 1.0, 2.0, 50.0}) h.observe(v);
  HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{0.1, 1, 10}));
  // le=0.1: 0.05, 0.1 -> 2; le=1: + 0.5, 1.0 -> 4; le=10: + 2.0 -> 5; +Inf: 6.
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 5}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 0.05 + 0.1 + 0.5 + 1.0 + 2.0 + 50.0);
}

TEST(Metrics, HistogramVecKeepsOneSeriesPerLabelValue) {
  HistogramVec v("method", {1});
  v.observe("Submit", 0.5);
  v.observe("List", 2);
  v.observe("Submit", 3);
  auto s = v.snapshot();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].first, "List");  // ordered by label value
  EXPECT_EQ(s[0].second.count, 1u);
  EXPECT_EQ(s[0].second.cumulative[0], 0u);
  EXPECT_EQ(s[1].first, "Submit");
  EXPECT_EQ(s[1].second.count, 2u);
  EXPECT_EQ(s[1].second.cumulative[0], 1u);
}

TEST(Metrics, FormatValue) {
  struct Case {
    double value;
    std::string text;
  };
  const Case cases[] = {
      {0, "0"},
      {2, "2"},
      {-3, "-3"},
      {8589934592.0, "8589934592"},  // 8 GiB in bytes: whole, not 8.589934592e+09
      {0.25, "0.25"},
      {0.0001, "0.0001"},
      {1.5e-7, "1.5e-07"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(formatValue(c.value), c.text);
  }
}

TEST(Metrics, NamesAndEscaping) {
  EXPECT_TRUE(validMetricName("locus_jobs"));
  EXPECT_TRUE(validMetricName("job:rate5m"));
  EXPECT_FALSE(validMetricName("1jobs"));
  EXPECT_FALSE(validMetricName("locus-jobs"));
  EXPECT_FALSE(validMetricName(""));
  EXPECT_TRUE(validLabelName("state"));
  EXPECT_FALSE(validLabelName("a:b"));
  EXPECT_FALSE(validLabelName("__name__"));  // reserved
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Metrics, WriterProducesTheExpositionFormat) {
  ExpositionWriter w;
  w.family("locus_jobs", MetricType::kGauge, "Jobs by state.");
  w.sample({{"state", "PENDING"}}, 1);
  w.sample({{"state", "RUNNING"}}, 2);
  w.family("locus_jobs_submitted_total", MetricType::kCounter, "Submits,\nwith a \\ in the help.");
  w.sample({}, 3);
  Histogram h({0.5, 1});
  h.observe(0.25);
  h.observe(0.75);
  h.observe(4);
  w.family("locus_pass_seconds", MetricType::kHistogram, "Pass time.");
  w.histogram({{"pool", "a\"b"}}, h.snapshot());
  EXPECT_EQ(w.text(),
            "# HELP locus_jobs Jobs by state.\n"
            "# TYPE locus_jobs gauge\n"
            "locus_jobs{state=\"PENDING\"} 1\n"
            "locus_jobs{state=\"RUNNING\"} 2\n"
            "# HELP locus_jobs_submitted_total Submits,\\nwith a \\\\ in the help.\n"
            "# TYPE locus_jobs_submitted_total counter\n"
            "locus_jobs_submitted_total 3\n"
            "# HELP locus_pass_seconds Pass time.\n"
            "# TYPE locus_pass_seconds histogram\n"
            "locus_pass_seconds_bucket{pool=\"a\\\"b\",le=\"0.5\"} 1\n"
            "locus_pass_seconds_bucket{pool=\"a\\\"b\",le=\"1\"} 2\n"
            "locus_pass_seconds_bucket{pool=\"a\\\"b\",le=\"+Inf\"} 3\n"
            "locus_pass_seconds_sum{pool=\"a\\\"b\"} 5\n"
            "locus_pass_seconds_count{pool=\"a\\\"b\"} 3\n");
}

TEST(MetricsDeathTest, MisuseIsABug) {
  EXPECT_DEATH(
      {
        ExpositionWriter w;
        w.family("locus_x", MetricType::kGauge, "x");
        w.family("locus_x", MetricType::kGauge, "x");
      },
      "written twice");
  EXPECT_DEATH(
      {
        ExpositionWriter w;
        w.family("locus_h", MetricType::kHistogram, "h");
        w.sample({}, 1);
      },
      "outside a counter or gauge");
  EXPECT_DEATH(Histogram({1, 1}), "not ascending");
}

}  // namespace
}  // namespace locus::metrics
