// #SBATCH/#LOCUS directives of a script, as `locus submit` reads them: readDirectives splits the
// lines into words, applyOptions applies them to a JobSpec (unknown options collected, never
// fatal), optionLength is asked about every word (locus run and srun use it to find a program).
#include <string>
#include <vector>

#include "common/gpu_request.hpp"
#include "common/job_options.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(directives) {
  const std::vector<std::vector<std::string>> lines = locus::readDirectives(input);
  std::vector<std::string> words;
  for (const auto& line : lines) {
    FUZZ_CHECK(!line.empty(), "readDirectives returned an empty line");
    words.insert(words.end(), line.begin(), line.end());
  }
  for (size_t i = 0; i < words.size(); ++i) {
    const size_t n = locus::optionLength(words, i);
    FUZZ_CHECK(n <= 2 && i + n <= words.size(), "optionLength past the end at word " + words[i]);
  }
  locus::JobSpec spec;
  bool parsable = false;
  std::vector<std::string> unknown, positional;
  const locus::Status st = locus::applyOptions(words, spec, parsable, unknown, positional,
                                               /*stop_at_first_positional=*/false);
  if (!st.ok()) return;
  // What the options stored was validated when applied: reading it again must not fail.
  const auto gpus = locus::gpuRequestOf(spec);
  FUZZ_CHECK(gpus.ok(), "accepted GPU request refused later: gpus='" + spec.gpus + "' gres='" +
                            spec.gres + "': " + gpus.error().message);
}
