// The small option values `locus submit`, `locus cancel` and the controller read: GPU requests
// (--gpus, --gpus-per-node, --gres), --switches, signals, --profile, --profile-interval, and the
// output file patterns (%j, %4a, ...). The input goes to each parser as is.
#include <string>

#include "common/gpu_request.hpp"
#include "common/profile_request.hpp"
#include "common/slurm_formats.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(option_values) {
  const std::string text(input);
  for (const char* tag : {"", "per-node:", "per-task:", "per-socket:"}) {
    locus::JobSpec spec;
    spec.gpus = std::string(tag) + text;
    spec.nodes = 2;
    if (auto share = locus::gpuShareOf(spec); share.ok())
      FUZZ_CHECK(share->per_node <= 64 && share->per_task <= 64, "more than 64 GPUs: " + text);
  }
  {
    locus::JobSpec spec;
    spec.gres = text;
    (void)locus::gpuShareOf(spec);
  }
  if (auto sw = locus::parseSwitches(input); sw.ok())
    FUZZ_CHECK(sw->count >= 1 && sw->wait_s >= 0, "bad --switches accepted: " + text);
  if (auto sig = locus::parseSignal(input); sig.ok())
    FUZZ_CHECK(*sig >= 1 && *sig <= 64, "bad signal accepted: " + text);
  if (auto profile = locus::normalizeProfile(input); profile.ok())
    FUZZ_CHECK(locus::normalizeProfile(*profile).ok(), "normal form refused: " + *profile);
  if (auto interval = locus::parseProfileInterval(input); interval.ok())
    FUZZ_CHECK(*interval >= 1 && *interval <= locus::kMaxProfileIntervalS, "bad interval: " + text);
  (void)locus::checkMemBind(input);
  (void)locus::checkGpuBind(input);

  locus::PatternContext ctx;
  ctx.job_id = 42;
  ctx.array_job_id = 40;
  ctx.array_task_id = 2;
  ctx.node = "n01";
  ctx.user = "alice";
  ctx.job_name = "train";
  (void)locus::expandOutputPattern(input, ctx);
  ctx.array_task_id.reset();
  ctx.array_job_id = 0;
  (void)locus::expandOutputPattern(input, ctx);
}
