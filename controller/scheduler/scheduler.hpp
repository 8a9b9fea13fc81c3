#pragma once
// The scheduler core: a pure function from a snapshot to decisions. No RPC, no SQL, no clock
// (time comes in the snapshot), so the controller and the simulator run the same code.
//
// Pass: jobs in (may preempt first, priority desc, submit time asc, id asc) order; for each, filter the nodes that
// can hold its per-node share, pick nodes, pick cores packed into as few NUMA domains as
// possible, commit into the pass's working copy of free resources. What happens to a job that
// does not fit now depends on the policy (Snapshot::policy):
//   kFirstFit      it stays pending; any later job that fits starts (no reservations).
//   kFcfs          it stays pending and so does every later job ("Priority"): strict order.
//   kEasy          the first `reserve_depth` such jobs get a reservation at their earliest start
//                  in the availability profile; a later job starts now only if it delays none.
//   kConservative  every such job gets a reservation; a later job starts now only if it delays
//                  none of them.
//   kEasyPredict   kEasy planned with predicted run times (EASY++, Tsafrir, Etsion & Feitelson
//                  2007): the caller sets JobRequest::planned_runtime_s and RunningJob::expected_end
//                  from a RuntimePredictor; time limits still kill. Reservations as kEasy;
//                  once they are made, the later jobs are tried shortest planned run time
//                  first (SJBF), not in priority order (jobs needing more cores than are free
//                  then go last: they cannot start). A reservation of a job waiting longer
//                  than protect_after_s is kept from later jobs by their time limits.
// The availability profile: free resources per node now, plus a step up at each running job's
// expected end and at each started job's now + time limit, plus the reservations (a step down at
// their start, up at their end). A job with duration d fits at t when, on every node it uses,
// the profile's minimum over [t, t + d) holds its share. It is node and core granular, so a
// multi-node job's reservation names its nodes; counts only: core ids are chosen at start.
//
// Topology (Snapshot::network): a multi-node job goes to the lowest switch whose subtree holds
// it, and within it to as few leaf switches as possible (Slurm's topology/tree); --switches=N
// caps the leaf switches until its wait runs out. GPUs come from the NUMA domains of the cores
// the job got, and a multi-GPU request prefers a fully NVLink-connected set. Node features
// filter nodes by --constraint (and a GPU type by the feature of that name).
//
// Pools (Snapshot::pools): a job with a pool may use only that pool's nodes.
//
// Preemption: a job that cannot start now and has the right to preempt (JobRequest::preempts:
// the preempt classes, i.e. QoS levels, it may displace; JobRequest::reclaim_group: it stays
// within its account's guaranteed quota in its pool, so it may take back what other accounts
// borrow there) gets victims: running jobs it may displace whose resources, with what is free,
// let it be placed. Victims are chosen youngest first (least work lost), then the set is pruned
// of every victim it can do without, oldest first, so no more than needed is preempted; jobs
// still in their exempt time (RunningJob::preemptible false) are never victims. Each victim gets
// a kPreempt decision naming the job it makes room for, and that job stays pending
// ("Preempting"); a job whose victims of an earlier pass are still ending
// (RunningJob::preempted_for) counts their resources as its own and preempts nobody more unless
// it no longer fits even with them; so does any preempting job with the ending victims of a job
// that has started (or gone) meanwhile. The nodes it will use are kept from later jobs in the pass.
//
// Data locality (JobRequest::input_sites; docs/locality.md): a job whose input lives on some
// nodes goes to the node holding the most of it (a one-node job; a multi-node job to those
// nodes), else to a node in the same rack (the same leaf switch of Snapshot::network), else
// anywhere, with delay scheduling (Zaharia et al., EuroSys 2010): while only non-local resources
// are free, the job skips them (pending, reason "Locality") for up to locality_wait_node_ms,
// then takes rack-local ones, and after locality_wait_rack_ms more takes any.
//  - The wait is per job: the tasks of an array (a dataflow job) share one, the earliest any of
//    them carries in (JobRequest::locality_wait_since_ms; the caller hands back each decision's
//    Decision::locality_wait_since_ms, 0 for a job without a decision).
//  - It starts, or goes on, when the job declined resources that are still idle at the end of
//    the pass; it restarts when the job started a node-local task and declined nothing; else it
//    stays as it was. This is Spark's rule since SPARK-18886: a reset on every node-local start
//    (Zaharia's) never relaxes a job whose data sits on one busy node while the others idle,
//    and a wait counted per task relaxes a big job's tasks while the job keeps starting local
//    ones (measured in docs/benchmarks.md, "Data locality").
//  - A relaxed job takes rack-local or remote resources only after every job of the pass has
//    tried its node-local ones: a freed slot goes to a task whose data is there first.
//  - JobRequest::input_racks add racks to the rack level (a job with racks only starts there);
//    JobRequest::strict_locality stops at the racks (never anywhere).
//
// Without running jobs in the snapshot (or with unlimited time limits) busy resources never free
// in the plan, so no blocked job can be reserved and EASY degrades to first fit; it never starts
// a job that would break a reservation it could make (e.g. from jobs started in the same pass).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus::scheduler {

// Free and total resources of one node. free_cores_by_numa[d] lists the free logical core ids of
// NUMA domain d, ascending.
struct NodeState {
  std::string name;
  bool schedulable = true;  // UP (not DOWN, not drained)
  uint32_t total_cores = 0;
  uint64_t total_mem_mb = 0;
  std::vector<std::vector<uint32_t>> free_cores_by_numa;
  uint64_t free_mem_mb = 0;
  // GPUs (at most 64 per node): gpu_numa[g] is the NUMA domain (index into free_cores_by_numa)
  // GPU g is attached to, -1 when unknown; gpu_links[g] the mask of GPUs NVLink-connected to g
  // (empty or 0: none known); free_gpus the mask of free ones.
  std::vector<int32_t> gpu_numa;
  std::vector<uint64_t> gpu_links;
  uint64_t free_gpus = 0;
  std::vector<std::string> features;  // configured and discovered labels ("ib", "v100")
};

inline constexpr uint32_t kAnyPool = UINT32_MAX;   // JobRequest::pool, RunningJob::pool: no pool
inline constexpr uint32_t kNoGroup = UINT32_MAX;   // no quota group
inline constexpr uint32_t kPassDepth = UINT32_MAX;  // Snapshot::pool_reserve_depth: use reserve_depth
// Snapshot::protect_after_s: 3 days, the longest wall time many sites allow; on the Parallel
// Workloads Archive traces it kept EASY++'s gains and EASY's utilization (docs/benchmarks.md).
inline constexpr int64_t kDefaultProtectAfterS = 3 * 86400;
// Delay scheduling's waits per locality level: Spark's spark.locality.wait (3 s) for both; on
// bench/locality (100 nodes, a Facebook-like job mix at 75% load) they keep 94-95% of the tasks
// node-local for 0.8 s of added wait per task (docs/benchmarks.md).
inline constexpr int64_t kDefaultLocalityWaitNodeMs = 3000;
inline constexpr int64_t kDefaultLocalityWaitRackMs = 3000;

// A node holding part of a job's input, and how much of it.
struct InputSite {
  uint32_t node = 0;  // index into Snapshot::nodes
  uint64_t bytes = 0;
};

// Where a started job runs relative to its input (its first node: the batch node or the task).
enum class Locality : uint8_t { kNone, kNodeLocal, kRackLocal, kRemote };  // kNone: no input
std::string_view localityName(Locality l);  // "none", "node_local", "rack_local", "remote"

struct JobRequest {
  uint64_t id = 0;
  int64_t priority = 0;
  int64_t submit_time = 0;       // seconds since epoch, the tie breaker after priority
  uint32_t nodes = 0;            // 0 = as few nodes as fit
  uint32_t ntasks = 1;           // >= 1, >= nodes when nodes > 0
  uint32_t ntasks_per_node = 0;  // 0 = not given
  uint32_t cpus_per_task = 1;
  uint64_t mem_mb = 0;             // per node; 0 = no memory requested
  uint64_t array_job_id = 0;       // 0 = not an array task
  uint32_t array_max_running = 0;  // 0 = no throttle
  int64_t time_limit_s = 0;        // 0 = unlimited: planned to hold its resources forever
  // What planning assumes it runs, when known better than its time limit (an EASY++ run-time
  // prediction, runtime_predictor.hpp); 0 = its time limit. Capped at the time limit.
  int64_t planned_runtime_s = 0;
  uint32_t gpus_per_node = 0;      // on every node of the job
  uint32_t gpus_per_task = 0;      // per task, on top of gpus_per_node
  std::string gpu_type;            // "" any; else the feature every node must carry ("a100")
  std::string constraint;          // --constraint over node features ("ib&nvme", "a|b"); "" none
  uint32_t max_switches = 0;       // --switches: at most this many leaf switches; 0 = no limit
  int64_t switches_wait_until = 0;  // from this time on max_switches no longer applies
  uint32_t pool = kAnyPool;         // index into Snapshot::pools: only its nodes
  uint64_t preempts = 0;            // bit c: may preempt running jobs of preempt class c (< 64)
  uint32_t reclaim_group = kNoGroup;  // its quota group, when it stays within the guarantee
  // Data locality: the nodes holding its input, most bytes first; empty: no preference.
  std::vector<InputSite> input_sites;
  // Delay scheduling: since when (Snapshot::now_ms) its job has been waiting for a local slot;
  // 0: not waiting. The caller hands back Decision::locality_wait_since_ms (tasks of one array
  // share the earliest). A clock must not start at 0 (0 means "not waiting").
  int64_t locality_wait_since_ms = 0;
  // Racks (leaf switch indices of Snapshot::network) it prefers besides its input nodes' own:
  // a framework's lease request naming racks (controller/frameworks.hpp). Without input_sites
  // they are its first level, taken at once.
  std::vector<uint32_t> input_racks;
  // Never relaxed past its preferences: its input nodes, then (after the node wait) the racks
  // of input_racks only, never anywhere (a lease request with relax_locality false). It gets
  // no reservation (a plan could only name other nodes) and waits with reason "Resources".
  bool strict_locality = false;
  bool hasLocality() const { return !input_sites.empty() || !input_racks.empty(); }
};

// Resources a job holds or will hold on one node, by count (planning needs no core ids).
struct NodeUse {
  uint32_t node = 0;  // index into Snapshot::nodes
  uint32_t cores = 0;
  uint64_t mem_mb = 0;
  uint32_t gpus = 0;
};

// A job that holds resources now. Its resources are already missing from the nodes' free lists.
struct RunningJob {
  uint64_t id = 0;
  int64_t expected_end = 0;  // start + time limit (or predicted run time, kEasyPredict); 0 =
                             // never ends (plan as held forever). An overdue job (<= now) is
                             // planned to end at now + 1.
  std::vector<NodeUse> use;
  // Preemption:
  int64_t start_time = 0;
  uint32_t preempt_class = 0;      // its QoS level's class (< 64)
  bool preemptible = false;        // may be preempted now (its QoS allows it, exempt time over)
  uint64_t preempted_for = 0;      // != 0: being preempted already, for this pending job
  uint32_t quota_group = kNoGroup;  // index into Snapshot::quota_groups
  bool keeps_memory = false;       // preempted by suspension: its cores and GPUs come free, its memory not
};

// An account's quota in one pool, as preemption sees it: what it holds beyond its guarantee.
// Positive in any resource: it borrows, and jobs reclaiming a guarantee in that pool may
// preempt its jobs until it no longer does.
struct QuotaGroup {
  uint32_t pool = kAnyPool;
  int64_t over_cores = 0;
  int64_t over_mem_mb = 0;
  int64_t over_gpus = 0;
};

enum class Policy { kFirstFit, kFcfs, kEasy, kConservative, kEasyPredict };

struct NodeAllocation {
  uint32_t node = 0;            // index into Snapshot::nodes
  std::vector<uint32_t> cores;  // logical core ids, ascending
  uint64_t mem_mb = 0;
  uint32_t ntasks = 0;          // tasks placed on this node
  std::vector<uint32_t> gpus;   // GPU indices, ascending (none in count-only planning)
  std::vector<uint32_t> numa;   // NUMA domains (indices into free_cores_by_numa) of the cores
};

// The switch tree as placement sees it: the switch each node hangs off and each switch's parent.
// Switch indices are 0..parent.size()-1; the root's parent is kNoSwitch. Empty: a flat network.
struct Network {
  static constexpr uint32_t kNoSwitch = UINT32_MAX;
  std::vector<uint32_t> switch_of_node;  // per Snapshot::nodes index; kNoSwitch = under the root
  std::vector<uint32_t> parent;          // per switch
  bool empty() const { return parent.empty(); }
};

struct Decision {
  // kReserve: the job stays pending (reason "Resources") with resources planned for it later.
  // kPreempt: job_id is a running job to preempt, for the pending job preempted_for.
  enum class Kind { kStart, kPending, kReserve, kPreempt };
  Kind kind = Kind::kPending;
  uint64_t job_id = 0;
  std::vector<NodeAllocation> allocation;  // kStart only; the first node runs the batch script
  std::string reason;                      // kPending, kReserve: "Resources", "Priority", ...
  int64_t start_at = 0;                    // kStart: now; kReserve: the planned start
  std::vector<NodeUse> planned;            // kReserve only: the planned resources per node
  uint64_t preempted_for = 0;              // kPreempt only
  Locality locality = Locality::kNone;     // kStart of a job with input sites: where it runs
  // For the job's next snapshot (JobRequest::locality_wait_since_ms): its job's locality wait
  // after this pass (see "Data locality" above), 0 when not waiting; and when that wait lets it
  // relax to the next level (ms; 0: nothing to wake for), so the caller can run a pass then.
  int64_t locality_wait_since_ms = 0;
  int64_t locality_retry_at_ms = 0;
};

struct Snapshot {
  int64_t now = 0;
  std::vector<NodeState> nodes;
  std::vector<JobRequest> pending;                           // any order
  std::vector<std::pair<uint64_t, uint32_t>> array_running;  // array_job_id -> running tasks
  std::vector<RunningJob> running;                           // any order; for planning only
  Network network;                                           // empty: topology-blind
  std::vector<std::vector<uint32_t>> pools;                  // node indices of each pool
  std::vector<QuotaGroup> quota_groups;
  Policy policy = Policy::kEasy;
  uint32_t reserve_depth = 1;  // kEasy, kFcfs: how many blocked jobs get a reservation
  // Reservations are counted per pool (jobs without a pool together): per pool (index as in
  // `pools`), how many its blocked jobs get; kPassDepth, or no entry: reserve_depth.
  std::vector<uint32_t> pool_reserve_depth;
  // kEasyPredict's starvation guard: once a job that has waited this long since its submission
  // is reserved, the jobs after it in the pass may start only if they end before its reservation
  // by their time limits, as under kEasy (predictions that prove short would otherwise push it
  // back again and again; found starving whole-machine jobs for 17 days on RICC). 0 = never.
  int64_t protect_after_s = kDefaultProtectAfterS;
  // false: return only kStart decisions (and, per job waiting for locality, one pending decision
  // carrying its wait when it has no start: the caller needs its locality_wait_since_ms), and stop the pass once no core is free (no later job
  // can start). The starts are the same as with true. For replays that act on starts only (the
  // simulator): a 2,000-job queue then costs no 2,000 decisions per event.
  bool report_waiting = true;
  // Delay scheduling (see above): the clock in milliseconds (0: now * 1000) and the waits.
  int64_t now_ms = 0;
  int64_t locality_wait_node_ms = kDefaultLocalityWaitNodeMs;
  int64_t locality_wait_rack_ms = kDefaultLocalityWaitRackMs;
};

// One scheduling pass. Deterministic: the same snapshot gives the same decisions.
// Every pending job gets exactly one decision (only the started ones without report_waiting);
// decisions come in pass order (the order above), which is also the order in which their
// allocations were committed; a job's kPreempt decisions come right before its own. Pending
// reasons: "Preempting" (its victims are ending), "Locality" (delay scheduling: only non-local
// resources are free and its wait is not over), "Resources" (does not fit now, or would delay a
// reservation), "Priority" (kFcfs: a higher-priority job is waiting), "JobArrayTaskLimit" (array
// throttle), "ReqNodeNotAvail" (no schedulable node has the features or GPU type asked for),
// "BadConstraints" (malformed request, e.g. cpus_per_task == 0; checkSatisfiable refuses
// those). Cost: about O(pending log pending) plus, per reservation, one sweep over the profile.
std::vector<Decision> schedulePass(const Snapshot& snapshot);

// "firstfit", "fcfs", "easy", "conservative", "easy-predict"; parsePolicy is its inverse (nullopt if unknown).
std::string_view policyName(Policy policy);
std::optional<Policy> parsePolicy(std::string_view name);

// Could this request ever run on these nodes if they were all idle and up? Used at submit time to
// refuse the impossible ("requested 64 cpus per node, largest node has 16"). `nodes` totals only.
// Errors: kUnsatisfiable (never fits these nodes), kInvalidArgument (malformed request).
Status checkSatisfiable(const JobRequest& job, const std::vector<NodeState>& nodes);

}  // namespace locus::scheduler
