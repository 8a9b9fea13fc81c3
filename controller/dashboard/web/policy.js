// Fair share, quotas, services and frameworks: one table each.
import { bar, cell, el, fill, time } from "./dom.js";

function fixed(x, digits) { return typeof x === "number" ? x.toFixed(digits) : ""; }
export function showShares(shares) {
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
export function showQuotas(quotas) {
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
export function showServices(services) {
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
export function showFrameworks(frameworks) {
  fill("framework-table", frameworks, (row, f) => {
    cell(row, f.name); cell(row, f.user); cell(row, f.account); cell(row, f.mode);
    cell(row, f.connected ? "connected" : "failover since " + time(f.disconnected_at));
    cell(row, (f.leases.length - f.pending_leases) + " (" + f.pending_leases + ")", "num");
    cell(row, f.usage.cpus, "num"); cell(row, f.usage.mem_mb, "num"); cell(row, f.usage.gpus, "num");
    cell(row, f.tasks_launched, "num");
  }, "no frameworks");
}
