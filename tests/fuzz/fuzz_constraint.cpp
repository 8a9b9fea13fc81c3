// Node feature constraints ("(a|b)&ib", "[rack1|rack2]"): Constraint::parse, then matches()
// against a few feature sets. Having every feature the expression names must satisfy it: there
// is no negation, so an expression of '&' and '|' cannot be false when all its names are true.
#include <string>
#include <vector>

#include "common/constraint.hpp"
#include "tests/fuzz/fuzz_target.hpp"

LOCUS_FUZZ_TARGET(constraint) {
  auto c = locus::Constraint::parse(input);
  if (!c.ok()) return;
  const std::vector<std::string> names = c->names();
  FUZZ_CHECK(!c->empty() && !names.empty(), "empty constraint from '" + std::string(input) + "'");
  (void)c->matches({});
  (void)c->matches({"ib", "nvme", "a100"});
  FUZZ_CHECK(c->matches(names), "'" + std::string(input) + "' fails with every feature present");
}
