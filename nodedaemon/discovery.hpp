#pragma once
// Hardware discovery with hwloc: the one place the node daemon calls hwloc for topology.
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/topology.hpp"

namespace locus::nodedaemon {

struct DiscoveryOptions {
  std::string xml_path;   // --topology-xml: emulate the machine of an hwloc XML export
  std::string synthetic;  // --topology: hwloc synthetic description "pack:2 numa:4 core:16 pu:1"
  // NVML to ask for NVIDIA GPUs: "" = the driver's libnvidia-ml.so.1 when discovering the real
  // machine (never for an emulated one: its GPUs are not this host's); a path = that library,
  // also for an emulated machine (tests); "none" = never.
  std::string nvml_library;
};

// Discovers this machine, or the emulated one. Errors (unreadable XML, XML v3 that this hwloc
// cannot import, bad synthetic string) come back as kInvalidArgument with hwloc's reason.
Result<NodeTopology> discoverTopology(const DiscoveryOptions& options);

// The real host's PUs the daemon binds a task to for the given logical cores of `topology`.
// For an emulated topology the PU OS indices are mapped modulo the host's PU count
// (`host_pus`), so tasks still run bound to real processors. Result ascending, no duplicates.
std::vector<uint32_t> hostCpusForCores(const NodeTopology& topology,
                                       const std::vector<uint32_t>& cores, uint32_t host_pus);

// Number of PUs of the real host (hwloc, falling back to sysconf).
uint32_t hostPuCount();

// The host NUMA nodes the daemon may allocate on (libnuma's mems_allowed), ascending; {0} on a
// machine without NUMA support.
std::vector<uint32_t> hostNumaNodes();

// The host NUMA nodes to bind memory to for the given domains (positions in topology.numa):
// each domain's os_index mapped onto `host_nodes` modulo their count, as hostCpusForCores maps
// PUs, so an emulated 8-domain machine on a 2-node host binds to real nodes. Ascending, unique.
std::vector<uint32_t> hostMemsForNuma(const NodeTopology& topology,
                                      const std::vector<uint32_t>& domains,
                                      const std::vector<uint32_t>& host_nodes);

}  // namespace locus::nodedaemon
