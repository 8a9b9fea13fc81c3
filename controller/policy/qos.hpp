#pragma once
// QoS levels and their limits, checked before a job may start. A job over a limit stays pending
// with a Slurm-style reason (https://slurm.schedmd.com/job_reason_codes.html).
//
// Checks, in this order (the first failing one is the reason):
//   1. wall time requested > max_wall_s                     QOSMaxWallDurationPerJobLimit
//   2. user's running jobs + 1 > per_user.max_running_jobs   QOSMaxJobsPerUserLimit
//   3. user's running cores + job cores > per_user.max_cores QOSMaxCpuPerUserLimit
//   4. user's running gpus + job gpus > per_user.max_gpus    QOSMaxGRESPerUser
//   5-7. the same against the account's running usage       MaxJobsPerAccount,
//                                                            MaxCpuPerAccount, MaxGRESPerAccount
// The wall-time check comes first because it never clears by waiting. `never` is set when the
// job alone exceeds the limit (more cores than max_cores, too long): waiting cannot help, and
// the controller may reject it at submission instead.
// "Running usage" is what the user's (account's) running jobs under this QoS hold now; the
// caller counts it. Unset limits are unlimited.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace locus::policy {

inline constexpr std::string_view kReasonQosMaxWall = "QOSMaxWallDurationPerJobLimit";
inline constexpr std::string_view kReasonQosMaxJobsPerUser = "QOSMaxJobsPerUserLimit";
inline constexpr std::string_view kReasonQosMaxCpuPerUser = "QOSMaxCpuPerUserLimit";
inline constexpr std::string_view kReasonQosMaxGresPerUser = "QOSMaxGRESPerUser";
inline constexpr std::string_view kReasonQosMaxJobsPerAccount = "MaxJobsPerAccount";
inline constexpr std::string_view kReasonQosMaxCpuPerAccount = "MaxCpuPerAccount";
inline constexpr std::string_view kReasonQosMaxGresPerAccount = "MaxGRESPerAccount";

struct QosLimits {
  std::optional<uint32_t> max_running_jobs;
  std::optional<uint32_t> max_cores;
  std::optional<uint32_t> max_gpus;
};

struct QosLevel {
  std::string name;
  uint32_t priority = 0;  // feeds the QoS factor of the priority
  QosLimits per_user;
  QosLimits per_account;
  std::optional<int64_t> max_wall_s;
};

struct RunningUsage {
  uint32_t running_jobs = 0;
  uint32_t cores = 0;
  uint32_t gpus = 0;
};

struct QosRequest {
  uint32_t cores = 0;
  uint32_t gpus = 0;
  int64_t wall_s = 0;  // 0 = no time limit, which exceeds any max_wall_s (the controller
                       // should apply the QoS's limit as the default first)
};

struct QosVerdict {
  bool ok = true;
  std::string_view reason;  // empty when ok
  std::string detail;       // for `locus why`: "user alice runs 4 jobs, QoS normal allows 4"
  bool never = false;       // the job alone exceeds the limit
};

QosVerdict checkLimits(const QosLevel& qos, const RunningUsage& user, const RunningUsage& account,
                       const QosRequest& job);

}  // namespace locus::policy
