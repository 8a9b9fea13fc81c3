// Routes of the web dashboard: JSON built by proto/json.hpp from the same Controller calls the
// gRPC ClientApi answers ListJobs, GetJob, ListNodes, Shares, Quotas and ManageService (list) with,
// and FrameworkApi ListFrameworks.
#include "controller/dashboard/dashboard.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
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

// A Controller error as the gRPC service would classify it: the caller's fault or the server's.
HttpResponse jsonError(const Error& error) {
  const int status = error.code == ErrorCode::kNotFound          ? 404
                     : error.code == ErrorCode::kInvalidArgument ? 400
                                                                 : 500;
  return jsonError(status, error.message);
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
    if (!job.ok()) return jsonError(job.error());
    return json(200, proto::jobToJson(*job));
  });
  http.get("/api/nodes", [&controller](const HttpRequest&) {
    const proto::ListNodesReply reply = controller.listNodes();
    nlohmann::json out{{"nodes", nlohmann::json::array()}};
    for (const auto& n : reply.nodes()) out["nodes"].push_back(proto::nodeToJson(n));
    return json(200, out);
  });
  http.get("/api/topology", [&controller](const HttpRequest&) {
    return json(200, proto::topologyToJson(controller.listNodes()));
  });
  http.get("/api/shares", [&controller](const HttpRequest&) {
    return json(200, proto::sharesToJson(controller.shares()));
  });
  http.get("/api/quotas", [&controller](const HttpRequest& r) {
    auto it = r.params.find("pool");
    auto reply = controller.quotas(it == r.params.end() ? "" : it->second);
    if (!reply.ok()) return jsonError(reply.error());
    return json(200, proto::quotasToJson(*reply));
  });
  http.get("/api/services", [&controller](const HttpRequest&) {
    // "list" needs no identity: anyone may list every service (as `locus service list`). The uid
    // is not root's 0, so that the request could never pass for an admin's.
    proto::ServiceRequest req;
    req.set_op("list");
    req.set_uid(std::numeric_limits<uint32_t>::max());
    auto reply = controller.manageService(req);
    if (!reply.ok()) return jsonError(reply.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : reply->services()) out.push_back(proto::serviceToJson(s));
    return json(200, out);
  });
  http.get("/api/frameworks", [&controller](const HttpRequest&) {
    const proto::ListFrameworksReply reply = controller.listFrameworks();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : reply.frameworks()) out.push_back(proto::frameworkToJson(f));
    return json(200, out);
  });
}

}  // namespace locus::controller
