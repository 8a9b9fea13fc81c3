#pragma once
// Result<T>: a value or an Error, shaped like std::expected (C++23) so it can be swapped later.
// Errors at module boundaries are values (STYLE.md rule 6); impossible states use LOCUS_CHECK.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace locus {

enum class ErrorCode {
  kInvalidArgument,  // the caller's input is malformed (bad option, bad directive)
  kNotFound,         // no such job / node
  kUnsatisfiable,    // the request can never be satisfied by this cluster
  kFailedPrecondition,
  kPermissionDenied,
  kUnavailable,      // a peer (controller, node, disk) is not reachable right now
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error invalidArgument(std::string msg) { return {ErrorCode::kInvalidArgument, std::move(msg)}; }
inline Error notFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
inline Error unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg)}; }
inline Error internalError(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }
inline Error permissionDenied(std::string msg) { return {ErrorCode::kPermissionDenied, std::move(msg)}; }
inline Error failedPrecondition(std::string msg) { return {ErrorCode::kFailedPrecondition, std::move(msg)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

namespace detail {
// Streams context into a message, then aborts: for corrupt accounting, never for bad input.
class CheckFailure {
 public:
  CheckFailure(const char* cond, const char* file, int line) {
    os_ << file << ":" << line << ": LOCUS_CHECK(" << cond << ") failed: ";
  }
  [[noreturn]] ~CheckFailure() {
    std::fprintf(stderr, "%s\n", os_.str().c_str());
    std::abort();
  }
  template <typename V>
  CheckFailure& operator<<(const V& v) {
    os_ << v;
    return *this;
  }

 private:
  std::ostringstream os_;
};
}  // namespace detail

}  // namespace locus

#define LOCUS_CHECK(cond) \
  if (cond) {             \
  } else                  \
    ::locus::detail::CheckFailure(#cond, __FILE__, __LINE__)
