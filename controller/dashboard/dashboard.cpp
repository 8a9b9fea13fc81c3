// Routes of the web dashboard: JSON built by proto/json.hpp from the same Controller calls the
// gRPC ClientApi answers ListJobs, GetJob and ListNodes with.
#include "controller/dashboard/dashboard.hpp"

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http_server.hpp"
#include "controller/controller.hpp"
#include "proto/json.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

constexpr const char* kJsonType = "application/json";
constexpr std::string_view kJobPrefix = "/api/jobs/";

HttpResponse json(int status, const nlohmann::json& body) {
  return HttpResponse{status, kJsonType, body.dump() + "\n"};
}

HttpResponse jsonError(int status, const std::string& message) {
  return json(status, nlohmann::json{{"error", message}});
}

// ?state=all, ?state=PENDING,RUNNING (as `locus queue --state`), repeated or comma-separated.
void addStates(const std::string& value, proto::ListJobsRequest& req) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    std::string one = value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!one.empty()) req.add_states(one == "all" ? "ALL" : one);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

}  // namespace

void addDashboardRoutes(HttpServer& http, Controller& controller) {
  http.get("/", [](const HttpRequest&) {
    return HttpResponse{200, "text/html; charset=utf-8", std::string(dashboardPage())};
  });
  http.get("/api/jobs", [&controller](const HttpRequest& r) {
    proto::ListJobsRequest req;
    for (auto [it, end] = r.params.equal_range("state"); it != end; ++it) addStates(it->second, req);
    if (auto it = r.params.find("user"); it != r.params.end()) req.set_user(it->second);
    const proto::ListJobsReply reply = controller.listJobs(req);  // the loop must not dangle
    nlohmann::json out{{"jobs", nlohmann::json::array()}};
    for (const auto& job : reply.jobs()) out["jobs"].push_back(proto::jobToJson(job));
    return json(200, out);
  });
  http.getPrefix(std::string(kJobPrefix), [&controller](const HttpRequest& r) {
    const std::string id_text = r.path.substr(kJobPrefix.size());
    char* end = nullptr;
    errno = 0;
    unsigned long long id = std::strtoull(id_text.c_str(), &end, 10);
    if (id_text.empty() || *end != '\0' || errno != 0 || id == 0 || id_text[0] == '-')
      return jsonError(404, "no job '" + id_text + "'");
    auto job = controller.getJob(id);
    if (!job.ok())
      return jsonError(job.error().code == ErrorCode::kNotFound ? 404 : 500, job.error().message);
    return json(200, proto::jobToJson(*job));
  });
  http.get("/api/nodes", [&controller](const HttpRequest&) {
    const proto::ListNodesReply reply = controller.listNodes();
    nlohmann::json out{{"nodes", nlohmann::json::array()}};
    for (const auto& n : reply.nodes()) out["nodes"].push_back(proto::nodeToJson(n));
    return json(200, out);
  });
}

}  // namespace locus::controller
