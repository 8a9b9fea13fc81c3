#include "controller/scheduler/runtime_predictor.hpp"

#include <algorithm>
#include <array>

namespace locus::scheduler {
namespace {

// What a prediction that proved short is extended by, one step per correction (seconds).
constexpr std::array<int64_t, 11> kLadder = {60,        300,        900,        1800,
                                             3600,      2 * 3600,   5 * 3600,   10 * 3600,
                                             20 * 3600, 50 * 3600, 100 * 3600};

}  // namespace

void RuntimePredictor::observe(std::string_view user, int64_t runtime_s) {
  if (runtime_s <= 0) return;
  auto it = users_.find(user);
  if (it == users_.end()) it = users_.emplace(std::string(user), History{}).first;
  History& h = it->second;
  h.previous = h.last;
  h.last = runtime_s;
}

int64_t RuntimePredictor::predict(std::string_view user, int64_t time_limit_s) const {
  auto it = users_.find(user);
  if (it == users_.end()) return time_limit_s > 0 ? time_limit_s : 0;
  const History& h = it->second;
  int64_t predicted = h.previous > 0 ? (h.last + h.previous + 1) / 2 : h.last;
  if (time_limit_s > 0) predicted = std::min(predicted, time_limit_s);
  return std::max<int64_t>(1, predicted);
}

int64_t RuntimePredictor::correctedEnd(int64_t start, int64_t predicted_s, int64_t time_limit_s,
                                       int64_t now) {
  const int64_t limit_end = time_limit_s > 0 ? start + time_limit_s : 0;
  if (predicted_s <= 0) return limit_end;  // no prediction: planned by its limit
  if (start + predicted_s > now) return start + predicted_s;
  if (limit_end != 0 && limit_end <= now) return limit_end;  // overdue: the kill is coming
  const int64_t base = start + predicted_s;
  int64_t step = 0;
  for (int64_t s : kLadder)
    if (base + s > now) {
      step = s;
      break;
    }
  if (step == 0) {
    step = kLadder.back();
    while (base + step <= now) step *= 2;
  }
  const int64_t end = base + step;
  return limit_end != 0 ? std::min(end, limit_end) : end;
}

}  // namespace locus::scheduler
