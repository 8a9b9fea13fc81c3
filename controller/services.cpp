#include "controller/services.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace locus::controller {

const ServiceRevision& Service::revision(uint32_t number) const {
  for (const auto& r : revisions)
    if (r.number == number) return r;
  return revisions.back();
}

uint32_t minHealthy(const Service& s) {
  return static_cast<uint32_t>(std::ceil(std::clamp(s.min_healthy, 0.0, 1.0) * s.replicas - 1e-9));
}

uint32_t maxTotal(const Service& s) {
  // Rounded up, as Kubernetes rounds maxSurge, so that a small service can still roll (2 replicas
  // at 0.25: 1 extra).
  return s.replicas + static_cast<uint32_t>(std::ceil(std::clamp(s.max_surge, 0.0, 1.0) * s.replicas - 1e-9));
}

ReconcilePlan planReconcile(const Service& s, const std::vector<ReplicaView>& live, bool allow_create) {
  ReconcilePlan plan;
  if (s.deleting) {
    for (const auto& r : live) plan.stop.push_back(r.job_id);
    return plan;
  }
  std::vector<ReplicaView> current, old;
  for (const auto& r : live) (r.revision == s.current ? current : old).push_back(r);

  // Replicas whose check failed are replaced: stopped here, created again below.
  auto drop_unhealthy = [&](std::vector<ReplicaView>& list) {
    for (auto it = list.begin(); it != list.end();) {
      if (it->unhealthy) {
        plan.stop.push_back(it->job_id);
        it = list.erase(it);
      } else {
        ++it;
      }
    }
  };
  drop_unhealthy(current);
  drop_unhealthy(old);

  if (old.empty()) {
    if (current.size() < s.replicas) {
      if (allow_create) plan.create = s.replicas - static_cast<uint32_t>(current.size());
    } else if (current.size() > s.replicas) {
      // Scale down: pending ones first, then the not yet healthy, then the youngest.
      std::sort(current.begin(), current.end(), [](const ReplicaView& a, const ReplicaView& b) {
        if (a.running != b.running) return !a.running;
        if (a.healthy != b.healthy) return !a.healthy;
        if (a.start_time != b.start_time) return a.start_time > b.start_time;
        return a.job_id > b.job_id;
      });
      for (size_t i = 0; i < current.size() - s.replicas; ++i) plan.stop.push_back(current[i].job_id);
    }
    return plan;
  }

  // A rollout: new replicas within the surge, old ones stopped while the healthy minimum holds.
  const uint32_t total = static_cast<uint32_t>(current.size() + old.size());
  if (current.size() < s.replicas && total < maxTotal(s) && allow_create)
    plan.create = std::min<uint32_t>(s.replicas - static_cast<uint32_t>(current.size()), maxTotal(s) - total);
  uint32_t healthy = 0;
  for (const auto* list : {&current, &old})
    for (const auto& r : *list) healthy += r.healthy ? 1 : 0;
  const uint32_t keep = minHealthy(s);
  // Not healthy first (stopping them costs nothing), then the youngest.
  std::sort(old.begin(), old.end(), [](const ReplicaView& a, const ReplicaView& b) {
    if (a.healthy != b.healthy) return !a.healthy;
    if (a.start_time != b.start_time) return a.start_time > b.start_time;
    return a.job_id > b.job_id;
  });
  for (const auto& r : old) {
    if (!r.healthy) {
      plan.stop.push_back(r.job_id);
      continue;
    }
    if (healthy == 0 || healthy - 1 < keep) break;
    plan.stop.push_back(r.job_id);
    --healthy;
  }
  return plan;
}

std::string serviceToJson(const Service& s) {
  nlohmann::json revisions = nlohmann::json::array();
  for (const auto& r : s.revisions)
    revisions.push_back({{"number", r.number}, {"command", r.command}, {"environment", r.environment},
                         {"cpus", r.cpus}, {"mem_mb", r.mem_mb}, {"created", r.created}});
  return nlohmann::json{{"name", s.name},
                        {"user", s.user},
                        {"uid", s.uid},
                        {"gid", s.gid},
                        {"account", s.account},
                        {"pool", s.pool},
                        {"work_dir", s.work_dir},
                        {"container", s.container},
                        {"replicas", s.replicas},
                        {"gpus", s.gpus},
                        {"port", s.port},
                        {"health",
                         {{"cmd", s.health.cmd},
                          {"http_path", s.health.http_path},
                          {"interval_s", s.health.interval_s},
                          {"grace_s", s.health.grace_s},
                          {"max_failures", s.health.max_failures}}},
                        {"min_healthy", s.min_healthy},
                        {"max_surge", s.max_surge},
                        {"revisions", revisions},
                        {"current", s.current},
                        {"created", s.created},
                        {"deleting", s.deleting}}
      .dump();
}

std::optional<Service> serviceFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Service s;
    s.name = j.at("name");
    s.user = j.value("user", "");
    s.uid = j.value("uid", 0u);
    s.gid = j.value("gid", 0u);
    s.account = j.value("account", "");
    s.pool = j.value("pool", "");
    s.work_dir = j.value("work_dir", "/");
    s.container = j.value("container", "");
    s.replicas = j.value("replicas", 1u);
    s.gpus = j.value("gpus", 0u);
    s.port = j.value("port", false);
    const auto& h = j.at("health");
    s.health = {h.value("cmd", ""), h.value("http_path", ""), h.value("interval_s", 10u), h.value("grace_s", 30u),
                h.value("max_failures", 3u)};
    s.min_healthy = j.value("min_healthy", 0.75);
    s.max_surge = j.value("max_surge", 0.25);
    for (const auto& r : j.at("revisions"))
      s.revisions.push_back({r.at("number"), r.value("command", ""),
                             r.value("environment", std::map<std::string, std::string>{}), r.value("cpus", 1u),
                             r.value("mem_mb", uint64_t{0}), r.value("created", int64_t{0})});
    if (s.revisions.empty()) return std::nullopt;
    s.current = j.value("current", s.revisions.back().number);
    s.created = j.value("created", int64_t{0});
    s.deleting = j.value("deleting", false);
    return s;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace locus::controller
