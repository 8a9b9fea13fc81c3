// The job page (#job/ID): its fields, why it waits, its allocation and steps, and for an admin
// with a token a Cancel button.
import { postJson } from "./api.js";
import { ACTIVE, cell, el, elapsed, fill, jobId, time } from "./dom.js";

// The token field: kept in this tab's sessionStorage (gone when the tab closes).
const kTokenKey = "locus.dashboard.token";
// The Cancel button asks to be clicked again within this long.
const kConfirmMs = 5000;

export function token() { return sessionStorage.getItem(kTokenKey) || ""; }

let onChanged = () => {};
let confirmTimer = null;

// Wires the token field and the Cancel button; changed() runs after a cancel went through.
export function initJobActions(changed) {
  onChanged = changed;
  const field = document.getElementById("token");
  field.value = token();
  field.addEventListener("input", () => {
    const t = field.value.trim();
    if (t) sessionStorage.setItem(kTokenKey, t); else sessionStorage.removeItem(kTokenKey);
    changed();
  });
  document.getElementById("job-cancel").addEventListener("click", cancelClicked);
}

let shownJob = null;

function showCancel(job) {
  const button = document.getElementById("job-cancel");
  if (shownJob !== job.id) {
    document.getElementById("job-action-result").textContent = "";
    disarm(button);
  }
  shownJob = job.id;
  button.hidden = !token() || !ACTIVE.has(job.state);
}

function disarm(button) {
  clearTimeout(confirmTimer);
  button.classList.remove("confirm");
  button.textContent = "Cancel job";
}

async function cancelClicked() {
  const button = document.getElementById("job-cancel");
  const result = document.getElementById("job-action-result");
  if (!button.classList.contains("confirm")) {
    button.classList.add("confirm");
    button.textContent = "Click again to cancel job " + shownJob;
    confirmTimer = setTimeout(() => disarm(button), kConfirmMs);
    return;
  }
  disarm(button);
  button.disabled = true;
  try {
    const r = await postJson("api/jobs/" + shownJob + "/cancel", token());
    result.textContent = "cancelled by " + r.user;
  } catch (e) {
    result.textContent = "not cancelled: " + e.message;
  } finally {
    button.disabled = false;
  }
  onChanged();
}

export function openJobId() {
  const m = /^#job\/(\d+)$/.exec(location.hash);
  return m ? m[1] : null;
}
export function showJob(job) {
  document.getElementById("job-title").textContent = jobId(job) + " " + job.name;
  document.getElementById("job-error").textContent = "";
  document.getElementById("job-view").dataset.state = job.state;
  showCancel(job);
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
