#include "locality/flow_placement.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/successive_shortest_path_nonnegative_weights.hpp>
#include <optional>
#include <unordered_map>

#include "common/result.hpp"

namespace locus::locality {
namespace {

// Quincy's network sends one unit of flow per task: source -> task -> (a slot, or the
// "unscheduled" node) -> sink, priced (slot cost) or (unscheduled cost U). Solved as is, that is
// one shortest-path search per task, 2,000 per pass for a 2,000-task batch, although a pass
// usually has a handful of free slots. This network sends one unit per free slot instead, and
// finds the same placement:
//
//   super source --(F, 0)--> source --(1, K - U_i)--> task i          (capacity, cost)
//   source --(F, K)--> sink                                  (a slot left idle)
//   task i --(1, 0)--> each free node holding its input
//   task i --(1, rack_cost)--> rack r, for each rack holding its input
//   task i --(1, remote_cost)--> cluster --(free slots of r, 0)--> rack r
//   rack r --(free_n, 0)--> node n --(free_n, 0)--> sink
//
// with F the free slots (at most the tasks) and K the largest U_i. Quincy's objective is
// sum over placed tasks of their slot cost + sum over pending tasks of U_i, that is
// sum_i U_i + sum over placed tasks of (slot cost - U_i): minimizing it is minimizing the sum of
// (slot cost - U_i) over the placed tasks. Here every unit pays K plus either nothing (idle
// slot) or (K - U_i) - K + slot cost = slot cost - U_i beyond it: the same minimum, shifted by
// F x K so that every edge cost is non-negative, as successive shortest paths needs. The source
// -> task edge is where the waiting shows: its cost K - U_i falls as task i waits.
//
// Example: one free slot on node 5; task a (input on 5, just queued: U = 1) and task b (input
// in node 5's rack, waited 4 s: U = 4001 > rack_cost 3000). Placing a saves 1 - 0 = 1, placing
// b saves 4001 - 3000 = 1001: b takes the slot, a waits for the next one on node 5.

using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
// Weights are whole numbers held in doubles: exact below 2^53, and the potentials of vertices
// that the residual network no longer reaches (Dijkstra leaves them at the largest double) stay
// finite when added to, where an int64_t would overflow.
using Graph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<
        boost::edge_capacity_t, int64_t,
        boost::property<boost::edge_residual_capacity_t, int64_t,
                        boost::property<boost::edge_reverse_t, Traits::edge_descriptor,
                                        boost::property<boost::edge_weight_t, double>>>>>;
using Edge = Traits::edge_descriptor;
using Vertex = Traits::vertex_descriptor;

// The network and the edges the placement is read back from.
class Network {
 public:
  explicit Network(size_t vertices) : g_(vertices) {}

  // An edge and its reverse (capacity 0, negated cost: the residual edge that undoes flow).
  Edge add(Vertex from, Vertex to, int64_t capacity, int64_t cost) {
    const Edge e = boost::add_edge(from, to, g_).first;
    const Edge r = boost::add_edge(to, from, g_).first;
    boost::put(boost::edge_capacity, g_, e, capacity);
    boost::put(boost::edge_capacity, g_, r, 0);
    boost::put(boost::edge_weight, g_, e, static_cast<double>(cost));
    boost::put(boost::edge_weight, g_, r, -static_cast<double>(cost));
    boost::put(boost::edge_reverse, g_, e, r);
    boost::put(boost::edge_reverse, g_, r, e);
    return e;
  }

  void solve(Vertex source, Vertex sink) {
    boost::successive_shortest_path_nonnegative_weights(g_, source, sink);
  }

  int64_t flow(Edge e) const {
    return boost::get(boost::edge_capacity, g_, e) -
           boost::get(boost::edge_residual_capacity, g_, e);
  }

  size_t vertices() const { return boost::num_vertices(g_); }
  size_t edges() const { return boost::num_edges(g_); }

 private:
  Graph g_;
};

// Where a kept task may go, and what each choice saves it over waiting.
struct Candidate {
  size_t task = 0;  // index into the caller's tasks
  int64_t unscheduled = 0;
  std::vector<uint32_t> nodes;  // free preferred nodes
  std::vector<uint32_t> racks;  // dense rack indices with a free node
  bool remote = false;          // any free node will do
};

}  // namespace

int64_t unscheduledCost(const FlowCosts& costs, int64_t waited_ms) {
  return 1 + waited_ms * costs.wait_cost_per_s / 1000;
}

int64_t waitToTake(const FlowCosts& costs, int64_t slot_cost) {
  // 1 + floor(w * p / 1000) > c  <=>  w * p >= 1000 * c  <=>  w >= ceil(1000 * c / p).
  if (slot_cost < 1) return 0;
  return (slot_cost * 1000 + costs.wait_cost_per_s - 1) / costs.wait_cost_per_s;
}

std::vector<int32_t> placeByFlow(const std::vector<FlowTask>& tasks,
                                 const std::vector<uint32_t>& free_slots,
                                 const std::vector<uint32_t>& rack_of_node, const FlowCosts& costs,
                                 FlowGraphSize* size) {
  LOCUS_CHECK(rack_of_node.size() == free_slots.size())
      << rack_of_node.size() << " racks for " << free_slots.size() << " nodes";
  LOCUS_CHECK(costs.wait_cost_per_s > 0 && costs.rack_cost >= 0 &&
              costs.rack_cost <= costs.remote_cost)
      << "rack_cost " << costs.rack_cost << " remote_cost " << costs.remote_cost
      << " wait_cost_per_s " << costs.wait_cost_per_s;
  std::vector<int32_t> placed(tasks.size(), -1);
  if (size) *size = {};

  // The free nodes and their racks, numbered densely (rack ids may be sparse).
  std::vector<uint32_t> free_nodes;
  std::unordered_map<uint32_t, uint32_t> rack_index;  // rack id -> dense index
  std::vector<std::vector<uint32_t>> rack_free_nodes;
  uint64_t free_total = 0;
  for (uint32_t n = 0; n < free_slots.size(); ++n) {
    if (free_slots[n] == 0) continue;
    free_nodes.push_back(n);
    free_total += free_slots[n];
    if (rack_of_node[n] == kNoRack) continue;
    auto [it, added] = rack_index.try_emplace(rack_of_node[n], rack_free_nodes.size());
    if (added) rack_free_nodes.emplace_back();
    rack_free_nodes[it->second].push_back(n);
  }
  if (free_total == 0 || tasks.empty()) return placed;

  // Keep only the tasks some free slot is worth taking for, and only their worthwhile edges:
  // an option that costs at least the task's waiting never wins over an idle slot, so leaving
  // it out changes no optimum and keeps the graph to the tasks that can start now.
  std::vector<Candidate> kept;
  int64_t max_unscheduled = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const FlowTask& t = tasks[i];
    LOCUS_CHECK(t.waited_ms >= 0) << "task " << i << " waited " << t.waited_ms << " ms";
    Candidate c;
    c.task = i;
    c.unscheduled = unscheduledCost(costs, t.waited_ms);
    for (uint32_t n : t.nodes) {
      LOCUS_CHECK(n < free_slots.size()) << "task " << i << " names node " << n;
      if (free_slots[n] > 0 && std::find(c.nodes.begin(), c.nodes.end(), n) == c.nodes.end())
        c.nodes.push_back(n);
    }
    if (costs.rack_cost < c.unscheduled)
      for (uint32_t r : t.racks)
        if (auto it = rack_index.find(r);
            it != rack_index.end() &&
            std::find(c.racks.begin(), c.racks.end(), it->second) == c.racks.end())
          c.racks.push_back(it->second);
    c.remote = costs.remote_cost < c.unscheduled;
    if (c.nodes.empty() && c.racks.empty() && !c.remote) continue;
    max_unscheduled = std::max(max_unscheduled, c.unscheduled);
    kept.push_back(std::move(c));
  }
  if (kept.empty()) return placed;

  // Vertices: 0 super source, 1 source, 2 sink, 3 cluster, then racks, free nodes, tasks.
  constexpr Vertex kSuper = 0, kSource = 1, kSink = 2, kCluster = 3;
  const Vertex first_rack = 4;
  const Vertex first_node = first_rack + rack_free_nodes.size();
  const Vertex first_task = first_node + free_nodes.size();
  Network net(first_task + kept.size());
  std::vector<Vertex> node_vertex(free_slots.size(), 0);
  for (size_t k = 0; k < free_nodes.size(); ++k) node_vertex[free_nodes[k]] = first_node + k;

  const int64_t units = static_cast<int64_t>(std::min<uint64_t>(free_total, kept.size()));
  const int64_t k_shift = max_unscheduled;
  net.add(kSuper, kSource, units, 0);
  net.add(kSource, kSink, units, k_shift);  // a slot left idle
  std::vector<Edge> node_sink(free_nodes.size());
  for (size_t k = 0; k < free_nodes.size(); ++k)
    node_sink[k] = net.add(first_node + k, kSink, free_slots[free_nodes[k]], 0);
  // Rack -> node and cluster -> rack: as wide as the slots behind them.
  std::vector<std::vector<std::pair<uint32_t, Edge>>> rack_out(rack_free_nodes.size());
  std::vector<Edge> cluster_to_rack(rack_free_nodes.size());
  for (size_t r = 0; r < rack_free_nodes.size(); ++r) {
    int64_t rack_slots = 0;
    for (uint32_t n : rack_free_nodes[r]) {
      rack_out[r].emplace_back(n, net.add(first_rack + r, node_vertex[n], free_slots[n], 0));
      rack_slots += free_slots[n];
    }
    cluster_to_rack[r] = net.add(kCluster, first_rack + r, rack_slots, 0);
  }
  // A free node under no rack is reached from the cluster directly.
  std::vector<std::pair<uint32_t, Edge>> cluster_out;
  for (uint32_t n : free_nodes)
    if (rack_of_node[n] == kNoRack)
      cluster_out.emplace_back(n, net.add(kCluster, node_vertex[n], free_slots[n], 0));

  struct TaskEdges {
    std::vector<std::pair<uint32_t, Edge>> nodes;  // (node, edge)
    std::vector<std::pair<uint32_t, Edge>> racks;  // (dense rack, edge)
    std::optional<Edge> cluster;
  };
  std::vector<TaskEdges> task_edges(kept.size());
  for (size_t k = 0; k < kept.size(); ++k) {
    const Candidate& c = kept[k];
    const Vertex v = first_task + k;
    net.add(kSource, v, 1, k_shift - c.unscheduled);
    for (uint32_t n : c.nodes)
      task_edges[k].nodes.emplace_back(n, net.add(v, node_vertex[n], 1, 0));
    for (uint32_t r : c.racks)
      task_edges[k].racks.emplace_back(r, net.add(v, first_rack + r, 1, costs.rack_cost));
    if (c.remote) task_edges[k].cluster = net.add(v, kCluster, 1, costs.remote_cost);
  }

  net.solve(kSuper, kSink);

  // Read the placement back. A task's unit reaches a node directly, or through a rack (and the
  // cluster) aggregator; an aggregator's units are interchangeable (every node behind it is a
  // valid choice for every task that entered it at the same cost), so they are matched in order.
  std::vector<std::vector<size_t>> rack_tasks(rack_free_nodes.size());
  std::vector<size_t> cluster_tasks;
  size_t placed_count = 0;
  for (size_t k = 0; k < kept.size(); ++k) {
    const TaskEdges& te = task_edges[k];
    for (const auto& [n, e] : te.nodes)
      if (net.flow(e) > 0) placed[kept[k].task] = static_cast<int32_t>(n);
    for (const auto& [r, e] : te.racks)
      if (net.flow(e) > 0) rack_tasks[r].push_back(kept[k].task);
    if (te.cluster && net.flow(*te.cluster) > 0) cluster_tasks.push_back(kept[k].task);
  }
  std::vector<uint32_t> cluster_slots;  // nodes, one entry per unit the cluster sent there
  for (size_t r = 0; r < rack_free_nodes.size(); ++r) {
    std::vector<uint32_t> slots;
    for (const auto& [n, e] : rack_out[r])
      for (int64_t f = net.flow(e); f > 0; --f) slots.push_back(n);
    const size_t from_cluster = static_cast<size_t>(net.flow(cluster_to_rack[r]));
    LOCUS_CHECK(slots.size() == rack_tasks[r].size() + from_cluster)
        << "rack " << r << ": " << slots.size() << " units out, " << rack_tasks[r].size()
        << " tasks and " << from_cluster << " cluster units in";
    size_t at = 0;
    for (size_t t : rack_tasks[r]) placed[t] = static_cast<int32_t>(slots[at++]);
    for (; at < slots.size(); ++at) cluster_slots.push_back(slots[at]);
  }
  for (const auto& [n, e] : cluster_out)
    for (int64_t f = net.flow(e); f > 0; --f) cluster_slots.push_back(n);
  LOCUS_CHECK(cluster_slots.size() == cluster_tasks.size())
      << cluster_slots.size() << " cluster units out, " << cluster_tasks.size() << " tasks in";
  for (size_t i = 0; i < cluster_tasks.size(); ++i)
    placed[cluster_tasks[i]] = static_cast<int32_t>(cluster_slots[i]);

  // Capacity: a node's units reach the sink through its own edge only.
  for (size_t k = 0; k < free_nodes.size(); ++k) {
    const int64_t f = net.flow(node_sink[k]);
    LOCUS_CHECK(f >= 0 && f <= free_slots[free_nodes[k]])
        << "node " << free_nodes[k] << " got " << f << " of " << free_slots[free_nodes[k]];
    placed_count += static_cast<size_t>(f);
  }
  if (size) {
    size->tasks = kept.size();
    size->vertices = net.vertices();
    size->edges = net.edges();
    size->searches = placed_count + 2;
  }
  return placed;
}

}  // namespace locus::locality
