// `locus submit ARGS... SCRIPT`: parseSubmitArgs over an argv and a script file, directives and
// command line together (the command line wins; its second pass is a LOCUS_CHECK that must hold).
//
// Input: the lines before the first empty line are argv, one word per line; the rest is the
// script, written to job.sh in a scratch directory that is the submit directory:
//   --mem=4G
//   job.sh
//
//   #!/bin/sh
//   #SBATCH -N 2
//   srun hostname
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/job_options.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

// One directory for the life of the process (a fuzzer runs millions of inputs), removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/locus-fuzz-submit-XXXXXX";
    if (mkdtemp(pattern) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    unlink((path_ + "/job.sh").c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& scratchDir() {
  static const ScratchDir dir;
  return dir.path();
}

}  // namespace

LOCUS_FUZZ_TARGET(submit_args) {
  std::vector<std::string> argv;
  std::string_view rest = input;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) break;
    argv.emplace_back(line);
  }
  // The script is the first positional word; only names inside the scratch directory are
  // read, so the fuzzer cannot make the target read /dev/stdin or a large file.
  {
    locus::JobSpec scratch;
    bool parsable = false;
    std::vector<std::string> unknown, positional;
    if (locus::applyOptions(argv, scratch, parsable, unknown, positional, true).ok() &&
        !positional.empty() && positional.front().find('/') != std::string::npos)
      return;
  }
  const std::string& dir = scratchDir();
  {
    std::ofstream out(dir + "/job.sh", std::ios::binary | std::ios::trunc);
    out.write(rest.data(), static_cast<std::streamsize>(rest.size()));
  }
  locus::SubmitContext ctx;
  ctx.cwd = dir;
  ctx.environment = {{"HOME", "/home/alice"}, {"PATH", "/usr/bin:/bin"}, {"USER", "alice"}};
  auto request = locus::parseSubmitArgs(argv, ctx);
  if (!request.ok()) return;
  const locus::JobSpec& spec = request->spec;
  FUZZ_CHECK(spec.ntasks >= 1, "accepted a job with no task");
  FUZZ_CHECK(!spec.work_dir.empty() && spec.work_dir.front() == '/',
             "work directory not absolute: '" + spec.work_dir + "'");
  FUZZ_CHECK(!spec.script.empty(), "accepted a job without a script");
}
