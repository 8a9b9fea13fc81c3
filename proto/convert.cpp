#include "proto/convert.hpp"

namespace locus::proto {

void toProto(const NodeTopology& in, Topology& out) {
  out.Clear();
  out.set_packages(in.packages);
  out.set_mem_mb(in.mem_mb);
  out.set_cpu_model(in.cpu_model);
  for (const auto& d : in.numa) {
    Numa* n = out.add_numa();
    n->set_os_index(d.os_index);
    n->set_mem_mb(d.mem_mb);
    for (const auto& c : d.cores) {
      Core* core = n->add_cores();
      core->set_id(c.id);
      for (uint32_t pu : c.pus) core->add_pus(pu);
    }
  }
  for (const auto& g : in.gpus) {
    Gpu* gpu = out.add_gpus();
    gpu->set_index(g.index);
    gpu->set_name(g.name);
    gpu->set_os_name(g.os_name);
    gpu->set_uuid(g.uuid);
    gpu->set_pci_bus_id(g.pci_bus_id);
    gpu->set_memory_mb(g.memory_mb);
    gpu->set_numa(g.numa);
    gpu->set_pcie_switch(g.pcie_switch);
    for (const locus::GpuLink& l : g.links) {
      auto* out_link = gpu->add_links();
      out_link->set_peer(l.peer);
      out_link->set_bandwidth_mbps(l.bandwidth_mbps);
    }
  }
  for (const auto& row : in.numa_distances)
    for (uint32_t v : row) out.add_numa_distances(v);
}

NodeTopology fromProto(const Topology& in) {
  NodeTopology out;
  out.packages = in.packages();
  out.mem_mb = in.mem_mb();
  out.cpu_model = in.cpu_model();
  for (const auto& n : in.numa()) {
    NumaDomain d;
    d.os_index = n.os_index();
    d.mem_mb = n.mem_mb();
    for (const auto& c : n.cores()) d.cores.push_back(CoreInfo{c.id(), {c.pus().begin(), c.pus().end()}});
    out.numa.push_back(std::move(d));
  }
  for (const auto& g : in.gpus()) {
    GpuInfo gpu{g.index(), g.name(), g.os_name(), g.uuid(), g.pci_bus_id(), g.memory_mb(), g.numa()};
    gpu.pcie_switch = g.pcie_switch();
    for (const auto& l : g.links()) gpu.links.push_back({l.peer(), l.bandwidth_mbps()});
    out.gpus.push_back(std::move(gpu));
  }
  size_t n = out.numa.size();
  if (n > 0 && static_cast<size_t>(in.numa_distances_size()) == n * n) {
    out.numa_distances.assign(n, std::vector<uint32_t>(n));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) out.numa_distances[i][j] = in.numa_distances(static_cast<int>(i * n + j));
  }
  return out;
}

void toProto(const locus::JobSpec& s, JobSpec& o) {
  o.set_name(s.name);
  o.set_script(s.script);
  o.set_script_path(s.script_path);
  for (const auto& a : s.args) o.add_args(a);
  o.set_nodes(s.nodes);
  o.set_ntasks(s.ntasks);
  o.set_ntasks_per_node(s.ntasks_per_node);
  o.set_cpus_per_task(s.cpus_per_task);
  o.set_mem_mb(s.mem_mb);
  o.set_mem_per_cpu_mb(s.mem_per_cpu_mb);
  o.set_time_limit_s(s.time_limit_s);
  o.set_stdout_path(s.stdout_path);
  o.set_stderr_path(s.stderr_path);
  o.set_work_dir(s.work_dir);
  o.set_array_spec(s.array_spec);
  o.set_requeue(s.requeue);
  o.set_no_requeue(s.no_requeue);
  o.set_hold(s.hold);
  o.set_export_spec(s.export_spec);
  for (const auto& [k, v] : s.environment) (*o.mutable_environment())[k] = v;
  o.set_partition(s.partition);
  o.set_account(s.account);
  o.set_qos(s.qos);
  o.set_gres(s.gres);
  o.set_gpus(s.gpus);
  o.set_constraint(s.constraint);
  o.set_dependency(s.dependency);
  o.set_exclusive(s.exclusive);
  o.set_switches(s.switches);
  o.set_mem_bind(s.mem_bind);
  o.set_gpu_bind(s.gpu_bind);
  o.set_allocation_only(s.allocation_only);
  o.set_profile(s.profile);
  o.set_profile_interval_s(s.profile_interval_s);
  o.set_container(s.container);
  for (const auto& in : s.inputs) o.add_inputs(in);
  o.set_dataflow(s.dataflow);
  o.set_split(s.split);
  for (const auto& w : s.warnings) o.add_warnings(w);
}

locus::JobSpec fromProto(const JobSpec& o) {
  locus::JobSpec s;
  s.name = o.name();
  s.script = o.script();
  s.script_path = o.script_path();
  s.args.assign(o.args().begin(), o.args().end());
  s.nodes = o.nodes();
  s.ntasks = o.ntasks();
  s.ntasks_per_node = o.ntasks_per_node();
  s.cpus_per_task = o.cpus_per_task();
  s.mem_mb = o.mem_mb();
  s.mem_per_cpu_mb = o.mem_per_cpu_mb();
  s.time_limit_s = o.time_limit_s();
  s.stdout_path = o.stdout_path();
  s.stderr_path = o.stderr_path();
  s.work_dir = o.work_dir();
  s.array_spec = o.array_spec();
  s.requeue = o.requeue();
  s.no_requeue = o.no_requeue();
  s.hold = o.hold();
  s.export_spec = o.export_spec();
  s.environment.insert(o.environment().begin(), o.environment().end());
  s.partition = o.partition();
  s.account = o.account();
  s.qos = o.qos();
  s.gres = o.gres();
  s.gpus = o.gpus();
  s.constraint = o.constraint();
  s.dependency = o.dependency();
  s.exclusive = o.exclusive();
  s.switches = o.switches();
  s.mem_bind = o.mem_bind();
  s.gpu_bind = o.gpu_bind();
  s.allocation_only = o.allocation_only();
  s.profile = o.profile();
  s.profile_interval_s = o.profile_interval_s();
  s.container = o.container();
  s.inputs.assign(o.inputs().begin(), o.inputs().end());
  s.dataflow = o.dataflow();
  s.split = o.split();
  s.warnings.assign(o.warnings().begin(), o.warnings().end());
  return s;
}

}  // namespace locus::proto
