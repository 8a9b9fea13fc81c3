#pragma once
// The controller's web dashboard, on its --http port beside /metrics. Read-only, but for the
// one action an admin's token allows (cancel):
//
//   /                 one self-contained page (HTML, CSS and the bundled script, embedded at build
//                     time: controller/dashboard/web/, no CDN) that follows /api/events and
//                     refetches what an event says changed (and everything every 30 s)
//   /api/jobs         {"jobs": [...]}, the objects of `locus queue --json`; ?state=all (or a
//                     comma-separated list, like --state) and ?user=NAME filter as the CLI does;
//                     the default is PENDING and RUNNING
//   /api/jobs/ID      one job, the object of `locus show ID --json`; 404 {"error": ...} if unknown
//   /api/jobs/ID/profile
//                     the job's HDF5 profile (--profile) as read by `locus profile`: {"job_id",
//                     "dir", "nodes": [{"node", "interval_s", "profile", "gpu", "tasks": [{"step",
//                     "task", "time": [...], "cpu_percent", "rss_mb", "read_bytes", "write_bytes"
//                     (and "gpu_util_percent", "gpu_mem_mb" when gpu is "sampled")}]}]}, one array
//                     element per sample; 404 {"error": ...} if the job was not profiled, has not
//                     started, or its files are not where the controller can read them
//   POST /api/jobs/ID/cancel
//                     with "Authorization: Bearer TOKEN" (`locus token`): cancels the job as the
//                     token's admin, through Controller::cancel like `locus cancel` (its event
//                     included); 200 {"job_id", "ok": true, "user"}; 401 without a valid token
//                     (nothing changes), 404 unknown job, 409 already finished
//   /api/events       Server-Sent Events (text/event-stream): each event of the log as "id: N" and
//                     "data: " the object `locus events --json` prints; resumes after the
//                     Last-Event-ID header or ?after=ID, else starts now; ?job=ID (repeated or
//                     comma-separated), ?user=U and ?nodes=1 (node events too) filter as `locus
//                     events` does. Its first message is "id: N" alone (where it starts); a
//                     comment every 15 s when idle. 400 for a bad filter, 410 for a resume id the
//                     log no longer keeps (start afresh), 503 when HttpServer::kMaxStreams are open
//   /api/nodes        {"nodes": [...]}, the objects of `locus nodes --json`
//   /api/topology     {"switches": [...], "nodes": [...]}: the [[switch]] tree and each node's NUMA
//                     domains with their cores (what `locus nodes --topology` draws; no CLI --json)
//   /api/shares       {"rows": [...]}, `locus share --json`
//   /api/quotas       [...], `locus quota show --json`; ?pool=NAME as `locus quota show NAME`
//                     (404 {"error": ...} for an unknown pool)
//   /api/services     [...], `locus service list --json`
//   /api/frameworks   [...], `locus frameworks --json`
//
// The JSON comes from proto/json.hpp, the functions the CLI prints with, so the keys are the same.
// Other methods than GET/HEAD (and that POST) are answered 405 by HttpServer. Thread-safety: the
// handlers call the Controller's public API, which takes its own lock; an event stream waits on
// the event log, never under the controller's lock.
#include <string_view>

namespace locus {
class HttpServer;
}

namespace locus::controller {

class Controller;

// Adds the routes above to `http` (before http.start()). `controller` must outlive `http`'s
// serving (stop() the server first).
void addDashboardRoutes(HttpServer& http, Controller& controller);

// The page served at "/" (controller/dashboard/dashboard_page.cpp).
std::string_view dashboardPage();

}  // namespace locus::controller
