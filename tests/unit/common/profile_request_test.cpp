// --profile / --profile-interval (common/profile_request.hpp): the values, the option and
// directive plumbing into JobSpec, and locus.toml's [profile] table.
#include "common/profile_request.hpp"

#include <gtest/gtest.h>

#include "common/config.hpp"
#include "common/job_options.hpp"

namespace locus {
namespace {

TEST(NormalizeProfile, Values) {
  struct Case {
    const char* in;
    const char* out;  // nullptr: an error
  };
  const Case cases[] = {
      {"", ""},
      {"none", ""},
      {"task", "task"},
      {"gpu", "task,gpu"},
      {"task,gpu", "task,gpu"},
      {"gpu,task", "task,gpu"},
      {"all", "task,gpu"},
      {"task,task", "task"},
      {"cpu", nullptr},
      {"task,", nullptr},
      {"none,task", nullptr},
      {"Task", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = normalizeProfile(c.in);
    if (!c.out) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.error().message.rfind("--profile: ", 0), 0u) << r.error().message;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.out);
  }
  EXPECT_NE(normalizeProfile("cpu").error().message.find("unknown type 'cpu'"), std::string::npos);
}

TEST(ParseProfileInterval, Values) {
  EXPECT_EQ(*parseProfileInterval("1"), 1u);
  EXPECT_EQ(*parseProfileInterval("30s"), 30u);
  EXPECT_EQ(*parseProfileInterval("86400"), 86400u);
  for (const char* bad : {"0", "", "s", "-1", "1.5", "86401", "10m", "abc"}) {
    SCOPED_TRACE(bad);
    auto r = parseProfileInterval(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.rfind("--profile-interval: invalid interval", 0), 0u)
        << r.error().message;
  }
}

TEST(ProfileOptions, CommandLineAndDirectives) {
  SubmitContext ctx{"/tmp", {}};
  auto r = parseSubmitArgs({"--profile", "task", "--profile-interval", "1", "--wrap", "true"}, ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.profile, "task");
  EXPECT_EQ(r->spec.profile_interval_s, 1u);
  EXPECT_TRUE(r->spec.warnings.empty());  // no longer "accepted but not acted on"

  auto none = parseSubmitArgs({"--profile=none", "--wrap", "true"}, ctx);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->spec.profile, "");
  EXPECT_EQ(none->spec.profile_interval_s, 0u);

  auto bad = parseSubmitArgs({"--profile", "energy", "--wrap", "true"}, ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--profile: unknown type 'energy'"), std::string::npos);

  // #SBATCH --profile, overridden by the command line.
  JobSpec spec;
  bool parsable = false;
  std::vector<std::string> unknown, positional;
  for (const auto& words :
       readDirectives("#!/bin/sh\n#SBATCH --profile=task,gpu\n#LOCUS --profile-interval 5\necho\n"))
    ASSERT_TRUE(applyOptions(words, spec, parsable, unknown, positional, false).ok());
  EXPECT_EQ(spec.profile, "task,gpu");
  EXPECT_EQ(spec.profile_interval_s, 5u);
  ASSERT_TRUE(applyOptions({"--profile", "none"}, spec, parsable, unknown, positional, false).ok());
  EXPECT_EQ(spec.profile, "");
}

TEST(ProfileConfig, DirAndInterval) {
  auto defaults = parseConfig("[controller]\nstate_dir = \"/var/lib/locus\"\n", "locus.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->profile_interval_s, kDefaultProfileIntervalS);
  EXPECT_EQ(defaults->profileDir(), "/var/lib/locus/profiles");

  auto set = parseConfig("[profile]\ndir = \"/shared/profiles/\"\ninterval_s = 30\n", "locus.toml");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->profileDir(), "/shared/profiles/");
  EXPECT_EQ(set->profile_interval_s, 30u);

  auto typo = parseConfig("[profile]\ndirectory = \"/x\"\n", "locus.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("locus.toml:2: unknown key 'profile.directory'"),
            std::string::npos)
      << typo.error().message;
  auto zero = parseConfig("[profile]\ninterval_s = 0\n", "locus.toml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("'profile.interval_s' must be >= 1"), std::string::npos)
      << zero.error().message;
}

}  // namespace
}  // namespace locus
