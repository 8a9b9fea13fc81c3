#pragma once
// Private to profile/: RAII for HDF5 handles and the attribute helpers the writer and the reader
// share. Includes hdf5.h, so only profile/*.cpp may include it.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus::profile::h5 {

// An HDF5 identifier closed with the function that matches its kind (file, group, dataset,
// dataspace, datatype, attribute, property list).
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// HDF5 prints its error stack to stderr by default; Locus reports errors as values instead.
// Cheap; call at every entry point (the setting is per thread in a thread-safe HDF5).
void silenceErrors();

// Scalar attributes on an object (file root, group, dataset).
bool writeString(hid_t obj, const char* name, std::string_view value);
bool writeU64(hid_t obj, const char* name, uint64_t value);
bool writeU32(hid_t obj, const char* name, uint32_t value);
std::optional<std::string> readString(hid_t obj, const char* name);  // fixed or variable length
std::optional<uint64_t> readU64(hid_t obj, const char* name);        // any integer type

// Names of the links directly under a group, in name order.
std::vector<std::string> children(hid_t group);

}  // namespace locus::profile::h5
