#include "nodedaemon/supervised_task.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

namespace locus::nodedaemon {
namespace {

// The spec is a list of fields, each "NAME LENGTH\n" then LENGTH bytes and "\n": any byte may
// appear in a value (environment values hold newlines), and a repeated field is just repeated.
void put(std::string& out, const char* name, const std::string& value) {
  out += name;
  out += ' ';
  out += std::to_string(value.size());
  out += '\n';
  out += value;
  out += '\n';
}

struct Field {
  std::string name;
  std::string value;
};

Result<std::vector<Field>> fields(const std::string& text) {
  std::vector<Field> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t space = text.find(' ', at), eol = text.find('\n', at);
    if (eol == std::string::npos) break;  // a header cut short: the end of what was written
    if (space == std::string::npos || space > eol)
      return invalidArgument("malformed supervisor spec at byte " + std::to_string(at));
    Field f;
    f.name = text.substr(at, space - at);
    char* end = nullptr;
    const unsigned long long length = std::strtoull(text.c_str() + space + 1, &end, 10);
    if (end != text.c_str() + eol) return invalidArgument("malformed supervisor spec field " + f.name);
    if (eol + 1 + length + 1 > text.size()) break;  // a value cut short: the same
    if (text[eol + 1 + length] != '\n') return invalidArgument("malformed supervisor spec field " + f.name);
    f.value = text.substr(eol + 1, length);
    at = eol + 1 + length + 1;
    out.push_back(std::move(f));
  }
  return out;
}

Result<uint64_t> number(const Field& f) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(f.value.c_str(), &end, 10);
  if (f.value.empty() || *end != '\0' || errno != 0)
    return invalidArgument("supervisor spec: " + f.name + " is not a number: " + f.value);
  return static_cast<uint64_t>(v);
}


}  // namespace

std::optional<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string supervisedBase(pid_t pid) {
  const std::string cmdline = readWholeFile("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  const size_t first = cmdline.find('\0');
  if (first == std::string::npos || cmdline.substr(0, first).find("locus-supervise") == std::string::npos)
    return "";
  const size_t second = cmdline.find('\0', first + 1);
  return cmdline.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

TaskFiles taskFiles(const std::string& jobs_dir, uint64_t job, uint32_t attempt) {
  return {jobs_dir + "/" + std::to_string(job) + "." + std::to_string(attempt)};
}

std::string encodeSpec(const SupervisedSpec& spec) {
  const LaunchSpec& t = spec.task;
  std::string out;
  put(out, "program", t.program);
  for (const auto& a : t.args) put(out, "arg", a);
  for (const auto& [k, v] : t.environment) put(out, "env", k + "=" + v);
  put(out, "work_dir", t.work_dir);
  put(out, "stdout", t.stdout_path);
  put(out, "stderr", t.stderr_path);
  for (uint32_t c : t.cpus) put(out, "cpu", std::to_string(c));
  for (uint32_t m : t.mem_nodes) put(out, "mem_node", std::to_string(m));
  for (const auto& p : t.cgroup_procs) put(out, "cgroup_procs", p);
  put(out, "pid_file", t.pid_file);
  put(out, "switch_user", t.switch_user ? "1" : "0");
  put(out, "fs_as_user", t.fs_as_user ? "1" : "0");
  put(out, "uid", std::to_string(t.uid));
  put(out, "gid", std::to_string(t.gid));
  put(out, "alive_file", spec.alive_file);
  put(out, "started", std::to_string(spec.started));
  put(out, "launch", spec.launch);
  return out;
}

Result<SupervisedSpec> decodeSpec(const std::string& text) {
  auto parsed = fields(text);
  if (!parsed.ok()) return parsed.error();
  SupervisedSpec spec;
  LaunchSpec& t = spec.task;
  for (const Field& f : *parsed) {
    auto num = [&]() -> Result<uint64_t> { return number(f); };
    if (f.name == "program") t.program = f.value;
    else if (f.name == "arg") t.args.push_back(f.value);
    else if (f.name == "env") {
      const size_t eq = f.value.find('=');
      if (eq == std::string::npos) return invalidArgument("supervisor spec: env without '=': " + f.value);
      t.environment[f.value.substr(0, eq)] = f.value.substr(eq + 1);
    } else if (f.name == "work_dir") t.work_dir = f.value;
    else if (f.name == "stdout") t.stdout_path = f.value;
    else if (f.name == "stderr") t.stderr_path = f.value;
    else if (f.name == "cgroup_procs") t.cgroup_procs.push_back(f.value);
    else if (f.name == "pid_file") t.pid_file = f.value;
    else if (f.name == "alive_file") spec.alive_file = f.value;
    else if (f.name == "launch") spec.launch = f.value;
    else if (f.name == "state") spec.state.push_back(f.value);
    else if (f.name == "switch_user") t.switch_user = f.value == "1";
    else if (f.name == "fs_as_user") t.fs_as_user = f.value == "1";
    else {
      auto v = num();
      if (!v.ok()) return v.error();
      if (f.name == "cpu") t.cpus.push_back(static_cast<uint32_t>(*v));
      else if (f.name == "mem_node") t.mem_nodes.push_back(static_cast<uint32_t>(*v));
      else if (f.name == "uid") t.uid = static_cast<uid_t>(*v);
      else if (f.name == "gid") t.gid = static_cast<gid_t>(*v);
      else if (f.name == "started") spec.started = static_cast<int64_t>(*v);
      else return invalidArgument("supervisor spec: unknown field " + f.name);
    }
  }
  if (t.program.empty()) return invalidArgument("supervisor spec has no program");
  return spec;
}

std::string encodeStarted(pid_t supervisor, pid_t task) {
  std::string out;
  put(out, "state", "started supervisor=" + std::to_string(supervisor) + " task=" + std::to_string(task));
  return out;
}

std::string encodeEnded(const SupervisedExit& e) {
  char buf[192];
  std::snprintf(buf, sizeof buf, "ended wait_status=%d cpu_time_s=%.6f max_rss_kb=%llu fenced=%d",
                e.wait_status, e.cpu_time_s, static_cast<unsigned long long>(e.max_rss_kb),
                e.fenced ? 1 : 0);
  std::string out;
  put(out, "state", buf);
  return out;
}

SupervisorState decodeState(const std::vector<std::string>& lines) {
  SupervisorState state;
  for (const std::string& text : lines) {
    std::istringstream line(text);
    std::string word;
    line >> word;
    const bool ended = word == "ended";
    if (!ended && word != "started") continue;
    SupervisedExit e;
    bool have_status = false;
    while (line >> word) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
      if (key == "supervisor") state.supervisor = static_cast<pid_t>(std::atol(value.c_str()));
      else if (key == "task") state.task = static_cast<pid_t>(std::atol(value.c_str()));
      else if (key == "wait_status") {
        e.wait_status = std::atoi(value.c_str());
        have_status = true;
      } else if (key == "cpu_time_s") e.cpu_time_s = std::strtod(value.c_str(), nullptr);
      else if (key == "max_rss_kb") e.max_rss_kb = std::strtoull(value.c_str(), nullptr, 10);
      else if (key == "fenced") e.fenced = value == "1";
    }
    if (ended && have_status) state.ended = e;
  }
  return state;
}

Status writeWholeFile(const std::string& path, const std::string& content, unsigned mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return unavailable("cannot write " + path + ": " + std::strerror(errno));
  bool ok = true;
  for (size_t done = 0; ok && done < content.size();) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    done += n > 0 ? static_cast<size_t>(n) : 0;
  }
  const std::string why = ok ? "" : std::strerror(errno);
  if (close(fd) != 0 || !ok) return unavailable("cannot write " + path + ": " + (why.empty() ? std::strerror(errno) : why));
  return {};
}

Status appendToFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return unavailable("cannot write " + path + ": " + std::strerror(errno));
  ssize_t n;
  do n = write(fd, text.data(), text.size());
  while (n < 0 && errno == EINTR);
  const std::string why = std::strerror(errno);
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) return unavailable("cannot write " + path + ": " + why);
  return {};
}

Status writeAliveFile(const std::string& path, std::chrono::milliseconds fence_after) {
  // Fixed width, rewritten in place: the same inode all along, never a short read of it.
  char text[24];
  std::snprintf(text, sizeof text, "%020lld\n", static_cast<long long>(fence_after.count()));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return unavailable("cannot write " + path + ": " + std::strerror(errno));
  const ssize_t n = pwrite(fd, text, 21, 0);
  const std::string why = std::strerror(errno);
  close(fd);
  if (n != 21) return unavailable("cannot write " + path + ": " + why);
  return {};
}

std::optional<AliveState> readAliveFile(const std::string& path) {
  const std::optional<std::string> text = readWholeFile(path);
  struct stat st {};
  if (!text || stat(path.c_str(), &st) != 0) return std::nullopt;
  const long long fence_ms = std::atoll(text->c_str());
  if (fence_ms <= 0) return std::nullopt;
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  const long long since_ms = (now.tv_sec - st.st_mtim.tv_sec) * 1000LL +
                             (now.tv_nsec - st.st_mtim.tv_nsec) / 1'000'000LL;
  return AliveState{std::chrono::milliseconds(std::max(0LL, since_ms)),
                    std::chrono::milliseconds(fence_ms)};
}

}  // namespace locus::nodedaemon
