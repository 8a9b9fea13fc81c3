#include "profile/hdf5_util.hpp"

#include <algorithm>

namespace locus::profile::h5 {

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = H5I_INVALID_HID;
}

void silenceErrors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {

bool writeScalar(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  return attr.valid() && H5Awrite(attr.get(), mem_type, value) >= 0;
}

}  // namespace

bool writeString(hid_t obj, const char* name, std::string_view value) {
  // Fixed-length, NUL-terminated ASCII: what h5dump and h5py show as plain strings.
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), std::max<size_t>(1, value.size() + 1));
  H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
  std::string buf(value);
  buf.push_back('\0');
  return writeScalar(obj, name, type.get(), type.get(), buf.data());
}

bool writeU64(hid_t obj, const char* name, uint64_t value) {
  return writeScalar(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

bool writeU32(hid_t obj, const char* name, uint32_t value) {
  return writeScalar(obj, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, &value);
}

std::optional<std::string> readString(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT));
  Handle type(H5Aget_type(attr.get()));
  if (!attr.valid() || H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    char* text = nullptr;
    if (H5Aread(attr.get(), mem.get(), &text) < 0 || !text) return std::nullopt;
    std::string out(text);
    H5free_memory(text);
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  std::string buf(size + 1, '\0');
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), size + 1);
  H5Tset_strpad(mem.get(), H5T_STR_NULLTERM);
  if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) return std::nullopt;
  buf.resize(buf.find('\0'));
  return buf;
}

std::optional<uint64_t> readU64(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT));
  Handle type(H5Aget_type(attr.get()));
  if (!attr.valid() || H5Tget_class(type.get()) != H5T_INTEGER) return std::nullopt;
  uint64_t v = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_UINT64, &v) < 0) return std::nullopt;
  return v;
}

std::vector<std::string> children(hid_t group) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, &idx,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

}  // namespace locus::profile::h5
