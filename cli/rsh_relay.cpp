#include "cli/rsh_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "cli/step_client.hpp"

namespace locus::cli {
namespace {

// Requests bigger than this (a huge environment) are refused rather than buffered without end.
constexpr size_t kMaxRequestBytes = 16u << 20;

struct Request {
  std::vector<std::string> args;  // HOST, COMMAND...
  std::map<std::string, std::string> environment;
  int fds[3] = {-1, -1, -1};      // the agent's stdin, stdout, stderr
};

// Reads one agent's request (protocol in mpi-launcher/rsh_agent.c) into `req`. The descriptors
// that came are in req.fds even on failure, for the caller to close.
Status readRequest(int fd, Request& req) {
  std::string data;
  std::vector<char> buf(64 * 1024);
  alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))];
  bool first = true;
  size_t argc = 0, envc = 0, header_end = std::string::npos;
  while (true) {
    ssize_t n;
    if (first) {
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
      if (n > 0) {
        first = false;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const size_t count = std::min<size_t>(3, (c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            std::memcpy(req.fds, CMSG_DATA(c), count * sizeof(int));
          }
      }
    } else {
      n = read(fd, buf.data(), buf.size());
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return invalidArgument("the agent hung up before its request was whole");
    data.append(buf.data(), static_cast<size_t>(n));
    if (data.size() > kMaxRequestBytes) return invalidArgument("agent request too large");
    if (header_end == std::string::npos) {
      header_end = data.find('\n');
      if (header_end == std::string::npos) continue;
      std::istringstream header(data.substr(0, header_end));
      std::string magic;
      int version = 0;
      if (!(header >> magic >> version >> argc >> envc) || magic != "LOCUS-RSH" || version != 1)
        return invalidArgument("not a locus-mpi-agent request");
    }
    // Complete when argc + envc strings have their terminators.
    size_t strings = 0;
    for (size_t i = header_end + 1; i < data.size(); ++i) strings += data[i] == '\0';
    if (strings < argc + envc) continue;
    if (strings > argc + envc) return invalidArgument("agent request has extra data");
    size_t pos = header_end + 1;
    for (size_t i = 0; i < argc + envc; ++i) {
      const size_t end = data.find('\0', pos);
      std::string s = data.substr(pos, end - pos);
      pos = end + 1;
      if (i < argc) {
        req.args.push_back(std::move(s));
      } else if (auto eq = s.find('='); eq != std::string::npos) {
        req.environment[s.substr(0, eq)] = s.substr(eq + 1);
      }
    }
    if (req.args.size() < 2) return invalidArgument("agent request without HOST and COMMAND");
    return {};
  }
}

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

void writeAll(int fd, const std::string& data) {
  for (size_t done = 0; done < data.size();) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Which of `fds` has an event first (blocking); -1 on error.
int firstReady(std::vector<pollfd> fds) {
  while (true) {
    int n = poll(fds.data(), fds.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents) return static_cast<int>(i);
  }
}

}  // namespace

Result<std::unique_ptr<RshRelay>> RshRelay::start(Client& client, uint64_t job_id, std::string socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return invalidArgument("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(std::string("socket: ") + std::strerror(errno));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    std::string why = std::strerror(errno);
    close(fd);
    return unavailable("cannot listen at " + socket_path + ": " + why);
  }
  // An agent that dies leaves its stdout a broken pipe: writing there must fail, not kill us.
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<RshRelay> relay(new RshRelay(client, job_id, std::move(socket_path), fd));
  relay->acceptor_ = std::thread([r = relay.get()] { r->acceptLoop(); });
  return relay;
}

RshRelay::RshRelay(Client& client, uint64_t job_id, std::string path, int listen_fd)
    : client_(client), job_id_(job_id), path_(std::move(path)), listen_fd_(listen_fd) {}

RshRelay::~RshRelay() {
  finish(std::chrono::milliseconds{0});
  close(listen_fd_);
  unlink(path_.c_str());
}

void RshRelay::acceptLoop() {
  while (true) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down by finish()
    }
    std::lock_guard lock(mu_);
    if (finished_) {
      close(fd);
      return;
    }
    Agent& agent = agents_.emplace_back();
    agent.fd = fd;
    agent.thread = std::thread([this, &agent] { serve(agent); });
  }
}

void RshRelay::prepare(const std::vector<std::string>& hosts,
                       const std::map<std::string, std::string>& environment, const std::string& stub) {
  for (const auto& host : hosts) {
    Prepared& p = prepared_.emplace_back();
    p.host = host;
    // The daemon's step as locus-rsh would make it (request, environment, session directory),
    // but its task is the stub: the real command line comes from the agent later.
    StepRun run = openMpiDaemonStep(job_id_, {host, "(from the agent)"}, environment);
    run.command = {stub, "--exec-stdin"};
    p.environment = run.environment;
    int in[2], kill[2], done[2];
    if (pipe2(in, O_CLOEXEC) != 0) continue;
    if (pipe2(kill, O_CLOEXEC) != 0) {
      close(in[0]), close(in[1]);
      continue;
    }
    if (pipe2(done, O_CLOEXEC) != 0) {
      close(in[0]), close(in[1]), close(kill[0]), close(kill[1]);
      continue;
    }
    p.in_write = in[1];
    p.kill_write = kill[1];
    p.done_read = done[0];
    p.out_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    p.err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    p.thread = std::thread([this, &p, run = std::move(run), in_read = in[0], kill_read = kill[0],
                            done_write = done[1]]() mutable {
      StepIo io;
      io.in_fd = in_read;
      io.out_fd = p.out_fd;
      io.err_fd = p.err_fd;
      io.hangup_fd = kill_read;
      p.status = executeStep(client_, run, io);
      close(in_read);
      close(kill_read);
      close(done_write);  // wakes whoever waits on done_read
    });
  }
}

int RshRelay::runPrepared(Prepared& p, int agent_fd, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& environment, int out_fd, int err_fd) {
  // The daemon's output goes to the agent's stdout and stderr from now on (dup2 swaps the
  // descriptors the step writes to in one step).
  dup2(out_fd, p.out_fd);
  dup2(err_fd, p.err_fd);
  // Its command and the environment changes the agent's brings (normally none: mpirun got the
  // environment the step was started with).
  StepRun wanted = openMpiDaemonStep(job_id_, args, environment);
  std::vector<std::string> set, unset;
  for (const auto& [k, v] : wanted.environment)
    if (auto it = p.environment.find(k); it == p.environment.end() || it->second != v) set.push_back(k + "=" + v);
  for (const auto& [k, v] : p.environment)
    if (!wanted.environment.count(k)) unset.push_back(k);
  std::string message = "LOCUS-EXEC 1 " + std::to_string(wanted.command.size()) + " " +
                        std::to_string(set.size()) + " " + std::to_string(unset.size()) + "\n";
  for (const auto* list : {&wanted.command, &set, &unset})
    for (const auto& s : *list) message.append(s).push_back('\0');
  writeAll(p.in_write, message);
  closeFd(p.in_write);
  // Until the step ends; the agent going away first kills it.
  if (firstReady({{p.done_read, POLLIN, 0}, {agent_fd, POLLIN | POLLRDHUP, 0}}) != 0) {
    closeFd(p.kill_write);
    firstReady({{p.done_read, POLLIN, 0}});
  }
  return p.status;
}

void RshRelay::serve(Agent& agent) {
  Request r;
  Status read = readRequest(agent.fd, r);
  std::string reply;
  Prepared* prepared = nullptr;
  if (read.ok()) {
    std::lock_guard lock(mu_);
    for (auto& p : prepared_)
      if (p.host == r.args[0] && !p.claimed && p.in_write >= 0) {
        p.claimed = true;
        prepared = &p;
        break;
      }
  }
  if (read.ok() && prepared) {
    reply = std::to_string(runPrepared(*prepared, agent.fd, r.args, r.environment, r.fds[1], r.fds[2])) + "\n";
  } else if (read.ok()) {
    close(r.fds[0]);  // orted reads nothing from its stdin; mpirun talks to it over TCP
    r.fds[0] = -1;
    StepRun run = openMpiDaemonStep(job_id_, r.args, r.environment);
    StepIo io;
    io.in_fd = -1;
    io.out_fd = r.fds[1];
    io.err_fd = r.fds[2];
    io.hangup_fd = agent.fd;
    reply = std::to_string(executeStep(client_, run, io)) + "\n";
  } else {
    std::fprintf(stderr, "locus: MPI agent: %s\n", read.error().message.c_str());
    reply = "255\n";
  }
  for (int fd : r.fds)
    if (fd >= 0) close(fd);
  std::lock_guard lock(mu_);
  (void)send(agent.fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  close(agent.fd);
  agent.fd = -1;
  agent.done = true;
  ended_.notify_all();
}

void RshRelay::finish(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  if (!finished_) {
    finished_ = true;
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  }
  lock.unlock();
  if (acceptor_.joinable()) acceptor_.join();
  lock.lock();
  // Prepared steps no agent came for: end of file on their stdin ends them (status 0).
  for (auto& p : prepared_)
    if (!p.claimed) closeFd(p.in_write);
  auto all_done = [&] {
    for (const auto& a : agents_)
      if (!a.done) return false;
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!all_done() && std::chrono::steady_clock::now() < deadline)
    ended_.wait_until(lock, deadline);
  for (auto& a : agents_)
    if (a.fd >= 0) shutdown(a.fd, SHUT_RDWR);  // the step's hangup watch kills it
  lock.unlock();
  for (auto& a : agents_)
    if (a.thread.joinable()) a.thread.join();
  // Agents' threads have returned: no one else touches the prepared steps now.
  for (auto& p : prepared_) {
    if (p.done_read >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd done{p.done_read, POLLIN, 0};
      int n;
      while ((n = poll(&done, 1, static_cast<int>(std::max<int64_t>(0, left.count())))) < 0 && errno == EINTR) {
      }
      if (n == 0) closeFd(p.kill_write);  // still running at the deadline
    }
    if (p.thread.joinable()) p.thread.join();
    closeFd(p.in_write);
    closeFd(p.kill_write);
    closeFd(p.done_read);
    closeFd(p.out_fd);
    closeFd(p.err_fd);
  }
}

}  // namespace locus::cli
