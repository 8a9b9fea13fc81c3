#include "controller/store/store.hpp"

#include "controller/store/sqlite_store.hpp"

namespace locus::controller {

Result<std::unique_ptr<Store>> Store::open(const std::string& state_dir) {
  auto store = SqliteStore::open(state_dir);
  if (!store.ok()) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace locus::controller
