// The dashboard page served at "/": HTML, CSS and plain JavaScript in one raw string, so the
// controller binary carries it and nothing is fetched from elsewhere (the machines are offline,
// and there is no front-end build step: the build machines have no npm registry). Every 2 s it
// fetches /api/jobs?state=all, /api/nodes, /api/shares, /api/quotas, /api/services and
// /api/frameworks (and /api/topology now and then) and redraws: the queue, the switch tree with
// each node's cores per NUMA domain and its GPUs (from the running jobs' allocations), the
// fair-share tree, quotas, services, frameworks, and at #job/ID one job's page.
#include "controller/dashboard/dashboard.hpp"

namespace locus::controller {
namespace {

constexpr std::string_view kPage = R"page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Locus dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #222; background: #fafafa; }
  header { display: flex; align-items: baseline; gap: 1em; flex-wrap: wrap; }
  nav a { margin-right: .8em; color: #0b57d0; text-decoration: none; }
  nav a:hover { text-decoration: underline; }
  h1 { font-size: 1.4em; margin: .6em 0; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  h3 { font-size: 1em; margin: 1em 0 .3em; }
  #status { color: #666; font-size: .9em; }
  #status.error { color: #b00; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  a.job { color: #0b57d0; }
  .empty { color: #888; font-style: italic; }
  .state { font-weight: 600; }
  .COMPLETED { color: #176e1b; } .FAILED, .TIMEOUT, .NODE_FAIL, .OUT_OF_MEMORY { color: #b00; }
  .CANCELLED, .PREEMPTED { color: #8a5a00; } .RUNNING { color: #0b57d0; } .PENDING { color: #555; }
  .DOWN, .UNKNOWN { color: #b00; } .UP { color: #176e1b; }
  .bar { display: inline-block; width: 6em; height: .7em; background: #e4e4e4; margin-right: .4em;
         vertical-align: middle; }
  .bar span { display: block; height: 100%; background: #0b57d0; }
  .bar.warn span { background: #c26a00; }
  .detail { color: #666; font-size: .9em; white-space: pre-wrap; }
  /* The switch tree: each switch a box holding its child switches and its nodes. */
  .switch { border: 1px solid #c8d3e6; border-radius: 4px; padding: .3em .6em .6em; margin: .4em 0;
            background: #f4f7fc; }
  .switch > .label { font-weight: 600; color: #34476b; }
  .switch > .label .sum { font-weight: normal; color: #666; margin-left: .6em; font-size: .9em; }
  .children { display: flex; flex-wrap: wrap; gap: .6em; align-items: flex-start; }
  .children > .switch { flex: 1 1 22em; }
  .node { border: 1px solid #ddd; border-radius: 4px; background: #fff; padding: .3em .5em;
          min-width: 14em; }
  .node .name { font-weight: 600; }
  .node .row { display: flex; align-items: center; gap: .4em; font-size: .85em; color: #444; }
  .node .row .what { width: 4.5em; }
  .gpus { display: inline-flex; gap: 2px; }
  .gpu { width: 1.1em; height: 1.1em; border: 1px solid #999; border-radius: 2px; background: #fff;
         font-size: .65em; text-align: center; line-height: 1.1em; }
  .gpu.used { background: #0b57d0; color: #fff; border-color: #0b57d0; }
  .indent { display: inline-block; }
  dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; background: #fff;
              padding: .5em; border: 1px solid #e4e4e4; }
  dl.fields dt { color: #555; } dl.fields dd { margin: 0; }
  #job-view { display: none; }
  body.job-open #job-view { display: block; }
</style>
</head>
<body>
<header><h1>Locus dashboard</h1>
<nav><a href="#queue">Queue</a><a href="#nodes">Nodes</a><a href="#shares">Fair share</a>
<a href="#quotas">Quotas</a><a href="#services">Services</a><a href="#frameworks">Frameworks</a></nav>
<span id="status">loading…</span></header>

<section id="job-view">
<h2>Job <span id="job-title"></span> <a href="#queue">(close)</a></h2>
<div id="job-error" class="detail"></div>
<dl class="fields" id="job-fields"></dl>
<h3>Why pending</h3>
<div id="job-why" class="detail"></div>
<h3>Allocation</h3>
<table><thead><tr><th>Node</th><th>Tasks</th><th>Cores</th><th>NUMA domains</th><th>GPUs</th>
  <th>Memory MB</th></tr></thead><tbody id="job-allocation"></tbody></table>
<h3>Steps</h3>
<table><thead><tr><th>Step</th><th>Name</th><th>State</th><th>Exit</th><th>Tasks</th><th>Nodes</th>
  <th>Started</th><th>Ended</th></tr></thead><tbody id="job-steps"></tbody></table>
</section>

<section id="queue">
<h2>Pending <span id="n-pending"></span></h2>
<table><thead><tr><th>Job</th><th>Name</th><th>User</th><th>Account</th><th>Partition</th>
  <th>Tasks×CPUs</th><th>Reason</th><th>Submitted</th><th>Expected start</th></tr></thead>
  <tbody id="pending"></tbody></table>
<h2>Running <span id="n-running"></span></h2>
<table><thead><tr><th>Job</th><th>Name</th><th>User</th><th>Account</th><th>Tasks×CPUs</th>
  <th>Nodes</th><th>Started</th><th>Elapsed</th></tr></thead>
  <tbody id="running"></tbody></table>
<h2>Recent</h2>
<table><thead><tr><th>Job</th><th>Name</th><th>User</th><th>State</th><th>Exit</th>
  <th>Nodes</th><th>Ended</th><th>Elapsed</th></tr></thead>
  <tbody id="recent"></tbody></table>
</section>

<section id="nodes">
<h2>Nodes <span id="n-nodes"></span></h2>
<div class="detail">The switch tree ([[switch]]); per node its cores by NUMA domain and its GPUs,
allocated to running jobs (hover for the jobs).</div>
<div id="switch-tree"></div>
<table><thead><tr><th>Node</th><th>State</th><th>Cores (alloc/total)</th><th>Memory MB (alloc/total)</th>
  <th>GPUs (alloc/total)</th><th>NUMA</th><th>Features</th></tr></thead>
  <tbody id="node-table"></tbody></table>
</section>

<section id="shares">
<h2>Fair share</h2>
<table><thead><tr><th>Account / user</th><th>Raw shares</th><th>Norm shares</th><th>Raw usage</th>
  <th>Effective usage</th><th>Fair share</th></tr></thead><tbody id="share-tree"></tbody></table>
</section>

<section id="quotas">
<h2>Quotas</h2>
<div class="detail">cores / memory MB / GPUs; "-" is unlimited; * an account without a quota that holds resources.</div>
<table><thead><tr><th>Pool</th><th>Account</th><th>Guaranteed</th><th>Max</th><th>In use</th>
  <th>Borrowed</th><th>Lent</th></tr></thead><tbody id="quota-table"></tbody></table>
</section>

<section id="services">
<h2>Services</h2>
<table><thead><tr><th>Service</th><th>User</th><th>Status</th><th>Replicas</th><th>Running</th>
  <th>Healthy</th><th>Revision</th><th>Replica jobs</th></tr></thead>
  <tbody id="service-table"></tbody></table>
</section>

<section id="frameworks">
<h2>Frameworks</h2>
<table><thead><tr><th>Framework</th><th>User</th><th>Account</th><th>Mode</th><th>State</th>
  <th>Leases (pending)</th><th>CPUs</th><th>Memory MB</th><th>GPUs</th><th>Tasks launched</th></tr></thead>
  <tbody id="framework-table"></tbody></table>
</section>

<script>
"use strict";
const kRefreshMs = 2000;          // how often the JSON is fetched again
const kTopologyRefreshMs = 30000;  // the switch tree and NUMA layout change only when nodes register
const kRecent = 20;               // finished jobs shown, newest first
const ACTIVE = new Set(["PENDING", "RUNNING", "SUSPENDED", "COMPLETING"]);

let topology = { switches: [], nodes: [] };
let topologyAt = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}
function time(t) { return t ? new Date(t).toLocaleString() : ""; }
function elapsed(job) {
  if (!job.start_time) return "";
  const end = job.end_time ? new Date(job.end_time) : new Date();
  let s = Math.max(0, Math.round((end - new Date(job.start_time)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60); s %= 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
}
function jobId(job) {
  return job.array_job_id !== null ? job.array_job_id + "_" + job.array_task_id + " (" + job.id + ")"
                                   : String(job.id);
}
function jobLink(row, job) {
  const td = row.insertCell();
  const a = el("a", "job", jobId(job));
  a.href = "#job/" + job.id;
  td.appendChild(a);
}
function fill(id, rows, render, empty) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = 10; td.className = "empty"; td.textContent = empty;
  }
  for (const r of rows) render(body.insertRow(), r);
}
function bar(alloc, total, warn) {
  const b = el("span", warn ? "bar warn" : "bar");
  const f = el("span");
  f.style.width = (total ? Math.min(100, 100 * alloc / total) : 0) + "%";
  b.appendChild(f);
  return b;
}
function usage(row, alloc, total) {
  const td = row.insertCell();
  td.className = "num";
  td.append(bar(alloc, total), alloc + "/" + total);
}

// ---- queue
function showJobs(jobs) {
  const pending = jobs.filter(j => j.state === "PENDING").sort((a, b) => a.id - b.id);
  const running = jobs.filter(j => j.state !== "PENDING" && ACTIVE.has(j.state))
                      .sort((a, b) => a.id - b.id);
  const recent = jobs.filter(j => !ACTIVE.has(j.state))
                     .sort((a, b) => (b.end_time || "").localeCompare(a.end_time || "") || b.id - a.id)
                     .slice(0, kRecent);
  document.getElementById("n-pending").textContent = "(" + pending.length + ")";
  document.getElementById("n-running").textContent = "(" + running.length + ")";
  fill("pending", pending, (row, j) => {
    jobLink(row, j); cell(row, j.name); cell(row, j.user); cell(row, j.account);
    cell(row, j.partition); cell(row, j.ntasks + "×" + j.cpus_per_task, "num");
    const why = cell(row, j.reason);
    if (j.reason_detail) why.appendChild(el("div", "detail", j.reason_detail));
    cell(row, time(j.submit_time)); cell(row, time(j.expected_start_time));
  }, "no pending jobs");
  fill("running", running, (row, j) => {
    jobLink(row, j); cell(row, j.name); cell(row, j.user); cell(row, j.account);
    cell(row, j.ntasks + "×" + j.cpus_per_task, "num"); cell(row, j.nodes.join(","));
    cell(row, time(j.start_time)); cell(row, elapsed(j), "num");
  }, "no running jobs");
  fill("recent", recent, (row, j) => {
    jobLink(row, j); cell(row, j.name); cell(row, j.user);
    cell(row, j.state, "state " + j.state); cell(row, j.exit_code, "num");
    cell(row, j.nodes.join(",")); cell(row, time(j.end_time)); cell(row, elapsed(j), "num");
  }, "no finished jobs");
}

// ---- nodes: the switch tree, each node with its NUMA domains and GPUs
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
function showNodes(nodes, jobs) {
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

// ---- fair share, quotas, services, frameworks
function fixed(x, digits) { return typeof x === "number" ? x.toFixed(digits) : ""; }
function showShares(shares) {
  fill("share-tree", shares.rows, (row, r) => {
    const td = row.insertCell();
    const pad = el("span", "indent");
    pad.style.width = (r.depth * 1.2) + "em";
    td.append(pad, r.user ? "user " + r.user : r.account);
    if (!r.user) td.style.fontWeight = "600";
    cell(row, r.raw_shares, "num"); cell(row, fixed(r.norm_shares, 4), "num");
    cell(row, fixed(r.raw_usage, 0), "num"); cell(row, fixed(r.effective_usage, 4), "num");
    const fs = row.insertCell();
    fs.className = "num";
    fs.append(bar(r.fair_share, 1, r.fair_share < 0.5), fixed(r.fair_share, 4));
  }, "no accounts");
}
function amount(a) {
  const one = v => (v === null ? "-" : String(v));
  return one(a.cores) + " / " + one(a.mem_mb) + " / " + one(a.gpus);
}
function showQuotas(quotas) {
  fill("quota-table", quotas, (row, q) => {
    cell(row, q.pool); cell(row, q.account + (q.configured ? "" : "*"));
    cell(row, amount(q.guaranteed)); cell(row, amount(q.max));
    const use = row.insertCell();
    const cap = q.max.cores !== null ? q.max.cores : q.guaranteed.cores;
    if (cap) use.appendChild(bar(q.in_use.cores, cap, q.in_use.cores > (q.guaranteed.cores || 0)));
    use.append(amount(q.in_use));
    cell(row, amount(q.borrowed)); cell(row, amount(q.lent));
  }, "no quotas");
}
function showServices(services) {
  fill("service-table", services, (row, s) => {
    cell(row, s.name); cell(row, s.user); cell(row, s.status);
    cell(row, s.replicas, "num"); cell(row, s.running, "num"); cell(row, s.healthy, "num");
    cell(row, s.revision, "num");
    const td = row.insertCell();
    for (const r of s.replica_jobs) {
      const line = el("div");
      const a = el("a", "job", r.job_id);
      a.href = "#job/" + r.job_id;
      line.append(a, " " + r.state + (r.node ? " on " + r.node : "") +
                     (r.port ? " :" + r.port : "") + " r" + r.revision + " " + r.health);
      td.appendChild(line);
    }
  }, "no services");
}
function showFrameworks(frameworks) {
  fill("framework-table", frameworks, (row, f) => {
    cell(row, f.name); cell(row, f.user); cell(row, f.account); cell(row, f.mode);
    cell(row, f.connected ? "connected" : "failover since " + time(f.disconnected_at));
    cell(row, (f.leases.length - f.pending_leases) + " (" + f.pending_leases + ")", "num");
    cell(row, f.usage.cpus, "num"); cell(row, f.usage.mem_mb, "num"); cell(row, f.usage.gpus, "num");
    cell(row, f.tasks_launched, "num");
  }, "no frameworks");
}

// ---- the job page (#job/ID): its fields, why it waits, its allocation and steps
function openJobId() {
  const m = /^#job\/(\d+)$/.exec(location.hash);
  return m ? m[1] : null;
}
function showJob(job) {
  document.getElementById("job-title").textContent = jobId(job) + " " + job.name;
  document.getElementById("job-error").textContent = "";
  const dl = document.getElementById("job-fields");
  dl.replaceChildren();
  const field = (name, value, cls) => {
    if (value === null || value === undefined || value === "") return;
    dl.append(el("dt", "", name), el("dd", cls, value));
  };
  field("state", job.state, "state " + job.state);
  field("reason", job.reason);
  field("user", job.user); field("account", job.account); field("partition", job.partition);
  field("qos", job.qos);
  field("tasks × cpus", job.ntasks + " × " + job.cpus_per_task);
  field("memory MB", job.mem_mb);
  field("time limit s", job.time_limit_s);
  field("submitted", time(job.submit_time)); field("expected start", time(job.expected_start_time));
  field("started", time(job.start_time)); field("ended", time(job.end_time));
  field("elapsed", elapsed(job)); field("exit code", job.exit_code);
  field("nodes", job.nodes.join(","));
  field("work dir", job.work_dir); field("stdout", job.stdout); field("stderr", job.stderr);
  field("preempted by", job.preempted_by); field("profile", job.profile_dir);
  const why = document.getElementById("job-why");
  why.textContent = job.state === "PENDING"
      ? (job.reason_detail || job.reason || "(no reason given yet)")
      : "not pending (" + job.state + ")";
  fill("job-allocation", job.allocation, (row, a) => {
    cell(row, a.node); cell(row, a.ntasks, "num"); cell(row, a.cores.join(","));
    cell(row, a.numa.join(",")); cell(row, a.gpus.join(",")); cell(row, a.mem_mb, "num");
  }, job.state === "PENDING" ? "nothing allocated yet" : "no allocation");
  fill("job-steps", job.steps, (row, s) => {
    cell(row, s.id); cell(row, s.name); cell(row, s.state, "state " + s.state);
    cell(row, s.exit_code, "num"); cell(row, s.ntasks, "num"); cell(row, s.nodes.join(","));
    cell(row, time(s.start_time)); cell(row, time(s.end_time));
  }, "no steps");
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) {
    let message = "HTTP " + r.status;
    try { message = (await r.json()).error || message; } catch (e) {}
    throw new Error(path + ": " + message);
  }
  return r.json();
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  const status = document.getElementById("status");
  const id = openJobId();
  document.body.classList.toggle("job-open", id !== null);
  try {
    if (Date.now() - topologyAt > kTopologyRefreshMs) {
      topology = await getJson("api/topology");
      topologyAt = Date.now();
    }
    const [jobs, nodes, shares, quotas, services, frameworks] = await Promise.all([
      getJson("api/jobs?state=all"), getJson("api/nodes"), getJson("api/shares"),
      getJson("api/quotas"), getJson("api/services"), getJson("api/frameworks")]);
    if (nodes.nodes.some(n => !topology.nodes.some(t => t.name === n.name))) topologyAt = 0;  // a new node
    showJobs(jobs.jobs);
    showNodes(nodes.nodes, jobs.jobs);
    showShares(shares);
    showQuotas(quotas);
    showServices(services);
    showFrameworks(frameworks);
    if (id !== null) {
      try {
        showJob(await getJson("api/jobs/" + id));
      } catch (e) {
        document.getElementById("job-title").textContent = id;
        document.getElementById("job-error").textContent = e.message;
      }
    }
    status.className = "";
    status.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    status.className = "error";
    status.textContent = "cannot reach the controller (" + e.message + "); retrying";
  }
  timer = setTimeout(refresh, kRefreshMs);
}
window.addEventListener("hashchange", () => {
  refresh();
  if (openJobId() !== null) window.scrollTo(0, 0);
});
refresh();
</script>
</body>
</html>
)page";

}  // namespace

std::string_view dashboardPage() { return kPage; }

}  // namespace locus::controller
