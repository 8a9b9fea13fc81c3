// Small DOM helpers shared by the views.

export const ACTIVE = new Set(["PENDING", "RUNNING", "SUSPENDED", "COMPLETING"]);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

export function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

export function time(t) { return t ? new Date(t).toLocaleString() : ""; }

export function elapsed(job) {
  if (!job.start_time) return "";
  const end = job.end_time ? new Date(job.end_time) : new Date();
  let s = Math.max(0, Math.round((end - new Date(job.start_time)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  s %= 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
}

export function jobId(job) {
  return job.array_job_id !== null ? job.array_job_id + "_" + job.array_task_id + " (" + job.id + ")"
                                   : String(job.id);
}

// The job's id, linking to its page, as the row's first cell; the row says which job and state
// it shows (data-job, data-state).
export function jobLink(row, job) {
  row.dataset.job = job.id;
  row.dataset.state = job.state;
  const td = row.insertCell();
  const a = el("a", "job", jobId(job));
  a.href = "#job/" + job.id;
  td.appendChild(a);
}

// Replaces the rows of tbody `id` with one per element of `rows` (render fills it), or one row
// saying `empty`.
export function fill(id, rows, render, empty) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = 10;
    td.className = "empty";
    td.textContent = empty;
  }
  for (const r of rows) render(body.insertRow(), r);
}

export function bar(alloc, total, warn) {
  const b = el("span", warn ? "bar warn" : "bar");
  const f = el("span");
  f.style.width = (total ? Math.min(100, 100 * alloc / total) : 0) + "%";
  b.appendChild(f);
  return b;
}

export function usage(row, alloc, total) {
  const td = row.insertCell();
  td.className = "num";
  td.append(bar(alloc, total), alloc + "/" + total);
}
