// The dashboard page served at "/": HTML, CSS and plain JavaScript in one raw string, so the
// controller binary carries it and nothing is fetched from elsewhere (the machines are offline,
// and there is no front-end build step). It polls /api/jobs?state=all and /api/nodes.
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
  header { display: flex; align-items: baseline; gap: 1em; }
  h1 { font-size: 1.4em; margin: .6em 0; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  #status { color: #666; font-size: .9em; }
  #status.error { color: #b00; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .empty { color: #888; font-style: italic; }
  .state { font-weight: 600; }
  .COMPLETED { color: #176e1b; } .FAILED, .TIMEOUT, .NODE_FAIL, .OUT_OF_MEMORY { color: #b00; }
  .CANCELLED, .PREEMPTED { color: #8a5a00; } .RUNNING { color: #0b57d0; } .PENDING { color: #555; }
  .DOWN, .UNKNOWN { color: #b00; } .UP { color: #176e1b; }
  .bar { display: inline-block; width: 6em; height: .7em; background: #e4e4e4; margin-right: .4em; }
  .bar span { display: block; height: 100%; background: #0b57d0; }
  .detail { color: #666; font-size: .9em; }
</style>
</head>
<body>
<header><h1>Locus dashboard</h1><span id="status">loading…</span></header>
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
<h2>Nodes <span id="n-nodes"></span></h2>
<table><thead><tr><th>Node</th><th>State</th><th>Cores (alloc/total)</th><th>Memory MB (alloc/total)</th>
  <th>GPUs (alloc/total)</th><th>NUMA</th><th>Features</th></tr></thead>
  <tbody id="nodes"></tbody></table>
<script>
"use strict";
const kRefreshMs = 3000;   // how often both lists are fetched again
const kRecent = 20;        // finished jobs shown, newest first
const ACTIVE = new Set(["PENDING", "RUNNING", "SUSPENDED", "COMPLETING"]);

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
function fill(id, rows, render, empty) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = 9; td.className = "empty"; td.textContent = empty;
  }
  for (const r of rows) render(body.insertRow(), r);
}
function usage(row, alloc, total) {
  const td = row.insertCell();
  td.className = "num";
  const bar = document.createElement("span");
  bar.className = "bar";
  const fillEl = document.createElement("span");
  fillEl.style.width = (total ? Math.min(100, 100 * alloc / total) : 0) + "%";
  bar.appendChild(fillEl);
  td.append(bar, alloc + "/" + total);
}

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
    cell(row, jobId(j)); cell(row, j.name); cell(row, j.user); cell(row, j.account);
    cell(row, j.partition); cell(row, j.ntasks + "×" + j.cpus_per_task, "num");
    const why = cell(row, j.reason);
    if (j.reason_detail) {
      const d = document.createElement("div");
      d.className = "detail"; d.textContent = j.reason_detail; why.appendChild(d);
    }
    cell(row, time(j.submit_time)); cell(row, time(j.expected_start_time));
  }, "no pending jobs");
  fill("running", running, (row, j) => {
    cell(row, jobId(j)); cell(row, j.name); cell(row, j.user); cell(row, j.account);
    cell(row, j.ntasks + "×" + j.cpus_per_task, "num"); cell(row, j.nodes.join(","));
    cell(row, time(j.start_time)); cell(row, elapsed(j), "num");
  }, "no running jobs");
  fill("recent", recent, (row, j) => {
    cell(row, jobId(j)); cell(row, j.name); cell(row, j.user);
    cell(row, j.state, "state " + j.state); cell(row, j.exit_code, "num");
    cell(row, j.nodes.join(",")); cell(row, time(j.end_time)); cell(row, elapsed(j), "num");
  }, "no finished jobs");
}

function showNodes(nodes) {
  document.getElementById("n-nodes").textContent = "(" + nodes.length + ")";
  fill("nodes", nodes, (row, n) => {
    cell(row, n.name); cell(row, n.state, "state " + n.state);
    usage(row, n.cpus_alloc, n.cpus); usage(row, n.mem_alloc_mb, n.mem_mb);
    usage(row, n.gpus_alloc, n.gpus.length); cell(row, n.numa_domains, "num");
    cell(row, n.features.join(","));
  }, "no nodes registered");
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const [jobs, nodes] = await Promise.all([getJson("api/jobs?state=all"), getJson("api/nodes")]);
    showJobs(jobs.jobs);
    showNodes(nodes.nodes);
    status.className = "";
    status.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    status.className = "error";
    status.textContent = "cannot reach the controller (" + e.message + "); retrying";
  }
  setTimeout(refresh, kRefreshMs);
}
refresh();
</script>
</body>
</html>
)page";

}  // namespace

std::string_view dashboardPage() { return kPage; }

}  // namespace locus::controller
