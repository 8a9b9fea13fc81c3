// The queue: pending (with why), running, and the most recent finished jobs.
import { ACTIVE, cell, el, elapsed, fill, jobLink, time } from "./dom.js";

const kRecent = 20;  // finished jobs shown, newest first

export function showJobs(jobs) {
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
