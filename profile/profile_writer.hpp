#pragma once
// Writes one node's profile of one job (profile_data.hpp has the layout) with the HDF5 C
// library: a group per step and task, created on its first sample, with 1-D chunked datasets
// that grow by one element per sample. The file is flushed after every sample, so a reader (or
// a daemon killed outright) finds every sample written so far.
//
// Thread-safety: one writer per file, used by one thread at a time. HDF5 is confined to
// profile/*.cpp; no HDF5 header leaks out of this module.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "profile/profile_data.hpp"

namespace locus::profile {

struct FileInfo {
  uint64_t job_id = 0;
  std::string node;
  uint32_t interval_s = 0;
  std::string profile;  // "task" | "task,gpu"
  std::string gpu;  // kGpuSampled (GPU datasets are created) | kGpuUnavailable | kGpuNotRequested
};

class ProfileWriter {
 public:
  // Creates (or truncates) `path` and writes the root attributes. The directory must exist.
  // Errors: kUnavailable naming the path (no such directory, permission, disk full).
  static Result<std::unique_ptr<ProfileWriter>> create(const std::string& path,
                                                       const FileInfo& info);
  ~ProfileWriter();  // close()
  ProfileWriter(const ProfileWriter&) = delete;
  ProfileWriter& operator=(const ProfileWriter&) = delete;

  // Appends `sample` to /step_<step>/task_<task> (created on first use) and flushes the file.
  // A sample without GPU values in a file that samples GPUs stores NaN there. Errors:
  // kUnavailable (write failed; the file stays readable up to the last flushed sample),
  // kFailedPrecondition after close().
  Status append(std::string_view step, uint32_t task, const Sample& sample);

  // Closes every group and dataset and the file. Idempotent.
  void close();

  const std::string& path() const { return path_; }

  struct Impl;

 private:
  ProfileWriter(std::string path, std::unique_ptr<Impl> impl);
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::profile
