#include "controller/policy/qos.hpp"

namespace locus::policy {
namespace {

// One kind of limit: `held` already in use, `asked` by the job, `limit` unset = unlimited.
bool over(std::optional<uint32_t> limit, uint64_t held, uint64_t asked) {
  return limit && held + asked > *limit;
}

QosVerdict reject(std::string_view reason, std::string detail, bool never) {
  return QosVerdict{false, reason, std::move(detail), never};
}

// Checks jobs, cores, gpus of one scope (user or account); nullopt when within limits.
std::optional<QosVerdict> checkScope(const QosLevel& qos, const QosLimits& limits,
                                     const RunningUsage& used, const QosRequest& job,
                                     const std::string& who, std::string_view jobs_reason,
                                     std::string_view cpu_reason, std::string_view gres_reason) {
  const std::string in = ", QoS " + qos.name + " allows ";
  if (over(limits.max_running_jobs, used.running_jobs, 1)) {
    return reject(jobs_reason,
                  who + " runs " + std::to_string(used.running_jobs) + " jobs" + in +
                      std::to_string(*limits.max_running_jobs),
                  *limits.max_running_jobs == 0);
  }
  if (over(limits.max_cores, used.cores, job.cores)) {
    return reject(cpu_reason,
                  who + " uses " + std::to_string(used.cores) + " cores and the job asks " +
                      std::to_string(job.cores) + in + std::to_string(*limits.max_cores),
                  job.cores > *limits.max_cores);
  }
  if (over(limits.max_gpus, used.gpus, job.gpus)) {
    return reject(gres_reason,
                  who + " uses " + std::to_string(used.gpus) + " gpus and the job asks " +
                      std::to_string(job.gpus) + in + std::to_string(*limits.max_gpus),
                  job.gpus > *limits.max_gpus);
  }
  return std::nullopt;
}

}  // namespace

QosVerdict checkLimits(const QosLevel& qos, const RunningUsage& user, const RunningUsage& account,
                       const QosRequest& job) {
  if (qos.max_wall_s && (job.wall_s <= 0 || job.wall_s > *qos.max_wall_s)) {
    const std::string asked = job.wall_s <= 0 ? "no time limit" : std::to_string(job.wall_s) + " s";
    return reject(kReasonQosMaxWall,
                  "job asks " + asked + ", QoS " + qos.name + " allows " +
                      std::to_string(*qos.max_wall_s) + " s",
                  true);
  }
  if (auto v = checkScope(qos, qos.per_user, user, job, "user", kReasonQosMaxJobsPerUser,
                          kReasonQosMaxCpuPerUser, kReasonQosMaxGresPerUser)) {
    return *v;
  }
  if (auto v =
          checkScope(qos, qos.per_account, account, job, "account", kReasonQosMaxJobsPerAccount,
                     kReasonQosMaxCpuPerAccount, kReasonQosMaxGresPerAccount)) {
    return *v;
  }
  return {};
}

}  // namespace locus::policy
