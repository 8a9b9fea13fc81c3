// The answers of a WebHDFS NameNode (or of whatever answers in its place): the input goes, as
// a body, to each of the GETFILESTATUS, LISTSTATUS and GETFILEBLOCKLOCATIONS parsers and to the
// error-body reader.
#include <string>

#include "locality/webhdfs_json.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace webhdfs = locus::locality::webhdfs;

LOCUS_FUZZ_TARGET(webhdfs_json) {
  if (auto st = webhdfs::parseFileStatus(input); st.ok())
    FUZZ_CHECK(!st->type.empty(), "a FileStatus without type");
  if (auto list = webhdfs::parseListStatus(input); list.ok())
    for (const auto& entry : *list)
      FUZZ_CHECK(!entry.suffix.empty() && entry.suffix.find('/') == std::string::npos &&
                     entry.suffix != "." && entry.suffix != "..",
                 "LISTSTATUS entry '" + entry.suffix + "' leaves its directory");
  if (auto blocks = webhdfs::parseBlockLocations(input); blocks.ok()) {
    for (size_t i = 0; i < blocks->size(); ++i) {
      const locus::locality::BlockLocation& b = (*blocks)[i];
      FUZZ_CHECK(i == 0 || (*blocks)[i - 1].offset <= b.offset, "blocks not sorted by offset");
      FUZZ_CHECK(b.names.empty() || b.names.size() == b.hosts.size(), "names not one per host");
      FUZZ_CHECK(b.racks.empty() || b.racks.size() == b.hosts.size(), "racks not one per host");
    }
  }
  const webhdfs::RemoteFailure failure = webhdfs::describeFailure(input);
  FUZZ_CHECK(!failure.text.empty() && failure.text.find('\n') == std::string::npos,
             "failure text empty or not one line");
}
