#include "profile/profile_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "profile/hdf5_util.hpp"

namespace locus::profile {
namespace {

// Read-only, without HDF5's file locking: a node daemon holds its file open (and locked) while
// the job runs, and `locus profile` must still read the samples flushed so far. A file this
// process itself has open (a writer in the same process) only opens with the same settings it
// was opened with, hence the second try.
h5::Handle openForReading(const std::string& path) {
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl.get(), 0, 1);
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file.valid()) file = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  return file;
}

template <typename T>
std::vector<T> readColumn(hid_t group, const char* name, hid_t mem_type) {
  if (H5Lexists(group, name, H5P_DEFAULT) <= 0) return {};
  h5::Handle ds(H5Dopen2(group, name, H5P_DEFAULT));
  h5::Handle space(H5Dget_space(ds.get()));
  if (!space.valid() || H5Sget_simple_extent_ndims(space.get()) != 1) return {};
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<T> out(n);
  if (n > 0 && H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    return {};
  return out;
}

// "batch" first, then steps by number; tasks by number.
bool stepBefore(const std::string& a, const std::string& b) {
  if (a == b) return false;
  if (a == "batch") return true;
  if (b == "batch") return false;
  const bool an = !a.empty() && std::all_of(a.begin(), a.end(), ::isdigit);
  const bool bn = !b.empty() && std::all_of(b.begin(), b.end(), ::isdigit);
  if (an && bn) return std::stoull(a) < std::stoull(b);
  if (an != bn) return an;
  return a < b;
}

// The node profile rooted at `root` (a file's root or a merged file's node group).
Result<NodeProfile> readNode(hid_t root, const std::string& where) {
  NodeProfile p;
  auto node = h5::readString(root, "node");
  auto job = h5::readU64(root, "job_id");
  if (!node || !job)
    return invalidArgument(where + " is not a Locus profile (no job_id and node attributes)");
  p.node = *node;
  p.job_id = *job;
  p.interval_s = static_cast<uint32_t>(h5::readU64(root, "interval_s").value_or(0));
  p.profile = h5::readString(root, "profile").value_or("");
  p.gpu = h5::readString(root, "gpu").value_or("");
  for (const std::string& step_name : h5::children(root)) {
    if (step_name.rfind("step_", 0) != 0) continue;
    h5::Handle step(H5Gopen2(root, step_name.c_str(), H5P_DEFAULT));
    if (!step.valid()) continue;
    for (const std::string& task_name : h5::children(step.get())) {
      if (task_name.rfind("task_", 0) != 0) continue;
      h5::Handle task(H5Gopen2(step.get(), task_name.c_str(), H5P_DEFAULT));
      if (!task.valid()) continue;
      TaskSeries series;
      series.step = step_name.substr(5);
      series.task = static_cast<uint32_t>(std::strtoul(task_name.c_str() + 5, nullptr, 10));
      auto time = readColumn<double>(task.get(), "time", H5T_NATIVE_DOUBLE);
      auto cpu = readColumn<double>(task.get(), "cpu_percent", H5T_NATIVE_DOUBLE);
      auto rss = readColumn<double>(task.get(), "rss_mb", H5T_NATIVE_DOUBLE);
      auto rd = readColumn<uint64_t>(task.get(), "read_bytes", H5T_NATIVE_UINT64);
      auto wr = readColumn<uint64_t>(task.get(), "write_bytes", H5T_NATIVE_UINT64);
      auto gu = readColumn<double>(task.get(), "gpu_util_percent", H5T_NATIVE_DOUBLE);
      auto gm = readColumn<double>(task.get(), "gpu_mem_mb", H5T_NATIVE_DOUBLE);
      // A reader racing the writer may see one dataset a sample longer than another: keep the
      // samples every series has.
      size_t n = time.size();
      for (size_t m : {cpu.size(), rss.size(), rd.size(), wr.size()}) n = std::min(n, m);
      for (size_t i = 0; i < n; ++i) {
        Sample s{time[i], cpu[i], rss[i], rd[i], wr[i], std::nullopt, std::nullopt};
        if (i < gu.size() && !std::isnan(gu[i])) s.gpu_util_percent = gu[i];
        if (i < gm.size() && !std::isnan(gm[i])) s.gpu_mem_mb = gm[i];
        series.samples.push_back(s);
      }
      p.tasks.push_back(std::move(series));
    }
  }
  std::stable_sort(p.tasks.begin(), p.tasks.end(), [](const TaskSeries& a, const TaskSeries& b) {
    if (a.step != b.step) return stepBefore(a.step, b.step);
    return a.task < b.task;
  });
  return p;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

std::vector<std::string> jobFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".h5") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<NodeProfile>> readProfiles(const std::string& path) {
  h5::silenceErrors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return notFound("no such file: " + path);
  if (H5Fis_hdf5(path.c_str()) <= 0) return invalidArgument(path + " is not an HDF5 file");
  h5::Handle file = openForReading(path);
  if (!file.valid()) return invalidArgument("cannot open HDF5 file " + path);
  std::vector<NodeProfile> out;
  if (h5::readString(file.get(), "node")) {
    auto p = readNode(file.get(), path);
    if (!p.ok()) return p.error();
    out.push_back(std::move(*p));
    return out;
  }
  if (!h5::readU64(file.get(), "job_id") || !h5::readString(file.get(), "nodes"))
    return invalidArgument(path + " is not a Locus profile (no job_id and node attributes)");
  // A merged file: its node groups in the order the merge listed them.
  std::vector<std::string> order;
  const std::string nodes = *h5::readString(file.get(), "nodes");
  for (size_t start = 0; start < nodes.size();) {
    size_t comma = nodes.find(',', start);
    if (comma == std::string::npos) comma = nodes.size();
    order.push_back(nodes.substr(start, comma - start));
    start = comma + 1;
  }
  for (const std::string& name : order) {
    h5::Handle group(H5Gopen2(file.get(), name.c_str(), H5P_DEFAULT));
    if (!group.valid()) return invalidArgument(path + ": node group /" + name + " is missing");
    auto p = readNode(group.get(), path + ":/" + name);
    if (!p.ok()) return p.error();
    out.push_back(std::move(*p));
  }
  return out;
}

Status mergeProfiles(const std::vector<std::string>& inputs, const std::string& output) {
  h5::silenceErrors();
  if (inputs.empty()) return invalidArgument("nothing to merge");
  // Check every input before writing anything.
  std::vector<std::string> nodes;
  uint64_t job_id = 0;
  for (const std::string& in : inputs) {
    auto profiles = readProfiles(in);
    if (!profiles.ok()) return profiles.error();
    if (profiles->size() != 1) return invalidArgument(in + " is already a merged profile");
    const NodeProfile& p = profiles->front();
    if (nodes.empty()) job_id = p.job_id;
    if (p.job_id != job_id)
      return invalidArgument(in + " is of job " + std::to_string(p.job_id) + ", not " +
                             std::to_string(job_id));
    if (std::find(nodes.begin(), nodes.end(), p.node) != nodes.end())
      return invalidArgument("two profiles of node " + p.node + " (" + in + ")");
    nodes.push_back(p.node);
  }
  h5::Handle out(H5Fcreate(output.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!out.valid()) return unavailable("cannot create HDF5 file " + output);
  for (size_t i = 0; i < inputs.size(); ++i) {
    h5::Handle in = openForReading(inputs[i]);
    // The whole file, root attributes included, becomes the group /<node>.
    if (!in.valid() ||
        H5Ocopy(in.get(), "/", out.get(), nodes[i].c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
      return unavailable("cannot copy " + inputs[i] + " into " + output);
  }
  if (!h5::writeU64(out.get(), "job_id", job_id) ||
      !h5::writeString(out.get(), "nodes", joined(nodes)) ||
      !h5::writeU32(out.get(), "merged_files", static_cast<uint32_t>(inputs.size())))
    return unavailable("cannot write the attributes of " + output);
  out.reset();
  return {};
}

std::string toCsv(const std::vector<NodeProfile>& profiles) {
  std::string out =
      "job_id,node,step,task,time,cpu_percent,rss_mb,read_bytes,write_bytes,gpu_util_percent,gpu_"
      "mem_mb\n";
  char line[512];
  for (const NodeProfile& p : profiles) {
    for (const TaskSeries& t : p.tasks) {
      for (const Sample& s : t.samples) {
        char g1[32] = "", g2[32] = "";
        if (s.gpu_util_percent) std::snprintf(g1, sizeof g1, "%.2f", *s.gpu_util_percent);
        if (s.gpu_mem_mb) std::snprintf(g2, sizeof g2, "%.3f", *s.gpu_mem_mb);
        std::snprintf(line, sizeof line, "%llu,%s,%s,%u,%.3f,%.2f,%.3f,%llu,%llu,%s,%s\n",
                      static_cast<unsigned long long>(p.job_id), p.node.c_str(), t.step.c_str(),
                      t.task, s.time, s.cpu_percent, s.rss_mb,
                      static_cast<unsigned long long>(s.read_bytes),
                      static_cast<unsigned long long>(s.write_bytes), g1, g2);
        out += line;
      }
    }
  }
  return out;
}

}  // namespace locus::profile
