#include "controller/policy/fair_share.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace locus::policy {

const ShareRow* FairShareTable::find(const AssocId& id) const {
  for (const ShareRow& r : rows) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

double FairShareTable::factor(const AssocId& id) const {
  const ShareRow* r = find(id);
  return r ? r->fair_share : 0.0;
}

namespace {

bool isRoot(const AssocId& id) { return !id.isUser() && id.account == kRootAccount; }

double usageOf(const std::map<AssocId, double>& usage, const AssocId& id) {
  auto it = usage.find(id);
  return it == usage.end() ? 0.0 : it->second;
}

// Fields every algorithm shows: shares, raw and normalized usage, depth.
std::map<AssocId, ShareRow> baseRows(const AccountTree& tree,
                                     const std::map<AssocId, double>& usage) {
  std::map<AssocId, ShareRow> rows;
  const double total = usageOf(usage, {kRootAccount, ""});
  for (const AssocId& id : tree.preorder()) {
    ShareRow r;
    r.id = id;
    r.raw_shares = *tree.shares(id);
    r.norm_shares = *tree.normalizedShares(id);
    r.raw_usage = usageOf(usage, id);
    r.norm_usage = total > 0 ? r.raw_usage / total : 0.0;
    if (!isRoot(id)) r.depth = rows.at({*tree.parent(id), ""}).depth + 1;
    rows.emplace(id, r);
  }
  return rows;
}

void classic(const AccountTree& tree, double dampening, std::map<AssocId, ShareRow>& rows) {
  // Pre-order guarantees the parent's UE is known before its children's (the documented
  // "start at the second tier and proceed downward").
  for (const AssocId& id : tree.preorder()) {
    ShareRow& r = rows.at(id);
    if (isRoot(id)) {
      r.effective_usage = r.norm_usage;
      continue;
    }
    const std::string parent = *tree.parent(id);
    if (parent == kRootAccount) {
      r.effective_usage = r.norm_usage;
    } else {
      const double ue_parent = rows.at({parent, ""}).effective_usage;
      r.effective_usage = r.norm_usage + (ue_parent - r.norm_usage) *
                                             static_cast<double>(r.raw_shares) /
                                             static_cast<double>(tree.levelShares(parent));
    }
    r.fair_share = std::exp2(-r.effective_usage / r.norm_shares / dampening);
  }
}

struct FairTreeWalk {
  const AccountTree& tree;
  std::map<AssocId, ShareRow>& rows;
  double user_count;
  size_t rank;  // rank of the last user ranked (kept for ties)
  size_t rnt;   // "rank not tied": the next rank to hand out

  // Level FS of each association relative to its own siblings.
  void levelFs(const AssocId& id) {
    ShareRow& r = rows.at(id);
    const std::string parent = *tree.parent(id);
    double sibling_usage = 0;
    for (const AssocId& s : tree.children(parent)) sibling_usage += rows.at(s).raw_usage;
    const double s =
        static_cast<double>(r.raw_shares) / static_cast<double>(tree.levelShares(parent));
    const double u = sibling_usage > 0 ? r.raw_usage / sibling_usage : 0.0;
    r.effective_usage = u;
    r.level_fs = u > 0 ? s / u : std::numeric_limits<double>::infinity();
  }

  void visit(std::vector<AssocId> siblings, bool account_tied) {
    for (const AssocId& id : siblings) levelFs(id);
    std::sort(siblings.begin(), siblings.end(), [this](const AssocId& a, const AssocId& b) {
      const double la = rows.at(a).level_fs, lb = rows.at(b).level_fs;
      if (la != lb) return la > lb;
      if (a.isUser() != b.isUser()) return a.isUser();
      return a < b;
    });
    for (size_t i = 0; i < siblings.size(); ++i) {
      const AssocId& id = siblings[i];
      const double lf = rows.at(id).level_fs;
      const bool tied = i == 0 ? account_tied : lf == rows.at(siblings[i - 1]).level_fs;
      if (id.isUser()) {
        if (!tied) rank = rnt;
        rows.at(id).fair_share = static_cast<double>(rank) / user_count;
        --rnt;
        continue;
      }
      // Merge the children of every sibling account tied with this one.
      std::vector<AssocId> merged;
      size_t j = i;
      for (; j < siblings.size() && !siblings[j].isUser() && rows.at(siblings[j]).level_fs == lf;
           ++j) {
        for (const AssocId& c : tree.children(siblings[j].account)) merged.push_back(c);
      }
      visit(std::move(merged), tied);
      i = j - 1;
    }
  }
};

}  // namespace

FairShareTable computeFairShare(const AccountTree& tree, const std::map<AssocId, double>& usage,
                                const FairShareOptions& options) {
  LOCUS_CHECK(options.dampening >= 1.0) << "dampening " << options.dampening;
  std::map<AssocId, ShareRow> rows = baseRows(tree, usage);
  if (options.algorithm == FairShareAlgorithm::kClassic) {
    classic(tree, options.dampening, rows);
  } else if (tree.userCount() > 0) {
    const size_t n = tree.userCount();
    FairTreeWalk walk{tree, rows, static_cast<double>(n), n, n};
    walk.visit(tree.children(kRootAccount), false);
  }
  FairShareTable table;
  for (const AssocId& id : tree.preorder()) table.rows.push_back(rows.at(id));
  return table;
}

DrfSorter::DrfSorter(Tres capacity) : capacity_(capacity) {}

Status DrfSorter::addClient(const std::string& name, double weight) {
  if (!(weight > 0)) {
    return invalidArgument("DRF client '" + name + "': weight must be positive");
  }
  if (!clients_.emplace(name, Client{weight, {}}).second) {
    return invalidArgument("DRF client '" + name + "' already exists");
  }
  return {};
}

Status DrfSorter::removeClient(const std::string& name) {
  if (clients_.erase(name) == 0) return notFound("no DRF client '" + name + "'");
  return {};
}

Status DrfSorter::allocate(const std::string& name, const Tres& amount) {
  auto it = clients_.find(name);
  if (it == clients_.end()) return notFound("no DRF client '" + name + "'");
  Tres& a = it->second.alloc;
  a.cpus += amount.cpus;
  a.mem_mb += amount.mem_mb;
  a.gpus += amount.gpus;
  return {};
}

Status DrfSorter::unallocate(const std::string& name, const Tres& amount) {
  auto it = clients_.find(name);
  if (it == clients_.end()) return notFound("no DRF client '" + name + "'");
  Tres& a = it->second.alloc;
  LOCUS_CHECK(a.cpus >= amount.cpus && a.mem_mb >= amount.mem_mb && a.gpus >= amount.gpus)
      << "DRF client " << name << " frees more than it holds";
  a.cpus -= amount.cpus;
  a.mem_mb -= amount.mem_mb;
  a.gpus -= amount.gpus;
  return {};
}

double DrfSorter::share(const Client& c) const {
  // A resource the cluster does not have (0 GPUs) cannot be anyone's dominant resource.
  auto frac = [](int64_t alloc, int64_t cap) {
    return cap > 0 ? static_cast<double>(alloc) / static_cast<double>(cap) : 0.0;
  };
  const double dominant =
      std::max({frac(c.alloc.cpus, capacity_.cpus), frac(c.alloc.mem_mb, capacity_.mem_mb),
                frac(c.alloc.gpus, capacity_.gpus)});
  return dominant / c.weight;
}

Result<double> DrfSorter::dominantShare(const std::string& name) const {
  auto it = clients_.find(name);
  if (it == clients_.end()) return notFound("no DRF client '" + name + "'");
  return share(it->second);
}

std::vector<std::string> DrfSorter::order() const {
  std::vector<std::pair<double, std::string>> v;
  for (const auto& [name, c] : clients_) v.emplace_back(share(c), name);
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (auto& [s, name] : v) out.push_back(std::move(name));
  return out;
}

std::map<std::string, double> DrfSorter::factors() const {
  std::map<std::string, double> out;
  const std::vector<std::string> names = order();
  const double n = static_cast<double>(names.size());
  size_t rank = names.size();
  double prev = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    const double s = share(clients_.at(names[i]));
    if (i == 0 || s != prev) rank = names.size() - i;
    prev = s;
    out[names[i]] = static_cast<double>(rank) / n;
  }
  return out;
}

}  // namespace locus::policy
