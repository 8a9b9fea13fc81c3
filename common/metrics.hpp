#pragma once
// Prometheus metrics: a few thread-safe instruments and a writer of the text exposition format
// (version 0.0.4) that Prometheus scrapes from /metrics.
//
// A daemon keeps counters and histograms where the events happen, and reads everything else
// (gauges: jobs by state, allocated cores) from a snapshot of its state at scrape time:
//
//   ExpositionWriter w;
//   w.family("locus_jobs", MetricType::kGauge, "Jobs by state.");
//   w.sample({{"state", "RUNNING"}}, 2);
//   w.family("locus_scheduler_pass_duration_seconds", MetricType::kHistogram, "...");
//   w.histogram({}, pass_duration.snapshot());
//   serve(w.text());
//
// Names follow Prometheus conventions: the locus_ prefix, base units in the name (_seconds,
// _bytes), _total for counters.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace locus::metrics {

// What /metrics answers with (Content-Type).
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// A count that only goes up. Lock-free.
class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct HistogramSnapshot {
  std::vector<double> bounds;        // bucket upper bounds, ascending; +Inf is implied
  std::vector<uint64_t> cumulative;  // observations <= bounds[i]
  uint64_t count = 0;                // every observation (the +Inf bucket)
  double sum = 0;
};

// Observations counted in fixed buckets. Thread-safe: one short mutex per observation.
class Histogram {
 public:
  // `bounds`: finite, strictly ascending, not empty (checked).
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  HistogramSnapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // guarded by mu_: per bucket, not cumulative; last is +Inf
  double sum_ = 0;                // guarded by mu_
};

// One histogram per value of one label (an RPC method, say), each created at its first
// observation with the same buckets. Thread-safe.
class HistogramVec {
 public:
  HistogramVec(std::string label, std::vector<double> bounds);
  void observe(const std::string& label_value, double value);
  const std::string& label() const { return label_; }
  // (label value, its histogram), ordered by label value.
  std::vector<std::pair<std::string, HistogramSnapshot>> snapshot() const;

 private:
  const std::string label_;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Histogram>> by_value_;  // guarded by mu_
};

// Builds the exposition text. Each family is announced once with family() and followed by its
// samples (sample() for counters and gauges, histogram() for histograms); a sample of the wrong
// kind, or a family announced twice, is a bug (checked). Not thread-safe: one per scrape.
class ExpositionWriter {
 public:
  // Writes the family's "# HELP" and "# TYPE" lines. `name` must be a valid metric name.
  void family(std::string_view name, MetricType type, std::string_view help);
  // One sample of the current counter or gauge family.
  void sample(const Labels& labels, double value);
  // One series of the current histogram family: its _bucket lines (the +Inf one included),
  // _sum and _count.
  void histogram(const Labels& labels, const HistogramSnapshot& h);
  const std::string& text() const { return out_; }

 private:
  void line(std::string_view name, const Labels& labels, std::string_view extra_label,
            std::string_view extra_value, double value);
  std::string out_;
  std::string name_;  // the current family
  MetricType type_ = MetricType::kGauge;
  std::vector<std::string> families_;  // announced so far, to catch a repeat
};

// A sample value as the format writes it: the shortest text that reads back exactly ("2",
// "0.25", "1e-05"), "+Inf", "-Inf" or "NaN".
std::string formatValue(double value);
// A label value with backslash, double quote and newline escaped.
std::string escapeLabelValue(std::string_view value);
// Whether `name` is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; no colon in labels).
bool validMetricName(std::string_view name);
bool validLabelName(std::string_view name);

}  // namespace locus::metrics
