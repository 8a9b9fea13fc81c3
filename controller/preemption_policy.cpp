#include "controller/preemption_policy.hpp"

#include <algorithm>

namespace locus::controller {
namespace {

PreemptMode parseMode(const std::string& mode) {
  if (mode == "cancel") return PreemptMode::kCancel;
  if (mode == "suspend") return PreemptMode::kSuspend;
  if (mode == "off") return PreemptMode::kOff;
  return PreemptMode::kRequeue;  // the config parser accepts nothing else
}

}  // namespace

PreemptionPolicy PreemptionPolicy::fromConfig(const std::vector<QosConfig>& qos) {
  PreemptionPolicy p;
  p.levels_.push_back({"normal", 0, 0, PreemptMode::kRequeue, 0});
  p.levels_.push_back({"service", 1, uint64_t{1} << 0, PreemptMode::kRequeue, 0});
  auto find = [&](const std::string& name) -> PreemptLevel* {
    for (auto& l : p.levels_)
      if (l.name == name) return &l;
    return nullptr;
  };
  for (const QosConfig& q : qos) {
    if (find(q.name) || p.levels_.size() >= 64) continue;
    p.levels_.push_back({q.name, static_cast<uint32_t>(p.levels_.size()), 0, PreemptMode::kRequeue, 0});
  }
  for (const QosConfig& q : qos) {
    PreemptLevel* level = find(q.name);
    if (!level) continue;
    level->mode = parseMode(q.preempt_mode);
    level->exempt_s = q.preempt_exempt_s;
    // A configured level says whom it preempts, replacing a built-in default.
    level->preempts = 0;
    for (const auto& target : q.preempt)
      if (const PreemptLevel* t = find(target)) level->preempts |= uint64_t{1} << t->cls;
  }
  return p;
}

const PreemptLevel& PreemptionPolicy::of(const std::string& name) const {
  for (const auto& l : levels_)
    if (l.name == name) return l;
  return levels_.front();
}

bool PreemptionPolicy::any() const {
  return std::any_of(levels_.begin(), levels_.end(), [](const PreemptLevel& l) { return l.preempts != 0; });
}

const char* modeName(PreemptMode mode) {
  switch (mode) {
    case PreemptMode::kRequeue: return "requeue";
    case PreemptMode::kCancel: return "cancel";
    case PreemptMode::kSuspend: return "suspend";
    case PreemptMode::kOff: return "off";
  }
  return "requeue";
}

}  // namespace locus::controller
