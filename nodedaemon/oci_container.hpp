#pragma once
// Tasks in OCI containers (--container BUNDLE), beside bare processes: a prepared bare
// LaunchSpec becomes one that runs the same command through `runc run` in the foreground, so
// the daemon forks, binds, confines, signals and reaps it exactly like a bare task, and its
// stdio and exit status flow back the same way.
//
// Per task, a bundle of our own (state_dir/containers/ID/config.json) points at the user's root
// filesystem (never copied) with a config.json derived from the user's (deriveRuncConfig): the
// task's command, environment, work directory (bound in at the same path), uid/gid, the
// allocation's cpuset, memory limit and GPU device nodes; only the mount namespace is private
// (HPC containers share the host's network, PIDs, IPC and hostname: MPI, service health checks on
// 127.0.0.1, signals to the task). runc's state lives in state_dir/runc (a root of its own), and
// the container's cgroup nests below the task's (runc is started inside the task's groups and
// is given a relative cgroupsPath), so the task's limits and the daemon's kill-by-cgroup cover
// the container (cgroup v1; v2 puts it beside the task's group, runc's rule for relative paths).
// When the task's main process ends, runc kills what is left of the container and deletes it;
// when runc itself is killed (cancel after the grace period, a daemon stopping), the daemon's
// kill-by-cgroup ends the container's processes and remove() deletes what runc left.
//
// An OCI image layout (a directory with an `oci-layout` file, optionally "DIR:TAG", default tag
// "latest") is unpacked once with `umoci unpack` into state_dir/images/<manifest digest> and
// used as the bundle.
//
// Docs: docs/containers.md.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "nodedaemon/launcher.hpp"

namespace locus::nodedaemon {

// A device node passed into the container (GPUs: /dev/nvidia0, /dev/nvidiactl, ...).
struct DeviceNode {
  std::string path;
  char type = 'c';  // 'c' character, 'b' block
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t file_mode = 0666;
};

// Everything of a task that goes into its config.json; plain data.
struct ContainerProcess {
  std::vector<std::string> args;  // argv inside the container (args[0] searched in its PATH)
  std::map<std::string, std::string> environment;
  std::string cwd;  // absolute; bound in at the same path unless "/"
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  // Host files bound in read-only: (host path, path inside). The batch script.
  std::vector<std::pair<std::string, std::string>> file_binds;
  std::string cpus;     // cpuset.cpus ("0-3,8"); "" = inherited from the task's group
  std::string mems;     // cpuset.mems; "" = inherited
  uint64_t mem_mb = 0;  // memory limit; 0 = none of its own (the task's group still limits)
  std::vector<DeviceNode> devices;
  std::string cgroups_path;  // linux.cgroupsPath; relative = below runc's own groups
};

// The config.json runc gets for `process`, from the user's bundle config (`user`) whose bundle
// directory is `bundle_dir` (a relative root.path is relative to it). Pure: no I/O.
// What comes from the user's config: the root (path, readonly), the mounts that are not host
// bind mounts, maskedPaths/readonlyPaths, seccomp, a (fresh) cgroup namespace, and its
// environment (which wins over the task's for the variables it sets, PATH included). Everything
// that would give a task more than a bare task has (hooks, host bind mounts, devices, capabilities
// for a non-root user, sysctls, rlimits, other namespaces) is dropped or replaced. Errors
// (kInvalidArgument): no root.path, malformed fields.
Result<nlohmann::json> deriveRuncConfig(const nlohmann::json& user, const std::string& bundle_dir,
                                        const ContainerProcess& process);

// Where the batch script is bound inside a container.
inline constexpr const char* kContainerScriptPath = "/.locus/batch_script";

// One task to containerize.
struct ContainerTask {
  std::string bundle;  // resolveBundle()'s answer: a directory with config.json
  std::string id;      // runc container id, unique among this daemon's tasks ([A-Za-z0-9_.-])
  std::string script;  // a host file the command names (the batch script): bound in; "" = none
  uint64_t mem_mb = 0;
  bool gpus = false;  // the allocation has GPUs: the node's /dev/nvidia* nodes go in
};

// Thread-safety: every method may be called from any thread; different ids never meet.
class OciRuntime {
 public:
  // `state_dir`: the daemon's spool (absolute or not); `id_prefix` makes container ids (and the
  // cgroups runc names after them) unique among the daemons of one machine.
  OciRuntime(const std::string& state_dir, std::string id_prefix);

  // A container id for a batch script ("<prefix>-7.0") or a step task ("<prefix>-7.0.s2.t1").
  std::string batchId(uint64_t job, uint32_t attempt) const;
  std::string stepTaskId(uint64_t job, uint32_t attempt, uint32_t step, uint32_t procid) const;

  // The bundle directory for `container` (absolute): the directory itself for a bundle; for an
  // image layout (DIR or DIR:TAG) its unpacked copy, unpacking it first if needed (slow, once
  // per image). Errors (one line, for the job's launch error): missing path, no config.json,
  // unknown tag, umoci missing or failing.
  Result<std::string> resolveBundle(const std::string& container) const;

  // The LaunchSpec that runs `bare`'s command in the container: runc, as root, in bare's cgroups
  // and CPU/memory binding, with bare's stdio; the output files and the work directory are
  // opened with the user's credentials (LaunchSpec::fs_as_user). Writes the task's bundle.
  // Errors: runc not installed, no config.json, root filesystem missing, bad config.
  Result<LaunchSpec> wrap(const LaunchSpec& bare, const ContainerTask& task) const;

  // The task has ended (or never started): `runc delete --force` if runc left the container
  // behind (it was killed), then removes the task's bundle. Idempotent; blocks for runc (tens
  // of milliseconds) when there is something to delete.
  void remove(const std::string& id) const;
  // Removes every container of this daemon (a predecessor's leftovers, at start and stop) but
  // those in `keep` (the containers of tasks adopted from a predecessor).
  void removeAll(const std::set<std::string>& keep = {}) const;

  const std::string& runcRoot() const { return runc_root_; }

 private:
  std::string runc_root_, bundles_dir_, images_dir_, id_prefix_;
};

}  // namespace locus::nodedaemon
