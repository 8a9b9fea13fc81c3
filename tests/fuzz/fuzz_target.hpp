#pragma once
// One fuzz target is one function over the input bytes, written once and built two ways:
//
//   clang, LOCUS_FUZZ_LIBFUZZER defined (tests/fuzz/CMakeLists.txt, `make fuzz`): the file is a
//     libFuzzer binary; LLVMFuzzerTestOneInput calls the function.
//   any compiler, not defined (unit_fuzz_replay, in `make test`): every target registers itself
//     under its name, and the replay test runs each file of tests/fuzz/corpus/<name>/ and
//     tests/fuzz/regressions/<name>/ through it, so an input that once crashed stays fixed.
//
//   LOCUS_FUZZ_TARGET(hostlist) {
//     auto hosts = expandHostlist(input);  // `input` is a std::string_view of the bytes
//     ...
//   }
//
// Contract of a target: it returns normally for every input. A crash, an abort (LOCUS_CHECK
// included), an uncaught exception or a sanitizer report is a finding; so is a property the
// target checks with FUZZ_CHECK (a round trip that does not hold), which aborts with a message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace locus::fuzz {

using TargetFn = void (*)(std::string_view input);

// Every target of the binary, by name (the name of its corpus directory). Replay builds only.
inline std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> all;
  return all;
}

struct Registration {
  Registration(const char* name, TargetFn fn) { targets()[name] = fn; }
};

[[noreturn]] inline void checkFailed(const char* cond, const char* file, int line,
                                     const std::string& what) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", file, line, cond, what.c_str());
  std::abort();
}

}  // namespace locus::fuzz

// A property of the parser under test; `what` (a std::string expression) says which input.
#define FUZZ_CHECK(cond, what) \
  ((cond) ? (void)0 : ::locus::fuzz::checkFailed(#cond, __FILE__, __LINE__, (what)))

#ifdef LOCUS_FUZZ_LIBFUZZER
#define LOCUS_FUZZ_TARGET(name)                                                 \
  static void locusFuzzBody(std::string_view input);                            \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {     \
    locusFuzzBody(std::string_view(reinterpret_cast<const char*>(data), size)); \
    return 0;                                                                   \
  }                                                                             \
  static void locusFuzzBody(std::string_view input)
#else
#define LOCUS_FUZZ_TARGET(name)                                                                    \
  static void locusFuzzBody(std::string_view input);                                               \
  [[maybe_unused]] static const ::locus::fuzz::Registration locusFuzzRegistration(#name,           \
                                                                                  &locusFuzzBody); \
  static void locusFuzzBody(std::string_view input)
#endif
