#pragma once
// The controller's part of job profiles (--profile): it tells the node daemons what to sample
// and where the files go (LaunchTask.profile, StepGrant.profile), and tells clients where to
// read them (JobInfo.profile_dir). The directory is locus.toml's [profile] dir, the same for the
// whole cluster (docs/admin-guide.md).
#include <string>

#include "common/config.hpp"
#include "common/job_spec.hpp"

namespace locus::proto {
class ProfileSettings;
}  // namespace locus::proto

namespace locus::controller {

// Fills `out` for a profiled job (spec.profile not empty): the types, the job's interval or the
// configured default, the profile directory (absolute).
void fillProfileSettings(const JobSpec& spec, const Config& config, proto::ProfileSettings& out);

}  // namespace locus::controller
