#include "controller/policy/quota.hpp"

#include <algorithm>
#include <map>

namespace locus::policy {
namespace {

// The components, so that every rule below is written once and applied to each resource alone.
struct Field {
  uint64_t Resources::*member;
  const char* unit;  // as `locus why` prints an amount: "28 cores"
};
constexpr Field kFields[] = {
    {&Resources::cores, "cores"},
    {&Resources::mem_mb, "MB of memory"},
    {&Resources::gpus, "GPUs"},
};

uint64_t addSaturating(uint64_t a, uint64_t b) { return a > kUnlimited - b ? kUnlimited : a + b; }

// in_use + request > max, without forming a sum that could wrap.
bool exceeds(uint64_t in_use, uint64_t request, uint64_t max) {
  if (max == kUnlimited) return false;
  return request > max || in_use > max - request;
}

}  // namespace

Resources operator+(const Resources& a, const Resources& b) {
  Resources out;
  for (const Field& f : kFields) out.*f.member = addSaturating(a.*f.member, b.*f.member);
  return out;
}

Resources operator-(const Resources& a, const Resources& b) {
  Resources out;
  for (const Field& f : kFields)
    out.*f.member = a.*f.member > b.*f.member ? a.*f.member - b.*f.member : 0;
  return out;
}

QuotaVerdict checkMax(const Quota& quota, const std::string& pool, const Resources& in_use,
                      const Resources& request) {
  const Field* busy = nullptr;  // first resource over max that may clear when jobs end
  for (const Field& f : kFields) {
    const uint64_t held = in_use.*f.member, asked = request.*f.member, max = quota.max.*f.member;
    if (!exceeds(held, asked, max)) continue;
    const bool never = asked > max;
    if (never || !busy) busy = &f;
    if (never) break;
  }
  if (!busy) return {};
  const uint64_t max = quota.max.*busy->member, asked = request.*busy->member;
  return QuotaVerdict{false, kReasonQuotaMax,
                      "account " + quota.account + " holds " +
                          std::to_string(in_use.*busy->member) + " " + busy->unit + " in pool " +
                          pool + ", its max is " + std::to_string(max) + ": this job needs " +
                          std::to_string(asked),
                      asked > max};
}

bool withinGuarantee(const Quota& quota, const Resources& in_use, const Resources& request) {
  for (const Field& f : kFields) {
    const uint64_t asked = request.*f.member;
    if (asked == 0) continue;
    if (exceeds(in_use.*f.member, asked, quota.guaranteed.*f.member)) return false;
  }
  return true;
}

Resources borrowed(const Quota& quota, const Resources& in_use) {
  return in_use - quota.guaranteed;
}

std::vector<QuotaRow> quotaReport(
    const std::vector<Quota>& quotas,
    const std::vector<std::pair<std::string, Resources>>& in_use_by_account,
    const Resources& pool_total) {
  std::map<std::string, Resources> held;  // by name: accounts without quota come out sorted
  for (const auto& [account, r] : in_use_by_account) held[account] = held[account] + r;

  std::vector<QuotaRow> rows;
  for (const Quota& q : quotas) {
    auto it = held.find(q.account);
    const Resources in_use = it == held.end() ? Resources{} : it->second;
    if (it != held.end()) held.erase(it);
    rows.push_back({q.account, q.guaranteed, q.max, in_use, borrowed(q, in_use), {}});
  }
  for (const auto& [account, in_use] : held) {
    if (in_use == Resources{}) continue;
    rows.push_back({account, {}, Quota{}.max, in_use, in_use, {}});
  }

  for (const Field& f : kFields) {
    auto get = [&f](const Resources& r) { return r.*f.member; };
    uint64_t guaranteed = 0, total_borrowed = 0, total_idle = 0;
    for (const QuotaRow& row : rows) {
      guaranteed = addSaturating(guaranteed, get(row.guaranteed));
      total_borrowed = addSaturating(total_borrowed, get(row.borrowed));
      if (get(row.guaranteed) > get(row.in_use))
        total_idle = addSaturating(total_idle, get(row.guaranteed) - get(row.in_use));
    }
    const uint64_t total = get(pool_total);
    const uint64_t unguaranteed = total > guaranteed ? total - guaranteed : 0;
    const uint64_t from_guarantees = total_borrowed > unguaranteed ? total_borrowed - unguaranteed : 0;
    // More than total_idle only when the pool holds more than its capacity: each lender is
    // capped at its idle guarantee, so all of it is lent.
    const uint64_t taken = std::min(from_guarantees, total_idle);
    if (taken == 0) continue;

    uint64_t given = 0;
    for (QuotaRow& row : rows) {
      if (get(row.guaranteed) <= get(row.in_use)) continue;
      const uint64_t idle = get(row.guaranteed) - get(row.in_use);
      // 128-bit: memory in MB times memory in MB can pass 2^64 on a large pool.
      const auto share = static_cast<uint64_t>(static_cast<unsigned __int128>(taken) * idle /
                                               total_idle);
      row.lent.*f.member = share;
      given += share;
    }
    // Each share lost less than 1 to rounding, so fewer units are left than lenders, and a lender
    // whose share was rounded down has room for one more below its idle guarantee.
    for (QuotaRow& row : rows) {
      if (given == taken) break;
      if (get(row.guaranteed) <= get(row.in_use)) continue;
      const uint64_t idle = get(row.guaranteed) - get(row.in_use);
      if (get(row.lent) < idle) {
        ++(row.lent.*f.member);
        ++given;
      }
    }
  }
  return rows;
}

}  // namespace locus::policy
