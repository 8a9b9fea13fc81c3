#include "common/exec_path.hpp"

#include <unistd.h>

namespace locus {

std::string findExecutable(const std::string& name, const std::string& path, const std::string& work_dir) {
  if (name.empty()) return name;
  if (name.find('/') != std::string::npos) return name[0] == '/' ? name : work_dir + "/" + name;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = work_dir;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return name;
}

}  // namespace locus
