#pragma once
// The pass's working copy of free resources: flat per-node arrays plus an index of nodes by free
// core count, so "the node with the fewest free cores >= k" and "nodes by most free cores" are
// walks over a few buckets instead of scans over all nodes. A bucket is a bitmap over node
// indices: listing and unlisting are O(1), walks go in node index order, and building the pool
// allocates a handful of vectors rather than one tree node per node (the simulator builds one per
// event).
//
// Only listable (schedulable) nodes with at least one free core are listed in the index. A
// placement first hides the nodes it picks (so the next pick of the same job cannot choose them
// again), then either takes from all of them (committing) or unhides them (the job did not fit;
// nothing changed).
//
// Two kinds of pool:
//  - from NodeStates: knows the free core ids per NUMA domain; take() returns core ids. Free
//    resources only shrink.
//  - count-only (planning at a future time): free counts per node, set() moves them up or down;
//    take() returns allocations without core ids.
// GPUs are counted per node in both kinds; the first kind also knows which GPU is free, its NUMA
// domain and its NVLink peers, and take() picks GPU ids near the cores it picked.
// Walks filter by a Need: cores, memory, GPUs and an optional bitmap of allowed nodes (the nodes
// whose features match, or one switch subtree), ANDed word by word with the bucket bitmaps.
//
// Both accept a temporary limit per node: while limited, the node is listed (and every accessor
// reports it) as if it had min(free, limit) free. Backfill uses it to hide the part of a node
// that a reservation needs within a job's window.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

// What one node must give a job, and which nodes may give it.
struct Need {
  uint64_t cores = 0;
  uint64_t mem_mb = 0;
  uint32_t gpus = 0;
  // Bitmap over node indices (FreePool::maskWords() words); null: every node may.
  const std::vector<uint64_t>* allowed = nullptr;
};

class FreePool {
 public:
  explicit FreePool(const std::vector<NodeState>& nodes);
  // Count-only: node n has cores[n] free cores, mem_mb[n] free memory and gpus[n] free GPUs;
  // nodes with listable[n] == 0 are never listed. set() may raise a node up to max_cores.
  FreePool(std::vector<uint32_t> cores, std::vector<uint64_t> mem_mb, std::vector<uint32_t> gpus,
           std::vector<uint8_t> listable, uint32_t max_cores);

  uint64_t totalFreeCores() const { return total_free_cores_; }  // real, over all nodes
  uint32_t listedNodes() const { return listed_; }
  uint32_t maxFreeCores() const;  // over listed nodes; 0 when none is listed
  // Free resources as the index sees them: limited where a limit is set.
  uint32_t freeCores(uint32_t node) const { return std::min(free_cores_[node], cap_cores_[node]); }
  uint64_t freeMem(uint32_t node) const { return std::min(free_mem_[node], cap_mem_[node]); }
  uint32_t freeGpus(uint32_t node) const { return std::min(free_gpus_[node], cap_gpus_[node]); }
  // Free resources ignoring limits.
  uint32_t realFreeCores(uint32_t node) const { return free_cores_[node]; }
  uint64_t realFreeMem(uint32_t node) const { return free_mem_[node]; }
  uint32_t realFreeGpus(uint32_t node) const { return free_gpus_[node]; }
  size_t size() const { return free_cores_.size(); }
  size_t maskWords() const { return words_; }  // words of a node bitmap for Need::allowed

  // Whether a listed node satisfies `need` apart from its core count.
  bool fitsBesidesCores(uint32_t node, const Need& need) const {
    if (freeMem(node) < need.mem_mb || freeGpus(node) < need.gpus) return false;
    return need.allowed == nullptr || ((*need.allowed)[node / 64] >> (node % 64) & 1) != 0;
  }

  // The listed node with the fewest free cores >= need.cores that satisfies the rest of `need`;
  // ties go to the lower node index. nullopt when none.
  std::optional<uint32_t> bestFit(const Need& need) const;

  // Calls visit(node) for listed nodes with free cores >= max(1, need.cores) that satisfy the
  // rest of `need`, most free cores first, then by node index, until visit returns false. visit
  // must not change the pool.
  template <typename Visit>
  void visitMostFree(const Need& need, Visit&& visit) const {
    const uint64_t min_cores = std::max<uint64_t>(need.cores, 1);
    if (min_cores >= buckets_) return;
    for (size_t c = buckets_ - 1; c >= min_cores; --c) {
      if (bucket_size_[c] == 0) continue;
      const uint64_t* words = &bits_[c * words_];
      for (size_t w = 0; w < words_; ++w) {
        uint64_t bits = words[w];
        if (need.allowed != nullptr) bits &= (*need.allowed)[w];
        for (; bits != 0; bits &= bits - 1) {
          const uint32_t node = static_cast<uint32_t>(w * 64 + std::countr_zero(bits));
          if (freeMem(node) >= need.mem_mb && freeGpus(node) >= need.gpus && !visit(node)) return;
        }
      }
    }
  }

  // Removes a listed node from the index for the duration of one placement.
  void hide(uint32_t node);
  // Puts a hidden node back, unchanged.
  void unhide(uint32_t node);
  // Takes `cores` cores, `mem_mb` and `gpus` GPUs from a hidden node, then lists it again under
  // its new free count. With core ids: cores packed into as few NUMA domains as possible, lowest
  // ids in each; for a GPU job the domains that have the free GPUs come first, and the GPUs are
  // picked from the cores' domains, a fully NVLink-connected set preferred (gpu_select.hpp).
  NodeAllocation take(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus,
                      uint32_t ntasks);

  // Count-only pools: sets a node's free resources. The node must not be hidden.
  void set(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus);
  // Lists a node as if it had at most these free, until unlimit(). The node must not be hidden.
  // A take() from a limited node keeps the limit (lowered by what it took).
  void limit(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t gpus);
  void unlimit(uint32_t node);

 private:
  // Free core ids of one NUMA domain are core_ids_[head, end): a job always takes the lowest
  // ids, so taking is advancing `head` (no erase from the front of a vector).
  struct Domain {
    uint32_t head = 0;
    uint32_t end = 0;
  };
  // A node's GPUs (pools with core ids only): which are free, where they are attached.
  struct Gpus {
    uint64_t free = 0;
    std::vector<int32_t> numa;
    std::vector<uint64_t> links;
  };

  void initIndex(uint32_t max_cores);
  void list(uint32_t node);
  void unlist(uint32_t node);
  std::vector<uint32_t> pickCoreDomains(uint32_t node, uint32_t cores, uint32_t gpus) const;

  bool count_only_ = false;
  std::vector<uint32_t> free_cores_;    // per node
  std::vector<uint64_t> free_mem_;      // per node
  std::vector<uint32_t> free_gpus_;     // per node
  std::vector<uint32_t> cap_cores_;     // per node: UINT32_MAX when not limited
  std::vector<uint64_t> cap_mem_;       // per node: UINT64_MAX when not limited
  std::vector<uint32_t> cap_gpus_;      // per node: UINT32_MAX when not limited
  std::vector<uint8_t> listable_;       // per node
  std::vector<uint8_t> state_;          // per node: kUnlisted, kListed, kHidden
  std::vector<uint32_t> domain_begin_;  // per node, into domains_; one extra at the end
  std::vector<Domain> domains_;
  std::vector<uint32_t> core_ids_;
  std::vector<Gpus> gpus_;             // per node, pools with core ids only
  size_t buckets_ = 0;                 // free core counts 0 .. buckets_ - 1
  size_t words_ = 0;                   // 64-bit words per bucket bitmap
  std::vector<uint64_t> bits_;         // bucket c, node n: bit n of bits_[c * words_ ...]
  std::vector<uint32_t> bucket_size_;  // listed nodes per bucket
  std::vector<uint64_t> nonempty_;     // bit c set when bucket c is not empty
  uint64_t total_free_cores_ = 0;
  uint32_t listed_ = 0;
};

}  // namespace locus::scheduler
