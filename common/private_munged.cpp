#include "common/private_munged.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "common/munge_auth.hpp"

namespace locus {
namespace fs = std::filesystem;

bool mungedWorks(const std::string& socket) {
  struct stat st {};
  if (stat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  auto cred = mungeEncode(socket);
  return cred.ok() && mungeDecode(socket, *cred).ok();
}

namespace {

std::string findMunged() {
  if (const char* env = std::getenv("LOCUS_MUNGED"); env && *env) return env;
  for (const char* p : {"/usr/sbin/munged", "/sbin/munged", "/usr/local/sbin/munged"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

}  // namespace

Result<PrivateMunged> startPrivateMunged(const std::string& dir) {
  const std::string munged = findMunged();
  if (munged.empty())
    return unavailable("no munged found (install Debian's munge package, or set LOCUS_MUNGED)");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create " + dir + ": " + ec.message());
  chmod(dir.c_str(), 0755);
  const std::string key = dir + "/munge.key";
  if (!fs::exists(key)) {
    // 128 random bytes, as mungekey makes by default; readable by munged's user only.
    std::random_device rd;
    std::string bytes(128, '\0');
    for (char& c : bytes) c = static_cast<char>(rd() & 0xff);
    const int fd = open(key.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return unavailable("cannot create " + key);
    const bool written = write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    close(fd);
    if (!written) return unavailable("cannot write " + key);
  }
  PrivateMunged out;
  out.socket = dir + "/munge.socket";
  const std::string log = dir + "/munged.log";
  std::vector<std::string> args{munged,
                                "--foreground",
                                "--force",  // root, and a key directory munged would call insecure
                                "--socket=" + out.socket,
                                "--key-file=" + key,
                                "--log-file=" + log,
                                "--pid-file=" + dir + "/munged.pid",
                                "--seed-file=" + dir + "/munged.seed"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return unavailable("fork failed");
  if (pid == 0) {
    setsid();  // not in the caller's process group: a Ctrl-C there does not stop it
    const int out_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  out.pid = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (mungedWorks(out.socket)) return out;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return unavailable("munged exited at start; see " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return unavailable("munged did not answer within 10 s; see " + log);
}

}  // namespace locus
