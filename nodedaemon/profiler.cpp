#include "nodedaemon/profiler.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/logging.hpp"
#include "gpu/nvml.hpp"
#include "nodedaemon/process_usage.hpp"
#include "profile/profile_writer.hpp"

namespace locus::nodedaemon {
namespace {

auto log() {
  static auto l = logger("node.profile");
  return l;
}

using Clock = std::chrono::steady_clock;
using TaskId = std::pair<std::string, uint32_t>;  // (step, task)

double wallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// Two locks, so that the agent never waits for the disk: `mu_` guards which jobs are profiled
// and when they are due, and is never held across I/O (enable() takes only it, and the agent
// calls enable() under its own task lock); `io_mu_` guards the open files and is held while they
// are written, by the profiler's thread and by finish(). Order: io_mu_, then mu_.
struct Profiler::Impl {
  std::string node;
  TaskLister lister;
  std::string nvml_library;

  struct Job {
    ProfileJob settings;
    Clock::time_point next;  // the next sample
    bool opened = false;     // its file was created (by the thread, right after enable())
  };
  // A job's open file, and what its next sample is computed against.
  struct File {
    uint32_t attempt = 0;
    std::unique_ptr<profile::ProfileWriter> writer;  // null: could not be written (logged)
    bool gpu = false;                                // GPU series are sampled into it
    struct Previous {
      double cpu_s = 0;
      double time = 0;
    };
    std::map<TaskId, Previous> previous;  // the last sample of each task
  };

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;         // guarded by mu_
  bool started_ = false;          // guarded by mu_
  std::map<uint64_t, Job> jobs_;  // guarded by mu_
  // Finished (job, attempt): a late StepGrant of an ended job opens nothing. One entry per
  // profiled job in the daemon's life, like the agent's launch records.
  std::set<std::pair<uint64_t, uint32_t>> done_;  // guarded by mu_

  std::mutex io_mu_;
  std::map<uint64_t, File> files_;              // guarded by io_mu_
  std::unique_ptr<gpu::NvmlUsageReader> nvml_;  // guarded by io_mu_
  bool nvml_tried_ = false;                     // guarded by io_mu_
  std::thread thread_;

  // The job's settings while it is profiled. Takes mu_.
  std::optional<ProfileJob> live(uint64_t job_id) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return std::nullopt;
    return it->second.settings;
  }

  // Requires io_mu_.
  bool gpuAvailable(const ProfileJob& job, uint64_t job_id) {
    if (!nvml_tried_) {
      nvml_tried_ = true;
      auto reader = gpu::NvmlUsageReader::open(nvml_library);
      if (reader.ok())
        nvml_ = std::move(*reader);
      else
        log()->info("node={} GPU profiles unavailable: {}", node, reader.error().message);
    }
    if (!nvml_) return false;
    if (job.gpu_bus_ids.empty()) {
      log()->info("job={} --profile gpu: the job has no GPU on node {}", job_id, node);
      return false;
    }
    return true;
  }

  // The job's file for this attempt, created (or, for a new attempt, recreated) if need be.
  // Requires io_mu_.
  File& file(uint64_t job_id, const ProfileJob& settings) {
    auto it = files_.find(job_id);
    if (it != files_.end() && it->second.attempt == settings.attempt) return it->second;
    if (it != files_.end()) files_.erase(it);  // a requeued job: the old attempt's file closes
    File& f = files_[job_id];
    f.attempt = settings.attempt;
    f.gpu = settings.gpu && gpuAvailable(settings, job_id);
    const std::string path = Profiler::path(settings.dir, job_id, node);
    const std::string job_dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    std::filesystem::create_directories(job_dir, ec);
    // Readable by the job's user (and everyone: profiles hold no more than `top` shows).
    chmod(settings.dir.c_str(), 0755);
    chmod(job_dir.c_str(), 0755);
    const std::string_view gpu = f.gpu          ? profile::kGpuSampled
                                 : settings.gpu ? profile::kGpuUnavailable
                                                : profile::kGpuNotRequested;
    profile::FileInfo info{job_id, node, static_cast<uint32_t>(settings.interval.count()),
                           settings.gpu ? "task,gpu" : "task", std::string(gpu)};
    auto writer = profile::ProfileWriter::create(path, info);
    if (writer.ok()) {
      f.writer = std::move(*writer);
      log()->debug("job={} profiling every {}s into {}", job_id, settings.interval.count(), path);
    } else {
      log()->warn("job={} no profile on this node: {}", job_id, writer.error().message);
    }
    return f;
  }

  void loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto next = Clock::time_point::max();
      for (const auto& [id, job] : jobs_)
        next = std::min(next, job.opened ? job.next : Clock::now());
      if (next == Clock::time_point::max())
        cv_.wait(lock);
      else
        cv_.wait_until(lock, next);
      if (stopping_) return;
      const auto now = Clock::now();
      std::map<uint64_t, ProfileJob> to_open, due;
      for (auto& [id, job] : jobs_) {
        if (!job.opened) {
          to_open.emplace(id, job.settings);
          job.opened = true;
        }
        if (job.next > now) continue;
        due.emplace(id, job.settings);
        // A steady cadence; a pass that fell behind (a stalled machine) skips what it missed.
        job.next += job.settings.interval;
        if (job.next <= now) job.next = now + job.settings.interval;
      }
      if (!to_open.empty()) {
        // The files of jobs that just started: created now, so that they exist from the start.
        lock.unlock();
        {
          std::lock_guard io(io_mu_);
          for (const auto& [id, settings] : to_open) {
            auto now_settings = live(id);
            if (now_settings && now_settings->attempt == settings.attempt) file(id, settings);
          }
        }
        lock.lock();
      }
      if (due.empty()) continue;
      lock.unlock();
      // Outside the lock: the lister takes the agent's locks, and /proc takes a while.
      std::vector<ProfiledTask> tasks = lister();
      std::erase_if(tasks, [&](const ProfiledTask& t) { return !due.count(t.job_id); });
      const ProcessTable table = tasks.empty() ? ProcessTable{} : ProcessTable::scan();
      const double time = wallNow();
      {
        std::lock_guard io(io_mu_);
        for (const auto& [id, settings] : due) {
          // Finished (or requeued) while this pass read /proc: its file is closed, not reopened.
          auto now_settings = live(id);
          if (!now_settings || now_settings->attempt != settings.attempt) continue;
          File& f = file(id, settings);
          for (const ProfiledTask& t : tasks)
            if (t.job_id == id) sample(f, t, table, time, settings);
        }
      }
      lock.lock();
    }
  }

  // Requires io_mu_.
  void sample(File& f, const ProfiledTask& t, const ProcessTable& table, double time,
              const ProfileJob& settings) {
    if (!f.writer) return;
    auto usage = table.usage(t.pid);
    if (!usage) return;  // ended since it was listed
    profile::Sample s;
    s.time = time;
    s.rss_mb = usage->rss_mb;
    s.read_bytes = usage->read_bytes;
    s.write_bytes = usage->write_bytes;
    // CPU use since the previous sample; the first covers the task's life so far.
    auto prev = f.previous.find({t.step, t.task});
    double cpu_s = usage->cpu_s, span = usage->age_s;
    if (prev != f.previous.end()) {
      cpu_s -= prev->second.cpu_s;
      span = time - prev->second.time;
    }
    s.cpu_percent = span > 0 ? std::max(0.0, 100.0 * cpu_s / span) : 0.0;
    f.previous[{t.step, t.task}] = {usage->cpu_s, time};
    if (f.gpu && nvml_) {
      auto g = nvml_->read(settings.gpu_bus_ids);
      if (g.ok()) {
        s.gpu_util_percent = g->util_percent;
        s.gpu_mem_mb = g->mem_used_mb;
      } else {
        log()->debug("job={} GPU sample: {}", t.job_id, g.error().message);  // NaN in the file
      }
    }
    if (Status st = f.writer->append(t.step, t.task, s); !st.ok()) {
      log()->warn("job={} profile dropped: {}", t.job_id, st.error().message);
      f.writer.reset();
    }
  }
};

Profiler::Profiler(std::string node, TaskLister lister, std::string nvml_library)
    : impl_(std::make_unique<Impl>()) {
  impl_->node = std::move(node);
  impl_->lister = std::move(lister);
  impl_->nvml_library = std::move(nvml_library);
}

Profiler::~Profiler() { stop(); }

std::string Profiler::path(const std::string& dir, uint64_t job_id, const std::string& node) {
  return dir + "/" + std::to_string(job_id) + "/" + node + ".h5";
}

void Profiler::start() {
  std::lock_guard lock(impl_->mu_);
  if (impl_->started_ || impl_->stopping_) return;
  impl_->started_ = true;
  impl_->thread_ = std::thread([this] { impl_->loop(); });
}

void Profiler::stop() {
  {
    std::lock_guard lock(impl_->mu_);
    impl_->stopping_ = true;
    impl_->jobs_.clear();
    impl_->cv_.notify_all();
  }
  if (impl_->thread_.joinable()) impl_->thread_.join();
  std::lock_guard io(impl_->io_mu_);
  impl_->files_.clear();  // each writer closes its file
  impl_->nvml_.reset();
}

void Profiler::enable(uint64_t job_id, const ProfileJob& settings) {
  Impl& i = *impl_;
  std::lock_guard lock(i.mu_);
  if (i.stopping_ || i.done_.count({job_id, settings.attempt})) return;
  auto it = i.jobs_.find(job_id);
  if (it != i.jobs_.end() && it->second.settings.attempt == settings.attempt) return;
  Impl::Job job;
  job.settings = settings;
  job.settings.interval = std::max(job.settings.interval, std::chrono::seconds{1});
  // The file itself is created by the profiler's thread at once (or by finish()), never here:
  // the agent calls this with its task lock held, and a profile directory on NFS can be slow.
  // The first sample comes one interval after the start.
  job.next = Clock::now() + job.settings.interval;
  i.jobs_[job_id] = std::move(job);
  i.cv_.notify_all();
}

void Profiler::finish(uint64_t job_id) {
  Impl& i = *impl_;
  std::lock_guard io(i.io_mu_);
  std::optional<ProfileJob> settings;
  {
    std::lock_guard lock(i.mu_);
    auto it = i.jobs_.find(job_id);
    if (it == i.jobs_.end()) return;
    settings = it->second.settings;
    i.done_.insert({job_id, settings->attempt});
    i.jobs_.erase(it);
    i.cv_.notify_all();
  }
  // A job that ended before its first sample still leaves its (empty) file.
  i.file(job_id, *settings);
  i.files_.erase(job_id);  // closes it
}

}  // namespace locus::nodedaemon
