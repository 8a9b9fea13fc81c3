#include "controller/profiling.hpp"

#include "proto/locus.pb.h"

namespace locus::controller {

void fillProfileSettings(const JobSpec& spec, const Config& config, proto::ProfileSettings& out) {
  out.set_types(spec.profile);
  out.set_interval_s(spec.profile_interval_s > 0 ? spec.profile_interval_s
                                                 : config.profile_interval_s);
  out.set_dir(config.profileDir());
}

}  // namespace locus::controller
