// Routes of the web dashboard: JSON built by proto/json.hpp from the same Controller calls the
// gRPC ClientApi answers ListJobs, GetJob, ListNodes, Shares, Quotas, ManageService (list),
// WatchEvents and CancelJob with, and FrameworkApi ListFrameworks; job profiles read as `locus
// profile` reads them (profile/profile_reader.hpp).
#include "controller/dashboard/dashboard.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "controller/controller.hpp"
#include "profile/profile_reader.hpp"
#include "proto/json.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

auto log() {
  static auto l = logger("controller.dashboard");
  return l;
}

constexpr const char* kJsonType = "application/json";
constexpr std::string_view kJobPrefix = "/api/jobs/";
// /api/events: events per read of the log (as WatchEvents).
constexpr size_t kEventBatch = 512;
// A stream that has sent nothing for this long sends a comment: proxies keep the connection, and
// a client that went away is noticed (the write fails) and its thread freed.
constexpr auto kHeartbeat = std::chrono::seconds{15};
// A filtered stream that has passed this many ids without sending anything sends "id: N", so
// a browser that reconnects resumes within what the log keeps (WatchEvents' bookmarks).
constexpr uint64_t kBookmarkEvery = 1000;
// How long the browser waits before reconnecting a dropped stream (the SSE "retry" field).
constexpr int kReconnectMs = 2000;

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

// "42" -> 42; nullopt for anything else (0, negative, trailing text, overflow).
std::optional<uint64_t> parseId(const std::string& text, bool zero_ok = false) {
  char* end = nullptr;
  errno = 0;
  unsigned long long id = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || (id == 0 && !zero_ok) || text[0] == '-')
    return std::nullopt;
  return id;
}

// Every comma-separated word of every value of query parameter `name`.
std::vector<std::string> listParam(const HttpRequest& r, const std::string& name) {
  std::vector<std::string> out;
  for (auto [it, end] = r.params.equal_range(name); it != end; ++it) {
    size_t pos = 0;
    const std::string& value = it->second;
    while (pos <= value.size()) {
      size_t comma = value.find(',', pos);
      std::string one =
          value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (!one.empty()) out.push_back(one);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return out;
}

// /api/events: the request as `locus events` would make it. Errors: kInvalidArgument.
Result<proto::WatchEventsRequest> eventsRequest(const HttpRequest& r) {
  proto::WatchEventsRequest req;
  for (const auto& j : listParam(r, "job")) {
    auto id = parseId(j);
    if (!id) return invalidArgument("job: invalid job id '" + j + "'");
    req.add_job_ids(*id);
  }
  if (auto it = r.params.find("user"); it != r.params.end()) req.set_user(it->second);
  if (auto it = r.params.find("nodes"); it != r.params.end())
    req.set_nodes(it->second == "1" || it->second == "true");
  // A reconnecting EventSource sends Last-Event-ID: it wins over the ?after= of its URL.
  std::string after = r.header("Last-Event-ID");
  if (after.empty())
    if (auto it = r.params.find("after"); it != r.params.end()) after = it->second;
  if (!after.empty()) {
    auto id = parseId(after, /*zero_ok=*/true);
    if (!id) return invalidArgument("invalid event id '" + after + "'");
    req.set_after_id(*id);
  }
  return req;
}

// One SSE message: "id: N", the event's JSON on one "data:" line (dump() escapes newlines).
std::string sseMessage(const Event& e) {
  return "id: " + std::to_string(e.id) + "\ndata: " + proto::eventToJson(toProto(e)).dump() +
         "\n\n";
}

// The job id of /api/jobs/ID/cancel.
std::optional<uint64_t> cancelTarget(const std::string& path) {
  constexpr std::string_view kSuffix = "/cancel";
  if (path.size() <= kJobPrefix.size() + kSuffix.size()) return std::nullopt;
  return parseId(path.substr(kJobPrefix.size(), path.size() - kJobPrefix.size() - kSuffix.size()));
}

// "Bearer TOKEN" (the scheme in any case) -> TOKEN; "" otherwise.
std::string bearerToken(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  std::string token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return token;
}

// /api/jobs/ID/profile: per node, per (step, task), the series as arrays (one value per sample).
nlohmann::json profileJson(uint64_t id, const std::string& dir,
                           const std::vector<profile::NodeProfile>& nodes) {
  nlohmann::json out{{"job_id", id}, {"dir", dir}, {"nodes", nlohmann::json::array()}};
  for (const auto& n : nodes) {
    nlohmann::json tasks = nlohmann::json::array();
    const bool gpu = n.gpu == profile::kGpuSampled;
    for (const auto& t : n.tasks) {
      nlohmann::json task{{"step", t.step}, {"task", t.task}};
      auto column = [&](const char* name, auto get) {
        nlohmann::json values = nlohmann::json::array();
        for (const auto& sample : t.samples) values.push_back(get(sample));
        task[name] = std::move(values);
      };
      column("time", [](const profile::Sample& x) { return x.time; });
      column("cpu_percent", [](const profile::Sample& x) { return x.cpu_percent; });
      column("rss_mb", [](const profile::Sample& x) { return x.rss_mb; });
      column("read_bytes", [](const profile::Sample& x) { return x.read_bytes; });
      column("write_bytes", [](const profile::Sample& x) { return x.write_bytes; });
      if (gpu) {
        auto orNull = [](const std::optional<double>& v) {
          return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
        };
        column("gpu_util_percent",
               [&](const profile::Sample& x) { return orNull(x.gpu_util_percent); });
        column("gpu_mem_mb", [&](const profile::Sample& x) { return orNull(x.gpu_mem_mb); });
      }
      tasks.push_back(std::move(task));
    }
    out["nodes"].push_back({{"node", n.node},
                            {"interval_s", n.interval_s},
                            {"profile", n.profile},
                            {"gpu", n.gpu},
                            {"tasks", std::move(tasks)}});
  }
  return out;
}

HttpResponse jobProfile(Controller& controller, uint64_t id) {
  auto job = controller.getJob(id);
  if (!job.ok()) return jsonError(job.error());
  const std::string id_text = std::to_string(id);
  if (job->spec().profile().empty() || job->profile_dir().empty())
    return jsonError(
        404, "job " + id_text + " was not profiled (submit it with --profile task or task,gpu)");
  const std::string dir = job->profile_dir() + "/" + id_text;
  const std::vector<std::string> files = profile::jobFiles(dir);
  if (files.empty()) {
    if (job->state() == "PENDING")
      return jsonError(404, "job " + id_text + " has not started: no profile yet");
    return jsonError(
        404, "no profile of job " + id_text + " in " + dir +
                 ": the controller cannot read it there (is [profile] dir on a filesystem the "
                 "controller shares with the nodes?)");
  }
  std::vector<profile::NodeProfile> nodes;
  for (const std::string& f : files) {
    auto read = profile::readProfiles(f);
    if (!read.ok()) return jsonError(500, read.error().message);
    for (auto& p : *read) nodes.push_back(std::move(p));
  }
  return json(200, profileJson(id, dir, nodes));
}

// POST /api/jobs/ID/cancel, as the admin whose token the request bears.
HttpResponse cancelJob(Controller& controller, const HttpRequest& r) {
  const std::string token = bearerToken(r.header("Authorization"));
  auto holder = token.empty()
                    ? std::nullopt
                    : controller.dashboardTokens().check(token, DashboardTokens::Clock::now());
  if (!holder) {
    HttpResponse denied =
        jsonError(401, token.empty() ? "a dashboard token is needed (locus token)"
                                     : "invalid or expired dashboard token (locus token)");
    denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"locus\"");
    return denied;
  }
  auto id = cancelTarget(r.path);
  if (!id) return jsonError(404, "no job in '" + r.path + "'");
  proto::CancelJobRequest req;
  req.add_job_ids(*id);
  req.set_user(holder->user);
  req.set_uid(holder->uid);
  const proto::CancelJobReply reply = controller.cancel(req);
  const auto& result = reply.results(0);
  log()->info("dashboard cancel job={} user={} ok={} {}", *id, holder->user, result.ok(),
              result.message());
  if (result.ok())
    return json(200, nlohmann::json{{"job_id", *id}, {"ok", true}, {"user", holder->user}});
  const std::string& message = result.message();
  const int status = message.find("not found") != std::string::npos ? 404
                     : message.rfind("permission denied", 0) == 0   ? 403
                     : message.rfind("not stored", 0) == 0          ? 500
                                                                    : 409;
  return jsonError(status, message);
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
    std::string id_text = r.path.substr(kJobPrefix.size());
    constexpr std::string_view kProfile = "/profile";
    const bool profile = id_text.size() > kProfile.size() && id_text.ends_with(kProfile);
    if (profile) id_text.resize(id_text.size() - kProfile.size());
    auto id = parseId(id_text);
    if (!id) return jsonError(404, "no job '" + id_text + "'");
    if (profile) return jobProfile(controller, *id);
    auto job = controller.getJob(*id);
    if (!job.ok()) return jsonError(job.error());
    return json(200, proto::jobToJson(*job));
  });
  http.post("/api/jobs/[0-9]+/cancel",
            [&controller](const HttpRequest& r) { return cancelJob(controller, r); });
  http.getStream("/api/events", [&controller](const HttpRequest& r) {
    HttpStreamReply reply;
    auto req = eventsRequest(r);
    if (!req.ok()) {
      reply.response = jsonError(req.error());
      return reply;
    }
    auto watch = controller.watchEvents(*req);
    if (!watch.ok()) {
      // Too old (or too new) a resume id: 410, so that the page starts afresh.
      reply.response = watch.error().code == ErrorCode::kFailedPrecondition
                           ? jsonError(410, watch.error().message)
                           : jsonError(watch.error());
      return reply;
    }
    reply.response.content_type = "text/event-stream";
    reply.response.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
    reply.produce = [&controller, watch = std::move(*watch)](HttpStream& out) {
      uint64_t cursor = watch.after_id;
      // Where the stream starts, before any event: the page knows it is connected (and the
      // browser where to resume, should it drop before the first event).
      if (!out.write("retry: " + std::to_string(kReconnectMs) + "\nid: " + std::to_string(cursor) +
                     "\n\n"))
        return;
      uint64_t told = cursor;  // the last id the client has heard of
      auto quiet_since = std::chrono::steady_clock::now();
      while (!out.stopping()) {
        auto batch =
            controller.events().read(cursor, watch.filter, kEventBatch,
                                     std::chrono::steady_clock::now() + HttpServer::kStreamSlice);
        if (!batch.ok()) return;  // the controller stops, or this reader fell behind: reconnect
        cursor = batch->cursor;
        std::string chunk;
        for (const Event& e : batch->events) {
          chunk += sseMessage(e);
          told = e.id;
        }
        const auto now = std::chrono::steady_clock::now();
        if (chunk.empty() && (cursor - told >= kBookmarkEvery || now - quiet_since >= kHeartbeat)) {
          chunk = ": keep-alive\n" +
                  (cursor != told ? "id: " + std::to_string(cursor) + "\n" : "") + "\n";
          told = cursor;
        }
        if (chunk.empty()) continue;
        if (!out.write(chunk)) return;
        quiet_since = now;
      }
    };
    return reply;
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
