// The job page's profile (--profile): CPU use and RSS over time, one line per node, step and
// task, from /api/jobs/ID/profile, drawn with Chart.js (Debian's libjs-chart.js, bundled in).
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

const kColors = ["#0b57d0", "#c26a00", "#176e1b", "#b00", "#6a3fb5", "#00838f", "#8a5a00", "#555"];
const charts = {};  // canvas id -> Chart

// One dataset per (node, step, task): points {x: seconds since the first sample, y}.
function series(profile, key) {
  let t0 = Infinity;
  for (const n of profile.nodes) for (const t of n.tasks) if (t.time.length) t0 = Math.min(t0, t.time[0]);
  const out = [];
  for (const n of profile.nodes) {
    for (const t of n.tasks) {
      if (!t.time.length) continue;
      const color = kColors[out.length % kColors.length];
      out.push({
        label: n.node + " " + (t.step === "batch" ? "batch" : "step " + t.step) + " task " + t.task,
        data: t.time.map((x, i) => ({ x: x - t0, y: t[key][i] })),
        borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 1.5,
      });
    }
  }
  return out;
}

function draw(canvasId, title, unit, datasets) {
  const options = {
    animation: false, maintainAspectRatio: false, parsing: false,
    scales: {
      x: { type: "linear", title: { display: true, text: "seconds since the first sample" } },
      y: { type: "linear", beginAtZero: true, title: { display: true, text: title + " (" + unit + ")" } },
    },
    plugins: { legend: { position: "bottom" } },
  };
  const chart = charts[canvasId];
  if (chart) {
    chart.data.datasets = datasets;
    chart.update("none");
    return;
  }
  charts[canvasId] = new Chart(document.getElementById(canvasId), { type: "line", data: { datasets }, options });
}

// Draws `profile` (the JSON of /api/jobs/ID/profile).
export function showProfile(profile) {
  const cpu = series(profile, "cpu_percent");
  const box = document.getElementById("job-profile");
  let samples = 0;
  for (const d of cpu) samples += d.data.length;
  box.hidden = cpu.length === 0;
  box.dataset.series = cpu.length;
  box.dataset.samples = samples;
  const interval = profile.nodes.length ? profile.nodes[0].interval_s : 0;
  document.getElementById("job-profile-note").textContent = cpu.length
      ? samples + " samples every " + interval + " s from " + profile.nodes.length + " node file(s) in " + profile.dir
      : "no samples yet (the job has run less than one interval)";
  if (!cpu.length) return;
  draw("profile-cpu", "CPU", "% of one core", cpu);
  draw("profile-rss", "RSS", "MiB", series(profile, "rss_mb"));
}

// No profile to draw: says why (not profiled, not started, files out of reach).
export function showNoProfile(message) {
  const box = document.getElementById("job-profile");
  box.hidden = true;
  box.dataset.series = 0;
  box.dataset.samples = 0;
  document.getElementById("job-profile-note").textContent = message;
}
