#include "common/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/result.hpp"

namespace locus::metrics {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  LOCUS_CHECK(!bounds_.empty()) << "a histogram needs buckets";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    LOCUS_CHECK(std::isfinite(bounds_[i])) << "bucket " << i << " is not finite";
    LOCUS_CHECK(i == 0 || bounds_[i - 1] < bounds_[i]) << "buckets not ascending at " << i;
  }
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
  // The first bucket whose bound is >= value ("le" is inclusive); past the last: +Inf.
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  std::lock_guard lock(mu_);
  counts_[i] += 1;
  sum_ += value;
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += counts_[i];
    s.cumulative.push_back(running);
  }
  s.count = running + counts_.back();
  s.sum = sum_;
  return s;
}

HistogramVec::HistogramVec(std::string label, std::vector<double> bounds)
    : label_(std::move(label)), bounds_(std::move(bounds)) {
  LOCUS_CHECK(validLabelName(label_)) << "bad label name '" << label_ << "'";
}

void HistogramVec::observe(const std::string& label_value, double value) {
  Histogram* h = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = by_value_[label_value];
    if (!slot) slot = std::make_unique<Histogram>(bounds_);
    h = slot.get();  // never removed: safe to use outside the lock
  }
  h->observe(value);
}

std::vector<std::pair<std::string, HistogramSnapshot>> HistogramVec::snapshot() const {
  std::vector<std::pair<std::string, HistogramSnapshot>> out;
  std::lock_guard lock(mu_);
  for (const auto& [value, h] : by_value_) out.emplace_back(value, h->snapshot());
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (counts, bytes) as integers, however large they are, up to 2^53.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
    return std::to_string(static_cast<int64_t>(value));
  // Like Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus's own clients use (so a
  // bucket reads le="0.0001", not le="1e-04"): the shortest digits that read back exactly, in
  // exponent form only for exponents below -4 or from 21 up.
  char text[64];
  auto sci = std::to_chars(text, text + sizeof text, value, std::chars_format::scientific);
  const std::string scientific(text, sci.ptr);
  const int exponent = std::atoi(scientific.c_str() + scientific.find('e') + 1);
  if (exponent < -4 || exponent >= 21) return scientific;
  auto fixed = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return std::string(text, fixed.ptr);
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {
bool nameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// HELP text escapes only backslash and newline.
std::string escapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}
}  // namespace

bool validMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!nameChar(name[i], i == 0, true)) return false;
  return true;
}

bool validLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!nameChar(name[i], i == 0, false)) return false;
  return true;
}

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  LOCUS_CHECK(validMetricName(name)) << "bad metric name '" << name << "'";
  for (const auto& f : families_) LOCUS_CHECK(f != name) << "family " << name << " written twice";
  families_.emplace_back(name);
  name_ = name;
  type_ = type;
  const char* type_name = type == MetricType::kCounter ? "counter"
                          : type == MetricType::kGauge ? "gauge"
                                                       : "histogram";
  out_ += "# HELP " + name_ + " " + escapeHelp(help) + "\n";
  out_ += "# TYPE " + name_ + " " + type_name + "\n";
}

void ExpositionWriter::line(std::string_view name, const Labels& labels,
                            std::string_view extra_label, std::string_view extra_value,
                            double value) {
  out_ += name;
  if (!labels.empty() || !extra_label.empty()) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view k, std::string_view v) {
      LOCUS_CHECK(validLabelName(k)) << "bad label name '" << k << "' in " << name;
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escapeLabelValue(v);
      out_ += '"';
    };
    for (const auto& [k, v] : labels) add(k, v);
    if (!extra_label.empty()) add(extra_label, extra_value);
    out_ += '}';
  }
  out_ += ' ';
  out_ += formatValue(value);
  out_ += '\n';
}

void ExpositionWriter::sample(const Labels& labels, double value) {
  LOCUS_CHECK(!name_.empty() && type_ != MetricType::kHistogram)
      << "sample outside a counter or gauge family";
  line(name_, labels, {}, {}, value);
}

void ExpositionWriter::histogram(const Labels& labels, const HistogramSnapshot& h) {
  LOCUS_CHECK(!name_.empty() && type_ == MetricType::kHistogram)
      << "histogram outside a histogram family";
  for (const auto& [k, v] : labels)
    LOCUS_CHECK(k != "le") << "'le' is the bucket label of " << name_;
  const std::string bucket = name_ + "_bucket";
  for (size_t i = 0; i < h.bounds.size(); ++i)
    line(bucket, labels, "le", formatValue(h.bounds[i]), h.cumulative[i]);
  line(bucket, labels, "le", "+Inf", static_cast<double>(h.count));
  line(name_ + "_sum", labels, {}, {}, h.sum);
  line(name_ + "_count", labels, {}, {}, static_cast<double>(h.count));
}

}  // namespace locus::metrics
