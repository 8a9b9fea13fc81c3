#pragma once
// What this process holds, for the benchmarks that report memory: VmRSS from /proc, and the
// heap glibc has handed out (mallinfo2: small blocks plus mmap-ed large ones).
#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>

namespace locus::bench {

inline size_t vmRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

inline size_t heapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace locus::bench
