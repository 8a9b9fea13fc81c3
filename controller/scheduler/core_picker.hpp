#pragma once
// Which NUMA domains of one node a job's cores come from.
#include <cstdint>
#include <span>
#include <vector>

namespace locus::scheduler {

// Splits `need` cores over NUMA domains that have free[d] free cores each; returns how many cores
// to take from each domain. Uses as few domains as possible, and among the choices that keep the
// count minimal, leaves the big domains whole for later jobs:
//  - whole domains are taken from the one with the most free cores down (ties: lower index);
//  - the domain that completes the request is the best fit: the one with the fewest free cores
//    that still holds the remainder (ties: lower index).
// One domain suffices -> it is simply the best fit:  free {4, 2, 3}, need 2 -> {0, 2, 0}.
// Several are needed:                                free {4, 3, 2}, need 6 -> {4, 0, 2}
//   (the 4-core domain whole, then the remaining 2 from the 2-core domain, keeping the 3 whole).
// Precondition: sum(free) >= need (checked).
std::vector<uint32_t> pickDomainCounts(std::span<const uint32_t> free, uint32_t need);

}  // namespace locus::scheduler
