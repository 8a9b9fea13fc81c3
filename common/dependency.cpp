#include "common/dependency.hpp"

#include <charconv>

namespace locus {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    out.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

Result<Dependency> parseDependency(std::string_view text) {
  Dependency dep;
  bool has_comma = text.find(',') != std::string_view::npos;
  bool has_query = text.find('?') != std::string_view::npos;
  if (has_comma && has_query)
    return invalidArgument("--dependency: cannot mix ',' (all) and '?' (any) in '" + std::string(text) + "'");
  dep.any = has_query;
  for (std::string_view term_text : split(text, has_query ? '?' : ',')) {
    if (term_text.empty()) return invalidArgument("--dependency: empty term in '" + std::string(text) + "'");
    auto parts = split(term_text, ':');
    DependencyTerm term;
    std::string_view type = parts[0];
    if (type == "after") term.kind = DependencyTerm::Kind::kAfter;
    else if (type == "afterany") term.kind = DependencyTerm::Kind::kAfterAny;
    else if (type == "afterok") term.kind = DependencyTerm::Kind::kAfterOk;
    else if (type == "afternotok") term.kind = DependencyTerm::Kind::kAfterNotOk;
    else if (type == "singleton") term.kind = DependencyTerm::Kind::kSingleton;
    else return invalidArgument("--dependency: unknown type '" + std::string(type) + "'");
    if (term.kind == DependencyTerm::Kind::kSingleton) {
      if (parts.size() != 1) return invalidArgument("--dependency: singleton takes no job id");
    } else {
      if (parts.size() < 2) return invalidArgument("--dependency: '" + std::string(type) + "' needs a job id");
      for (size_t i = 1; i < parts.size(); ++i) {
        // "12+30" (a delay in minutes) is Slurm syntax Locus does not take yet.
        uint64_t id = 0;
        auto [ptr, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), id);
        if (ec != std::errc() || ptr != parts[i].data() + parts[i].size() || id == 0)
          return invalidArgument("--dependency: invalid job id '" + std::string(parts[i]) + "'");
        term.job_ids.push_back(id);
      }
    }
    dep.terms.push_back(std::move(term));
  }
  return dep;
}

DependencyVerdict evaluateTerm(DependencyTerm::Kind kind, JobState state, bool started) {
  bool ended = isTerminal(state);
  switch (kind) {
    case DependencyTerm::Kind::kAfter:
      if (started || state == JobState::kRunning) return DependencyVerdict::kSatisfied;
      return ended ? DependencyVerdict::kNever : DependencyVerdict::kWaiting;  // ended unstarted
    case DependencyTerm::Kind::kAfterAny:
      return ended ? DependencyVerdict::kSatisfied : DependencyVerdict::kWaiting;
    case DependencyTerm::Kind::kAfterOk:
      if (!ended) return DependencyVerdict::kWaiting;
      return state == JobState::kCompleted ? DependencyVerdict::kSatisfied : DependencyVerdict::kNever;
    case DependencyTerm::Kind::kAfterNotOk:
      if (!ended) return DependencyVerdict::kWaiting;
      return state == JobState::kCompleted ? DependencyVerdict::kNever : DependencyVerdict::kSatisfied;
    case DependencyTerm::Kind::kSingleton:
      return DependencyVerdict::kWaiting;  // decided by the controller, which sees every job
  }
  return DependencyVerdict::kWaiting;
}

}  // namespace locus
