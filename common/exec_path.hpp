#pragma once
// Finding a program the way execvp does, for processes that must exec by absolute path (the
// node daemon's launch child may not search) or look at the file first (locus run).
#include <string>

namespace locus {

// `name` with a slash: itself, relative to `work_dir` unless absolute. Without one: the first
// executable `dir/name` over the colon-separated `path` (an empty entry is `work_dir`). When
// nothing is found, `name` itself (exec then fails and says so).
std::string findExecutable(const std::string& name, const std::string& path, const std::string& work_dir);

}  // namespace locus
