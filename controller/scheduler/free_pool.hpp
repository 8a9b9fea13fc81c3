#pragma once
// The pass's working copy of free resources: flat per-node arrays plus an index of nodes by free
// core count, so "the node with the fewest free cores >= k" and "nodes by most free cores" are
// walks over a few buckets instead of scans over all nodes. A bucket is a bitmap over node
// indices with a summary bitmap of its non-zero words: listing and unlisting are O(1), walks go
// in node index order and skip 64 absent nodes per summary bit, and building the pool allocates
// a handful of vectors rather than one tree node per node (the simulator builds one per event).
// A second index of the same shape holds only the listed nodes with a free GPU: a GPU request
// walks it instead of the first, so it never visits the CPU-only nodes. Example: 10,000 nodes of
// which 2,500 have GPUs; a waiting 4-GPU job used to check up to 10,000 nodes per node it asked
// for in every pass, now at most 2,500 once per distinct slot size.
//
// Only listable (schedulable) nodes with at least one free core are listed in the index. A
// placement first hides the nodes it picks (so the next pick of the same job cannot choose them
// again), then either takes from all of them (committing) or unhides them (the job did not fit;
// nothing changed).
//
// Two kinds of pool:
//  - from NodeStates: knows the free core ids per NUMA domain (read from the NodeStates, which
//    must outlive the pool: nothing is copied until a take()); take() returns core ids. Free
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
#include <cstddef>
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
  // `nodes` must outlive the pool: core ids and GPU attachments are read from it on take().
  explicit FreePool(const std::vector<NodeState>& nodes);
  // Count-only: node n has cores[n] free cores, mem_mb[n] free memory and gpus[n] free GPUs;
  // nodes with listable[n] == 0 are never listed. set() may raise a node up to max_cores.
  FreePool(std::vector<uint32_t> cores, std::vector<uint64_t> mem_mb, std::vector<uint32_t> gpus,
           std::vector<uint8_t> listable, uint32_t max_cores);

  uint64_t totalFreeCores() const { return total_free_cores_; }  // real, over all nodes
  uint32_t listedNodes() const { return listed_; }
  uint32_t maxFreeCores() const { return all_.highest(); }  // over listed nodes; 0 when none
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
  std::optional<uint32_t> bestFit(const Need& need) const {
    std::optional<uint32_t> found;
    visitBestFit(need, [&](uint32_t node) {
      found = node;
      return false;
    });
    return found;
  }

  // Calls visit(node) for listed nodes with free cores >= max(1, need.cores) that satisfy the
  // rest of `need` in bestFit() order (fewest free cores first, then by node index) until visit
  // returns false: the k-th node visited is what bestFit() would return after hiding the k - 1
  // before it. visit must not change the pool.
  template <typename Visit>
  void visitBestFit(const Need& need, Visit&& visit) const {
    const Buckets& index = indexFor(need);
    for (size_t c = index.nextNonEmpty(std::max<uint64_t>(need.cores, 1)); c < buckets_;
         c = index.nextNonEmpty(c + 1)) {
      if (!index.walk(c, need.allowed, [&](uint32_t node) {
            return freeMem(node) < need.mem_mb || freeGpus(node) < need.gpus || visit(node);
          }))
        return;
    }
  }

  // Calls visit(node) for listed nodes with free cores >= max(1, need.cores) that satisfy the
  // rest of `need`, most free cores first, then by node index, until visit returns false. visit
  // must not change the pool.
  template <typename Visit>
  void visitMostFree(const Need& need, Visit&& visit) const {
    const Buckets& index = indexFor(need);
    const uint64_t min_cores = std::max<uint64_t>(need.cores, 1);
    if (min_cores >= buckets_) return;
    for (size_t c = buckets_ - 1; c >= min_cores; --c) {
      if (!index.walk(c, need.allowed, [&](uint32_t node) {
            return freeMem(node) < need.mem_mb || freeGpus(node) < need.gpus || visit(node);
          }))
        return;
    }
  }

  // Removes a listed node from the index for the duration of one placement.
  void hide(uint32_t node);
  bool listed(uint32_t node) const;  // in the index: schedulable, a free core, not hidden
  bool hidden(uint32_t node) const;
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
  // Nodes by free core count: bucket c is a bitmap over node indices, plus a summary bitmap per
  // bucket (bit w set when word w of the bucket is not zero) and one of the non-empty buckets.
  class Buckets {
   public:
    // Buckets 0 .. buckets - 1 over nodes 0 .. 64 * words - 1, all empty.
    void init(size_t buckets, size_t words);
    bool ready() const { return !count_.empty(); }
    void add(size_t c, uint32_t node) {
      bits_[c * words_ + node / 64] |= uint64_t{1} << (node % 64);
      summary_[c * summary_words_ + node / 4096] |= uint64_t{1} << (node / 64 % 64);
      if (count_[c]++ == 0) nonempty_[c / 64] |= uint64_t{1} << (c % 64);
    }
    void remove(size_t c, uint32_t node) {
      uint64_t& word = bits_[c * words_ + node / 64];
      word &= ~(uint64_t{1} << (node % 64));
      if (word == 0)
        summary_[c * summary_words_ + node / 4096] &= ~(uint64_t{1} << (node / 64 % 64));
      if (--count_[c] == 0) nonempty_[c / 64] &= ~(uint64_t{1} << (c % 64));
    }
    // The lowest non-empty bucket >= c; a value >= the bucket count when none (or not ready).
    size_t nextNonEmpty(size_t c) const {
      size_t w = c / 64;
      if (w >= nonempty_.size()) return SIZE_MAX;
      uint64_t bits = nonempty_[w] & (~uint64_t{0} << (c % 64));
      while (bits == 0) {
        if (++w >= nonempty_.size()) return SIZE_MAX;
        bits = nonempty_[w];
      }
      return w * 64 + static_cast<size_t>(std::countr_zero(bits));
    }
    // The highest non-empty bucket; 0 when none.
    uint32_t highest() const {
      for (size_t w = nonempty_.size(); w-- > 0;) {
        if (nonempty_[w] != 0)
          return static_cast<uint32_t>(w * 64 + 63 - std::countl_zero(nonempty_[w]));
      }
      return 0;
    }
    // Calls f(node) for the nodes of bucket c that `allowed` (null: all) has, in index order,
    // until f returns false; returns false then, true when the bucket is done.
    template <typename F>
    bool walk(size_t c, const std::vector<uint64_t>* allowed, F&& f) const {
      if (c >= count_.size() || count_[c] == 0) return true;
      const uint64_t* words = &bits_[c * words_];
      const uint64_t* summary = &summary_[c * summary_words_];
      for (size_t s = 0; s < summary_words_; ++s) {
        for (uint64_t present = summary[s]; present != 0; present &= present - 1) {
          const size_t w = s * 64 + static_cast<size_t>(std::countr_zero(present));
          uint64_t bits = words[w];
          if (allowed != nullptr) bits &= (*allowed)[w];
          for (; bits != 0; bits &= bits - 1) {
            if (!f(static_cast<uint32_t>(w * 64 + std::countr_zero(bits)))) return false;
          }
        }
      }
      return true;
    }

   private:
    size_t words_ = 0;
    size_t summary_words_ = 0;
    std::vector<uint64_t> bits_;      // bucket c, node n: bit n of bits_[c * words_ ...]
    std::vector<uint64_t> summary_;   // bucket c, word w: bit w of summary_[c * summary_words_ ...]
    std::vector<uint32_t> count_;     // listed nodes per bucket
    std::vector<uint64_t> nonempty_;  // bit c set when bucket c is not empty
  };

  // A request for GPUs walks only the nodes that have one; an empty GPU index (no listed node
  // has a free GPU, or none ever had: it is built on first use) walks nothing.
  const Buckets& indexFor(const Need& need) const { return need.gpus > 0 ? gpu_ : all_; }

  void initIndex(uint32_t max_cores);
  void list(uint32_t node);
  void unlist(uint32_t node);
  std::vector<uint32_t> pickCoreDomains(uint32_t node, uint32_t cores, uint32_t gpus) const;
  // Free cores of domain d (an index into taken_) of a pool with core ids.
  uint32_t domainFree(uint32_t node, uint32_t d) const {
    return static_cast<uint32_t>((*nodes_)[node].free_cores_by_numa[d].size()) -
           taken_[domain_begin_[node] + d];
  }

  bool count_only_ = false;
  const std::vector<NodeState>* nodes_ = nullptr;  // pools with core ids only
  std::vector<uint32_t> free_cores_;               // per node
  std::vector<uint64_t> free_mem_;                 // per node
  std::vector<uint32_t> free_gpus_;                // per node
  std::vector<uint32_t> cap_cores_;                // per node: UINT32_MAX when not limited
  std::vector<uint64_t> cap_mem_;                  // per node: UINT64_MAX when not limited
  std::vector<uint32_t> cap_gpus_;                 // per node: UINT32_MAX when not limited
  std::vector<uint8_t> listable_;                  // per node
  std::vector<uint8_t> state_;                     // per node: kUnlisted, kListed, kHidden
  // Pools with core ids: node n's NUMA domains are taken_[domain_begin_[n] ..
  // domain_begin_[n + 1]); a job always takes the lowest free ids of a domain, so domain d's free
  // ids are its NodeState's free_cores_by_numa[d] past the first taken_ of them (taking is
  // counting, nothing is erased or copied).
  std::vector<uint32_t> domain_begin_;  // per node; one extra at the end
  std::vector<uint32_t> taken_;         // per domain
  std::vector<uint64_t> gpu_free_;      // per node: mask of free GPUs (pools with core ids only)
  size_t buckets_ = 0;                  // free core counts 0 .. buckets_ - 1
  size_t words_ = 0;                    // 64-bit words per node bitmap
  Buckets all_;                         // every listed node
  Buckets gpu_;                         // listed nodes with a free GPU
  uint64_t total_free_cores_ = 0;
  uint32_t listed_ = 0;
};

}  // namespace locus::scheduler
