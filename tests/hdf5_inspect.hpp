#pragma once
// Reading HDF5 attributes straight through the HDF5 C API, for tests that check what the
// profile writer produced without going through profile_reader (so a bug shared by the writer
// and the reader cannot hide).
#include <hdf5.h>

#include <cstdint>
#include <string>

namespace locus::testing {

// A fixed- or variable-length string attribute; "<missing>" when `obj` has none called `name`.
inline std::string stringAttribute(hid_t obj, const char* name) {
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  if (attr < 0) return "<missing>";
  hid_t type = H5Aget_type(attr);
  std::string buf(H5Tget_size(type) + 1, '\0');
  hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, buf.size());
  H5Aread(attr, mem, buf.data());
  H5Tclose(mem);
  H5Tclose(type);
  H5Aclose(attr);
  return buf.c_str();
}

// An integer attribute read as uint64; 0 when there is none.
inline uint64_t intAttribute(hid_t obj, const char* name) {
  uint64_t v = 0;
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  if (attr < 0) return 0;
  H5Aread(attr, H5T_NATIVE_UINT64, &v);
  H5Aclose(attr);
  return v;
}

}  // namespace locus::testing
