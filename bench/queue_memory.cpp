// bench_queue_memory: what a pending job costs the controller's memory.
//
// Opens a controller on a temporary state directory (no nodes: every job stays PENDING) and
// submits --jobs N jobs straight through Controller::submit (the RPC handler's own call, with
// the store's transaction per submit), each with a 200-byte script and this process's
// environment (what `locus submit` exports by default). Prints the heap in use (mallinfo2) and
// the VmRSS growth per job, and the submit rate, for two cases:
//   same:     every job from one shell (one environment, shared by the controller's pool)
//   distinct: each job's environment differs (one variable: nothing to share), the cost without
//             the pool
//
//   bench_queue_memory [--jobs N] [--only same|distinct]
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench/process_memory.hpp"
#include "common/config.hpp"
#include "common/logging.hpp"
#include "controller/controller.hpp"
#include "proto/locus.pb.h"

extern char** environ;

namespace {

using locus::bench::heapInUse;
using locus::bench::vmRssKb;

struct Figures {
  double heap_per_job = 0;
  double rss_per_job = 0;
  double submits_per_s = 0;
};

bool run(const char* mode, uint32_t jobs, const locus::proto::SubmitJobRequest& base, Figures& out) {
  char tmpl[] = "/tmp/locus-queue-memory-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  locus::Config config;
  config.state_dir = dir;
  bool ok = true;
  {
    auto controller = locus::controller::Controller::create(config);
    if (!controller.ok()) {
      std::fprintf(stderr, "bench_queue_memory: %s\n", controller.error().message.c_str());
      std::filesystem::remove_all(dir);
      return false;
    }
    malloc_trim(0);
    const size_t heap0 = heapInUse(), rss0 = vmRssKb();
    const auto t0 = std::chrono::steady_clock::now();
    locus::proto::SubmitJobRequest req = base;
    for (uint32_t i = 0; i < jobs && ok; ++i) {
      if (std::strcmp(mode, "distinct") == 0)
        (*req.mutable_spec()->mutable_environment())["BENCH_SEQ"] = std::to_string(i);
      auto reply = (*controller)->submit(req);
      if (!reply.ok()) {
        std::fprintf(stderr, "bench_queue_memory: submit %u: %s\n", i, reply.error().message.c_str());
        ok = false;
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.heap_per_job = (static_cast<double>(heapInUse()) - static_cast<double>(heap0)) / jobs;
    out.rss_per_job = (static_cast<double>(vmRssKb()) - static_cast<double>(rss0)) * 1024 / jobs;
    out.submits_per_s = jobs / secs;
  }
  std::filesystem::remove_all(dir);
  malloc_trim(0);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t jobs = 20000;
  const char* only = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
      jobs = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--jobs N] [--only same|distinct]\n", argv[0]);
      return 2;
    }
  }
  if (jobs == 0 || (only && std::strcmp(only, "same") != 0 && std::strcmp(only, "distinct") != 0)) {
    std::fprintf(stderr, "usage: %s [--jobs N] [--only same|distinct]\n", argv[0]);
    return 2;
  }
  locus::setLogLevel("warn");  // not a line per submit
  locus::proto::SubmitJobRequest base;
  auto* spec = base.mutable_spec();
  spec->set_script("#!/bin/bash\n#SBATCH --ntasks=1\n#SBATCH --time=10:00\nmodule load openmpi\n" +
                   std::string(120, '#') + "\nsrun ./solver --input case.h5\n");
  spec->set_work_dir("/tmp");
  spec->set_name("solver");
  size_t env_bytes = 0, env_vars = 0;
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    (*spec->mutable_environment())[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
    env_bytes += std::strlen(*e);
    ++env_vars;
  }
  base.set_user("alice");
  base.set_uid(1000);
  base.set_gid(1000);
  std::printf("bench_queue_memory: %u pending jobs, each with a %zu-byte script and this shell's "
              "environment (%zu variables, %zu bytes)\n",
              jobs, spec->script().size(), env_vars, env_bytes);
  for (const char* mode : {"same", "distinct"}) {
    if (only && std::strcmp(only, mode) != 0) continue;
    Figures f;
    if (!run(mode, jobs, base, f)) return 1;
    std::printf("  %-8s environment: %7.0f bytes of heap per job, %7.0f bytes of RSS per job, "
                "%6.0f submits/s (in process)\n",
                mode, f.heap_per_job, f.rss_per_job, f.submits_per_s);
  }
  return 0;
}
