#pragma once
// The `locus run --mpi openmpi` side of locus-mpi-agent (mpi-launcher/rsh_agent.c): a Unix socket
// that mpirun's rsh agents hand their daemon's command line, environment and stdio to. Each
// becomes an orted step run by a thread of this process over connections it already holds.
//
// Better still, prepare() starts each node's daemon step before mpirun asks for it, with
// `locus-mpi-agent --exec-stdin` as its task: while mpirun starts up (~50 ms), the controller
// records the steps and the node daemons create their cgroups and processes. When the agent
// for a node comes, its command goes down that step's stdin and the waiting process execs it.
// This is what makes a launch of a few ranks nearly as quick as plain mpirun.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/client.hpp"
#include "common/result.hpp"

namespace locus::cli {

class RshRelay {
 public:
  // Listens at `socket_path` (a new file) for agents of job `job_id`. `client` outlives the relay.
  static Result<std::unique_ptr<RshRelay>> start(Client& client, uint64_t job_id, std::string socket_path);
  // Stops accepting and kills the steps still running (as finish(0)).
  ~RshRelay();
  RshRelay(const RshRelay&) = delete;
  RshRelay& operator=(const RshRelay&) = delete;

  const std::string& socketPath() const { return path_; }
  // Starts a daemon step on each of `hosts` now: `stub` (locus-mpi-agent) --exec-stdin with
  // `environment`, the one mpirun will be given. Agents for these hosts then use them.
  void prepare(const std::vector<std::string>& hosts, const std::map<std::string, std::string>& environment,
               const std::string& stub);
  // mpirun has exited: stops accepting, lets the daemons' steps end by themselves for up to
  // `grace`, then kills those left (their agents' connections are shut down).
  void finish(std::chrono::milliseconds grace);

 private:
  struct Agent {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  // A daemon step started ahead, waiting for its command.
  struct Prepared {
    std::string host;
    std::map<std::string, std::string> environment;  // what its process got
    int in_write = -1;    // its stdin: the command goes here, then it is closed
    int kill_write = -1;  // closed to kill the step
    int out_fd = -1;      // where its output goes: our stderr until an agent gives its own
    int err_fd = -1;
    int done_read = -1;   // hangs up when the step has ended
    bool claimed = false;  // guarded by mu_: an agent came for it
    int status = 0;        // the step's exit status, once done_read hung up
    std::thread thread;
  };
  RshRelay(Client& client, uint64_t job_id, std::string path, int listen_fd);
  void acceptLoop();
  void serve(Agent& agent);
  // Runs the agent's daemon in a prepared step; the step's exit status.
  int runPrepared(Prepared& p, int agent_fd, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& environment, int out_fd, int err_fd);

  Client& client_;
  const uint64_t job_id_;
  const std::string path_;
  int listen_fd_;
  std::thread acceptor_;
  std::mutex mu_;
  std::list<Agent> agents_;  // guarded by mu_; a list: threads hold references to their element
  std::list<Prepared> prepared_;  // set by prepare(), before agents come
  std::condition_variable ended_;  // an agent's step ended
  bool finished_ = false;    // guarded by mu_
};

}  // namespace locus::cli
