#pragma once
// A private etcd for tests: Debian's etcd-server (/usr/bin/etcd, or $LOCUS_ETCD) as a one-member
// cluster on two loopback ports picked at run time, with a fresh data directory; killed, reaped
// and removed when the object goes. Usable from any test: it needs no Locus library.
//
//   std::string why;
//   auto etcd = EtcdServer::start(&why);
//   if (!etcd) GTEST_SKIP() << why;   // (or FAIL(): EtcdServer::missing() tells which)
//   ... etcd->endpoint() is "127.0.0.1:PORT" ...
// or EtcdServer::shared(&why): one for the whole binary, for tests that do not stop it.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/loopback_port.hpp"
#include "tests/http_get.hpp"

namespace locus::testing {

class EtcdServer {
 public:
  // The etcd binary, or "" when there is none.
  static std::string binary() {
    const char* env = std::getenv("LOCUS_ETCD");
    std::string path = env && *env ? env : "/usr/bin/etcd";
    return access(path.c_str(), X_OK) == 0 ? path : "";
  }
  // Why tests that need etcd cannot run here, or "" when they can.
  static std::string missing() {
    return binary().empty()
               ? "no etcd binary (/usr/bin/etcd or $LOCUS_ETCD): install Debian's etcd-server"
               : "";
  }

  // Starts etcd and waits (up to 15 s) until it answers /health; `extra` flags are passed on
  // (e.g. "--max-txn-ops=1024"). nullptr with `*error` set when it cannot.
  static std::unique_ptr<EtcdServer> start(std::string* error,
                                           const std::vector<std::string>& extra = {},
                                           std::chrono::seconds wait = std::chrono::seconds{15}) {
    if (std::string why = missing(); !why.empty()) {
      *error = why;
      return nullptr;
    }
    // Ports are picked free and then handed to etcd, so another process may take one in between:
    // a start that fails is tried again on new ports.
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::unique_ptr<EtcdServer> s(new EtcdServer());
      if (s->launch(extra, wait, error)) return s;
    }
    return nullptr;
  }

  // One etcd for the whole test binary, started on first use and killed at exit; tests keep
  // apart by key prefix. nullptr with `*why` set when it cannot run.
  static EtcdServer* shared(std::string* why) {
    static std::string error;
    static std::unique_ptr<EtcdServer> server = start(&error);
    *why = error;
    return server.get();
  }

  ~EtcdServer() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  pid_t pid() const { return pid_; }
  const std::string& dataDir() const { return dir_; }

  // SIGKILLs and reaps it now (a test of etcd going away); the data directory stays until the
  // object goes.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  // Its output so far (the last `max_bytes`), for failure messages.
  std::string log(size_t max_bytes = 4000) const {
    std::ifstream in(dir_ + "/etcd.log");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
  }

 private:
  EtcdServer() = default;

  bool launch(const std::vector<std::string>& extra, std::chrono::seconds wait,
              std::string* error) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "locus_etcd_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      *error = "mkdtemp failed";
      return false;
    }
    dir_ = tmpl;
    client_port_ = freeLoopbackPort();
    const int peer_port = freeLoopbackPort();
    if (client_port_ <= 0 || peer_port <= 0 || client_port_ == peer_port) {
      *error = "no free loopback port";
      return false;
    }
    const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
    std::vector<std::string> args = {binary(),
                                     "--name=default",
                                     "--data-dir=" + dir_ + "/data",
                                     "--listen-client-urls=" + client,
                                     "--advertise-client-urls=" + client,
                                     "--listen-peer-urls=" + peer,
                                     "--initial-advertise-peer-urls=" + peer,
                                     "--initial-cluster=default=" + peer,
                                     "--initial-cluster-state=new",
                                     "--logger=zap",
                                     "--log-outputs=stderr",
                                     "--log-level=warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log_path = dir_ + "/etcd.log";
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
      *error = "fork failed";
      pid_ = 0;
      return false;
    }
    if (pid_ == 0) {
      // Dies with the test process, even when that crashes.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        *error = "etcd exited during start-up: " + log();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        return false;
      }
      auto health = httpGet(endpoint(), "/health", 1);
      if (health.status == 200 && health.body.find("true") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling, with a deadline
    }
    *error = "etcd did not answer /health within " + std::to_string(wait.count()) + " s: " + log();
    return false;  // the destructor kills it
  }

  std::string dir_;
  int client_port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace locus::testing
