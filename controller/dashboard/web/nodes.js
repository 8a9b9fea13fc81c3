// Nodes: the switch tree, each node with its cores per NUMA domain and its GPUs, allocated to the
// running jobs; and the node table.
import { ACTIVE, bar, el, fill, cell, usage } from "./dom.js";

// What the running jobs hold on each node: {node: {cores: Map(core -> job), gpus: Map(gpu -> job)}}.
function holdings(jobs) {
  const by = {};
  for (const j of jobs) {
    if (j.state === "PENDING" || !ACTIVE.has(j.state)) continue;
    for (const a of j.allocation) {
      const h = by[a.node] || (by[a.node] = { cores: new Map(), gpus: new Map() });
      for (const c of a.cores) h.cores.set(c, j.id);
      for (const g of a.gpus) h.gpus.set(g, j.id);
    }
  }
  return by;
}
function jobsOf(map, keys) {
  const ids = new Set();
  for (const k of keys) if (map.has(k)) ids.add(map.get(k));
  return ids.size ? "jobs " + [...ids].sort((a, b) => a - b).join(", ") : "free";
}
function nodeCard(n, layout, held) {
  const card = el("div", "node");
  card.id = "node-" + n.name;
  const title = el("div");
  title.append(el("span", "name", n.name), " ", el("span", "state " + n.state, n.state));
  card.appendChild(title);
  if (!n.state) { card.appendChild(el("div", "detail", "never registered")); return card; }
  const h = held || { cores: new Map(), gpus: new Map() };
  const row = (what, ...parts) => {
    const r = el("div", "row");
    r.append(el("span", "what", what), ...parts);
    card.appendChild(r);
    return r;
  };
  row("cores", bar(n.cpus_alloc, n.cpus), n.cpus_alloc + "/" + n.cpus);
  const numa = layout ? layout.numa : [];
  for (const d of numa) {
    const used = d.cores.filter(c => h.cores.has(c)).length;
    row("NUMA " + d.index, bar(used, d.cores.length), used + "/" + d.cores.length)
        .title = "NUMA domain " + d.index + " (os " + d.os_index + "): " + jobsOf(h.cores, d.cores);
  }
  row("mem MB", bar(n.mem_alloc_mb, n.mem_mb), n.mem_alloc_mb + "/" + n.mem_mb);
  if (n.gpus.length) {
    const box = el("span", "gpus");
    for (const g of n.gpus) {
      const used = h.gpus.has(g.index);
      const sq = el("span", used ? "gpu used" : "gpu", g.index);
      sq.title = "GPU " + g.index + (g.name ? " " + g.name : "") + ", NUMA " + g.numa + ": " +
                 (used ? "job " + h.gpus.get(g.index) : "free");
      box.appendChild(sq);
    }
    row("GPUs", box, n.gpus_alloc + "/" + n.gpus.length);
  }
  return card;
}
export function showNodes(nodes, jobs, topology) {
  document.getElementById("n-nodes").textContent = "(" + nodes.length + ")";
  const byName = new Map(nodes.map(n => [n.name, n]));
  const layout = new Map(topology.nodes.map(n => [n.name, n]));
  const held = holdings(jobs);
  const sw = topology.switches;
  const children = sw.map(() => []);
  const roots = [];
  sw.forEach((s, i) => (s.parent < 0 ? roots : children[s.parent]).push(i));
  const placed = new Set();
  // Totals of a subtree: cores free/total, GPUs free/total, nodes up/all.
  const sums = i => {
    const t = { free: 0, total: 0, gfree: 0, gpus: 0, up: 0, nodes: 0 };
    for (const name of sw[i].nodes) {
      const n = byName.get(name);
      t.nodes++;
      if (!n) continue;
      t.total += n.cpus; t.free += n.cpus - n.cpus_alloc;
      t.gpus += n.gpus.length; t.gfree += n.gpus.length - n.gpus_alloc;
      if (n.state === "UP") t.up++;
    }
    for (const c of children[i]) {
      const s = sums(c);
      for (const k in t) t[k] += s[k];
    }
    return t;
  };
  const draw = i => {
    const box = el("div", "switch");
    box.dataset.switch = sw[i].name || "(root)";
    const t = sums(i);
    const label = el("div", "label", sw[i].name || "(root)");
    label.appendChild(el("span", "sum", "cores " + t.free + "/" + t.total + " free, nodes " + t.up + "/" +
                                         t.nodes + " up" + (t.gpus ? ", GPUs " + t.gfree + "/" + t.gpus + " free" : "")));
    box.appendChild(label);
    const inner = el("div", "children");
    for (const c of children[i]) inner.appendChild(draw(c));
    for (const name of sw[i].nodes) {
      placed.add(name);
      inner.appendChild(nodeCard(byName.get(name) || { name: name, state: "" }, layout.get(name), held[name]));
    }
    box.appendChild(inner);
    return box;
  };
  const tree = document.getElementById("switch-tree");
  tree.replaceChildren(...roots.map(draw));
  const rest = nodes.filter(n => !placed.has(n.name));
  if (rest.length) {  // no [[switch]] configured, or nodes it does not name
    const box = el("div", "switch");
    box.appendChild(el("div", "label", roots.length ? "(not in the switch tree)" : "(no switch tree configured)"));
    const inner = el("div", "children");
    for (const n of rest) inner.appendChild(nodeCard(n, layout.get(n.name), held[n.name]));
    box.appendChild(inner);
    tree.appendChild(box);
  }
  fill("node-table", nodes, (row, n) => {
    cell(row, n.name); cell(row, n.state, "state " + n.state);
    usage(row, n.cpus_alloc, n.cpus); usage(row, n.mem_alloc_mb, n.mem_mb);
    usage(row, n.gpus_alloc, n.gpus.length); cell(row, n.numa_domains, "num");
    cell(row, n.features.join(","));
  }, "no nodes registered");
}
