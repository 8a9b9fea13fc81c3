#pragma once
// Node-local data: datasets staged onto a node's own disks (an NVMe cache, a burst buffer),
// which the node daemon reports so that jobs naming them can be placed there.
//
//   /scratch/cache/climate.h5        -> dataset "climate.h5" (a staged file)
//   /scratch/cache/imagenet/...      -> dataset "imagenet" (every regular file under it)
//
// Reads the file system only (no state); safe from any thread.
#include <cstdint>
#include <string>
#include <vector>

namespace locus::locality {

struct LocalDataset {
  std::string name;  // the entry's name in its cache directory
  std::string path;  // cache directory / name
  uint64_t bytes = 0;
};

// Each top-level entry of each directory in `dirs` is a dataset: a regular file is itself, a
// directory is all regular files below it (bytes summed). Symbolic links are never followed,
// at the top level or below: a link may point at shared storage, and the point is what is on
// this node's disks. Entries starting with '.' are skipped (a copy still being staged, like
// rsync's ".climate.h5.Xa3f"). On a name in several directories the first directory wins.
// Sorted by name.
//
// Never fails: what cannot be read (a missing directory, an unreadable subdirectory, a name
// shadowed by an earlier directory) is skipped and described, one line each, in `*warnings`
// when it is not null, for the daemon to log.
std::vector<LocalDataset> scanCacheDirs(const std::vector<std::string>& dirs,
                                        std::vector<std::string>* warnings = nullptr);

}  // namespace locus::locality
