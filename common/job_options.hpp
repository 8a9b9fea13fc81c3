#pragma once
// Turns `locus submit` arguments and a script's #LOCUS/#SBATCH directives into a JobSpec.
// The command line wins over directives; directives are read only from the top of the script,
// up to the first command line, exactly as sbatch does.
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace locus {

// The directive lines of a script (without the "#SBATCH"/"#LOCUS" prefix), split into words the
// way sbatch does (shell-like quoting). Stops at the first line that is not blank, not a comment
// and not a directive. "#LOCUS" and "#SBATCH" may be mixed; a later line wins for the same option.
std::vector<std::vector<std::string>> readDirectives(std::string_view script_text);

struct SubmitRequest {
  JobSpec spec;
  bool parsable = false;  // --parsable
};

// Everything `locus submit` needs that does not come from argv.
struct SubmitContext {
  std::string cwd;                                  // submit directory (absolute)
  std::map<std::string, std::string> environment;   // the submitter's environment
};

// Parses `locus submit [options] SCRIPT [ARGS...]` or `--wrap CMD`. Reads the script file, rejects
// an unreadable or binary one (NUL bytes in the first 4 KiB), applies its directives, then argv.
// Unknown options in directives are collected in spec.warnings; unknown options on the command
// line are an error. Errors name the option and the bad value ("--mem: invalid size 'abc'").
Result<SubmitRequest> parseSubmitArgs(const std::vector<std::string>& argv, const SubmitContext& ctx);

// Fills a JobSpec from option words (used for both argv and directives). Unknown options go to
// `unknown` instead of failing. Positional words go to `positional`. Exposed for the Slurm shims.
Status applyOptions(const std::vector<std::string>& words, JobSpec& spec, bool& parsable,
                    std::vector<std::string>& unknown, std::vector<std::string>& positional,
                    bool stop_at_first_positional);

// How many words the option at words[i] takes in sbatch's grammar (1 or 2, counting itself); 0
// when words[i] is not an option (a command starts there) or is "--". Lets a command that takes
// sbatch options before a program of its own (locus run, srun) find where the program starts.
size_t optionLength(const std::vector<std::string>& words, size_t i);

// Whether an --input value names data to place the job near (hdfs://, webhdfs://, dataset:)
// rather than sbatch's stdin file.
bool isDataInput(std::string_view value);

}  // namespace locus
