#pragma once
#include <cstdint>
#include <string>

namespace locus {

int64_t unixNow();                      // seconds since the epoch, wall clock
std::string formatRfc3339(int64_t t);   // "2026-11-23T13:05:00Z"; callers map 0 to null

}  // namespace locus
