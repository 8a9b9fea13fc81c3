#pragma once
// JSON views of the wire messages, with the field names the docs promise and tools rely on. One
// definition shared by the CLI (`locus queue/show/nodes --json`) and the controller's dashboard
// (/api/jobs, /api/nodes), so both always give the same keys.
#include <nlohmann/json_fwd.hpp>

namespace locus::proto {

class JobInfo;
class NodeInfo;

// Times are RFC 3339 strings, unset ones (0) and absent optional values are null.
nlohmann::json jobToJson(const JobInfo& job);
nlohmann::json nodeToJson(const NodeInfo& node);

}  // namespace locus::proto
