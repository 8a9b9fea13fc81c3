#include "controller/scheduler/free_pool.hpp"

#include <algorithm>
#include <bit>

#include "common/result.hpp"
#include "controller/scheduler/core_picker.hpp"

namespace locus::scheduler {
namespace {

enum : uint8_t { kUnlisted, kListed, kHidden };

}  // namespace

FreePool::FreePool(const std::vector<NodeState>& nodes)
    : free_cores_(nodes.size(), 0),
      free_mem_(nodes.size(), 0),
      state_(nodes.size(), kUnlisted),
      domain_begin_(nodes.size() + 1, 0) {
  uint32_t max_free = 0;
  for (size_t n = 0; n < nodes.size(); ++n) {
    const NodeState& node = nodes[n];
    domain_begin_[n] = static_cast<uint32_t>(domains_.size());
    free_mem_[n] = node.free_mem_mb;
    uint32_t free = 0;
    // An unschedulable node's cores are not copied: nothing can ever be taken from it.
    if (node.schedulable) {
      for (const auto& ids : node.free_cores_by_numa) {
        Domain d;
        d.head = static_cast<uint32_t>(core_ids_.size());
        core_ids_.insert(core_ids_.end(), ids.begin(), ids.end());
        d.end = static_cast<uint32_t>(core_ids_.size());
        domains_.push_back(d);
        free += static_cast<uint32_t>(ids.size());
      }
    }
    free_cores_[n] = free;
    max_free = std::max(max_free, free);
  }
  domain_begin_[nodes.size()] = static_cast<uint32_t>(domains_.size());
  buckets_.resize(size_t{max_free} + 1);
  nonempty_.assign(buckets_.size() / 64 + 1, 0);
  for (uint32_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].schedulable) {
      total_free_cores_ += free_cores_[n];
      list(n);
    }
  }
}

void FreePool::list(uint32_t node) {
  state_[node] = kUnlisted;
  const uint32_t c = free_cores_[node];
  if (c == 0) return;  // a node without free cores can hold nothing: keep it out of every walk
  buckets_[c].insert(node);
  nonempty_[c / 64] |= uint64_t{1} << (c % 64);
  state_[node] = kListed;
  ++listed_;
}

void FreePool::unlist(uint32_t node) {
  const uint32_t c = free_cores_[node];
  buckets_[c].erase(node);
  if (buckets_[c].empty()) nonempty_[c / 64] &= ~(uint64_t{1} << (c % 64));
  --listed_;
}

uint32_t FreePool::maxFreeCores() const {
  for (size_t w = nonempty_.size(); w-- > 0;) {
    if (nonempty_[w] != 0)
      return static_cast<uint32_t>(w * 64 + 63 - std::countl_zero(nonempty_[w]));
  }
  return 0;
}

std::optional<uint32_t> FreePool::bestFit(uint64_t cores, uint64_t mem_mb) const {
  if (cores >= buckets_.size()) return std::nullopt;
  size_t c = std::max<uint64_t>(cores, 1);
  while (c < buckets_.size()) {
    // Jump to the next non-empty bucket at or above c.
    size_t w = c / 64;
    uint64_t bits = nonempty_[w] & (~uint64_t{0} << (c % 64));
    while (bits == 0) {
      if (++w == nonempty_.size()) return std::nullopt;
      bits = nonempty_[w];
    }
    c = w * 64 + std::countr_zero(bits);
    if (c >= buckets_.size()) return std::nullopt;
    for (uint32_t node : buckets_[c]) {
      if (free_mem_[node] >= mem_mb) return node;
    }
    ++c;
  }
  return std::nullopt;
}

void FreePool::hide(uint32_t node) {
  LOCUS_CHECK(state_[node] == kListed) << "node " << node << " is not listed";
  unlist(node);
  state_[node] = kHidden;
}

void FreePool::unhide(uint32_t node) {
  LOCUS_CHECK(state_[node] == kHidden) << "node " << node << " is not hidden";
  list(node);
}

NodeAllocation FreePool::take(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t ntasks) {
  LOCUS_CHECK(state_[node] == kHidden) << "node " << node << " must be hidden before take";
  LOCUS_CHECK(cores <= free_cores_[node])
      << "node " << node << ": taking " << cores << " cores, " << free_cores_[node] << " free";
  LOCUS_CHECK(mem_mb <= free_mem_[node])
      << "node " << node << ": taking " << mem_mb << " MB, " << free_mem_[node] << " MB free";

  const uint32_t first = domain_begin_[node];
  const uint32_t count = domain_begin_[node + 1] - first;
  std::vector<uint32_t> free(count);
  for (uint32_t d = 0; d < count; ++d) free[d] = domains_[first + d].end - domains_[first + d].head;
  const std::vector<uint32_t> per_domain = pickDomainCounts(free, cores);

  NodeAllocation alloc;
  alloc.node = node;
  alloc.mem_mb = mem_mb;
  alloc.ntasks = ntasks;
  alloc.cores.reserve(cores);
  for (uint32_t d = 0; d < count; ++d) {
    Domain& dom = domains_[first + d];
    alloc.cores.insert(alloc.cores.end(), core_ids_.begin() + dom.head,
                       core_ids_.begin() + dom.head + per_domain[d]);
    dom.head += per_domain[d];
  }
  // Domains are usually listed in core-id order already; sort in case a node numbers them
  // otherwise.
  std::sort(alloc.cores.begin(), alloc.cores.end());

  free_cores_[node] -= cores;
  free_mem_[node] -= mem_mb;
  total_free_cores_ -= cores;
  list(node);
  return alloc;
}

}  // namespace locus::scheduler
