#pragma once
// The controller's read-only web dashboard, on its --http port beside /metrics:
//
//   /                 one self-contained page (HTML, CSS, plain JS; no build step, no CDN) that
//                     polls the JSON below every 2 s
//   /api/jobs         {"jobs": [...]}, the objects of `locus queue --json`; ?state=all (or a
//                     comma-separated list, like --state) and ?user=NAME filter as the CLI does;
//                     the default is PENDING and RUNNING
//   /api/jobs/ID      one job, the object of `locus show ID --json`; 404 {"error": ...} if unknown
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
// Other methods than GET/HEAD are answered 405 by HttpServer. Thread-safety: the handlers call the
// Controller's public API, which takes its own lock.
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
