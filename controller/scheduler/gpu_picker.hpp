#pragma once
// Which GPUs of one node a job gets, once its cores are chosen.
#include <cstdint>
#include <vector>

namespace locus::scheduler {

// From the free GPUs (`free`, bit g = GPU g) choose `k`: first from the NUMA domains in
// `preferred` (in that order; the domains of the job's cores, most cores first), then the rest;
// for k >= 2 a fully NVLink-connected set (links[g] = mask of g's NVLink peers) is preferred when
// one exists. numa[g] is GPU g's domain, -1 when unknown. Returns the chosen mask; fewer than k
// bits only when fewer than k GPUs are free.
uint64_t pickGpuSet(uint64_t free, const std::vector<int32_t>& numa,
                    const std::vector<uint64_t>& links, const std::vector<uint32_t>& preferred,
                    uint32_t k);

}  // namespace locus::scheduler
