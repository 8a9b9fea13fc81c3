// The controller's submit RPC as any client may call it: the input is a serialized
// proto::SubmitJobRequest (inputs that do not parse are skipped) given to Controller::submit,
// which validates everything again (the CLI's checks are not trusted). A controller over a
// scratch state directory is made once, with QoS levels, pools, an account and three
// registered nodes (one with GPUs and a staged dataset) so that the checks past the parsers
// run too; its scheduling loop is not started.
//
// No network: a webhdfs://HOST:PORT input is pointed at 127.0.0.1:1, where the connection is
// refused at once, and [locality.hdfs] names no NameNode.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/logging.hpp"
#include "controller/controller.hpp"
#include "controller/node_channel.hpp"
#include "proto/locus.pb.h"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

using locus::controller::Controller;

// A fresh controller every this many accepted jobs: jobs accumulate in memory and in SQLite,
// and a fuzzer submits millions.
constexpr uint64_t kJobsPerController = 20'000;

constexpr const char* kConfig = R"(
[controller]
default_time_limit = "1-00:00:00"
[[qos]]
name = "normal"
max_wall = "2-00:00:00"
[[qos]]
name = "high"
priority = 100
max_jobs_per_user = 4
preempt = ["normal"]
[[pool]]
name = "cpu"
nodes = "n[1-2]"
default = true
[[pool]]
name = "gpu"
nodes = "g1"
[[pool.quota]]
account = "physics"
guaranteed = { cores = 4, gpus = 1 }
max = { cores = 8 }
[[account]]
name = "physics"
users = ["alice"]
[[node]]
names = "n[1-2]"
features = ["ib", "nvme"]
[[node]]
names = "g1"
features = ["ib", "a100"]
)";

class NullChannel final : public locus::controller::NodeChannel {
 public:
  void send(const locus::proto::ControllerToNode&) override {}
  void close() override {}
};

locus::proto::RegisterNode nodeMessage(const std::string& name, int gpus) {
  locus::proto::RegisterNode msg;
  msg.set_name(name);
  msg.set_boot_id(1);
  msg.set_step_address("127.0.0.1:1");
  locus::proto::Topology* topo = msg.mutable_topology();
  topo->set_packages(1);
  topo->set_mem_mb(16384);
  for (uint32_t n = 0; n < 2; ++n) {
    locus::proto::Numa* numa = topo->add_numa();
    numa->set_os_index(n);
    numa->set_mem_mb(8192);
    for (uint32_t c = 0; c < 4; ++c) {
      locus::proto::Core* core = numa->add_cores();
      core->set_id(n * 4 + c);
      core->add_pus(n * 4 + c);
    }
  }
  for (int g = 0; g < gpus; ++g) {
    locus::proto::Gpu* gpu = topo->add_gpus();
    gpu->set_index(static_cast<uint32_t>(g));
    gpu->set_name("a100");
    gpu->set_numa(g % 2);
  }
  locus::proto::LocalDataset* ds = msg.add_datasets();
  ds->set_name("climate");
  ds->set_path("/scratch/climate");
  ds->set_bytes(uint64_t{3} << 30);
  return msg;
}

class Harness {
 public:
  Harness() {
    locus::setLogLevel("off");
    char pattern[] = "/tmp/locus-fuzz-controller-XXXXXX";
    if (mkdtemp(pattern) == nullptr) std::abort();
    dir_ = pattern;
    reset();
  }
  ~Harness() {
    controller_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Controller& controller() { return *controller_; }

  void accepted(uint64_t tasks) {
    jobs_ += tasks;
    if (jobs_ >= kJobsPerController) reset();
  }

 private:
  void reset() {
    controller_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_ + "/state", ec);
    auto config = locus::parseConfig(kConfig, "fuzz-controller.toml");
    if (!config.ok()) std::abort();
    config->state_dir = dir_ + "/state";
    config->locality.hdfs_timeout_ms = 200;
    std::filesystem::create_directories(config->state_dir);
    auto created = Controller::create(*config);
    if (!created.ok()) {
      std::fprintf(stderr, "fuzz_controller_submit: %s\n", created.error().message.c_str());
      std::abort();
    }
    controller_ = std::move(*created);
    for (const auto& [name, gpus] : {std::pair{"n1", 0}, std::pair{"n2", 0}, std::pair{"g1", 2}}) {
      auto st =
          controller_->nodeRegistered(nodeMessage(name, gpus), std::make_shared<NullChannel>());
      if (!st.ok()) std::abort();
    }
    jobs_ = 0;
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  uint64_t jobs_ = 0;
};

Harness& harness() {
  static Harness h;
  return h;
}

}  // namespace

LOCUS_FUZZ_TARGET(controller_submit) {
  locus::proto::SubmitJobRequest request;
  if (!request.ParseFromArray(input.data(), static_cast<int>(input.size()))) return;
  for (std::string& uri : *request.mutable_spec()->mutable_inputs()) {
    if (uri.rfind("webhdfs://", 0) != 0) continue;
    const size_t slash = uri.find('/', 10);
    if (slash != std::string::npos && slash > 10) uri = "webhdfs://127.0.0.1:1" + uri.substr(slash);
  }
  Harness& h = harness();
  auto reply = h.controller().submit(request);
  // LOCUS_FUZZ_VERBOSE=1: what became of each input, for writing seeds that get past the checks.
  static const bool verbose = std::getenv("LOCUS_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "controller_submit: %s\n",
                 reply.ok() ? ("job " + std::to_string(reply->job_id()) + " tasks " +
                               std::to_string(reply->tasks()))
                                  .c_str()
                            : reply.error().message.c_str());
  if (!reply.ok()) return;
  FUZZ_CHECK(reply->tasks() >= 1, "a job with no task accepted");
  h.accepted(reply->tasks());
}
