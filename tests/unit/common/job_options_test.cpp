#include "common/job_options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#ifndef LOCUS_SHARED_DIR
#error "LOCUS_SHARED_DIR must be defined (CMake sets it to the shared/ folder)"
#endif

namespace locus {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;

bool hasWarningContaining(const JobSpec& spec, const std::string& text) {
  return std::any_of(spec.warnings.begin(), spec.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

std::string joinWarnings(const JobSpec& spec) {
  std::string out;
  for (const auto& w : spec.warnings) out += "\n  " + w;
  return out;
}

// A fresh submit directory per test, removed afterwards.
class SubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "locus_job_options_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ctx_.cwd = dir_.string();
    ctx_.environment = {{"HOME", "/home/alice"}, {"PATH", "/usr/bin"}, {"OMP_NUM_THREADS", "4"}};
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return name;
  }
  Result<SubmitRequest> submit(const Words& argv) { return parseSubmitArgs(argv, ctx_); }

  fs::path dir_;
  SubmitContext ctx_;
};

// ---- readDirectives ---------------------------------------------------------------------------

TEST(ReadDirectives, FollowsSbatchRules) {
  struct Case {
    const char* name;
    const char* script;
    std::vector<Words> directives;
  };
  const Case cases[] = {
      {"no directives", "#!/bin/sh\necho hi\n", {}},
      {"basic",
       "#!/bin/bash\n#SBATCH -N 2\n#SBATCH --mem=4G\necho hi\n",
       {{"-N", "2"}, {"--mem=4G"}}},
      {"#LOCUS and #SBATCH mixed, in order",
       "#!/bin/sh\n#LOCUS -J a\n#SBATCH -J b\n#LOCUS --time=5\n",
       {{"-J", "a"}, {"-J", "b"}, {"--time=5"}}},
      {"comments and blank lines do not stop reading",
       "#!/bin/sh\n\n# a comment\n   # indented comment\n\t\n#SBATCH -n 4\n",
       {{"-n", "4"}}},
      {"the first command stops reading",
       "#!/bin/sh\n#SBATCH -n 4\necho hi\n#SBATCH -n 8\n",
       {{"-n", "4"}}},
      {"an indented command stops reading too", "#!/bin/sh\n  export X=1\n#SBATCH -n 8\n", {}},
      {"indented or spaced directives are comments, not directives",
       "#!/bin/sh\n  #SBATCH -n 2\n# SBATCH -n 3\n##SBATCH -n 5\n#SBATCH -n 4\n",
       {{"-n", "4"}}},
      {"trailing comments are cut", "#SBATCH --mem=40G   # 40GB RAM\n", {{"--mem=40G"}}},
      {"a # glued to a value cuts it too, as sbatch", "#SBATCH -J a#b\n", {{"-J", "a"}}},
      {"quotes group words and protect #",
       "#SBATCH -J \"my job\" --comment='a # b'\n",
       {{"-J", "my job", "--comment=a # b"}}},
      {"backslash escapes", "#SBATCH -J my\\ job\\#1\n", {{"-J", "my job#1"}}},
      {"empty directive line is skipped",
       "#SBATCH\n#SBATCH    # only a comment\n#SBATCH -n 1\n",
       {{"-n", "1"}}},
      {"no trailing newline", "#SBATCH -n 3", {{"-n", "3"}}},
      {"CR before LF is whitespace", "#SBATCH -n 3\r\n", {{"-n", "3"}}},
      {"the heredoc of another job after a command is ignored",
       "#!/bin/bash\n#SBATCH -J outer\n\nsbatch <<END\n#!/bin/bash\n#SBATCH -J inner\nEND\n",
       {{"-J", "outer"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(readDirectives(c.script), c.directives);
  }
}

// ---- applyOptions -----------------------------------------------------------------------------

struct Applied {
  Status status;
  JobSpec spec;
  bool parsable = false;
  Words unknown, positional;
};

Applied apply(const Words& words, bool stop_at_first_positional = true) {
  Applied a;
  a.status =
      applyOptions(words, a.spec, a.parsable, a.unknown, a.positional, stop_at_first_positional);
  return a;
}

TEST(ApplyOptions, SetsFields) {
  struct Case {
    const char* name;
    Words words;
    std::function<void(const Applied&)> check;
  };
  const std::vector<Case> cases = {
      {"long with =", {"--job-name=x"}, [](const Applied& a) { EXPECT_EQ(a.spec.name, "x"); }},
      {"long with separate value",
       {"--job-name", "x"},
       [](const Applied& a) { EXPECT_EQ(a.spec.name, "x"); }},
      {"short glued", {"-n4"}, [](const Applied& a) { EXPECT_EQ(a.spec.ntasks, 4u); }},
      {"short separate", {"-n", "4"}, [](const Applied& a) { EXPECT_EQ(a.spec.ntasks, 4u); }},
      {"short cluster: flag then value",
       {"-Hn4"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.ntasks, 4u);
         EXPECT_TRUE(a.spec.hold);  // -H: submitted held
       }},
      {"unique prefix of a long name",
       {"--cpus-per-t=3"},
       [](const Applied& a) { EXPECT_EQ(a.spec.cpus_per_task, 3u); }},
      {"sbatch aliases --tasks and --tasks-per-node",
       {"--tasks=48", "--tasks-per-node=8"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.ntasks, 48u);
         EXPECT_EQ(a.spec.ntasks_per_node, 8u);
       }},
      {"geometry",
       {"-N", "2", "--ntasks-per-node=4", "-c", "8"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.nodes, 2u);
         EXPECT_EQ(a.spec.ntasks_per_node, 4u);
         EXPECT_EQ(a.spec.cpus_per_task, 8u);
       }},
      {"node range uses the minimum and warns",
       {"--nodes=2-4"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.nodes, 2u);
         EXPECT_TRUE(hasWarningContaining(a.spec, "node ranges are not supported"));
       }},
      {"memory",
       {"--mem=4G", "--mem-per-cpu", "512"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.mem_mb, 4096u);
         EXPECT_EQ(a.spec.mem_per_cpu_mb, 512u);
       }},
      {"time",
       {"-t", "1-00:00:00"},
       [](const Applied& a) { EXPECT_EQ(a.spec.time_limit_s, 86400); }},
      {"output, error and chdir stored as given",
       {"-o", "%x_%j.out", "-e", "err", "-D", "sub"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.stdout_path, "%x_%j.out");
         EXPECT_EQ(a.spec.stderr_path, "err");
         EXPECT_EQ(a.spec.work_dir, "sub");
       }},
      {"-o none discards as in sbatch",
       {"-o", "none"},
       [](const Applied& a) { EXPECT_EQ(a.spec.stdout_path, "/dev/null"); }},
      {"array stored as given",
       {"--array=1-100%10"},
       [](const Applied& a) { EXPECT_EQ(a.spec.array_spec, "1-100%10"); }},
      {"requeue then no-requeue: last wins",
       {"--requeue", "--no-requeue"},
       [](const Applied& a) { EXPECT_FALSE(a.spec.requeue); }},
      {"requeue", {"--requeue"}, [](const Applied& a) { EXPECT_TRUE(a.spec.requeue); }},
      {"export",
       {"--export=ALL,FOO=bar"},
       [](const Applied& a) { EXPECT_EQ(a.spec.export_spec, "ALL,FOO=bar"); }},
      {"parsable", {"--parsable"}, [](const Applied& a) { EXPECT_TRUE(a.parsable); }},
      {"wrap",
       {"--wrap", "hostname"},
       [](const Applied& a) { EXPECT_EQ(a.spec.script, "#!/bin/sh\nhostname\n"); }},
      {"stored for later",
       {"-p", "gpu", "-A", "lab", "--qos=high", "--gres=gpu:4", "-C", "skylake", "-d", "afterok:12",
        "--exclusive"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.partition, "gpu");
         EXPECT_EQ(a.spec.account, "lab");
         EXPECT_EQ(a.spec.qos, "high");
         EXPECT_EQ(a.spec.gres, "gpu:4");
         EXPECT_EQ(a.spec.constraint, "skylake");
         EXPECT_EQ(a.spec.dependency, "afterok:12");
         EXPECT_TRUE(a.spec.exclusive);
         EXPECT_TRUE(a.spec.warnings.empty()) << joinWarnings(a.spec);
       }},
      {"--gpus stored as given",
       {"--gpus=a100:2"},
       [](const Applied& a) { EXPECT_EQ(a.spec.gpus, "a100:2"); }},
      {"-G is --gpus", {"-G", "2"}, [](const Applied& a) { EXPECT_EQ(a.spec.gpus, "2"); }},
      {"--gpus-per-node tagged",
       {"--gpus-per-node=4"},
       [](const Applied& a) { EXPECT_EQ(a.spec.gpus, "per-node:4"); }},
      {"--gpus-per-task tagged",
       {"--gpus-per-task=1"},
       [](const Applied& a) { EXPECT_EQ(a.spec.gpus, "per-task:1"); }},
      {"a different GPU form replaces with a warning",
       {"--gpus=8", "--gpus-per-node=4"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.gpus, "per-node:4");
         EXPECT_TRUE(hasWarningContaining(a.spec, "replaces the earlier GPU request '8'"));
       }},
      {"the same GPU form replaces silently",
       {"--gpus-per-node=4", "--gpus-per-node=2"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.gpus, "per-node:2");
         EXPECT_TRUE(a.spec.warnings.empty()) << joinWarnings(a.spec);
       }},
      {"accepted but not acted on: warns with the value",
       {"--mail-type=END", "--mail-user", "a@b.c", "--open-mode=append", "--reservation=r"},
       [](const Applied& a) {
         EXPECT_TRUE(hasWarningContaining(a.spec, "--mail-type=END accepted but not acted on"));
         EXPECT_TRUE(hasWarningContaining(a.spec, "--mail-user=a@b.c"));
         EXPECT_TRUE(hasWarningContaining(a.spec, "--open-mode=append"));
         EXPECT_TRUE(hasWarningContaining(a.spec, "--reservation=r"));
         EXPECT_TRUE(a.unknown.empty());
         EXPECT_TRUE(a.positional.empty());
       }},
      {"unknown options are collected, not applied",
       {"--frobnicate=3", "-n", "2"},
       [](const Applied& a) {
         EXPECT_EQ(a.unknown, Words{"--frobnicate=3"});
         EXPECT_EQ(a.spec.ntasks, 2u);
       }},
      {"on argv the first positional stops option parsing",
       {"-n", "2", "job.sh", "-n", "5", "arg"},
       [](const Applied& a) {
         EXPECT_EQ(a.spec.ntasks, 2u);
         EXPECT_EQ(a.positional, (Words{"job.sh", "-n", "5", "arg"}));
       }},
      {"-- ends options",
       {"--", "-n"},
       [](const Applied& a) { EXPECT_EQ(a.positional, Words{"-n"}); }},
      {"a later value wins",
       {"-J", "a", "--job-name=b"},
       [](const Applied& a) { EXPECT_EQ(a.spec.name, "b"); }},
      {"a value may start with a dash",
       {"-J", "-odd-"},
       [](const Applied& a) { EXPECT_EQ(a.spec.name, "-odd-"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Applied a = apply(c.words);
    ASSERT_TRUE(a.status.ok()) << a.status.error().message;
    c.check(a);
  }
}

TEST(ApplyOptions, DirectiveModeKeepsGoingAndPairsUnknownValues) {
  Applied a = apply({"--foo", "bar", "stray", "--baz=1", "-n", "3", "-z"}, false);
  ASSERT_TRUE(a.status.ok()) << a.status.error().message;
  EXPECT_EQ(a.unknown, (Words{"--foo bar", "--baz=1", "-z"}));
  EXPECT_EQ(a.positional, Words{"stray"});
  EXPECT_EQ(a.spec.ntasks, 3u);
}

TEST(ApplyOptions, RejectsBadValues) {
  struct Case {
    const char* name;
    Words words;
    const char* message;  // the whole message: it names the option and the value
  };
  const Case cases[] = {
      {"bad memory", {"--mem=abc"}, "--mem: invalid size 'abc'"},
      {"bad mem-per-cpu", {"--mem-per-cpu", "1.5G"}, "--mem-per-cpu: invalid size '1.5G'"},
      {"bad time",
       {"--time=1:2:3:4"},
       "--time: invalid time '1:2:3:4' (use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)"},
      {"zero nodes", {"--nodes=0"}, "--nodes: invalid count '0' (must be at least 1)"},
      {"zero tasks", {"--ntasks=0"}, "--ntasks: invalid count '0' (must be at least 1)"},
      {"zero cpus per task",
       {"-c", "0"},
       "--cpus-per-task: invalid count '0' (must be at least 1)"},
      {"zero tasks per node",
       {"--ntasks-per-node=0"},
       "--ntasks-per-node: invalid count '0' (must be at least 1)"},
      {"non-numeric count", {"-n", "four"}, "--ntasks: invalid count 'four'"},
      {"negative count", {"-N", "-2"}, "--nodes: invalid count '-2'"},
      {"count with junk", {"-c4x"}, "--cpus-per-task: invalid count '4x'"},
      {"count overflow", {"-n", "99999999999"}, "--ntasks: invalid count '99999999999'"},
      {"reversed node range", {"-N", "4-2"}, "--nodes: invalid count '4-2'"},
      {"bad array", {"--array=10-1"}, "--array: invalid array spec '10-1': range 10-1 is reversed"},
      {"bad export name", {"--export=1BAD"}, "--export: invalid variable name '1BAD'"},
      {"NONE combined",
       {"--export=NONE,FOO"},
       "--export: NONE cannot be combined with other elements"},
      {"missing value at the end", {"-t"}, "--time: missing value"},
      {"missing value for a long option", {"--mem"}, "--mem: missing value"},
      {"empty value", {"--job-name="}, "--job-name: missing value"},
      {"value for a flag", {"--requeue=yes"}, "--requeue: takes no value"},
      {"ambiguous prefix",
       {"--mem-per=1"},
       "--mem-per: ambiguous option (could be --mem-per-cpu, --mem-per-gpu)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Applied a = apply(c.words);
    ASSERT_FALSE(a.status.ok());
    EXPECT_EQ(a.status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(a.status.error().message, c.message);
  }
}

// ---- parseSubmitArgs --------------------------------------------------------------------------

TEST_F(SubmitTest, ScriptWithDirectives) {
  write("job.sh",
        "#!/bin/bash\n"
        "#SBATCH -J from_script\n"
        "#SBATCH --mem=2G --time=10\n"
        "#LOCUS -c 2\n"
        "echo hi\n");
  auto r = submit({"job.sh", "a1", "a2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const JobSpec& s = r->spec;
  EXPECT_EQ(s.name, "from_script");
  EXPECT_EQ(s.mem_mb, 2048u);
  EXPECT_EQ(s.time_limit_s, 600);
  EXPECT_EQ(s.cpus_per_task, 2u);
  EXPECT_EQ(s.script_path, "job.sh");
  EXPECT_EQ(s.script.substr(0, 12), "#!/bin/bash\n");
  EXPECT_EQ(s.args, (Words{"a1", "a2"}));
  EXPECT_EQ(s.work_dir, ctx_.cwd);
  EXPECT_EQ(s.ntasks, 1u);
  EXPECT_FALSE(r->parsable);
  EXPECT_TRUE(s.warnings.empty()) << joinWarnings(s);
}

TEST_F(SubmitTest, CommandLineWinsOverDirectives) {
  write("job.sh",
        "#!/bin/sh\n#SBATCH -J script_name\n#SBATCH --mem=1G\n#SBATCH -t 5\n#SBATCH -p a\ntrue\n");
  auto r = submit({"-J", "cli_name", "--mem=3G", "job.sh"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.name, "cli_name");
  EXPECT_EQ(r->spec.mem_mb, 3072u);
  EXPECT_EQ(r->spec.time_limit_s, 300);  // not on the command line: the directive stays
  EXPECT_EQ(r->spec.partition, "a");
}

TEST_F(SubmitTest, PoolIsPartitionUnderLocusName) {
  write("job.sh", "#!/bin/sh\n#LOCUS --pool=gpu\ntrue\n");
  auto r = submit({"job.sh"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.partition, "gpu");
  r = submit({"--pool", "main", "job.sh"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.partition, "main");
}

TEST_F(SubmitTest, LaterDirectiveWinsAndCommandStopsReading) {
  write("job.sh",
        "#!/bin/sh\n#LOCUS -n 2\n# plain comment\n#SBATCH -n 3\nsrun hostname\n#SBATCH -n 9\n");
  auto r = submit({"job.sh"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.ntasks, 3u);
}

TEST_F(SubmitTest, DirectiveWarningsAndErrors) {
  write("warn.sh",
        "#!/bin/sh\n#SBATCH --mail-type=END\n#SBATCH --made-up=1\n#SBATCH --wrap=x\ntrue\n");
  auto r = submit({"warn.sh"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(hasWarningContaining(r->spec, "--mail-type=END accepted but not acted on"))
      << joinWarnings(r->spec);
  EXPECT_TRUE(hasWarningContaining(r->spec, "unknown directive --made-up=1 ignored"))
      << joinWarnings(r->spec);
  EXPECT_TRUE(hasWarningContaining(r->spec, "--wrap in a script directive ignored"));
  EXPECT_EQ(r->spec.script.substr(0, 10), "#!/bin/sh\n");

  write("bad.sh", "#!/bin/sh\n#SBATCH --mem=lots\ntrue\n");
  auto bad = submit({"bad.sh"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "--mem: invalid size 'lots' (in a script directive)");

  // A bad directive value is overridden by nothing: the script is wrong even if argv sets --mem.
  auto still_bad = submit({"--mem=1G", "bad.sh"});
  EXPECT_FALSE(still_bad.ok());
}

TEST_F(SubmitTest, Wrap) {
  auto r = submit({"--wrap", "echo hello", "-n", "2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.script, "#!/bin/sh\necho hello\n");
  EXPECT_EQ(r->spec.name, "wrap");
  EXPECT_TRUE(r->spec.script_path.empty());
  EXPECT_EQ(r->spec.ntasks, 2u);

  auto named = submit({"--wrap=true", "-J", "w"});
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->spec.name, "w");
}

TEST_F(SubmitTest, Defaults) {
  write("sub/run.sbatch", "echo no shebang\n");
  auto r = submit({"--parsable", "sub/run.sbatch"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.name, "run.sbatch");
  EXPECT_EQ(r->spec.script, "echo no shebang\n");  // kept as is: the node runs it with /bin/sh
  EXPECT_EQ(r->spec.work_dir, ctx_.cwd);
  EXPECT_EQ(r->spec.cpus_per_task, 1u);
  EXPECT_EQ(r->spec.ntasks, 1u);
  EXPECT_EQ(r->spec.nodes, 0u);
  EXPECT_EQ(r->spec.environment, ctx_.environment);  // --export=ALL by default
  EXPECT_TRUE(r->parsable);
}

TEST_F(SubmitTest, WorkDir) {
  write("job.sh", "#!/bin/sh\ntrue\n");
  struct Case {
    const char* name;
    Words argv;
    std::string work_dir;
  };
  const Case cases[] = {
      {"relative resolved against the submit dir",
       {"-D", "out/run1", "job.sh"},
       ctx_.cwd + "/out/run1"},
      {"dot is the submit dir", {"-D", ".", "job.sh"}, ctx_.cwd},
      {"parent components normalized", {"--chdir=a/../b/", "job.sh"}, ctx_.cwd + "/b"},
      {"absolute kept", {"-D", "/scratch/x", "job.sh"}, "/scratch/x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = submit(c.argv);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->spec.work_dir, c.work_dir);
  }
}

TEST_F(SubmitTest, TaskGeometry) {
  write("job.sh", "#!/bin/sh\ntrue\n");
  struct Case {
    const char* name;
    Words argv;
    uint32_t nodes, ntasks;
  };
  const Case cases[] = {
      {"nothing given: one task", {"job.sh"}, 0, 1},
      {"nodes only: one task per node", {"-N", "3", "job.sh"}, 3, 3},
      {"nodes x tasks per node", {"-N", "2", "--ntasks-per-node=4", "job.sh"}, 2, 8},
      {"tasks per node without nodes: one node's worth", {"--ntasks-per-node=4", "job.sh"}, 0, 4},
      {"explicit ntasks kept", {"-n", "5", "job.sh"}, 0, 5},
      {"ntasks equal to nodes", {"-N", "3", "-n", "3", "job.sh"}, 3, 3},
      {"ntasks fitting nodes x per node",
       {"-N", "2", "--ntasks-per-node=4", "-n", "7", "job.sh"},
       2,
       7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = submit(c.argv);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->spec.nodes, c.nodes);
    EXPECT_EQ(r->spec.ntasks, c.ntasks);
  }
}

TEST_F(SubmitTest, Export) {
  write("job.sh", "#!/bin/sh\ntrue\n");
  using Env = std::map<std::string, std::string>;
  struct Case {
    const char* name;
    const char* export_spec;
    Env env;
  };
  const Case cases[] = {
      {"ALL", "ALL", {{"HOME", "/home/alice"}, {"PATH", "/usr/bin"}, {"OMP_NUM_THREADS", "4"}}},
      {"all lower-case",
       "all",
       {{"HOME", "/home/alice"}, {"PATH", "/usr/bin"}, {"OMP_NUM_THREADS", "4"}}},
      {"NONE", "NONE", {}},
      {"only named variables",
       "PATH,OMP_NUM_THREADS",
       {{"PATH", "/usr/bin"}, {"OMP_NUM_THREADS", "4"}}},
      {"a named variable that is not set is skipped", "PATH,NOT_SET", {{"PATH", "/usr/bin"}}},
      {"assignment", "FOO=bar", {{"FOO", "bar"}}},
      {"assignment overrides", "PATH=/opt/bin", {{"PATH", "/opt/bin"}}},
      {"ALL plus assignments",
       "ALL,FOO=bar,OMP_NUM_THREADS=8",
       {{"HOME", "/home/alice"}, {"PATH", "/usr/bin"}, {"OMP_NUM_THREADS", "8"}, {"FOO", "bar"}}},
      {"empty assignment value", "FOO=", {{"FOO", ""}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = submit({std::string("--export=") + c.export_spec, "job.sh"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->spec.environment, c.env);
    EXPECT_EQ(r->spec.export_spec, c.export_spec);
  }
}

TEST_F(SubmitTest, Errors) {
  write("job.sh", "#!/bin/sh\ntrue\n");
  write("empty.sh", "");
  write("binary.sh", std::string("\x7f"
                                 "ELF\0\0\0\x01",
                                 8) +
                         "rest");
  write("dos.sh", "#!/bin/sh\r\necho hi\r\n");
  fs::create_directories(dir_ / "adir");
  struct Case {
    const char* name;
    Words argv;
    const char* message;  // a substring
  };
  const Case cases[] = {
      {"no script and no wrap", {"-n", "2"}, "no script given"},
      {"nothing at all", {}, "no script given"},
      {"script and wrap", {"--wrap=true", "job.sh"}, "--wrap and a script ('job.sh') given"},
      {"missing script file", {"nope.sh"}, "cannot read script 'nope.sh'"},
      {"directory as script", {"adir"}, "cannot read script 'adir': is a directory"},
      {"empty script", {"empty.sh"}, "script 'empty.sh' is empty"},
      {"binary script", {"binary.sh"}, "looks like a binary file"},
      {"DOS line breaks", {"dos.sh"}, "DOS line breaks"},
      {"unknown command-line option", {"--frobnicate", "job.sh"}, "unknown option '--frobnicate'"},
      {"unknown short option", {"-z", "job.sh"}, "unknown option '-z'"},
      {"bad value on the command line", {"--mem=abc", "job.sh"}, "--mem: invalid size 'abc'"},
      {"bad time", {"--time=1:2:3:4", "job.sh"}, "--time: invalid time '1:2:3:4'"},
      {"zero nodes", {"--nodes=0", "job.sh"}, "--nodes: invalid count '0'"},
      {"ntasks below nodes",
       {"-N", "3", "-n", "2", "job.sh"},
       "--ntasks (2) is smaller than --nodes (3)"},
      {"ntasks above nodes x per node",
       {"-N", "2", "--ntasks-per-node=2", "-n", "5", "job.sh"},
       "--ntasks (5) is more than --nodes (2) x --ntasks-per-node (2)"},
      {"bad array", {"--array=1-0", "job.sh"}, "--array: invalid array spec '1-0'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = submit(c.argv);
    ASSERT_FALSE(r.ok()) << "parsed; name=" << r->spec.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

TEST_F(SubmitTest, UnreadableScript) {
  if (geteuid() == 0) GTEST_SKIP() << "root can read a mode-000 file";
  write("secret.sh", "#!/bin/sh\ntrue\n");
  fs::permissions(dir_ / "secret.sh", fs::perms::none);
  auto r = submit({"secret.sh"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot read script 'secret.sh'"), std::string::npos)
      << r.error().message;
}

TEST_F(SubmitTest, NulAfterTheProbeWindowIsNotBinary) {
  // Only the first 4 KiB are probed, like `file`: a script with a payload later is still a script.
  write("payload.sh", "#!/bin/sh\n" + std::string(5000, '#') + "\n" + std::string(1, '\0'));
  auto r = submit({"payload.sh"});
  EXPECT_TRUE(r.ok()) << r.error().message;
}

// ---- real-world scripts -----------------------------------------------------------------------

TEST(RealScripts, EveryShippedSbatchScriptParses) {
  const fs::path dir = fs::path(LOCUS_SHARED_DIR) / "data" / "sbatch";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " not present";
  SubmitContext ctx;
  ctx.cwd = dir.string();
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = entry.path().filename().string();
    SCOPED_TRACE(file);
    ++count;
    auto r = parseSubmitArgs({file}, ctx);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->spec.name.empty());
    EXPECT_GE(r->spec.ntasks, 1u);
    EXPECT_FALSE(readDirectives(r->spec.script).empty()) << "every sample has directives";
    // Nothing unknown: each warning is about an option Locus knowingly does not act on.
    for (const auto& w : r->spec.warnings) {
      EXPECT_EQ(w.find("unknown directive"), std::string::npos) << w;
    }
  }
  EXPECT_GT(count, 0);
}

TEST(RealScripts, SpotChecks) {
  const fs::path dir = fs::path(LOCUS_SHARED_DIR) / "data" / "sbatch";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " not present";
  SubmitContext ctx;
  ctx.cwd = dir.string();
  struct Case {
    const char* file;
    std::function<void(const JobSpec&)> check;
  };
  const std::vector<Case> cases = {
      {"fasrc__Applications__AlphaFold__run_af3_all.sh",
       [](const JobSpec& s) {
         // The top block, not the heredoc'd inference job (AF3_inference, gpu_test, 8g, 10 min).
         EXPECT_EQ(s.name, "AF3_data_pipeline");
         EXPECT_EQ(s.partition, "test,serial_requeue");
         EXPECT_EQ(s.cpus_per_task, 8u);
         EXPECT_EQ(s.time_limit_s, 30 * 60);
         EXPECT_EQ(s.mem_mb, 12u * 1024);
         EXPECT_EQ(s.stdout_path, "AF3_dp_%j.out");
         EXPECT_TRUE(s.gres.empty());
       }},
      {"accre__archived-examples__gpu-job__multi-gpu-job.slurm",
       [](const JobSpec& s) {
         EXPECT_EQ(s.nodes, 4u);
         EXPECT_EQ(s.ntasks_per_node, 4u);
         EXPECT_EQ(s.ntasks, 16u);
         EXPECT_EQ(s.time_limit_s, 4 * 3600);
         EXPECT_EQ(s.mem_mb, 40u * 1024);
         EXPECT_EQ(s.gres, "gpu:4");
         EXPECT_EQ(s.account, "accre_gpu");
         EXPECT_TRUE(hasWarningContaining(s, "--mail-type=ALL"));
       }},
      {"accre__archived-examples__julia-job__julia_parallel.slurm",
       [](const JobSpec& s) {
         EXPECT_EQ(s.time_limit_s, 120);  // 00-00:02:00
         EXPECT_EQ(s.mem_per_cpu_mb, 1024u);
         EXPECT_EQ(s.ntasks, 5u);
       }},
      {"accre__archived-examples__mpi-job2__pi-mpi.slurm",
       [](const JobSpec& s) {
         EXPECT_EQ(s.ntasks, 48u);  // --tasks=48
         EXPECT_EQ(s.constraint, "skylake");
       }},
      {"fasrc__Notes__JobArrays__Exercise_recursive__recursive-array.sh",
       [](const JobSpec& s) {
         EXPECT_EQ(s.array_spec, "[0-4]");
         EXPECT_EQ(s.mem_per_cpu_mb, 100u);
       }},
      {"fasrc__Notes__JobArrays__Exercise_nonsequential_maxarray__array_script.sh",
       [](const JobSpec& s) {
         EXPECT_EQ(s.name, "max_array_sample");  // directives after a long comment block
         EXPECT_EQ(s.stdout_path, "%A_%a.o");
         EXPECT_TRUE(hasWarningContaining(s, "--reservation=bootcamp_cpu_2023"));
       }},
      {"fasrc__Training__Distributed_GPU_Computing__Exercise6__run.sbatch",
       [](const JobSpec& s) {
         EXPECT_EQ(s.gpus, "per-node:4");
         EXPECT_EQ(s.ntasks, 8u);
         EXPECT_EQ(s.cpus_per_task, 8u);
       }},
      {"fasrc__Parallel_Computing__OpenMP__Example1__run.sbatch",
       [](const JobSpec& s) {
         EXPECT_EQ(s.time_limit_s, 30 * 60);  // 0-00:30
         EXPECT_EQ(s.mem_mb, 4000u);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    if (!fs::exists(dir / c.file)) {
      ADD_FAILURE() << "sample missing";
      continue;
    }
    auto r = parseSubmitArgs({c.file}, ctx);
    ASSERT_TRUE(r.ok()) << r.error().message;
    c.check(r->spec);
  }
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

class DataflowSubmitTest : public ::testing::Test {
 protected:
  Result<SubmitRequest> submit(const std::vector<std::string>& argv) {
    SubmitContext ctx;
    ctx.cwd = "/tmp";
    return parseSubmitArgs(argv, ctx);
  }
};

TEST_F(DataflowSubmitTest, InputsAndDataflow) {
  auto r = submit({"--dataflow", "--input", "hdfs:///logs/2026-11", "--input=dataset:climate",
                   "--task-cmd", "wc -l", "--split", "file"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->spec.dataflow);
  EXPECT_EQ(r->spec.inputs, (std::vector<std::string>{"hdfs:///logs/2026-11", "dataset:climate"}));
  EXPECT_EQ(r->spec.script, "#!/bin/sh\nwc -l\n");
  EXPECT_EQ(r->spec.split, "file");
  EXPECT_EQ(r->spec.name, "dataflow");
  EXPECT_EQ(r->spec.ntasks, 1u);
}

TEST_F(DataflowSubmitTest, InputOnAPlainJob) {
  auto r = submit({"--input", "webhdfs://nn:9870/data/x", "--wrap", "true"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->spec.dataflow);
  EXPECT_EQ(r->spec.inputs, (std::vector<std::string>{"webhdfs://nn:9870/data/x"}));
}

TEST_F(DataflowSubmitTest, SbatchStdinInputIsOnlyAWarning) {
  auto r = submit({"-i", "in.txt", "--wrap", "true"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->spec.inputs.empty());
  ASSERT_EQ(r->spec.warnings.size(), 1u);
  EXPECT_NE(r->spec.warnings[0].find("in.txt (stdin) accepted but not acted on"), std::string::npos)
      << r->spec.warnings[0];
}

TEST_F(DataflowSubmitTest, Errors) {
  struct Bad {
    std::vector<std::string> argv;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {{"--dataflow", "--task-cmd", "wc -l"}, "--dataflow needs at least one --input"},
           {{"--input", "dataset:x", "--task-cmd", "wc -l", "--array", "1-3"}, "--dataflow and --array"},
           {{"--input", "dataset:x", "--task-cmd", "wc -l", "-N", "2"}, "run one process each"},
           {{"--input", "dataset:x", "--wrap", "true", "--split", "block"}, "--split applies to --dataflow"},
           {{"--input", "dataset:x", "--task-cmd", "wc", "--split", "line"}, "--split: 'line' is not block or file"},
           {{"--input", "dataset:x", "--task-cmd", ""}, "--task-cmd"},
       }) {
    auto r = submit(b.argv);
    ASSERT_FALSE(r.ok()) << b.message;
    EXPECT_NE(r.error().message.find(b.message), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace locus
