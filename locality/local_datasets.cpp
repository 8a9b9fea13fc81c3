#include "locality/local_datasets.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

namespace locus::locality {
namespace {

namespace fs = std::filesystem;

void warn(std::vector<std::string>* warnings, std::string line) {
  if (warnings) warnings->push_back(std::move(line));
}

// The bytes of every regular file below `dir`. Walked with an explicit stack of directories
// rather than recursive_directory_iterator, so that an unreadable subdirectory costs only its
// own bytes (and a warning), not the rest of the walk. symlink_status keeps links out: a link
// is neither descended into nor counted.
uint64_t treeBytes(const fs::path& dir, std::vector<std::string>* warnings) {
  uint64_t bytes = 0;
  std::vector<fs::path> pending{dir};
  while (!pending.empty()) {
    const fs::path d = std::move(pending.back());
    pending.pop_back();
    std::error_code ec;
    fs::directory_iterator it(d, ec);
    for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      const fs::file_status st = it->symlink_status(entry_ec);
      if (!entry_ec && fs::is_directory(st)) {
        pending.push_back(it->path());
      } else if (!entry_ec && fs::is_regular_file(st)) {
        const uint64_t size = it->file_size(entry_ec);
        if (!entry_ec) bytes += size;
      }
      if (entry_ec)
        warn(warnings, "cannot stat " + it->path().string() + ": " + entry_ec.message());
    }
    if (ec) warn(warnings, "cannot read " + d.string() + ": " + ec.message());
  }
  return bytes;
}

}  // namespace

std::vector<LocalDataset> scanCacheDirs(const std::vector<std::string>& dirs,
                                        std::vector<std::string>* warnings) {
  std::map<std::string, LocalDataset> found;  // by name: sorted, and the first one kept
  for (const auto& d : dirs) {
    std::error_code ec;
    const fs::file_status st = fs::status(d, ec);
    if (ec || !fs::exists(st)) {
      warn(warnings, "cache directory " + d + " does not exist; skipped");
      continue;
    }
    if (!fs::is_directory(st)) {
      warn(warnings, "cache directory " + d + " is not a directory; skipped");
      continue;
    }
    fs::directory_iterator it(d, ec);
    if (ec) {
      warn(warnings, "cannot read cache directory " + d + ": " + ec.message());
      continue;
    }
    for (const fs::directory_iterator end; it != end; it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      const std::string name = p.filename().string();
      if (name.empty() || name.front() == '.') continue;
      std::error_code entry_ec;
      const fs::file_status est = it->symlink_status(entry_ec);
      if (entry_ec) {
        warn(warnings, "cannot stat " + p.string() + ": " + entry_ec.message());
        continue;
      }
      LocalDataset ds{name, p.string(), 0};
      if (fs::is_regular_file(est)) {
        ds.bytes = it->file_size(entry_ec);
        if (entry_ec) {
          warn(warnings, "cannot stat " + p.string() + ": " + entry_ec.message());
          continue;
        }
      } else if (fs::is_directory(est)) {
        ds.bytes = treeBytes(p, warnings);
      } else {
        continue;  // a symlink, socket or device: not data on this node
      }
      auto [pos, inserted] = found.emplace(name, ds);
      if (!inserted)
        warn(warnings, "dataset " + name + " in " + d + " is shadowed by " + pos->second.path);
    }
    if (ec) warn(warnings, "cannot read cache directory " + d + ": " + ec.message());
  }
  std::vector<LocalDataset> out;
  out.reserve(found.size());
  for (auto& [name, ds] : found) out.push_back(std::move(ds));
  return out;
}

}  // namespace locus::locality
