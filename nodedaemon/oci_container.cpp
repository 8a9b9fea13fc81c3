#include "nodedaemon/oci_container.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "common/logging.hpp"
#include "common/topology.hpp"
#include "nodedaemon/health_probe.hpp"

namespace locus::nodedaemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

auto log() {
  static auto l = logger("node.containers");
  return l;
}

// Where runc and umoci are looked for (the daemon's own PATH may lack the sbin directories).
constexpr const char* kToolPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// How long `runc delete` may take before we give up on it (it normally takes milliseconds).
constexpr auto kDeleteTimeout = std::chrono::seconds{30};
// Unpacking an image layout: a few seconds for small images, minutes for large ones.
constexpr auto kUnpackTimeout = std::chrono::minutes{10};
// The OCI annotation that names a manifest's tag in an image layout's index.json.
constexpr const char* kRefName = "org.opencontainers.image.ref.name";
// Mount types a user's config.json may keep: kernel file systems with no host path behind them.
const std::set<std::string> kSafeMountTypes = {"proc",   "sysfs",  "tmpfs",  "devpts",
                                               "mqueue", "cgroup", "cgroup2"};
// Namespaces a task keeps private (the rest it shares with the host, as a bare task does).
const std::set<std::string> kPrivateNamespaces = {"mount", "cgroup"};
// What root in a container may do (runc's defaults); other users get no capabilities at all.
const std::vector<std::string> kRootCapabilities = {"CAP_AUDIT_WRITE", "CAP_KILL",
                                                    "CAP_NET_BIND_SERVICE"};

std::string findTool(const std::string& name) {
  std::istringstream dirs(kToolPath);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string path = dir + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a tool through probeCommand (a process the agent's reaper never takes from us). Returns
// "" on success, else its first line of stderr or how it ended.
std::string runTool(const std::string& command, const std::string& err_file,
                    std::chrono::milliseconds timeout) {
  ProbeResult r =
      probeCommand(command + " 2>" + shellQuote(err_file), {{"PATH", kToolPath}}, timeout);
  std::string err = readText(err_file);
  std::error_code ec;
  fs::remove(err_file, ec);
  if (r.healthy) return {};
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (size_t nl = err.rfind('\n'); nl != std::string::npos)
    err = err.substr(nl + 1);  // the last line
  return err.empty() ? r.detail : err;
}

bool hasOption(const json& mount, const std::string& option) {
  auto it = mount.find("options");
  if (it == mount.end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const json& o) { return o.is_string() && o == option; });
}

std::vector<gid_t> supplementaryGroups(uid_t uid, gid_t gid) {
  struct passwd pw {
  }, *found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
  int n = 64;
  std::vector<gid_t> groups(n);
  if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(n);
    getgrouplist(pw.pw_name, gid, groups.data(), &n);
  }
  groups.resize(n);
  groups.erase(std::remove(groups.begin(), groups.end(), gid), groups.end());
  return groups;
}

// The node's NVIDIA device nodes (/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...,
// /dev/nvidia-caps/*). All of them, as a bare task sees them: CUDA_VISIBLE_DEVICES (in the
// task's environment) selects the allocated GPUs, and the driver wants the control nodes.
std::vector<DeviceNode> gpuDeviceNodes() {
  std::vector<DeviceNode> out;
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev", ec))
    if (e.path().filename().string().rfind("nvidia", 0) == 0) candidates.push_back(e.path());
  for (const auto& e : fs::directory_iterator("/dev/nvidia-caps", ec))
    candidates.push_back(e.path());
  std::sort(candidates.begin(), candidates.end());
  for (const auto& p : candidates) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
    out.push_back({p.string(), S_ISCHR(st.st_mode) ? 'c' : 'b',
                   static_cast<int64_t>(major(st.st_rdev)), static_cast<int64_t>(minor(st.st_rdev)),
                   static_cast<uint32_t>(st.st_mode & 0777)});
  }
  return out;
}

// "DIR" or "DIR:TAG" naming an image layout; nullopt when `container` is not one.
std::optional<std::pair<std::string, std::string>> imageLayout(const std::string& container) {
  std::error_code ec;
  if (fs::exists(container + "/oci-layout", ec))
    return std::make_pair(container, std::string("latest"));
  const size_t colon = container.rfind(':');
  if (colon == std::string::npos || container.find('/', colon) != std::string::npos)
    return std::nullopt;
  const std::string dir = container.substr(0, colon);
  if (!fs::exists(dir + "/oci-layout", ec)) return std::nullopt;
  return std::make_pair(dir, container.substr(colon + 1));
}

std::string randomSuffix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

Result<json> deriveRuncConfig(const json& user, const std::string& bundle_dir,
                              const ContainerProcess& p) {
  try {
    if (!user.is_object()) return invalidArgument("config.json is not a JSON object");
    json out = json::object();
    out["ociVersion"] = user.value("ociVersion", std::string("1.0.2"));

    // The user's root, in place: a relative path is relative to the bundle.
    const json& root = user.at("root");
    std::string root_path = root.at("path").get<std::string>();
    if (root_path.empty()) return invalidArgument("config.json: root.path is empty");
    if (root_path.front() != '/') root_path = bundle_dir + "/" + root_path;
    out["root"] = {{"path", fs::path(root_path).lexically_normal().string()},
                   {"readonly", root.value("readonly", false)}};

    // The task's process, in the task's environment plus the image's: what the image sets
    // wins (its PATH says where its programs are, its LD_LIBRARY_PATH where its libraries are),
    // as in Apptainer.
    std::map<std::string, std::string> env = p.environment;
    if (auto pr = user.find("process"); pr != user.end() && pr->contains("env"))
      for (const auto& kv : pr->at("env")) {
        const std::string s = kv.get<std::string>();
        const size_t eq = s.find('=');
        if (eq != std::string::npos && eq > 0) env[s.substr(0, eq)] = s.substr(eq + 1);
      }
    env.try_emplace("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    json env_list = json::array();
    for (const auto& [k, v] : env) env_list.push_back(k + "=" + v);
    json user_ids = {{"uid", p.uid}, {"gid", p.gid}};
    if (!p.additional_gids.empty()) user_ids["additionalGids"] = p.additional_gids;
    const json caps = p.uid == 0 ? json(kRootCapabilities) : json::array();
    out["process"] = {{"terminal", false},
                      {"user", user_ids},
                      {"args", p.args},
                      {"env", env_list},
                      {"cwd", p.cwd.empty() ? std::string("/") : p.cwd},
                      {"capabilities",
                       {{"bounding", caps},
                        {"effective", caps},
                        {"permitted", caps},
                        {"ambient", json::array()}}},
                      // Setuid files in the image give nothing (it may come from anywhere).
                      {"noNewPrivileges", true}};

    // Mounts: the user's kernel file systems, then ours (later ones win at the same place).
    std::set<std::string> ours;
    json mounts = json::array();
    if (!p.cwd.empty() && p.cwd != "/") {
      ours.insert(p.cwd);
      mounts.push_back({{"destination", p.cwd},
                        {"type", "bind"},
                        {"source", p.cwd},
                        {"options", {"rbind", "nosuid", "nodev"}}});
    }
    for (const auto& [host, inside] : p.file_binds) {
      ours.insert(inside);
      mounts.push_back({{"destination", inside},
                        {"type", "bind"},
                        {"source", host},
                        {"options", {"bind", "ro", "nosuid", "nodev"}}});
    }
    json kept = json::array();
    if (auto m = user.find("mounts"); m != user.end()) {
      for (const json& mount : m->get<std::vector<json>>()) {
        const std::string type = mount.value("type", std::string());
        const std::string dest = mount.at("destination").get<std::string>();
        if (!kSafeMountTypes.count(type) || hasOption(mount, "bind") || hasOption(mount, "rbind"))
          continue;
        if (ours.count(dest)) continue;
        kept.push_back(mount);
      }
    }
    for (auto& mount : mounts) kept.push_back(std::move(mount));
    out["mounts"] = std::move(kept);

    json linux = json::object();
    const json empty = json::object();
    const json& ulinux = user.contains("linux") ? user.at("linux") : empty;
    json namespaces = json::array({{{"type", "mount"}}});
    if (auto ns = ulinux.find("namespaces"); ns != ulinux.end())
      for (const json& n : *ns) {
        const std::string type = n.at("type").get<std::string>();
        // A "path" would join an existing namespace of the host's: never.
        if (type != "mount" && kPrivateNamespaces.count(type))
          namespaces.push_back({{"type", type}});
      }
    linux["namespaces"] = std::move(namespaces);
    for (const char* key : {"maskedPaths", "readonlyPaths"})
      if (auto it = ulinux.find(key); it != ulinux.end() && it->is_array()) linux[key] = *it;
    if (auto it = ulinux.find("seccomp"); it != ulinux.end() && it->is_object())
      linux["seccomp"] = *it;
    if (!p.cgroups_path.empty()) linux["cgroupsPath"] = p.cgroups_path;

    json resources = json::object();
    json device_rules = json::array({{{"allow", false}, {"access", "rwm"}}});
    json devices = json::array();
    for (const DeviceNode& d : p.devices) {
      devices.push_back({{"path", d.path},
                         {"type", std::string(1, d.type)},
                         {"major", d.major},
                         {"minor", d.minor},
                         {"fileMode", d.file_mode},
                         {"uid", 0},
                         {"gid", 0}});
      device_rules.push_back({{"allow", true},
                              {"type", std::string(1, d.type)},
                              {"major", d.major},
                              {"minor", d.minor},
                              {"access", "rwm"}});
    }
    resources["devices"] = std::move(device_rules);
    if (!p.cpus.empty() || !p.mems.empty()) {
      json cpu = json::object();
      if (!p.cpus.empty()) cpu["cpus"] = p.cpus;
      if (!p.mems.empty()) cpu["mems"] = p.mems;
      resources["cpu"] = std::move(cpu);
    }
    if (p.mem_mb > 0) resources["memory"] = {{"limit", static_cast<int64_t>(p.mem_mb << 20)}};
    linux["resources"] = std::move(resources);
    if (!devices.empty()) linux["devices"] = std::move(devices);
    out["linux"] = std::move(linux);
    return out;
  } catch (const json::exception& e) {
    return invalidArgument(std::string("config.json: ") + e.what());
  }
}

OciRuntime::OciRuntime(const std::string& state_dir, std::string id_prefix)
    : id_prefix_(std::move(id_prefix)) {
  const std::string base = fs::absolute(state_dir).lexically_normal().string();
  runc_root_ = base + "/runc";
  bundles_dir_ = base + "/containers";
  images_dir_ = base + "/images";
}

std::string OciRuntime::batchId(uint64_t job, uint32_t attempt) const {
  return id_prefix_ + "-" + std::to_string(job) + "." + std::to_string(attempt);
}

std::string OciRuntime::stepTaskId(uint64_t job, uint32_t attempt, uint32_t step,
                                   uint32_t procid) const {
  return batchId(job, attempt) + ".s" + std::to_string(step) + ".t" + std::to_string(procid);
}

Result<std::string> OciRuntime::resolveBundle(const std::string& container) const {
  if (container.empty() || container.front() != '/')
    return invalidArgument("container path '" + container + "' is not absolute");
  std::error_code ec;
  auto image = imageLayout(container);
  if (!image) {
    if (!fs::exists(container, ec))
      return notFound("container bundle " + container + " does not exist");
    if (!fs::is_directory(container, ec))
      return invalidArgument("container bundle " + container + " is not a directory");
    if (!fs::exists(container + "/config.json", ec))
      return invalidArgument("container bundle " + container +
                             " has no config.json (neither an OCI bundle nor an image layout)");
    return container;
  }
  const auto& [dir, tag] = *image;
  // The tag's manifest digest names the unpacked copy: a retagged image is unpacked again.
  std::string digest;
  try {
    const json index = json::parse(readText(dir + "/index.json"));
    for (const json& m : index.at("manifests"))
      if (m.contains("annotations") && m.at("annotations").value(kRefName, std::string()) == tag)
        digest = m.at("digest").get<std::string>();
  } catch (const json::exception& e) {
    return invalidArgument("image layout " + dir + ": cannot read index.json: " + e.what());
  }
  if (digest.empty()) return notFound("image layout " + dir + " has no tag '" + tag + "'");
  std::string key = digest;
  std::replace(key.begin(), key.end(), ':', '_');
  if (key.find('/') != std::string::npos || key.find("..") != std::string::npos)
    return invalidArgument("image layout " + dir + ": bad digest " + digest);
  const std::string cached = images_dir_ + "/" + key;
  if (fs::exists(cached + "/config.json", ec)) return cached;

  const std::string umoci = findTool("umoci");
  if (umoci.empty())
    return failedPrecondition("umoci is not installed on this node (needed to unpack image " + dir +
                              ")");
  fs::create_directories(images_dir_, ec);
  // Unpacked beside, then renamed into place: two tasks of one image unpacking at once both
  // succeed, one copy stays, and nobody ever sees half an image.
  const std::string tmp = images_dir_ + "/.unpack-" + randomSuffix();
  std::string err = runTool(
      shellQuote(umoci) + " unpack --image " + shellQuote(dir + ":" + tag) + " " + shellQuote(tmp),
      tmp + ".err", kUnpackTimeout);
  if (!err.empty() || !fs::exists(tmp + "/config.json", ec)) {
    fs::remove_all(tmp, ec);
    return unavailable("umoci unpack " + dir + ":" + tag +
                       " failed: " + (err.empty() ? "no config.json" : err));
  }
  if (rename(tmp.c_str(), cached.c_str()) != 0) {
    const int err_no = errno;
    fs::remove_all(tmp, ec);  // another task's copy won
    if (!fs::exists(cached + "/config.json", ec))
      return unavailable("cannot store unpacked image " + cached + ": " + std::strerror(err_no));
  }
  log()->info("unpacked image {}:{} ({}) into {}", dir, tag, digest, cached);
  return cached;
}

Result<LaunchSpec> OciRuntime::wrap(const LaunchSpec& bare, const ContainerTask& task) const {
  const std::string runc = findTool("runc");
  if (runc.empty())
    return failedPrecondition("runc is not installed on this node (needed for --container)");
  if (geteuid() != 0)
    return failedPrecondition("containers need the node daemon to run as root (runc)");
  const std::string config_path = task.bundle + "/config.json";
  std::error_code ec;
  if (!fs::exists(config_path, ec))
    return invalidArgument("container bundle " + task.bundle + " has no config.json");
  json user;
  try {
    user = json::parse(readText(config_path));
  } catch (const json::exception& e) {
    return invalidArgument(config_path + " is not valid JSON: " + e.what());
  }

  ContainerProcess p;
  // The script lives on the host: the container sees it at kContainerScriptPath.
  auto inside = [&](const std::string& arg) {
    return !task.script.empty() && arg == task.script ? std::string(kContainerScriptPath) : arg;
  };
  p.args.push_back(inside(bare.program));
  for (const auto& a : bare.args) p.args.push_back(inside(a));
  if (!task.script.empty()) p.file_binds.emplace_back(task.script, kContainerScriptPath);
  p.environment = bare.environment;
  p.cwd = bare.work_dir;
  p.uid = bare.uid;
  p.gid = bare.gid;
  if (bare.uid != 0) p.additional_gids = supplementaryGroups(bare.uid, bare.gid);
  if (!bare.cpus.empty()) p.cpus = formatCpuList(bare.cpus);
  if (!bare.mem_nodes.empty()) p.mems = formatCpuList(bare.mem_nodes);
  p.mem_mb = task.mem_mb;
  if (task.gpus) p.devices = gpuDeviceNodes();
  // Relative: below runc's own groups, which are the task's (runc starts in them). See the
  // header; runc names its groups in the other hierarchies after it too, hence a unique id.
  p.cgroups_path = task.id;
  auto config = deriveRuncConfig(user, task.bundle, p);
  if (!config.ok()) return invalidArgument(task.bundle + "/" + config.error().message);
  const std::string rootfs = (*config)["root"]["path"].get<std::string>();
  if (!fs::is_directory(rootfs, ec))
    return notFound("container root filesystem " + rootfs + " does not exist");
  // runc wants the real path (a bundle reached through a symbolic link is fine).
  (*config)["root"]["path"] = fs::canonical(rootfs, ec).string();

  const std::string dir = bundles_dir_ + "/" + task.id;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create " + dir + ": " + ec.message());
  fs::create_directories(runc_root_, ec);
  chmod(bundles_dir_.c_str(), 0700);
  chmod(runc_root_.c_str(), 0700);
  {
    std::ofstream out(dir + "/config.json", std::ios::trunc);
    out << config->dump(2) << '\n';
    if (!out) return unavailable("cannot write " + dir + "/config.json");
  }

  LaunchSpec spec = bare;
  spec.program = runc;
  // Not --keep: when the task's main process ends, runc kills what it left in the container
  // (with --keep it would wait, holding the job, for whatever still holds its output pipes).
  // --log: runc's own warnings (its retries removing cgroups) stay out of the task's stderr;
  // a failure to start still goes there too.
  spec.args = {"--root", runc_root_, "--log", dir + "/runc.log", "run", "--bundle", dir, task.id};
  spec.environment = {{"PATH", kToolPath}};
  // runc runs as root and drops to the user inside; the output files and the work directory
  // are still the user's to open.
  spec.fs_as_user = bare.switch_user;
  spec.switch_user = false;
  return spec;
}

void OciRuntime::remove(const std::string& id) const {
  std::error_code ec;
  const std::string runc = findTool("runc");
  if (!runc.empty() && fs::exists(runc_root_ + "/" + id, ec)) {
    std::string err = runTool(shellQuote(runc) + " --root " + shellQuote(runc_root_) +
                                  " delete --force " + shellQuote(id),
                              bundles_dir_ + "/." + id + ".delete.err", kDeleteTimeout);
    if (!err.empty()) log()->warn("container={} runc delete: {}", id, err);
  }
  fs::remove_all(bundles_dir_ + "/" + id, ec);
}

void OciRuntime::removeAll(const std::set<std::string>& keep) const {
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& dir : {runc_root_, bundles_dir_})
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename().string().front() != '.' && !keep.count(e.path().filename().string()))
        ids.insert(e.path().filename().string());
  for (const std::string& id : ids) {
    log()->warn("removing leftover container {}", id);
    remove(id);
  }
}

}  // namespace locus::nodedaemon
