#pragma once
// Conversions between the plain structs in common/ and their wire messages. Include only from
// .cpp files that already include the generated protobuf headers.
#include "common/job_spec.hpp"
#include "common/topology.hpp"
#include "proto/locus.pb.h"

namespace locus::proto {

void toProto(const NodeTopology& in, Topology& out);
NodeTopology fromProto(const Topology& in);

void toProto(const locus::JobSpec& in, JobSpec& out);
locus::JobSpec fromProto(const JobSpec& in);

}  // namespace locus::proto
