#include "nodedaemon/discovery.hpp"

#include <hwloc.h>
#include <numa.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "common/logging.hpp"
#include "gpu/gpu_inventory.hpp"
#include "gpu/nvml.hpp"

namespace locus::nodedaemon {
namespace {

constexpr uint64_t kBytesPerMb = 1024 * 1024;
constexpr uint64_t kKbPerMb = 1024;
// The XML header is in the first few hundred bytes; reading more only costs time on big exports.
constexpr std::streamsize kXmlHeaderBytes = 4096;
// The newest XML format hwloc 2.x imports; hwloc 3.0 writes version="3.0", which 2.x rejects.
constexpr int kMaxXmlMajorVersion = 2;

struct TopologyDeleter {
  void operator()(hwloc_topology* topo) const { hwloc_topology_destroy(topo); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

std::string errnoText(int err) { return err != 0 ? std::strerror(err) : "unknown error"; }

std::string infoOf(hwloc_obj_t obj, const char* name) {
  const char* v = obj ? hwloc_obj_get_info_by_name(obj, name) : nullptr;
  return v ? v : "";
}

// Reads the `<topology version="X.Y">` of an XML export so that a v3 file gets a clear message
// instead of hwloc's terse EINVAL (and its own stderr line). nullopt: no version attribute, which
// hwloc 1.x exports lack; hwloc itself then decides.
std::optional<int> xmlMajorVersion(const std::string& head) {
  auto tag = head.find("<topology");
  if (tag == std::string::npos) return std::nullopt;
  auto end = head.find('>', tag);
  auto attr = head.find("version=\"", tag);
  if (attr == std::string::npos || (end != std::string::npos && attr > end)) return std::nullopt;
  int major = 0;
  if (std::sscanf(head.c_str() + attr + 9, "%d", &major) != 1) return std::nullopt;
  return major;
}

Status checkXmlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return invalidArgument("cannot read topology XML " + path + ": " + errnoText(err));
  }
  std::string head(kXmlHeaderBytes, '\0');
  in.read(head.data(), kXmlHeaderBytes);
  head.resize(static_cast<size_t>(in.gcount()));
  if (auto major = xmlMajorVersion(head); major && *major > kMaxXmlMajorVersion) {
    return invalidArgument("topology XML " + path + " is hwloc XML version " +
                           std::to_string(*major) + ".x; this hwloc (" + HWLOC_VERSION +
                           ") imports versions up to " + std::to_string(kMaxXmlMajorVersion) +
                           ".x (export it with hwloc 2's lstopo on the original machine)");
  }
  return {};
}

Result<TopologyPtr> loadTopology(const DiscoveryOptions& options) {
  if (!options.xml_path.empty() && !options.synthetic.empty()) {
    return invalidArgument("give either a topology XML or a synthetic topology, not both");
  }
  if (!options.xml_path.empty()) {
    if (Status s = checkXmlFile(options.xml_path); !s) return s.error();
  }
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) {
    return internalError("hwloc_topology_init failed: " + errnoText(errno));
  }
  TopologyPtr topo(raw);
  // GPUs are I/O objects, which hwloc drops by default; "important" keeps GPUs, NICs and their
  // PCI path without every bridge and DMA engine.
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (!options.xml_path.empty()) {
    if (hwloc_topology_set_xml(raw, options.xml_path.c_str()) != 0) {
      return invalidArgument("cannot use topology XML " + options.xml_path + ": " +
                             errnoText(errno));
    }
  } else if (!options.synthetic.empty()) {
    // hwloc parses the description here, so a bad string fails now rather than at load.
    if (hwloc_topology_set_synthetic(raw, options.synthetic.c_str()) != 0) {
      return invalidArgument("invalid synthetic topology \"" + options.synthetic +
                             "\": " + errnoText(errno));
    }
  }
  errno = 0;
  if (hwloc_topology_load(raw) != 0) {
    int err = errno;
    std::string what = !options.xml_path.empty() ? "topology XML " + options.xml_path
                       : !options.synthetic.empty()
                           ? "synthetic topology \"" + options.synthetic + "\""
                           : std::string("this machine's topology");
    std::string msg = "hwloc cannot load " + what + ": " + errnoText(err);
    // A failed load leaves the topology reinitialized; destroying it is the only safe use.
    if (options.xml_path.empty() && options.synthetic.empty()) return internalError(msg);
    return invalidArgument(msg);
  }
  return topo;
}

// PCI device above an OS device (cuda0 hangs below PCI 3b:00.0), or null when none was kept.
hwloc_obj_t pciAncestor(hwloc_obj_t obj) {
  for (hwloc_obj_t p = obj->parent; p; p = p->parent) {
    if (p->type == HWLOC_OBJ_PCI_DEVICE) return p;
  }
  return nullptr;
}

// The PCIe switch a GPU sits behind, as hwloc's logical index of the switch's upstream port:
// the bridge right below the root port (host bridge -> root port -> switch -> ... -> GPU).
// -1 when the GPU hangs directly off a root port or its path was not kept.
int32_t pcieSwitchOf(hwloc_obj_t pci) {
  std::vector<hwloc_obj_t> bridges;  // from the GPU upwards
  for (hwloc_obj_t p = pci ? pci->parent : nullptr; p && p->type == HWLOC_OBJ_BRIDGE; p = p->parent)
    bridges.push_back(p);
  // bridges.back() is the host bridge, before it the root port, before that the switch.
  if (bridges.size() < 3 || bridges.back()->attr->bridge.upstream_type != HWLOC_OBJ_BRIDGE_HOST)
    return -1;
  return static_cast<int32_t>(bridges[bridges.size() - 3]->logical_index);
}

// Rank of an OS device name among the views of one GPU: lower is preferred, -1 is not a GPU
// backend we report. NVML and CUDA name devices the way CUDA_VISIBLE_DEVICES users expect.
int gpuBackendRank(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kPrefixes = {"nvml", "cuda", "rsmi", "ze",
                                                                "opencl"};
  for (size_t i = 0; i < kPrefixes.size(); ++i) {
    if (name.starts_with(kPrefixes[i])) return static_cast<int>(i);
  }
  return -1;
}

// Index into `numa` (built in NUMA logical order) of the domain local to an I/O object.
// Exact locality first (the NUMA node of the package the PCI root hangs from). When the device
// sits above several sub-NUMA domains (a package in SNC mode) any of them is local, take the
// first. A device attached to the machine root on a multi-domain node has unknown locality: -1.
int32_t localNumaIndex(hwloc_topology_t topo, hwloc_obj_t io_obj, size_t domains) {
  hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, io_obj);
  if (!anc) return -1;
  unsigned n_numa = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE));
  std::vector<hwloc_obj_t> nodes(n_numa);
  hwloc_location loc{};
  loc.type = HWLOC_LOCATION_TYPE_OBJECT;
  loc.location.object = anc;
  unsigned nr = n_numa;
  if (hwloc_get_local_numanode_objs(topo, &loc, &nr, nodes.data(), 0) != 0) return -1;
  bool is_root = anc == hwloc_get_root_obj(topo);
  if (nr == 0 && !is_root) {
    nr = n_numa;
    unsigned long wider = HWLOC_LOCAL_NUMANODE_FLAG_SMALLER_LOCALITY;
    if (hwloc_get_local_numanode_objs(topo, &loc, &nr, nodes.data(), wider) != 0) return -1;
  }
  nr = std::min(nr, n_numa);
  int32_t best = -1;
  for (unsigned i = 0; i < nr; ++i) {
    auto idx = static_cast<int32_t>(nodes[i]->logical_index);
    if (static_cast<size_t>(idx) < domains && (best < 0 || idx < best)) best = idx;
  }
  return best;
}

void discoverNuma(hwloc_topology_t topo, NodeTopology& out, std::vector<hwloc_obj_t>& numa_objs) {
  int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, i);
    NumaDomain d;
    d.os_index = obj->os_index;
    d.mem_mb = obj->attr->numanode.local_memory / kBytesPerMb;
    out.numa.push_back(std::move(d));
    numa_objs.push_back(obj);
  }
  if (out.numa.empty()) {
    // hwloc 2 always creates one, but an odd XML may not: the whole machine is one domain.
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    NumaDomain d;
    d.mem_mb = root->total_memory / kBytesPerMb;
    out.numa.push_back(std::move(d));
  }
}

// Puts each core into the smallest NUMA domain whose CPUs include it: with a DRAM node per
// package and a package-wide HBM/CXL node of the same locality, the tie goes to the first
// (DRAM, lower logical index). Some XMLs have PUs but no Core objects: each PU is then a core.
void discoverCores(hwloc_topology_t topo, NodeTopology& out,
                   const std::vector<hwloc_obj_t>& numa_objs) {
  hwloc_obj_type_t core_type = HWLOC_OBJ_CORE;
  if (hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) <= 0) core_type = HWLOC_OBJ_PU;
  int n = hwloc_get_nbobjs_by_type(topo, core_type);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, core_type, i);
    CoreInfo info;
    info.id = core->logical_index;
    if (core->cpuset) {
      unsigned pu;
      hwloc_bitmap_foreach_begin(pu, core->cpuset) { info.pus.push_back(pu); }
      hwloc_bitmap_foreach_end();
    }
    if (info.pus.empty() && core_type == HWLOC_OBJ_PU) info.pus.push_back(core->os_index);
    size_t domain = 0;
    int best_weight = -1;
    for (size_t d = 0; d < numa_objs.size(); ++d) {
      hwloc_const_cpuset_t set = numa_objs[d]->cpuset;
      if (!set || !core->cpuset || !hwloc_bitmap_intersects(set, core->cpuset)) continue;
      int w = hwloc_bitmap_weight(set);
      if (best_weight < 0 || (w >= 0 && w < best_weight)) {
        best_weight = w;
        domain = d;
      }
    }
    out.numa[domain].cores.push_back(std::move(info));
  }
}

// One physical GPU is seen by several backends (cuda0, nvml0 and opencl0d0 under the same PCI
// device 0000:3b:00.0): group the OS devices by PCI device and report each group once.
// GPU OS devices are also remembered in `gpu_of_object` (object -> position in out.gpus) for the
// NVLink matrix, which names OS devices.
void discoverGpus(hwloc_topology_t topo, NodeTopology& out,
                  std::map<hwloc_obj_t, uint32_t>& gpu_of_object) {
  struct Group {
    hwloc_obj_t pci = nullptr;
    std::vector<hwloc_obj_t> devs;  // sorted by preference once collected
  };
  std::vector<Group> groups;
  std::map<const void*, size_t> by_key;
  for (hwloc_obj_t dev = hwloc_get_next_osdev(topo, nullptr); dev;
       dev = hwloc_get_next_osdev(topo, dev)) {
    auto type = dev->attr->osdev.type;
    if (type != HWLOC_OBJ_OSDEV_GPU && type != HWLOC_OBJ_OSDEV_COPROC) continue;
    if (!dev->name || gpuBackendRank(dev->name) < 0) continue;  // "card0", "renderD128"...
    hwloc_obj_t pci = pciAncestor(dev);
    // Without a PCI parent the backends cannot be matched up; the device stands alone.
    const void* key = pci ? static_cast<const void*>(pci) : static_cast<const void*>(dev);
    auto [it, inserted] = by_key.emplace(key, groups.size());
    if (inserted) groups.push_back(Group{pci, {}});
    groups[it->second].devs.push_back(dev);
  }

  for (auto& g : groups) {
    std::stable_sort(g.devs.begin(), g.devs.end(), [](hwloc_obj_t a, hwloc_obj_t b) {
      return gpuBackendRank(a->name) < gpuBackendRank(b->name);
    });
    auto firstInfo = [&g](const char* name) {
      for (hwloc_obj_t d : g.devs) {
        if (auto v = infoOf(d, name); !v.empty()) return v;
      }
      return std::string();
    };
    GpuInfo gpu;
    gpu.os_name = g.devs.front()->name;
    gpu.name = firstInfo("GPUModel");
    if (gpu.name.empty() && g.pci) {
      gpu.name = g.pci->name ? g.pci->name : infoOf(g.pci, "PCIDevice");
    }
    if (gpu.name.empty()) gpu.name = gpu.os_name;
    gpu.uuid = firstInfo("NVIDIAUUID");
    if (gpu.uuid.empty()) gpu.uuid = firstInfo("AMDUUID");
    if (gpu.uuid.empty()) gpu.uuid = firstInfo("LevelZeroUUID");
    // Both are KB; CUDA's is the device's own view, OpenCL's the fallback for AMD/Intel cards.
    for (const char* attr : {"CUDAGlobalMemorySize", "OpenCLGlobalMemorySize"}) {
      if (auto v = firstInfo(attr); !v.empty() && gpu.memory_mb == 0) {
        gpu.memory_mb = std::strtoull(v.c_str(), nullptr, 10) / kKbPerMb;
      }
    }
    if (g.pci) {
      const auto& p = g.pci->attr->pcidev;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", static_cast<unsigned>(p.domain),
                    static_cast<unsigned>(p.bus), static_cast<unsigned>(p.dev),
                    static_cast<unsigned>(p.func));
      gpu.pci_bus_id = buf;
    }
    gpu.numa = localNumaIndex(topo, g.devs.front(), out.numa.size());
    gpu.pcie_switch = pcieSwitchOf(g.pci);
    gpu.index = static_cast<uint32_t>(out.gpus.size());  // discovery order until renumbered
    out.gpus.push_back(std::move(gpu));
    for (hwloc_obj_t d : g.devs) gpu_of_object[d] = static_cast<uint32_t>(out.gpus.size() - 1);
  }
}

// NVLink from hwloc's "NVLinkBandwidth" distances (its NVML plugin writes them; exported XMLs
// keep them): a matrix over GPU OS devices and NVSwitch PCI devices, in MB/s. Two GPUs with
// bandwidth between them are linked directly; GPUs wired to NVSwitches reach each other through
// them, at the lower of their two switch bandwidths (a DGX-2's 16 V100s: 6 x 25 GB/s each).
void discoverNvlinks(hwloc_topology_t topo, NodeTopology& out,
                     const std::map<hwloc_obj_t, uint32_t>& gpu_of_object) {
  unsigned nr = 1;
  hwloc_distances_s* dist = nullptr;
  if (hwloc_distances_get_by_name(topo, "NVLinkBandwidth", &nr, &dist, 0) != 0 || nr == 0 || !dist)
    return;
  const unsigned n = dist->nbobjs;
  std::vector<std::map<uint32_t, uint64_t>> direct(out.gpus.size());
  std::vector<uint64_t> to_switches(out.gpus.size(), 0);
  for (unsigned i = 0; i < n; ++i) {
    auto a = gpu_of_object.find(dist->objs[i]);
    if (a == gpu_of_object.end()) continue;
    for (unsigned j = 0; j < n; ++j) {
      const uint64_t mbps = dist->values[i * n + j];
      if (i == j || mbps == 0) continue;
      auto b = gpu_of_object.find(dist->objs[j]);
      if (b != gpu_of_object.end()) {
        if (b->second != a->second) direct[a->second][b->second] = std::max(direct[a->second][b->second], mbps);
      } else if (dist->objs[j] && dist->objs[j]->type == HWLOC_OBJ_PCI_DEVICE) {
        to_switches[a->second] += mbps;
      }
    }
  }
  hwloc_distances_release(topo, dist);
  for (uint32_t a = 0; a < out.gpus.size(); ++a) {
    for (uint32_t b = 0; b < out.gpus.size(); ++b) {
      if (a != b && to_switches[a] > 0 && to_switches[b] > 0)
        direct[a][b] = std::max(direct[a][b], std::min(to_switches[a], to_switches[b]));
    }
    for (const auto& [peer, mbps] : direct[a]) out.gpus[a].links.push_back({peer, mbps});
  }
}

// The NUMA domain of an NVML GPU hwloc did not report as a GPU: its PCI device's locality when
// hwloc kept the device, else the domain holding most of the CPUs NVML calls near it.
int32_t numaOfNvmlGpu(hwloc_topology_t topo, const NodeTopology& out, const gpu::NvmlGpu& g) {
  unsigned domain = 0, bus = 0, dev = 0, func = 0;
  if (std::sscanf(g.pci_bus_id.c_str(), "%x:%x:%x.%x", &domain, &bus, &dev, &func) == 4) {
    if (hwloc_obj_t pci = hwloc_get_pcidev_by_busid(topo, domain, bus, dev, func))
      return localNumaIndex(topo, pci, out.numa.size());
  }
  int32_t best = -1;
  size_t best_hits = 0;
  for (size_t d = 0; d < out.numa.size(); ++d) {
    size_t hits = 0;
    for (const CoreInfo& c : out.numa[d].cores)
      for (uint32_t pu : c.pus)
        hits += std::binary_search(g.cpu_affinity.begin(), g.cpu_affinity.end(), pu) ? 1 : 0;
    if (hits > best_hits) {
      best_hits = hits;
      best = static_cast<int32_t>(d);
    }
  }
  return best;
}

// NUMALatency rows and columns in topology.numa order; left empty unless it covers every domain.
void discoverDistances(hwloc_topology_t topo, NodeTopology& out,
                       const std::vector<hwloc_obj_t>& numa_objs) {
  unsigned nr = 1;
  hwloc_distances_s* dist = nullptr;
  if (hwloc_distances_get_by_name(topo, "NUMALatency", &nr, &dist, 0) != 0 || nr == 0 || !dist) {
    return;
  }
  size_t n = numa_objs.size();
  std::vector<int> pos(dist->nbobjs, -1);  // distances row -> topology.numa index
  for (unsigned i = 0; i < dist->nbobjs; ++i) {
    hwloc_obj_t o = dist->objs[i];
    if (o && o->type == HWLOC_OBJ_NUMANODE && o->logical_index < n) {
      pos[i] = static_cast<int>(o->logical_index);
    }
  }
  std::vector<std::vector<uint32_t>> m(n, std::vector<uint32_t>(n, 0));
  std::vector<bool> seen(n, false);
  for (unsigned i = 0; i < dist->nbobjs; ++i) {
    if (pos[i] < 0) continue;
    seen[pos[i]] = true;
    for (unsigned j = 0; j < dist->nbobjs; ++j) {
      if (pos[j] < 0) continue;
      m[pos[i]][pos[j]] = static_cast<uint32_t>(dist->values[i * dist->nbobjs + j]);
    }
  }
  hwloc_distances_release(topo, dist);
  if (n > 0 && std::all_of(seen.begin(), seen.end(), [](bool b) { return b; })) {
    out.numa_distances = std::move(m);
  }
}

}  // namespace

Result<NodeTopology> discoverTopology(const DiscoveryOptions& options) {
  auto loaded = loadTopology(options);
  if (!loaded) return loaded.error();
  hwloc_topology_t topo = loaded->get();

  NodeTopology out;
  int packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
  out.packages = packages > 0 ? static_cast<uint32_t>(packages) : 0;
  if (hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0)) {
    out.cpu_model = infoOf(pkg, "CPUModel");
  }
  if (out.cpu_model.empty()) out.cpu_model = infoOf(hwloc_get_root_obj(topo), "CPUModel");

  std::vector<hwloc_obj_t> numa_objs;
  discoverNuma(topo, out, numa_objs);
  for (const auto& d : out.numa) out.mem_mb += d.mem_mb;
  discoverCores(topo, out, numa_objs);
  std::map<hwloc_obj_t, uint32_t> gpu_of_object;
  discoverGpus(topo, out, gpu_of_object);
  discoverNvlinks(topo, out, gpu_of_object);
  gpu::renumberGpus(out.gpus);  // CUDA_DEVICE_ORDER=PCI_BUS_ID numbering
  discoverDistances(topo, out, numa_objs);

  const bool emulated = !options.xml_path.empty() || !options.synthetic.empty();
  std::string nvml = options.nvml_library;
  if (nvml.empty() && !emulated) nvml = "libnvidia-ml.so.1";
  if (!nvml.empty() && nvml != "none") {
    auto found = gpu::probeNvml(nvml);
    if (found.ok()) {
      gpu::mergeNvmlGpus(out.gpus, *found,
                         [&](const gpu::NvmlGpu& g) { return numaOfNvmlGpu(topo, out, g); });
    } else if (found.error().code == ErrorCode::kUnavailable) {
      logger("node")->debug("no NVML: {}", found.error().message);
    } else {
      logger("node")->warn("NVML: {} (GPUs as hwloc sees them only)", found.error().message);
    }
  }
  if (out.gpus.size() > 64) {  // the scheduler's GPU masks hold 64
    out.gpus.resize(64);
    // Links to the GPUs cut off would name indices the node does not have.
    for (GpuInfo& g : out.gpus)
      std::erase_if(g.links, [](const GpuLink& l) { return l.peer >= 64; });
  }
  return out;
}

// Example: an emulated DGX-2 core whose PUs are {0, 48} on a 2-PU host binds to {0} (0%2, 48%2).
// Core ids the topology does not have are skipped: they bind to nothing rather than guess.
std::vector<uint32_t> hostCpusForCores(const NodeTopology& topology,
                                       const std::vector<uint32_t>& cores, uint32_t host_pus) {
  LOCUS_CHECK(host_pus > 0) << "host PU count must be positive";
  std::vector<uint32_t> wanted(cores);
  std::sort(wanted.begin(), wanted.end());
  std::vector<uint32_t> cpus;
  for (const auto& domain : topology.numa) {
    for (const auto& core : domain.cores) {
      if (!std::binary_search(wanted.begin(), wanted.end(), core.id)) continue;
      for (uint32_t pu : core.pus) cpus.push_back(pu % host_pus);
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::vector<uint32_t> hostNumaNodes() {
  static const std::vector<uint32_t> nodes = [] {
    std::vector<uint32_t> out;
    if (numa_available() >= 0) {
      struct bitmask* allowed = numa_get_mems_allowed();
      for (unsigned n = 0; allowed && n < allowed->size; ++n)
        if (numa_bitmask_isbitset(allowed, n)) out.push_back(n);
      if (allowed) numa_bitmask_free(allowed);
    }
    if (out.empty()) out.push_back(0);
    return out;
  }();
  return nodes;
}

std::vector<uint32_t> hostMemsForNuma(const NodeTopology& topology,
                                      const std::vector<uint32_t>& domains,
                                      const std::vector<uint32_t>& host_nodes) {
  LOCUS_CHECK(!host_nodes.empty()) << "no host NUMA nodes";
  std::vector<uint32_t> out;
  for (uint32_t d : domains)
    if (d < topology.numa.size()) out.push_back(host_nodes[topology.numa[d].os_index % host_nodes.size()]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

uint32_t hostPuCount() {
  // The host does not change under a running daemon; one topology load is enough.
  static const uint32_t count = [] {
    hwloc_topology_t raw = nullptr;
    if (hwloc_topology_init(&raw) == 0) {
      TopologyPtr topo(raw);
      if (hwloc_topology_load(raw) == 0) {
        int n = hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_PU);
        if (n > 0) return static_cast<uint32_t>(n);
      }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<uint32_t>(n) : 1u;
  }();
  return count;
}

}  // namespace locus::nodedaemon
