// The dashboard page: follows the controller's event stream (/api/events) and refetches what an
// event says changed (a job event: the queue, nodes, quotas, services, frameworks and the open
// job's page; a node event: the nodes and the switch tree); everything again every 30 s, and
// whenever the stream (re)opens, so a missed event costs at most that long.
import { followEvents, getJson } from "./api.js";
import { initJobActions, openJobId, showJob } from "./job.js";
import { showNodes } from "./nodes.js";
import { showFrameworks, showQuotas, showServices, showShares } from "./policy.js";
import { showNoProfile, showProfile } from "./profile.js";
import { showJobs } from "./queue.js";

const kFallbackMs = 30000;  // everything is fetched again this often, events or not
const kCoalesceMs = 100;    // the events of a burst (an array ending) cause one refetch
const kRetryMs = 5000;      // after a failed fetch
const kProfileMs = 10000;   // a running job's profile is refetched at most this often
const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"]);
const EVERYTHING = ["topology", "jobs", "nodes", "shares", "quotas", "services", "frameworks", "job", "profile"];

const data = { jobs: [], nodes: [], topology: { switches: [], nodes: [] } };
const dirty = new Set();  // what to fetch and draw again
let timer = null;
let fetching = false;
let live = false;
let events = 0;
let profileAt = 0;

function mark(...parts) {
  for (const p of parts) dirty.add(p);
  schedule(kCoalesceMs);
}

function schedule(delay) {
  if (timer === null) timer = setTimeout(update, delay);
}

function setStatus(text, cls) {
  const status = document.getElementById("status");
  status.className = cls;
  status.textContent = text;
}

async function update() {
  timer = null;
  if (fetching) return schedule(kCoalesceMs);
  fetching = true;
  const parts = new Set(dirty);
  dirty.clear();
  try {
    await redraw(parts);
    setStatus((live ? "live" : "event stream down, polling every " + kFallbackMs / 1000 + " s") +
              " · updated " + new Date().toLocaleTimeString(), live ? "live" : "");
  } catch (e) {
    for (const p of parts) dirty.add(p);
    setStatus("cannot reach the controller (" + e.message + "); retrying", "error");
    schedule(kRetryMs);
  } finally {
    fetching = false;
  }
}

async function redraw(parts) {
  const has = p => parts.has(p);
  const id = openJobId();
  document.body.classList.toggle("job-open", id !== null);
  if (has("topology")) data.topology = await getJson("api/topology");
  const [jobs, nodes, shares, quotas, services, frameworks] = await Promise.all([
    has("jobs") ? getJson("api/jobs?state=all") : null,
    has("nodes") ? getJson("api/nodes") : null,
    has("shares") ? getJson("api/shares") : null,
    has("quotas") ? getJson("api/quotas") : null,
    has("services") ? getJson("api/services") : null,
    has("frameworks") ? getJson("api/frameworks") : null]);
  if (jobs) data.jobs = jobs.jobs;
  if (nodes) {
    data.nodes = nodes.nodes;
    if (data.nodes.some(n => !data.topology.nodes.some(t => t.name === n.name))) {
      data.topology = await getJson("api/topology");  // a node registered since
    }
  }
  if (jobs) showJobs(data.jobs);
  if (jobs || nodes || has("topology")) showNodes(data.nodes, data.jobs, data.topology);
  if (shares) showShares(shares);
  if (quotas) showQuotas(quotas);
  if (services) showServices(services);
  if (frameworks) showFrameworks(frameworks);
  if (id !== null && has("job")) await redrawJob(id, has("profile"));
}

async function redrawJob(id, withProfile) {
  let job;
  try {
    job = await getJson("api/jobs/" + id);
  } catch (e) {
    document.getElementById("job-title").textContent = id;
    document.getElementById("job-error").textContent = e.message;
    return;
  }
  if (openJobId() !== id) return;  // the user moved on meanwhile
  showJob(job);
  if (!withProfile) return;
  profileAt = Date.now();
  try {
    const profile = await getJson("api/jobs/" + id + "/profile");
    if (openJobId() === id) showProfile(profile);
  } catch (e) {
    if (openJobId() === id) showNoProfile(e.message.replace(/^[^:]*: /, ""));
  }
}

function onEvent(e) {
  document.body.dataset.events = ++events;
  if (e.job_id === null) return mark("nodes", "topology");
  mark("jobs", "nodes", "quotas", "services", "frameworks");
  if (String(e.job_id) !== openJobId()) return;
  // The open job's page; its profile grows every interval, so not on every event.
  if (TERMINAL.has(e.new_state) || Date.now() - profileAt > kProfileMs) mark("job", "profile");
  else mark("job");
}

initJobActions(() => mark("job"));
window.addEventListener("hashchange", () => {
  mark("job", "profile");
  if (openJobId() !== null) window.scrollTo(0, 0);
});
followEvents({
  onOpen: () => {
    live = true;
    document.body.dataset.live = "1";
    mark(...EVERYTHING);  // events may have been missed while it was down
  },
  onEvent,
  onDown: () => {
    live = false;
    document.body.dataset.live = "0";
    setStatus("event stream down, reconnecting; polling every " + kFallbackMs / 1000 + " s", "");
  },
});
setInterval(() => mark(...EVERYTHING), kFallbackMs);
mark(...EVERYTHING);
