#include "common/exec_path.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace locus {
namespace {

namespace fs = std::filesystem;

TEST(FindExecutable, SearchesLikeExecvp) {
  char tmpl[] = "/tmp/locus-exec-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  fs::create_directories(root + "/a");
  fs::create_directories(root + "/b");
  auto make = [&](const std::string& path, mode_t mode) {
    std::ofstream(path) << "#!/bin/sh\n";
    chmod(path.c_str(), mode);
  };
  make(root + "/a/tool", 0644);  // not executable: skipped
  make(root + "/b/tool", 0755);
  make(root + "/here", 0755);
  struct Case {
    std::string name, path, want;
  };
  const Case cases[] = {
      {"tool", root + "/a:" + root + "/b", root + "/b/tool"},
      {"tool", root + "/a", "tool"},                 // nothing found: the name, exec says why
      {"here", root + "/a::" + root + "/b", root + "/./here"},  // empty entry: the work dir
      {"/bin/sh", root + "/a", "/bin/sh"},           // absolute: as given
      {"./here", root + "/a", root + "/./here"},     // relative with a slash: from the work dir
      {"", root, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " in " + c.path);
    const std::string work = c.name == "here" ? root + "/." : root;
    EXPECT_EQ(findExecutable(c.name, c.path, work), c.want);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace locus
