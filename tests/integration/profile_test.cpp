// Job profiles in HDF5 (--profile task, `locus profile`): a job whose use is known (200 MB
// touched, then one core spun for 4 s of CPU time) is sampled every second into
// STATE/profiles/JOB/NODE.h5; the file is checked with the HDF5 C API and with h5dump (Debian
// hdf5-tools; that part is skipped when h5dump is absent), then merged and exported through the
// CLI. A cancelled job's file must be closed and readable, and bad input must fail clearly.
//
// GPU sampling (--profile task,gpu) cannot be checked here: this machine has no GPU and no NVML,
// so these jobs' files must say gpu="unavailable" and hold no GPU datasets. The NVML reading
// itself is tested against a fake driver (tests/unit/gpu/nvml_usage_test.cpp).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/hdf5_inspect.hpp"
#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

namespace fs = std::filesystem;

// h5dump from PATH, or "" (then the h5dump checks are skipped).
std::string findH5dump() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((dir + "/h5dump").c_str(), X_OK) == 0) return dir + "/h5dump";
  return "";
}

// Opens a profile read-only. `locked`: with HDF5's file locking, which fails while a node daemon
// still has the file open for writing; that is how the tests tell that the daemon closed it.
hid_t openProfile(const std::string& path, bool locked) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (!locked) H5Pset_file_locking(fapl, 0, 1);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  return f;
}

struct Column {
  std::vector<double> values;
  std::string units;
  bool extendable = false;
};

Column column(hid_t file, const std::string& path) {
  Column c;
  if (H5Lexists(file, path.substr(0, path.rfind('/')).c_str(), H5P_DEFAULT) <= 0 ||
      H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0)
    return c;
  hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  hid_t space = H5Dget_space(ds);
  hsize_t n = 0, max_n = 0;
  H5Sget_simple_extent_dims(space, &n, &max_n);
  c.extendable = max_n == H5S_UNLIMITED;
  c.values.resize(n);
  if (n > 0) H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.values.data());
  c.units = stringAttribute(ds, "units");
  H5Sclose(space);
  H5Dclose(ds);
  return c;
}

size_t samplesIn(const std::string& path) {
  if (!fs::exists(path)) return 0;
  hid_t f = openProfile(path, /*locked=*/false);
  if (f < 0) return 0;
  size_t n = column(f, "/step_batch/task_0/time").values.size();
  H5Fclose(f);
  return n;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, ',');) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

TEST(Profile, KnownLoadIsSampledIntoHdf5AndMergedAndExported) {
  TestCluster cluster({.nodes = 1, .topology = "pack:1 numa:1 core:2 pu:1"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  // 200 MB touched page by page, then one core spun for 4 s of CPU time while the memory is
  // kept. CPU time, not wall time: on a loaded machine (2 CPUs shared with other builds) the spin
  // takes longer but the job's CPU use stays known.
  const std::string work =
      "python3 -c \"import time\nx = bytearray(200 << 20)\nx[::4096] = b'1' * len(x[::4096])\n"
      "t = time.process_time()\nwhile time.process_time() - t < 4: pass\"";
  auto id = cluster.submit(
      {"--profile", "task", "--profile-interval", "1", "-c", "1", "--mem", "500M", "--wrap", work});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(90)));
  auto shown = cluster.job(*id);
  ASSERT_EQ(shown["state"], "COMPLETED") << shown.dump();
  const std::string dir = cluster.dir() + "/controller/profiles";  // the default: STATE/profiles
  EXPECT_EQ(shown["profile_dir"], dir) << shown.dump();
  const std::string path = dir + "/" + std::to_string(*id) + "/n1.h5";
  ASSERT_TRUE(fs::exists(path)) << path;

  // The HDF5 C API, with file locking: the daemon closed the file before it reported the exit.
  hid_t f = openProfile(path, /*locked=*/true);
  ASSERT_GE(f, 0) << "profile still open for writing, or unreadable: " << path;
  EXPECT_EQ(intAttribute(f, "job_id"), *id);
  EXPECT_EQ(stringAttribute(f, "node"), "n1");
  EXPECT_EQ(intAttribute(f, "interval_s"), 1u);
  EXPECT_EQ(stringAttribute(f, "profile"), "task");
  EXPECT_EQ(stringAttribute(f, "gpu"), "not requested");
  const std::string group = "/step_batch/task_0/";
  Column time = column(f, group + "time"), cpu = column(f, group + "cpu_percent"),
         rss = column(f, group + "rss_mb"), rd = column(f, group + "read_bytes"),
         wr = column(f, group + "write_bytes");
  EXPECT_LE(H5Lexists(f, (group + "gpu_util_percent").c_str(), H5P_DEFAULT), 0);  // not asked for
  H5Fclose(f);
  EXPECT_EQ(time.units, "s");
  EXPECT_EQ(cpu.units, "%");
  EXPECT_EQ(rss.units, "MiB");
  EXPECT_EQ(rd.units, "B");
  EXPECT_EQ(wr.units, "B");
  for (const Column* c : {&time, &cpu, &rss, &rd, &wr}) {
    EXPECT_TRUE(c->extendable);
    EXPECT_EQ(c->values.size(), time.values.size());
  }
  // At least ~4 s of life sampled every second, ~1 s apart.
  ASSERT_GE(time.values.size(), 3u);
  for (size_t i = 1; i < time.values.size(); ++i) {
    EXPECT_GT(time.values[i], time.values[i - 1]);
    EXPECT_NEAR(time.values[i] - time.values[i - 1], 1.0, 0.5) << "sample " << i;
  }
  EXPECT_NEAR(time.values.front(), static_cast<double>(std::time(nullptr)), 300.0);
  // RSS reaches the 200 MiB (plus the interpreter, ~10 MiB).
  const double peak = *std::max_element(rss.values.begin(), rss.values.end());
  EXPECT_GE(peak, 195.0);
  EXPECT_LE(peak, 260.0);
  // Spin phase: every sample taken once the memory was held, except the first (it may overlap
  // the allocation). One process spinning: at most one core (100%, a little over for tick
  // rounding), and ~100% when it has a CPU to itself.
  std::vector<double> spin;
  bool held = false;
  for (size_t i = 0; i < rss.values.size(); ++i) {
    if (rss.values[i] < 195.0) continue;
    if (held) spin.push_back(cpu.values[i]);
    held = true;
  }
  ASSERT_GE(spin.size(), 2u) << "too few samples in the spin phase";
  for (double c : spin) {
    EXPECT_GT(c, 5.0);
    EXPECT_LE(c, 110.0);
  }
  std::sort(spin.begin(), spin.end());
  // The series against what the kernel measured: CPU% x interval summed over the samples is the
  // job's CPU time (rusage, `locus show`'s cpu_time_s), less what it used after its last sample
  // (at most one interval of one core). The first sample covers the job's start (~1 s).
  double integral = 0;
  for (size_t i = 0; i < cpu.values.size(); ++i)
    integral += cpu.values[i] / 100.0 * (i == 0 ? 1.0 : time.values[i] - time.values[i - 1]);
  const double cpu_time = shown["cpu_time_s"].get<double>();
  EXPECT_GE(cpu_time, 4.0);
  EXPECT_LE(integral, cpu_time + 0.3);
  EXPECT_GE(integral, cpu_time - 1.2);
  // ~100% unless the machine was busy: the spin samples' median then says how much of a core the
  // job got; the series was checked against the kernel's figure above either way.
  const double wall = time.values.back() - time.values.front() + 1.0;
  if (cpu_time / wall > 0.9)
    EXPECT_GE(spin[spin.size() / 2], 85.0);
  else
    std::fprintf(stderr, "machine busy: the job got %.0f%% of a core (spin median %.1f%%)\n",
                 100.0 * cpu_time / wall, spin[spin.size() / 2]);
  // Cumulative I/O of one process: never decreasing.
  for (size_t i = 1; i < rd.values.size(); ++i) {
    EXPECT_GE(rd.values[i], rd.values[i - 1]);
    EXPECT_GE(wr.values[i], wr.values[i - 1]);
  }

  // h5dump sees the same structure, units and unlimited dataspaces.
  if (const std::string h5dump = findH5dump(); h5dump.empty()) {
    std::fprintf(stderr, "h5dump not installed (Debian hdf5-tools): its checks are skipped\n");
  } else {
    auto dump = runCommand({h5dump, "-A", path});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    for (const char* want : {"GROUP \"step_batch\"", "GROUP \"task_0\"", "DATASET \"rss_mb\"",
                             "DATASET \"cpu_percent\"", "ATTRIBUTE \"units\"", "\"MiB\"",
                             "ATTRIBUTE \"job_id\"", "H5S_UNLIMITED"})
      EXPECT_NE(dump.out.find(want), std::string::npos) << want << "\n" << dump.out;
    auto data = runCommand({h5dump, "-d", "/step_batch/task_0/rss_mb", path});
    ASSERT_EQ(data.exit_code, 0) << data.err;
    EXPECT_NE(data.out.find("( " + std::to_string(rss.values.size()) + " ) / ( H5S_UNLIMITED )"),
              std::string::npos)
        << data.out;
  }

  // locus profile: the summary.
  auto summary = cluster.locus({"profile", std::to_string(*id)});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("n1"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("batch"), std::string::npos) << summary.out;

  // --merge: one file, the node's file as group /n1.
  const std::string merged = cluster.workDir() + "/merged.h5";
  auto merge = cluster.locus({"profile", std::to_string(*id), "--merge", merged});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  hid_t m = openProfile(merged, /*locked=*/true);
  ASSERT_GE(m, 0);
  EXPECT_EQ(stringAttribute(m, "nodes"), "n1");
  EXPECT_EQ(intAttribute(m, "job_id"), *id);
  Column merged_rss = column(m, "/n1/step_batch/task_0/rss_mb");
  EXPECT_EQ(merged_rss.values, rss.values);
  EXPECT_EQ(merged_rss.units, "MiB");
  hid_t n1 = H5Gopen2(m, "/n1", H5P_DEFAULT);
  EXPECT_EQ(stringAttribute(n1, "node"), "n1");
  H5Gclose(n1);
  H5Fclose(m);

  // --export csv: a header and one row per sample, to stdout or -o FILE.
  auto csv = cluster.locus({"profile", std::to_string(*id), "--export", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto rows = lines(csv.out);
  ASSERT_EQ(rows.size(), time.values.size() + 1) << csv.out;
  EXPECT_EQ(rows[0],
            "job_id,node,step,task,time,cpu_percent,rss_mb,read_bytes,write_bytes,gpu_util_percent,"
            "gpu_mem_mb");
  for (size_t i = 1; i < rows.size(); ++i) {
    auto f1 = fields(rows[i]);
    ASSERT_EQ(f1.size(), 11u) << rows[i];
    EXPECT_EQ(f1[0], std::to_string(*id));
    EXPECT_EQ(f1[1], "n1");
    EXPECT_EQ(f1[2], "batch");
    EXPECT_EQ(f1[3], "0");
    EXPECT_NEAR(std::stod(f1[4]), time.values[i - 1], 0.001);
    EXPECT_NEAR(std::stod(f1[6]), rss.values[i - 1], 0.001);
    EXPECT_EQ(f1[9], "");  // no GPU series
  }
  const std::string out_csv = cluster.workDir() + "/profile.csv";
  auto to_file = cluster.locus({"profile", std::to_string(*id), "--export", "csv", "-o", out_csv});
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_EQ(readFile(out_csv), csv.out);
}

// Job steps (locus run) are sampled by the node daemons that run their tasks: each node's file
// gets /step_0/task_<rank> for its tasks, and the batch script's node /step_batch/task_0 too.
TEST(Profile, JobStepTasksAreSampledOnTheirNodesAndMerged) {
  TestCluster cluster({.nodes = 2, .topology = "pack:1 numa:1 core:2 pu:1"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.startNode(1));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
  std::ofstream(cluster.workDir() + "/spin.py")
      << "import time\nt = time.process_time()\nwhile time.process_time() - t < 2.5: pass\n";
  auto id = cluster.submit({"-N", "2", "-n", "2", "--profile", "task", "--profile-interval", "1",
                            "--wrap", binDir() + "/locus run -n 2 python3 spin.py"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(90)));
  const auto shown = cluster.job(*id);
  ASSERT_EQ(shown["state"], "COMPLETED") << shown.dump();
  const std::string batch_node = shown["nodes"][0];  // the batch script runs on the first node only
  const std::string dir = cluster.dir() + "/controller/profiles/" + std::to_string(*id);
  std::vector<int> ranks;
  for (const char* node : {"n1", "n2"}) {
    SCOPED_TRACE(node);
    const std::string path = dir + "/" + node + ".h5";
    // The step's files close when the job's end reaches the nodes (EndSteps), a moment after it.
    ASSERT_TRUE(waitUntil(
        [&] {
          hid_t f = openProfile(path, /*locked=*/true);
          if (f >= 0) H5Fclose(f);
          return f >= 0;
        },
        std::chrono::seconds(30)))
        << path;
    hid_t f = openProfile(path, /*locked=*/true);
    for (int rank : {0, 1}) {
      Column t = column(f, "/step_0/task_" + std::to_string(rank) + "/time");
      if (t.values.empty()) continue;
      ranks.push_back(rank);
      EXPECT_EQ(t.units, "s");
      Column c = column(f, "/step_0/task_" + std::to_string(rank) + "/cpu_percent");
      EXPECT_GT(*std::max_element(c.values.begin(), c.values.end()), 5.0);
    }
    EXPECT_EQ(!column(f, "/step_batch/task_0/time").values.empty(), node == batch_node);
    H5Fclose(f);
  }
  std::sort(ranks.begin(), ranks.end());
  EXPECT_EQ(ranks, (std::vector<int>{0, 1}));

  const std::string merged = cluster.workDir() + "/merged.h5";
  auto merge = cluster.locus({"profile", std::to_string(*id), "--merge", merged});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  hid_t m = openProfile(merged, /*locked=*/true);
  ASSERT_GE(m, 0);
  EXPECT_EQ(stringAttribute(m, "nodes"), "n1,n2");
  EXPECT_FALSE(column(m, "/" + batch_node + "/step_batch/task_0/rss_mb").values.empty());
  H5Fclose(m);
  auto csv = cluster.locus({"profile", std::to_string(*id), "--export", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  for (const char* node : {",n1,0,", ",n2,0,"})
    EXPECT_NE(csv.out.find(node), std::string::npos) << csv.out;
}

TEST(Profile, CancelledJobsFileIsClosedAndReadable) {
  TestCluster cluster({.nodes = 1, .topology = "pack:1 numa:1 core:2 pu:1"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  // Asked for by directives, with GPUs: there is no NVML here, so the file says so.
  const std::string script = cluster.workDir() + "/profiled.sh";
  std::ofstream(script)
      << "#!/bin/sh\n#SBATCH --profile=task,gpu\n#SBATCH --profile-interval=1\nexec sleep 300\n";
  auto id = cluster.submit({script});
  ASSERT_TRUE(id);
  const std::string path = cluster.dir() + "/controller/profiles/" + std::to_string(*id) + "/n1.h5";
  // Running and sampled (read while the daemon writes it: without file locking).
  ASSERT_TRUE(waitUntil([&] { return samplesIn(path) >= 2; }, std::chrono::seconds(30))) << path;
  // While it runs, the file is open for writing: a locking reader is refused.
  hid_t busy = openProfile(path, /*locked=*/true);
  EXPECT_LT(busy, 0);
  if (busy >= 0) H5Fclose(busy);
  auto cancel = cluster.locus({"cancel", std::to_string(*id)});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  // The job is CANCELLED at once; its exit code comes when the node has reaped it, after it
  // closed the profile.
  ASSERT_TRUE(waitUntil([&] { return !cluster.job(*id)["exit_code"].is_null(); },
                        std::chrono::seconds(30)));
  EXPECT_EQ(cluster.job(*id)["state"], "CANCELLED");
  hid_t f = openProfile(path, /*locked=*/true);
  ASSERT_GE(f, 0) << "the cancelled job's profile is still open for writing";
  EXPECT_EQ(stringAttribute(f, "gpu"), "unavailable");
  EXPECT_EQ(stringAttribute(f, "profile"), "task,gpu");
  Column time = column(f, "/step_batch/task_0/time");
  EXPECT_GE(time.values.size(), 2u);
  EXPECT_TRUE(column(f, "/step_batch/task_0/gpu_util_percent").values.empty());
  EXPECT_LE(H5Lexists(f, "/step_batch/task_0/gpu_mem_mb", H5P_DEFAULT), 0);
  H5Fclose(f);
  if (const std::string h5dump = findH5dump(); !h5dump.empty()) {
    auto dump = runCommand({h5dump, "-H", path});
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_NE(dump.out.find("DATASET \"time\""), std::string::npos) << dump.out;
  }
  auto csv = cluster.locus({"profile", std::to_string(*id), "--export", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(lines(csv.out).size(), time.values.size() + 1);
}

TEST(Profile, BadInputFailsClearly) {
  TestCluster cluster({.nodes = 1, .topology = "pack:1 numa:1 core:2 pu:1"});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  struct Case {
    std::string name;
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  auto plain = cluster.submit({"--wrap", "true"});
  ASSERT_TRUE(plain);
  ASSERT_TRUE(cluster.waitTerminal({*plain}, std::chrono::seconds(30)));
  const std::string p = std::to_string(*plain);
  const Case cases[] = {
      {"unknown job", {"profile", "999999"}, 1, "not found"},
      {"job without --profile", {"profile", p}, 1, "was not profiled"},
      {"bad job id", {"profile", "abc"}, 2, "invalid job id 'abc'"},
      {"unknown export format",
       {"profile", p, "--export", "json"},
       2,
       "--export: unknown format 'json'"},
      {"bad --profile",
       {"submit", "--profile", "bogus", "--wrap", "true"},
       2,
       "--profile: unknown type 'bogus'"},
      {"bad --profile-interval",
       {"submit", "--profile", "task", "--profile-interval", "0", "--wrap", "true"},
       2,
       "--profile-interval: invalid interval '0'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = cluster.locus(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace locus::testing
