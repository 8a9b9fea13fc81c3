#include "controller/scheduler/free_pool.hpp"

#include <limits>

#include "common/result.hpp"
#include "controller/scheduler/core_picker.hpp"
#include "controller/scheduler/gpu_picker.hpp"

namespace locus::scheduler {
namespace {

enum : uint8_t { kUnlisted, kListed, kHidden };

constexpr uint32_t kNoCoreLimit = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kNoMemLimit = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kNoGpuLimit = std::numeric_limits<uint32_t>::max();

}  // namespace

// Reads only counts: a pass over 10,000 nodes of 128 cores used to copy 1.28M free core ids (and
// two GPU vectors per GPU node) here, most of a pass that starts nothing; take() reads the few
// ids it needs from `nodes`.
FreePool::FreePool(const std::vector<NodeState>& nodes)
    : nodes_(&nodes),
      free_cores_(nodes.size(), 0),
      free_mem_(nodes.size(), 0),
      free_gpus_(nodes.size(), 0),
      cap_cores_(nodes.size(), kNoCoreLimit),
      cap_mem_(nodes.size(), kNoMemLimit),
      cap_gpus_(nodes.size(), kNoGpuLimit),
      listable_(nodes.size(), 0),
      state_(nodes.size(), kUnlisted),
      domain_begin_(nodes.size() + 1, 0),
      gpu_free_(nodes.size(), 0) {
  uint32_t max_free = 0;
  uint32_t domains = 0;
  for (size_t n = 0; n < nodes.size(); ++n) {
    const NodeState& node = nodes[n];
    domain_begin_[n] = domains;
    free_mem_[n] = node.free_mem_mb;
    listable_[n] = node.schedulable ? 1 : 0;
    // An unschedulable node gets no domains: nothing can ever be taken from it.
    if (!node.schedulable) continue;
    uint32_t free = 0;
    for (const auto& ids : node.free_cores_by_numa) free += static_cast<uint32_t>(ids.size());
    domains += static_cast<uint32_t>(node.free_cores_by_numa.size());
    free_cores_[n] = free;
    max_free = std::max(max_free, free);
    if (!node.gpu_numa.empty()) {
      LOCUS_CHECK(node.gpu_numa.size() <= 64) << node.name << ": more than 64 GPUs";
      const uint64_t all =
          node.gpu_numa.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << node.gpu_numa.size()) - 1;
      gpu_free_[n] = node.free_gpus & all;
      free_gpus_[n] = static_cast<uint32_t>(std::popcount(gpu_free_[n]));
    }
  }
  domain_begin_[nodes.size()] = domains;
  taken_.assign(domains, 0);
  initIndex(max_free);
}

FreePool::FreePool(std::vector<uint32_t> cores, std::vector<uint64_t> mem_mb,
                   std::vector<uint32_t> gpus, std::vector<uint8_t> listable, uint32_t max_cores)
    : count_only_(true),
      free_cores_(std::move(cores)),
      free_mem_(std::move(mem_mb)),
      free_gpus_(std::move(gpus)),
      cap_cores_(free_cores_.size(), kNoCoreLimit),
      cap_mem_(free_cores_.size(), kNoMemLimit),
      cap_gpus_(free_cores_.size(), kNoGpuLimit),
      listable_(std::move(listable)),
      state_(free_cores_.size(), kUnlisted) {
  LOCUS_CHECK(free_mem_.size() == free_cores_.size() && listable_.size() == free_cores_.size() &&
              free_gpus_.size() == free_cores_.size())
      << "per-node vectors differ in size";
  for (uint32_t c : free_cores_) max_cores = std::max(max_cores, c);
  initIndex(max_cores);
}

void FreePool::Buckets::init(size_t buckets, size_t words) {
  words_ = words;
  summary_words_ = words / 64 + 1;
  bits_.assign(buckets * words_, 0);
  summary_.assign(buckets * summary_words_, 0);
  count_.assign(buckets, 0);
  nonempty_.assign(buckets / 64 + 1, 0);
}

void FreePool::initIndex(uint32_t max_cores) {
  buckets_ = size_t{max_cores} + 1;
  words_ = free_cores_.size() / 64 + 1;
  all_.init(buckets_, words_);
  for (uint32_t n = 0; n < free_cores_.size(); ++n) {
    if (!listable_[n]) continue;
    total_free_cores_ += free_cores_[n];
    list(n);
  }
}

void FreePool::list(uint32_t node) {
  state_[node] = kUnlisted;
  const uint32_t c = freeCores(node);
  // A node without free cores can hold nothing: keep it out of every walk.
  if (c == 0 || !listable_[node]) return;
  all_.add(c, node);
  if (freeGpus(node) > 0) {
    if (!gpu_.ready()) gpu_.init(buckets_, words_);
    gpu_.add(c, node);
  }
  state_[node] = kListed;
  ++listed_;
}

// Free counts and limits change only while a node is unlisted, so they are those it was listed
// under.
void FreePool::unlist(uint32_t node) {
  const uint32_t c = freeCores(node);
  all_.remove(c, node);
  if (freeGpus(node) > 0) gpu_.remove(c, node);
  --listed_;
}

void FreePool::hide(uint32_t node) {
  LOCUS_CHECK(state_[node] == kListed) << "node " << node << " is not listed";
  unlist(node);
  state_[node] = kHidden;
}

bool FreePool::listed(uint32_t node) const { return state_[node] == kListed; }
bool FreePool::hidden(uint32_t node) const { return state_[node] == kHidden; }

void FreePool::unhide(uint32_t node) {
  LOCUS_CHECK(state_[node] == kHidden) << "node " << node << " is not hidden";
  list(node);
}

// The cores to take from each NUMA domain of `node`. Without GPUs: as few domains as possible
// (pickDomainCounts). With GPUs the domains holding free GPUs come first, so the GPUs can be
// local to the cores: one domain that has both the cores and the GPUs, best fit (fewest free
// cores) among those; else the domains richest in free GPUs until they hold the GPUs, their
// cores packed, and more domains by free cores only if their cores do not suffice.
// Example: domains {cores 8, gpus 0}, {cores 4, gpus 2}; 4 cores and 2 GPUs -> all from domain 1.
std::vector<uint32_t> FreePool::pickCoreDomains(uint32_t node, uint32_t cores,
                                                uint32_t gpus) const {
  const uint32_t count = domain_begin_[node + 1] - domain_begin_[node];
  std::vector<uint32_t> free(count);
  for (uint32_t d = 0; d < count; ++d) free[d] = domainFree(node, d);
  const std::vector<int32_t>& numa = (*nodes_)[node].gpu_numa;
  if (gpus == 0 || numa.empty()) return pickDomainCounts(free, cores);

  const uint64_t gpu_free = gpu_free_[node];
  std::vector<uint32_t> gpus_in(count, 0);
  for (size_t i = 0; i < numa.size(); ++i) {
    if ((gpu_free >> i & 1) && numa[i] >= 0 && static_cast<uint32_t>(numa[i]) < count)
      ++gpus_in[static_cast<uint32_t>(numa[i])];
  }
  std::optional<uint32_t> single;
  for (uint32_t d = 0; d < count; ++d) {
    if (free[d] < cores || gpus_in[d] < gpus) continue;
    if (!single || free[d] < free[*single] ||
        (free[d] == free[*single] && gpus_in[d] < gpus_in[*single]))
      single = d;
  }
  std::vector<uint32_t> take(count, 0);
  if (single) {
    take[*single] = cores;
    return take;
  }
  std::vector<uint32_t> order(count);
  for (uint32_t d = 0; d < count; ++d) order[d] = d;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (gpus_in[a] != gpus_in[b]) return gpus_in[a] > gpus_in[b];
    return free[a] > free[b];
  });
  // Domains chosen for their GPUs, then their cores packed; what they lack comes from the rest.
  std::vector<uint32_t> chosen_free(count, 0);
  uint32_t have_gpus = 0;
  uint64_t have_cores = 0;
  for (uint32_t d : order) {
    if (have_gpus >= gpus || gpus_in[d] == 0) break;
    chosen_free[d] = free[d];
    have_gpus += gpus_in[d];
    have_cores += free[d];
  }
  if (have_cores >= cores) return pickDomainCounts(chosen_free, cores);
  take = chosen_free;
  std::vector<uint32_t> rest(count, 0);
  for (uint32_t d = 0; d < count; ++d) rest[d] = chosen_free[d] == 0 ? free[d] : 0;
  const std::vector<uint32_t> more =
      pickDomainCounts(rest, cores - static_cast<uint32_t>(have_cores));
  for (uint32_t d = 0; d < count; ++d) take[d] += more[d];
  return take;
}

NodeAllocation FreePool::take(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus,
                              uint32_t ntasks) {
  LOCUS_CHECK(state_[node] == kHidden) << "node " << node << " must be hidden before take";
  LOCUS_CHECK(cores <= freeCores(node))
      << "node " << node << ": taking " << cores << " cores, " << freeCores(node) << " free";
  LOCUS_CHECK(mem_mb <= freeMem(node))
      << "node " << node << ": taking " << mem_mb << " MB, " << freeMem(node) << " MB free";
  LOCUS_CHECK(gpus <= freeGpus(node))
      << "node " << node << ": taking " << gpus << " GPUs, " << freeGpus(node) << " free";

  NodeAllocation alloc;
  alloc.node = node;
  alloc.mem_mb = mem_mb;
  alloc.ntasks = ntasks;
  if (!count_only_) {
    const uint32_t first = domain_begin_[node];
    const uint32_t count = domain_begin_[node + 1] - first;
    const std::vector<uint32_t> per_domain = pickCoreDomains(node, cores, gpus);
    alloc.cores.reserve(cores);
    // Domains holding most of the job's cores first: GPUs are preferred in that order.
    std::vector<uint32_t> used;
    const NodeState& state = (*nodes_)[node];
    for (uint32_t d = 0; d < count; ++d) {
      if (per_domain[d] == 0) continue;
      const std::vector<uint32_t>& ids = state.free_cores_by_numa[d];
      uint32_t& taken = taken_[first + d];
      alloc.cores.insert(alloc.cores.end(), ids.begin() + taken,
                         ids.begin() + taken + per_domain[d]);
      taken += per_domain[d];
      used.push_back(d);
    }
    alloc.numa = used;
    // Domains are usually listed in core-id order already; sort in case a node numbers them
    // otherwise.
    std::sort(alloc.cores.begin(), alloc.cores.end());
    if (gpus > 0) {
      std::stable_sort(used.begin(), used.end(),
                       [&](uint32_t a, uint32_t b) { return per_domain[a] > per_domain[b]; });
      // The node's links as they are: pickGpuSet reads a missing entry as "no peers" and never
      // looks at GPUs outside the free mask.
      uint64_t& gpu_free = gpu_free_[node];
      const uint64_t picked = pickGpuSet(gpu_free, state.gpu_numa, state.gpu_links, used, gpus);
      LOCUS_CHECK(std::popcount(picked) == static_cast<int>(gpus))
          << "node " << node << ": picked " << std::popcount(picked) << " of " << gpus << " GPUs";
      gpu_free &= ~picked;
      for (uint64_t b = picked; b != 0; b &= b - 1) {
        alloc.gpus.push_back(static_cast<uint32_t>(std::countr_zero(b)));
      }
    }
  }

  free_cores_[node] -= cores;
  free_mem_[node] -= mem_mb;
  free_gpus_[node] -= gpus;
  if (cap_cores_[node] != kNoCoreLimit) cap_cores_[node] -= cores;
  if (cap_mem_[node] != kNoMemLimit) cap_mem_[node] -= mem_mb;
  if (cap_gpus_[node] != kNoGpuLimit) cap_gpus_[node] -= gpus;
  total_free_cores_ -= cores;
  list(node);
  return alloc;
}

void FreePool::set(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus) {
  LOCUS_CHECK(count_only_) << "set() on a pool that tracks core ids";
  LOCUS_CHECK(state_[node] != kHidden) << "node " << node << " is hidden";
  LOCUS_CHECK(cores < buckets_) << "node " << node << ": " << cores << " cores, at most "
                                << buckets_ - 1;
  if (state_[node] == kListed) unlist(node);
  if (listable_[node]) total_free_cores_ = total_free_cores_ - free_cores_[node] + cores;
  free_cores_[node] = cores;
  free_mem_[node] = mem_mb;
  free_gpus_[node] = gpus;
  list(node);
}

void FreePool::limit(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus) {
  LOCUS_CHECK(state_[node] != kHidden) << "node " << node << " is hidden";
  if (state_[node] == kListed) unlist(node);
  cap_cores_[node] = cores;
  cap_mem_[node] = mem_mb;
  cap_gpus_[node] = gpus;
  list(node);
}

void FreePool::unlimit(uint32_t node) {
  LOCUS_CHECK(state_[node] != kHidden) << "node " << node << " is hidden";
  if (state_[node] == kListed) unlist(node);
  cap_cores_[node] = kNoCoreLimit;
  cap_mem_[node] = kNoMemLimit;
  cap_gpus_[node] = kNoGpuLimit;
  list(node);
}

}  // namespace locus::scheduler
