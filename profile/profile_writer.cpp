#include "profile/profile_writer.hpp"

#include <cmath>
#include <map>

#include "profile/hdf5_util.hpp"

namespace locus::profile {

// Samples per chunk: 256 x 8 bytes = 2 KiB per dataset chunk. A 10 s interval fills one in
// 42 minutes; small enough that a short job's file stays a few KiB per task, large enough that a
// day-long job at 1 s needs ~340 chunks per dataset, not 86,400.
constexpr hsize_t kChunkSamples = 256;

std::string stepGroupName(std::string_view step) { return "step_" + std::string(step); }
std::string taskGroupName(uint32_t task) { return "task_" + std::to_string(task); }

struct ProfileWriter::Impl {
  h5::Handle file;
  bool gpu = false;  // GPU datasets exist in this file
  struct Group {
    h5::Handle group;
    std::vector<h5::Handle> datasets;  // parallel to kSeries; invalid where not created
    hsize_t samples = 0;
  };
  std::map<std::pair<std::string, uint32_t>, Group> groups;

  Group* group(std::string_view step, uint32_t task) {
    auto key = std::make_pair(std::string(step), task);
    if (auto it = groups.find(key); it != groups.end()) return &it->second;
    const std::string path = "/" + stepGroupName(step) + "/" + taskGroupName(task);
    h5::Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Group g;
    g.group =
        h5::Handle(H5Gcreate2(file.get(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!g.group.valid()) return nullptr;
    for (const SeriesDef& def : kSeries) {
      if (def.gpu && !gpu) {
        g.datasets.emplace_back();
        continue;
      }
      hsize_t dims = 0, max_dims = H5S_UNLIMITED, chunk = kChunkSamples;
      h5::Handle space(H5Screate_simple(1, &dims, &max_dims));
      h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
      H5Pset_chunk(dcpl.get(), 1, &chunk);
      const std::string name(def.name);
      h5::Handle ds(H5Dcreate2(g.group.get(), name.c_str(),
                               def.integer ? H5T_STD_U64LE : H5T_IEEE_F64LE, space.get(),
                               H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
      if (!ds.valid() || !h5::writeString(ds.get(), "units", def.units)) return nullptr;
      g.datasets.push_back(std::move(ds));
    }
    return &groups.emplace(std::move(key), std::move(g)).first->second;
  }
};

ProfileWriter::ProfileWriter(std::string path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

ProfileWriter::~ProfileWriter() { close(); }

Result<std::unique_ptr<ProfileWriter>> ProfileWriter::create(const std::string& path,
                                                             const FileInfo& info) {
  h5::silenceErrors();
  auto impl = std::make_unique<Impl>();
  // The default (oldest) format on purpose: a file whose writer died without closing it stays
  // readable up to its last flush (the newer superblock records "open for writing" and makes
  // readers refuse it until h5clear runs).
  impl->file = h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!impl->file.valid()) return unavailable("cannot create HDF5 file " + path);
  impl->gpu = info.gpu == kGpuSampled;
  const hid_t root = impl->file.get();
  if (!h5::writeU64(root, "job_id", info.job_id) || !h5::writeString(root, "node", info.node) ||
      !h5::writeU32(root, "interval_s", info.interval_s) ||
      !h5::writeString(root, "profile", info.profile) || !h5::writeString(root, "gpu", info.gpu) ||
      H5Fflush(root, H5F_SCOPE_LOCAL) < 0)
    return unavailable("cannot write the attributes of " + path);
  return std::unique_ptr<ProfileWriter>(new ProfileWriter(path, std::move(impl)));
}

Status ProfileWriter::append(std::string_view step, uint32_t task, const Sample& s) {
  h5::silenceErrors();
  if (!impl_->file.valid()) return failedPrecondition(path_ + " is closed");
  Impl::Group* g = impl_->group(step, task);
  if (!g)
    return unavailable("cannot create /" + stepGroupName(step) + "/" + taskGroupName(task) +
                       " in " + path_);
  const double nan = std::nan("");
  const double doubles[] = {s.time,
                            s.cpu_percent,
                            s.rss_mb,
                            0,
                            0,
                            s.gpu_util_percent.value_or(nan),
                            s.gpu_mem_mb.value_or(nan)};
  const uint64_t integers[] = {0, 0, 0, s.read_bytes, s.write_bytes, 0, 0};
  const hsize_t at = g->samples, one = 1, grown = g->samples + 1;
  h5::Handle mem(H5Screate_simple(1, &one, nullptr));
  for (size_t i = 0; i < std::size(kSeries); ++i) {
    const h5::Handle& ds = g->datasets[i];
    if (!ds.valid()) continue;
    if (H5Dset_extent(ds.get(), &grown) < 0)
      return unavailable("cannot extend a dataset in " + path_);
    h5::Handle space(H5Dget_space(ds.get()));
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &at, nullptr, &one, nullptr);
    const bool ok = kSeries[i].integer ? H5Dwrite(ds.get(), H5T_NATIVE_UINT64, mem.get(),
                                                  space.get(), H5P_DEFAULT, &integers[i]) >= 0
                                       : H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, mem.get(),
                                                  space.get(), H5P_DEFAULT, &doubles[i]) >= 0;
    if (!ok) return unavailable("cannot write a sample to " + path_);
  }
  g->samples = grown;
  if (H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL) < 0) return unavailable("cannot flush " + path_);
  return {};
}

void ProfileWriter::close() {
  if (!impl_ || !impl_->file.valid()) return;
  h5::silenceErrors();
  impl_->groups.clear();  // datasets and groups before the file
  impl_->file.reset();
}

}  // namespace locus::profile
