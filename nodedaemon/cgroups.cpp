#include "nodedaemon/cgroups.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/logging.hpp"
#include "common/topology.hpp"

namespace locus::nodedaemon {
namespace {

namespace fs = std::filesystem;

auto log() {
  static auto l = logger("node.cgroups");
  return l;
}

// How long finish() waits for the processes it killed to leave the group before giving up on
// removing it: SIGKILLed processes go within milliseconds unless stuck in the kernel (D state).
constexpr auto kDrainTimeout = std::chrono::seconds{2};
constexpr auto kDrainPoll = std::chrono::milliseconds{5};
// cgroup v1 cpu.shares of one core; v2's cpu.weight per core (default weight 100 = one core).
constexpr uint64_t kSharesPerCore = 1024;
constexpr uint64_t kWeightPerCore = 100;
constexpr uint64_t kMaxWeight = 10000;

Status writeFile(const std::string& path, const std::string& text) {
  // Plain write(2): cgroup files want the whole value in one write, and report errors there.
  FILE* f = std::fopen(path.c_str(), "we");
  if (!f) return unavailable("cannot open " + path + ": " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed)
    return unavailable("cannot write '" + text + "' to " + path + ": " + std::strerror(ok ? errno : err));
  return {};
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "key value" lines (memory.events, memory.oom_control): the value of `key`, 0 when absent.
uint64_t keyedValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// The daemon's own cgroup in each hierarchy, from /proc/self/cgroup ("4:memory:/a/b",
// "0::/a/b"): controller list -> path.
std::vector<std::pair<std::string, std::string>> ownCgroups() {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':');
    const size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out.emplace_back(line.substr(a + 1, b - a - 1), line.substr(b + 1));
  }
  return out;
}

bool listsController(const std::string& list, const std::string& controller) {
  std::istringstream in(list);
  std::string c;
  while (std::getline(in, c, ','))
    if (c == controller) return true;
  return false;
}

std::string joinPath(const std::string& base, const std::string& rel) {
  std::string out = base;
  if (!rel.empty() && rel != "/") out += rel;
  return out;
}

// A directory we may create groups in: exists and is writable by us.
bool writableDir(const std::string& dir) { return access(dir.c_str(), W_OK | X_OK) == 0; }

// cpuset v1 refuses tasks in a group whose cpus or mems are empty, and a new group starts empty:
// an intermediate group takes its parent's.
Status inheritCpuset(const std::string& dir) {
  const std::string parent = fs::path(dir).parent_path();
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    const std::string mine = trim(readFile(dir + "/" + file));
    if (!mine.empty()) continue;
    if (Status st = writeFile(dir + "/" + file, trim(readFile(parent + "/" + file))); !st.ok()) return st;
  }
  return {};
}

Status makeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return unavailable("cannot create cgroup " + dir + ": " + std::strerror(errno));
  return {};
}

// SIGKILLs every process in `dir` and its child groups, waits (bounded) until they are gone,
// then removes the directories bottom-up. Returns false when something could not be removed.
bool drainAndRemove(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  std::vector<std::string> dirs;  // children before parents
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_directory(ec)) dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  dirs.push_back(dir);
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  for (const std::string& d : dirs) {
    while (true) {
      std::istringstream procs(readFile(d + "/cgroup.procs"));
      bool any = false;
      for (long pid = 0; procs >> pid;) {
        if (pid > 1 && pid != getpid()) ::kill(static_cast<pid_t>(pid), SIGKILL);
        any = true;
      }
      if (!any && rmdir(d.c_str()) == 0) break;
      if (!any && errno == ENOENT) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        log()->warn("cannot remove cgroup {}: {}", d, any ? "processes remain" : std::strerror(errno));
        return false;
      }
      std::this_thread::sleep_for(kDrainPoll);
    }
  }
  return true;
}

}  // namespace

TaskCgroups::TaskCgroups(Version version, std::vector<Hierarchy> hierarchies)
    : version_(version), hierarchies_(std::move(hierarchies)) {}

std::unique_ptr<TaskCgroups> TaskCgroups::detect(const std::string& node, std::string* why_not,
                                                 const std::string& cgroup_root) {
  const std::string leaf = "locus-" + node;
  const auto own = ownCgroups();
  std::vector<std::string> reasons;

  // cgroup v2: the unified hierarchy mounted at the root, with memory delegated to our group.
  for (const auto& [controllers, path] : own) {
    if (!controllers.empty()) continue;
    const std::string base = joinPath(cgroup_root, path);
    const std::string available = readFile(base + "/cgroup.controllers");
    if (!fs::exists(cgroup_root + "/cgroup.controllers") || available.find("memory") == std::string::npos) {
      reasons.push_back("cgroup v2: memory controller not delegated to " + base);
      break;
    }
    if (!writableDir(base)) {
      reasons.push_back("cgroup v2: " + base + " not writable");
      break;
    }
    const std::string subtree = base + "/" + leaf;
    std::string enable = "+memory";
    for (const char* c : {"cpu", "cpuset"})
      if (available.find(c) != std::string::npos) enable += std::string(" +") + c;
    // Controllers can be enabled for children only in a group without processes of its own
    // (v2's "no internal processes" rule); the daemon's group holds the daemon, so the daemon
    // first moves into a leaf group beside the tasks' subtree.
    if (!writeFile(base + "/cgroup.subtree_control", enable).ok()) {
      const std::string home = base + "/" + leaf + ".daemon";
      if (!makeDir(home).ok() || !writeFile(home + "/cgroup.procs", "0").ok() ||
          !writeFile(base + "/cgroup.subtree_control", enable).ok()) {
        reasons.push_back("cgroup v2: cannot enable controllers in " + base +
                          " (other processes share the daemon's cgroup)");
        break;
      }
    }
    if (!makeDir(subtree).ok() || !writeFile(subtree + "/cgroup.subtree_control", enable).ok()) {
      reasons.push_back("cgroup v2: cannot prepare " + subtree);
      break;
    }
    return std::unique_ptr<TaskCgroups>(new TaskCgroups(Version::kV2, {{"", subtree}}));
  }

  // cgroup v1: memory is required; cpuset and cpu are used when present.
  std::vector<Hierarchy> v1;
  for (const char* controller : {"memory", "cpuset", "cpu"}) {
    for (const auto& [controllers, path] : own) {
      if (!listsController(controllers, controller)) continue;
      const std::string base = joinPath(cgroup_root + "/" + controller, path);
      if (!writableDir(base)) {
        reasons.push_back(std::string("cgroup v1 ") + controller + ": " + base + " not writable");
        break;
      }
      const std::string subtree = base + "/" + leaf;
      if (!makeDir(subtree).ok() ||
          (std::string(controller) == "cpuset" && !inheritCpuset(subtree).ok())) {
        reasons.push_back(std::string("cgroup v1 ") + controller + ": cannot prepare " + subtree);
        break;
      }
      v1.push_back({controller, subtree});
      break;
    }
  }
  if (!v1.empty() && v1.front().controller == "memory")
    return std::unique_ptr<TaskCgroups>(new TaskCgroups(Version::kV1, std::move(v1)));
  for (const Hierarchy& h : v1) rmdir(h.subtree.c_str());
  if (reasons.empty()) reasons.push_back("no cgroup v1 memory hierarchy mounted");
  if (why_not) {
    why_not->clear();
    for (const auto& r : reasons) *why_not += (why_not->empty() ? "" : "; ") + r;
  }
  return nullptr;
}

std::string TaskCgroups::describe() const {
  if (version_ == Version::kV2) return "cgroup v2 (" + hierarchies_.front().subtree + ")";
  std::string out = "cgroup v1:";
  for (const Hierarchy& h : hierarchies_) out += (out.back() == ':' ? " " : ", ") + h.controller;
  return out;
}

std::string TaskCgroups::taskGroup(uint64_t job, uint32_t attempt) {
  return "job_" + std::to_string(job) + "." + std::to_string(attempt);
}

Result<std::vector<std::string>> TaskCgroups::create(uint64_t job, uint32_t attempt,
                                                     const TaskLimits& limits) {
  return create(taskGroup(job, attempt), limits);
}

TaskCgroups::Outcome TaskCgroups::finish(uint64_t job, uint32_t attempt) {
  return finish(taskGroup(job, attempt));
}

Result<std::vector<std::string>> TaskCgroups::create(const std::string& group,
                                                     const TaskLimits& limits) {
  std::vector<std::string> procs;
  auto taskDir = [&](const Hierarchy& h) { return h.subtree + "/" + group; };
  auto undo = [&](const Error& e) {
    oomNotified(group);  // closes the watch, if it got that far
    for (const Hierarchy& h : hierarchies_) rmdir(taskDir(h).c_str());
    return e;
  };
  const std::string cpus = limits.cpus.empty() ? "" : formatCpuList(limits.cpus);
  const std::string mems = limits.mems.empty() ? "" : formatCpuList(limits.mems);
  for (const Hierarchy& h : hierarchies_) {
    const std::string dir = taskDir(h);
    if (Status st = makeDir(dir); !st.ok()) return undo(st.error());
    std::vector<std::pair<std::string, std::string>> files;
    if (version_ == Version::kV2) {
      if (limits.mem_mb > 0) {
        files.emplace_back("memory.max", std::to_string(limits.mem_mb << 20));
        files.emplace_back("memory.swap.max", "0");
      }
      if (limits.cores > 0)
        files.emplace_back("cpu.weight", std::to_string(std::min(kMaxWeight, kWeightPerCore * limits.cores)));
      if (!cpus.empty()) files.emplace_back("cpuset.cpus", cpus);
      if (!mems.empty()) files.emplace_back("cpuset.mems", mems);
    } else if (h.controller == "memory") {
      if (limits.mem_mb > 0) files.emplace_back("memory.limit_in_bytes", std::to_string(limits.mem_mb << 20));
    } else if (h.controller == "cpuset") {
      if (Status st = inheritCpuset(dir); !st.ok()) return undo(st.error());
      if (!cpus.empty()) files.emplace_back("cpuset.cpus", cpus);
      if (!mems.empty()) files.emplace_back("cpuset.mems", mems);
    } else if (h.controller == "cpu") {
      if (limits.cores > 0) files.emplace_back("cpu.shares", std::to_string(kSharesPerCore * limits.cores));
    }
    for (const auto& [file, value] : files) {
      // A missing optional file (memory.swap.max without swap accounting) is not an error.
      if (file == "memory.swap.max" && !fs::exists(dir + "/" + file)) continue;
      if (Status st = writeFile(dir + "/" + file, value); !st.ok()) return undo(st.error());
    }
    if (version_ == Version::kV1 && h.controller == "memory") watchOom(group, dir);
    procs.push_back(dir + "/cgroup.procs");
  }
  return procs;
}

TaskCgroups::Outcome TaskCgroups::finish(const std::string& group) {
  Outcome out;
  for (const Hierarchy& h : hierarchies_) {
    const std::string dir = h.subtree + "/" + group;
    if (version_ == Version::kV2) {
      out.oom_killed = keyedValue(readFile(dir + "/memory.events"), "oom_kill") > 0;
      const std::string peak = trim(readFile(dir + "/memory.peak"));
      if (!peak.empty()) out.peak_mem_kb = std::strtoull(peak.c_str(), nullptr, 10) / 1024;
    } else if (h.controller == "memory") {
      // v1 counts a kill only in the victim's own group, not in its ancestors: a group nested
      // in the task's counts its own while it exists; the notification covers the rest.
      uint64_t kills = keyedValue(readFile(dir + "/memory.oom_control"), "oom_kill");
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
        if (it->is_directory(ec)) kills += keyedValue(readFile(it->path().string() + "/memory.oom_control"), "oom_kill");
      const bool notified = oomNotified(group);
      out.oom_killed = kills > 0 || notified;
      const std::string peak = trim(readFile(dir + "/memory.max_usage_in_bytes"));
      if (!peak.empty()) out.peak_mem_kb = std::strtoull(peak.c_str(), nullptr, 10) / 1024;
    }
    drainAndRemove(dir);
  }
  return out;
}

void TaskCgroups::watchOom(const std::string& group, const std::string& dir) {
  oomNotified(group);  // a previous watch of the same name (a retried create) goes
  const int control = open((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC);
  const int event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (control < 0 || event < 0 ||
      !writeFile(dir + "/cgroup.event_control", std::to_string(event) + " " + std::to_string(control)).ok()) {
    // Without it, the kill counts of the groups that still exist decide (the usual case).
    if (control >= 0) close(control);
    if (event >= 0) close(event);
    return;
  }
  std::lock_guard lock(oom_mu_);
  oom_watches_[group] = {event, control};
}

bool TaskCgroups::oomNotified(const std::string& group) {
  std::pair<int, int> fds;
  {
    std::lock_guard lock(oom_mu_);
    auto it = oom_watches_.find(group);
    if (it == oom_watches_.end()) return false;
    fds = it->second;
    oom_watches_.erase(it);
  }
  uint64_t events = 0;
  const bool notified = read(fds.first, &events, sizeof events) == sizeof events && events > 0;
  close(fds.first);
  close(fds.second);
  return notified;
}

void TaskCgroups::adopt(uint64_t job, uint32_t attempt) {
  const std::string group = taskGroup(job, attempt);
  for (const Hierarchy& h : hierarchies_)
    if (version_ == Version::kV1 && h.controller == "memory" && fs::exists(h.subtree + "/" + group))
      watchOom(group, h.subtree + "/" + group);
}

void TaskCgroups::removeAll(bool and_subtree, const std::set<std::pair<uint64_t, uint32_t>>& keep) {
  std::set<std::string> kept;
  for (const auto& [job, attempt] : keep) kept.insert(taskGroup(job, attempt));
  for (const Hierarchy& h : hierarchies_) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(h.subtree, ec))
      if (entry.is_directory(ec) && !kept.count(entry.path().filename().string())) drainAndRemove(entry.path());
    if (and_subtree) rmdir(h.subtree.c_str());
  }
}

}  // namespace locus::nodedaemon
