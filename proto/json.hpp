#pragma once
// JSON views of the wire messages, with the field names the docs promise and tools rely on. One
// definition shared by the CLI (`locus queue/show/nodes/share/quota show/service list/frameworks
// /events --json`) and the controller's dashboard (/api/...), so both always give the same keys.
#include <nlohmann/json_fwd.hpp>

namespace locus::proto {

class Event;
class FrameworkSummary;
class JobInfo;
class ListNodesReply;
class NodeInfo;
class QuotasReply;
class ServiceInfo;
class SharesReply;

// Times are RFC 3339 strings, unset ones (0) and absent optional values are null.
nlohmann::json jobToJson(const JobInfo& job);
nlohmann::json nodeToJson(const NodeInfo& node);

// `locus share --json`: {"rows": [...]}, the fair-share tree in depth-first order (depth says
// the level; user rows have a non-empty "user").
nlohmann::json sharesToJson(const SharesReply& reply);

// `locus quota show --json`: an array of rows; an unlimited amount (UINT64_MAX) is null.
nlohmann::json quotasToJson(const QuotasReply& reply);

// One element of `locus service list --json` (and the object of `locus service show --json`).
nlohmann::json serviceToJson(const ServiceInfo& service);

// One element of `locus frameworks --json`.
nlohmann::json frameworkToJson(const FrameworkSummary& framework);

// `locus events --json` (one object per line) and each event of the dashboard's /api/events: the
// keys id, time (RFC 3339), kind, job_id, node, user, old_state, new_state, reason, exit_code;
// null where an event has no such value (a node event's job_id and user, a submitted job's
// old_state, exit_code until a job ends).
nlohmann::json eventToJson(const Event& e);

// The machine layout behind `locus nodes --topology` (which prints text; there is no CLI --json):
//   {"switches": [{"name", "parent" (index, -1 the root), "nodes": [...]}],
//    "nodes": [{"name", "cpu_model", "numa": [{"index", "os_index", "mem_mb", "cores": [ids]}]}]}
// "index" is the position NodeAllocation.numa and Gpu.numa refer to, so a job allocation's cores
// can be counted per NUMA domain (the GPUs' domains are in nodeToJson's "gpus").
nlohmann::json topologyToJson(const ListNodesReply& reply);

}  // namespace locus::proto
