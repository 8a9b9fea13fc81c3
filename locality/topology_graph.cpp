#include "locality/topology_graph.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <map>
#include <unordered_map>

namespace locus::locality {
namespace detail {
// The edges carry no data. Boost 1.74 stores a directed graph's edge property behind a
// unique_ptr, one heap allocation per edge even for no_property (16 B inline + a 32 B malloc
// chunk): 60 MB of 1.3 M edges at 10,000 nodes of 128 cores. The specialization below stores
// the target only (8 B). Set LOCUS_LOCALITY_PLAIN_EDGES to measure the difference.
struct NoEdgeProperty {};
}  // namespace detail
}  // namespace locus::locality

#ifndef LOCUS_LOCALITY_PLAIN_EDGES
namespace boost::detail {
template <class Vertex>
class stored_edge_property<Vertex, locus::locality::detail::NoEdgeProperty>
    : public stored_edge<Vertex> {
 public:
  using property_type = locus::locality::detail::NoEdgeProperty;
  stored_edge_property() {}
  stored_edge_property(Vertex target, const property_type& = property_type())
      : stored_edge<Vertex>(target) {}
  property_type& get_property() { return prop(); }
  const property_type& get_property() const { return prop(); }

 private:
  static property_type& prop() {
    static property_type p;
    return p;
  }
};
}  // namespace boost::detail
#endif

namespace locus::locality {
namespace {

enum class Kind : uint8_t { kSwitch, kNode, kNuma, kCore, kGpu };

// 8 bytes: what the vertex is and its index within its parent's numbering (switch index, node
// index, NUMA position, logical core id, GPU index); for a GPU also the PCIe switch it sits
// behind (in what would otherwise be padding).
struct VertexProps {
  VertexProps() = default;
  VertexProps(Kind k, uint32_t i, int16_t pcie = -1) : kind(k), pcie_switch(pcie), index(i) {}
  Kind kind = Kind::kSwitch;
  int16_t pcie_switch = -1;
  uint32_t index = 0;
};
static_assert(sizeof(VertexProps) == 8);

#ifdef LOCUS_LOCALITY_PLAIN_EDGES
using EdgeProps = boost::no_property;
#else
using EdgeProps = detail::NoEdgeProperty;
#endif

// Directed parent -> child edges only: every query walks down the tree, and the way up (node to
// switch, switch to parent) is in SwitchTree and NodeRecord, so no in-edge lists are needed.
using Graph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, VertexProps, EdgeProps>;
using Vertex = Graph::vertex_descriptor;

// A node's vertices are contiguous: the node, its NUMA domains, its cores by logical id, its
// GPUs by index. So core c of node n is vertex base + 1 + numas + c without any lookup.
struct NodeRecord {
  uint32_t vertex = 0;
  uint32_t switch_index = 0;
  uint32_t cores = 0;
  uint16_t numas = 0;
  uint16_t gpus = 0;
  uint32_t distance_table = 0;  // 0: none reported
};
static_assert(sizeof(NodeRecord) == 20);

constexpr uint32_t kLocalDistance = 10;   // ACPI SLIT: same domain
constexpr uint32_t kRemoteDistance = 20;  // ACPI SLIT: one hop away

}  // namespace

struct TopologyGraph::Impl {
  SwitchTree tree;
  Graph g;
  std::unordered_map<std::string, SwitchIndex> switch_of_name;  // from the tree's node lists
  std::unordered_map<std::string, NodeIndex> node_index;
  std::vector<const std::string*> names;  // keys of node_index (node-based map: stable)
  std::vector<NodeRecord> nodes;
  // Distinct NUMALatency matrices, flattened; most clusters have a handful of node types, so a
  // node holds a table id, not its own matrix. Table 0 is "none".
  std::vector<std::vector<uint32_t>> distance_tables{{}};
  std::map<std::vector<uint32_t>, uint32_t> distance_ids;
  std::vector<SwitchIndex> bottom_up;  // switches, children before parents

  Vertex coreVertex(const NodeRecord& r, uint32_t core) const {
    return r.vertex + 1 + r.numas + core;
  }
  Vertex gpuVertex(const NodeRecord& r, uint32_t gpu) const {
    return r.vertex + 1 + r.numas + r.cores + gpu;
  }
  const NodeRecord& node(NodeIndex n) const {
    LOCUS_CHECK(n < nodes.size()) << "node index " << n << " of " << nodes.size();
    return nodes[n];
  }

  // One query's scratch: free qualifying nodes per subtree and directly under each switch.
  struct Counts {
    std::vector<uint32_t> under, direct;
  };
  void take(SwitchIndex s, uint32_t r, const Counts& counts, const std::vector<uint32_t>& free,
            uint32_t need, std::vector<NodeIndex>& out) const;
};

std::string_view gpuLinkClassName(GpuLinkClass c) {
  switch (c) {
    case GpuLinkClass::kSameGpu:
      return "same-gpu";
    case GpuLinkClass::kNvlink:
      return "nvlink";
    case GpuLinkClass::kSamePcieSwitch:
      return "same-pcie-switch";
    case GpuLinkClass::kSameNuma:
      return "same-numa";
    case GpuLinkClass::kCrossSocket:
      return "cross-socket";
    case GpuLinkClass::kUnknown:
      return "unknown";
  }
  return "unknown";
}

TopologyGraph::TopologyGraph(SwitchTree tree) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.tree = std::move(tree);
  LOCUS_CHECK(!m.tree.switches.empty() && m.tree.root < m.tree.switches.size())
      << "switch tree without a root";
  // Switch i is vertex i: switches are added before any node.
  for (uint32_t i = 0; i < m.tree.switches.size(); ++i) boost::add_vertex({Kind::kSwitch, i}, m.g);
  for (uint32_t i = 0; i < m.tree.switches.size(); ++i) {
    for (SwitchIndex c : m.tree.switches[i].children) boost::add_edge(i, c, m.g);
    for (const auto& n : m.tree.switches[i].nodes) m.switch_of_name.emplace(n, i);
  }
  for (uint32_t i = 0; i < m.tree.switches.size(); ++i) m.bottom_up.push_back(i);
  std::stable_sort(m.bottom_up.begin(), m.bottom_up.end(), [&](SwitchIndex a, SwitchIndex b) {
    return m.tree.switches[a].height < m.tree.switches[b].height;
  });
}

TopologyGraph::~TopologyGraph() = default;
TopologyGraph::TopologyGraph(TopologyGraph&&) noexcept = default;
TopologyGraph& TopologyGraph::operator=(TopologyGraph&&) noexcept = default;

Result<NodeIndex> TopologyGraph::addNode(const std::string& name, const NodeTopology& topology) {
  Impl& m = *impl_;
  if (m.node_index.count(name)) return invalidArgument("node '" + name + "' added twice");
  const size_t numas = topology.numa.size();
  if (numas == 0) return invalidArgument("node '" + name + "': topology has no NUMA domain");
  if (numas > UINT16_MAX || topology.gpus.size() > UINT16_MAX)
    return invalidArgument("node '" + name + "': too many NUMA domains or GPUs");
  uint32_t next_core = 0;
  for (const auto& d : topology.numa) {
    for (const auto& c : d.cores) {
      if (c.id != next_core)
        return invalidArgument("node '" + name + "': core ids must be 0..n-1 in NUMA order, got " +
                               std::to_string(c.id) + " where " + std::to_string(next_core) +
                               " was expected");
      ++next_core;
    }
  }
  for (size_t i = 0; i < topology.gpus.size(); ++i) {
    const auto& gpu = topology.gpus[i];
    if (gpu.index != i)
      return invalidArgument("node '" + name + "': GPU indices must be 0..n-1 in order");
    if (gpu.numa >= static_cast<int32_t>(numas))
      return invalidArgument("node '" + name + "': GPU " + std::to_string(i) + " on NUMA domain " +
                             std::to_string(gpu.numa) + " of " + std::to_string(numas));
  }

  const auto index = static_cast<NodeIndex>(m.nodes.size());
  NodeRecord rec;
  auto it = m.switch_of_name.find(name);
  rec.switch_index = it == m.switch_of_name.end() ? m.tree.root : it->second;
  rec.numas = static_cast<uint16_t>(numas);
  rec.gpus = static_cast<uint16_t>(topology.gpus.size());
  rec.cores = next_core;
  const auto& dist = topology.numa_distances;
  bool square = dist.size() == numas;
  for (const auto& row : dist) square = square && row.size() == numas;
  if (square) {
    std::vector<uint32_t> flat;
    flat.reserve(numas * numas);
    for (const auto& row : dist) flat.insert(flat.end(), row.begin(), row.end());
    auto [id, inserted] =
        m.distance_ids.emplace(flat, static_cast<uint32_t>(m.distance_tables.size()));
    if (inserted) m.distance_tables.push_back(std::move(flat));
    rec.distance_table = id->second;
  }

  // Out-edge vectors are reserved to their exact size: growth by doubling would leave up to half
  // of each NUMA domain's edge list unused (m_out_edges is public in Boost's vecS storage).
  Graph& g = m.g;
  // The vertex vector grows by 1/4 instead of doubling: at 10,000 nodes of 128 cores doubling
  // leaves up to 40 MB of capacity unused (1.3 M vertices of 32 B in a 2 M-vertex block).
  const size_t needed = g.m_vertices.size() + 1 + numas + next_core + topology.gpus.size();
  if (needed > g.m_vertices.capacity())
    g.m_vertices.reserve(std::max(needed, g.m_vertices.capacity() + g.m_vertices.capacity() / 4));
  const Vertex nv = boost::add_vertex({Kind::kNode, index}, g);
  rec.vertex = static_cast<uint32_t>(nv);
  boost::add_edge(rec.switch_index, nv, g);
  g.m_vertices[nv].m_out_edges.reserve(numas);
  for (uint32_t d = 0; d < numas; ++d)
    boost::add_edge(nv, boost::add_vertex({Kind::kNuma, d}, g), g);
  for (uint32_t d = 0; d < numas; ++d) {
    size_t gpus_here = 0;
    for (const auto& gpu : topology.gpus) gpus_here += gpu.numa == static_cast<int32_t>(d);
    g.m_vertices[nv + 1 + d].m_out_edges.reserve(topology.numa[d].cores.size() + gpus_here);
  }
  for (uint32_t d = 0; d < numas; ++d) {
    for (const auto& c : topology.numa[d].cores)
      boost::add_edge(nv + 1 + d, boost::add_vertex({Kind::kCore, c.id}, g), g);
  }
  for (const auto& gpu : topology.gpus) {
    const Vertex parent = gpu.numa >= 0 ? nv + 1 + gpu.numa : nv;
    const auto pcie = static_cast<int16_t>(gpu.pcie_switch >= 0 && gpu.pcie_switch <= INT16_MAX ? gpu.pcie_switch : -1);
    boost::add_edge(parent, boost::add_vertex(VertexProps(Kind::kGpu, gpu.index, pcie), g), g);
  }
  // NVLink: an edge from each GPU to each of its peers (the only edges that are not parent ->
  // child; queries that walk down from a NUMA domain never follow a GPU's out-edges).
  const Vertex first_gpu = nv + 1 + numas + next_core;
  for (const auto& gpu : topology.gpus) {
    auto& edges = g.m_vertices[first_gpu + gpu.index].m_out_edges;
    edges.reserve(gpu.links.size());
    for (const GpuLink& link : gpu.links)
      if (link.peer < topology.gpus.size() && link.peer != gpu.index)
        boost::add_edge(first_gpu + gpu.index, first_gpu + link.peer, g);
  }

  auto [pos, inserted] = m.node_index.emplace(name, index);
  m.names.push_back(&pos->first);
  m.nodes.push_back(rec);
  return index;
}

size_t TopologyGraph::nodeCount() const { return impl_->nodes.size(); }

std::optional<NodeIndex> TopologyGraph::findNode(std::string_view name) const {
  auto it = impl_->node_index.find(std::string(name));
  if (it == impl_->node_index.end()) return std::nullopt;
  return it->second;
}

const std::string& TopologyGraph::nodeName(NodeIndex node) const {
  impl_->node(node);
  return *impl_->names[node];
}

const SwitchTree& TopologyGraph::switchTree() const { return impl_->tree; }

SwitchIndex TopologyGraph::switchOf(NodeIndex node) const { return impl_->node(node).switch_index; }

uint32_t TopologyGraph::hops(NodeIndex a, NodeIndex b) const {
  if (a == b) {
    impl_->node(a);
    return 0;
  }
  const auto& sw = impl_->tree.switches;
  SwitchIndex sa = impl_->node(a).switch_index, sb = impl_->node(b).switch_index;
  // One link from each node to its switch, then up to the lowest common switch from both sides.
  uint32_t links = 2;
  while (sw[sa].depth > sw[sb].depth) sa = sw[sa].parent, ++links;
  while (sw[sb].depth > sw[sa].depth) sb = sw[sb].parent, ++links;
  while (sa != sb) sa = sw[sa].parent, sb = sw[sb].parent, links += 2;
  return links;
}

void TopologyGraph::Impl::take(SwitchIndex s, uint32_t r, const Counts& counts,
                               const std::vector<uint32_t>& free, uint32_t need,
                               std::vector<NodeIndex>& out) const {
  // Units to draw from: each child switch, and the nodes directly under s as one more unit
  // (kNone). Example, r = 20 under a spine whose leaves have 30, 24, 12 free: 24 holds the 20
  // alone and is the tightest such leaf, so all 20 come from it and the 30 stay whole. With
  // r = 40: no leaf holds 40, so the 30 go first, then the tightest leaf holding 10 (12).
  struct Unit {
    SwitchIndex sw;
    uint32_t cap;
  };
  std::vector<Unit> units;
  for (SwitchIndex c : tree.switches[s].children)
    if (counts.under[c] > 0) units.push_back({c, counts.under[c]});
  if (counts.direct[s] > 0) units.push_back({SwitchTree::kNone, counts.direct[s]});
  while (r > 0) {
    LOCUS_CHECK(!units.empty()) << "switch " << s << " ran out of free nodes, " << r << " left";
    auto best = units.end();
    for (auto u = units.begin(); u != units.end(); ++u)
      if (u->cap >= r && (best == units.end() || u->cap < best->cap)) best = u;
    if (best == units.end())
      best = std::max_element(units.begin(), units.end(),
                              [](const Unit& x, const Unit& y) { return x.cap < y.cap; });
    const uint32_t n = std::min(r, best->cap);
    if (best->sw != SwitchTree::kNone) {
      take(best->sw, n, counts, free, need, out);
    } else {
      uint32_t left = n;
      for (auto [e, end] = boost::out_edges(s, g); e != end && left > 0; ++e) {
        const VertexProps& p = g[boost::target(*e, g)];
        if (p.kind == Kind::kNode && free[p.index] >= need) out.push_back(p.index), --left;
      }
    }
    r -= n;
    units.erase(best);
  }
}

std::optional<SubtreeFit> TopologyGraph::smallestSubtreeWithFree(
    uint32_t k, const std::vector<uint32_t>& free_cores, uint32_t cores_per_node) const {
  const Impl& m = *impl_;
  LOCUS_CHECK(free_cores.size() >= m.nodes.size())
      << "free_cores has " << free_cores.size() << " entries for " << m.nodes.size() << " nodes";
  if (k == 0) return std::nullopt;
  const size_t n_switches = m.tree.switches.size();
  Impl::Counts counts{std::vector<uint32_t>(n_switches, 0), std::vector<uint32_t>(n_switches, 0)};
  // Children before parents, so each switch sums finished subtrees.
  for (SwitchIndex s : m.bottom_up) {
    uint32_t direct = 0, under = 0;
    for (auto [e, end] = boost::out_edges(s, m.g); e != end; ++e) {
      const VertexProps& p = m.g[boost::target(*e, m.g)];
      if (p.kind == Kind::kNode)
        direct += free_cores[p.index] >= cores_per_node;
      else
        under += counts.under[p.index];
    }
    counts.direct[s] = direct;
    counts.under[s] = under + direct;
  }
  SwitchIndex best = SwitchTree::kNone;
  for (SwitchIndex s = 0; s < n_switches; ++s) {
    if (counts.under[s] < k) continue;
    if (best == SwitchTree::kNone) {
      best = s;
      continue;
    }
    const auto& a = m.tree.switches[s];
    const auto& b = m.tree.switches[best];
    if (a.height < b.height || (a.height == b.height && counts.under[s] < counts.under[best]))
      best = s;
  }
  if (best == SwitchTree::kNone) return std::nullopt;
  SubtreeFit fit;
  fit.switch_index = best;
  fit.height = m.tree.switches[best].height;
  fit.nodes.reserve(k);
  m.take(best, k, counts, free_cores, cores_per_node, fit.nodes);
  LOCUS_CHECK(fit.nodes.size() == k) << "picked " << fit.nodes.size() << " of " << k;
  std::sort(fit.nodes.begin(), fit.nodes.end());
  std::vector<SwitchIndex> used;
  for (NodeIndex n : fit.nodes) used.push_back(m.nodes[n].switch_index);
  std::sort(used.begin(), used.end());
  fit.switches_used = static_cast<uint32_t>(std::unique(used.begin(), used.end()) - used.begin());
  return fit;
}

uint32_t TopologyGraph::numaCount(NodeIndex node) const { return impl_->node(node).numas; }
uint32_t TopologyGraph::coreCount(NodeIndex node) const { return impl_->node(node).cores; }
uint32_t TopologyGraph::gpuCount(NodeIndex node) const { return impl_->node(node).gpus; }

uint32_t TopologyGraph::coresInNuma(NodeIndex node, uint32_t numa) const {
  const NodeRecord& r = impl_->node(node);
  LOCUS_CHECK(numa < r.numas) << "numa " << numa << " of " << r.numas;
  uint32_t cores = 0;
  for (auto [e, end] = boost::out_edges(r.vertex + 1 + numa, impl_->g); e != end; ++e)
    cores += impl_->g[boost::target(*e, impl_->g)].kind == Kind::kCore;
  return cores;
}

uint32_t TopologyGraph::numaOfCore(NodeIndex node, uint32_t core) const {
  const NodeRecord& r = impl_->node(node);
  LOCUS_CHECK(core < r.cores) << "core " << core << " of " << r.cores;
  const Vertex cv = impl_->coreVertex(r, core);
  for (uint32_t d = 0; d < r.numas; ++d) {
    for (auto [e, end] = boost::out_edges(r.vertex + 1 + d, impl_->g); e != end; ++e)
      if (boost::target(*e, impl_->g) == cv) return d;
  }
  LOCUS_CHECK(false) << "core vertex " << cv << " has no NUMA domain";
  return 0;
}

int32_t TopologyGraph::numaOfGpu(NodeIndex node, uint32_t gpu) const {
  const NodeRecord& r = impl_->node(node);
  LOCUS_CHECK(gpu < r.gpus) << "gpu " << gpu << " of " << r.gpus;
  const Vertex gv = impl_->gpuVertex(r, gpu);
  for (uint32_t d = 0; d < r.numas; ++d) {
    for (auto [e, end] = boost::out_edges(r.vertex + 1 + d, impl_->g); e != end; ++e)
      if (boost::target(*e, impl_->g) == gv) return static_cast<int32_t>(d);
  }
  return -1;  // hangs off the node itself: locality unknown
}

uint32_t TopologyGraph::numaDistance(NodeIndex node, uint32_t numa_a, uint32_t numa_b) const {
  const NodeRecord& r = impl_->node(node);
  LOCUS_CHECK(numa_a < r.numas && numa_b < r.numas)
      << "numa " << numa_a << "," << numa_b << " of " << r.numas;
  if (r.distance_table == 0) return numa_a == numa_b ? kLocalDistance : kRemoteDistance;
  return impl_->distance_tables[r.distance_table][numa_a * r.numas + numa_b];
}

GpuLinkClass TopologyGraph::gpuLinkClass(NodeIndex node, uint32_t gpu_a, uint32_t gpu_b) const {
  const int32_t a = numaOfGpu(node, gpu_a);
  const int32_t b = numaOfGpu(node, gpu_b);
  if (gpu_a == gpu_b) return GpuLinkClass::kSameGpu;
  const Graph& g = impl_->g;
  const NodeRecord& r = impl_->node(node);
  const Vertex va = impl_->gpuVertex(r, gpu_a);
  const Vertex vb = impl_->gpuVertex(r, gpu_b);
  for (auto [e, end] = boost::out_edges(va, g); e != end; ++e)
    if (boost::target(*e, g) == vb) return GpuLinkClass::kNvlink;
  if (g[va].pcie_switch >= 0 && g[va].pcie_switch == g[vb].pcie_switch) return GpuLinkClass::kSamePcieSwitch;
  if (a < 0 || b < 0) return GpuLinkClass::kUnknown;
  return a == b ? GpuLinkClass::kSameNuma : GpuLinkClass::kCrossSocket;
}

size_t TopologyGraph::vertexCount() const { return boost::num_vertices(impl_->g); }
size_t TopologyGraph::edgeCount() const { return boost::num_edges(impl_->g); }

size_t TopologyGraph::memoryBytes() const {
  const Impl& m = *impl_;
  using StoredVertex = std::decay_t<decltype(m.g.m_vertices[0])>;
  using StoredEdge = std::decay_t<decltype(m.g.m_vertices[0].m_out_edges[0])>;
#ifdef LOCUS_LOCALITY_PLAIN_EDGES
  constexpr size_t kPerEdgeHeap = 32;  // glibc's smallest chunk, for the unique_ptr'd property
#else
  constexpr size_t kPerEdgeHeap = 0;
#endif
  constexpr size_t kMallocOverhead = 16;  // per heap block, roughly
  size_t bytes = m.g.m_vertices.capacity() * sizeof(StoredVertex);
  for (const auto& v : m.g.m_vertices) {
    if (v.m_out_edges.capacity() > 0)
      bytes += v.m_out_edges.capacity() * sizeof(StoredEdge) + kMallocOverhead;
    bytes += v.m_out_edges.size() * kPerEdgeHeap;
  }
  bytes += m.nodes.capacity() * sizeof(NodeRecord) + m.names.capacity() * sizeof(void*);
  // unordered_map: a bucket pointer plus a node (next pointer, key, value) per entry.
  for (const auto& [name, idx] : m.node_index)
    bytes += sizeof(void*) * 2 + sizeof(std::string) + 8 + kMallocOverhead +
             (name.size() > 15 ? name.size() + 1 + kMallocOverhead : 0);
  for (const auto& [name, idx] : m.switch_of_name)
    bytes += sizeof(void*) * 2 + sizeof(std::string) + 8 + kMallocOverhead +
             (name.size() > 15 ? name.size() + 1 + kMallocOverhead : 0);
  for (const auto& t : m.distance_tables) bytes += 2 * t.capacity() * sizeof(uint32_t);
  return bytes;
}

}  // namespace locus::locality
