#include "controller/policy/usage.hpp"

#include <cmath>

namespace locus::policy {

double billingRate(const BillingWeights& w, const Tres& t) {
  return w.per_cpu * static_cast<double>(t.cpus) +
         w.per_mem_gb * static_cast<double>(t.mem_mb) / 1024.0 +
         w.per_gpu * static_cast<double>(t.gpus);
}

double billedResourceSeconds(const BillingWeights& w, const Tres& t, int64_t seconds) {
  if (seconds <= 0) return 0;
  return billingRate(w, t) * static_cast<double>(seconds);
}

double decayFactor(int64_t elapsed_s, std::chrono::seconds half_life) {
  if (half_life.count() <= 0 || elapsed_s <= 0) return 1.0;
  // exp2 of an exact -1.0 is exactly 0.5, so one half-life halves exactly.
  return std::exp2(-static_cast<double>(elapsed_s) / static_cast<double>(half_life.count()));
}

UsageLedger::UsageLedger(std::chrono::seconds half_life) : half_life_(half_life) {
  LOCUS_CHECK(half_life.count() >= 0) << "negative half-life " << half_life.count();
}

void UsageLedger::charge(const AssocId& id, double billed, int64_t at_s) {
  LOCUS_CHECK(billed >= 0) << "negative charge " << billed << " to " << id.str();
  auto [it, inserted] = entries_.try_emplace(id, Entry{0, at_s});
  Entry& e = it->second;
  if (at_s >= e.as_of_s) {
    e.value = e.value * decayFactor(at_s - e.as_of_s, half_life_) + billed;
    e.as_of_s = at_s;
  } else {
    // A late report of an older charge: decay it forward to as_of.
    e.value += billed * decayFactor(e.as_of_s - at_s, half_life_);
  }
}

double UsageLedger::ownUsage(const AssocId& id, int64_t now_s) const {
  auto it = entries_.find(id);
  if (it == entries_.end()) return 0;
  return it->second.value * decayFactor(now_s - it->second.as_of_s, half_life_);
}

namespace {
double rollUpFrom(const AccountTree& tree, const UsageLedger& ledger, int64_t now_s,
                  const std::string& account, std::map<AssocId, double>& out) {
  double sum = ledger.ownUsage({account, ""}, now_s);
  for (const AssocId& c : tree.children(account)) {
    if (c.isUser()) {
      const double u = ledger.ownUsage(c, now_s);
      out[c] = u;
      sum += u;
    } else {
      sum += rollUpFrom(tree, ledger, now_s, c.account, out);
    }
  }
  out[{account, ""}] = sum;
  return sum;
}
}  // namespace

std::map<AssocId, double> rollUp(const AccountTree& tree, const UsageLedger& ledger,
                                 int64_t now_s) {
  std::map<AssocId, double> out;
  rollUpFrom(tree, ledger, now_s, kRootAccount, out);
  return out;
}

}  // namespace locus::policy
