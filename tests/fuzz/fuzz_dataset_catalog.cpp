// Dataset catalogs, JSON and TOML (locality/dataset_catalog.hpp): the input is parsed as both.
// An accepted catalog keeps its promises: blocks sorted and inside their file, one rack per
// host when racks are given, and every dataset it names can be located.
#include <string>

#include "locality/dataset_catalog.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace locality = locus::locality;

static void checkCatalog(locality::DatasetCatalog& catalog) {
  for (const std::string& name : catalog.names()) {
    auto files = catalog.locate("dataset:" + name);
    FUZZ_CHECK(files.ok(), "dataset '" + name + "' listed but not found");
    for (const locality::InputFile& f : *files) {
      uint64_t end = 0;
      for (const locality::BlockLocation& b : f.blocks) {
        FUZZ_CHECK(b.offset >= end && b.length > 0, "blocks overlap in " + f.path);
        end = b.offset + b.length;
        FUZZ_CHECK(!b.hosts.empty(), "a block without host in " + f.path);
        FUZZ_CHECK(b.racks.empty() || b.racks.size() == b.hosts.size(), "racks in " + f.path);
      }
      FUZZ_CHECK(end <= f.size, "a block past the end of " + f.path);
    }
  }
}

LOCUS_FUZZ_TARGET(dataset_catalog) {
  for (auto format : {locality::CatalogFormat::kJson, locality::CatalogFormat::kToml}) {
    auto catalog = locality::DatasetCatalog::parse(input, format, "fuzz-catalog");
    if (catalog.ok()) checkCatalog(*catalog);
  }
}
