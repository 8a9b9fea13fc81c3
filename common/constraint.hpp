#pragma once
// Node feature constraints, Slurm's --constraint syntax:
//   "ib"           nodes with the feature ib
//   "ib&nvme"      both                      "a|b"   either
//   "(a|b)&ib"     parentheses group;  '&' binds tighter than '|' ("a|b&c" = "a|(b&c)")
//   "[rack1|rack2]" Slurm's matching OR (every node from the same alternative) is accepted and
//                  evaluated per node like '|' (documented limitation).
// Feature names are letters, digits and "_-.:+"; matching is case-sensitive, like Slurm.
// Counts ("ib*2") are refused. A node's features are what locus.toml gives it plus what its
// daemon discovered (GPU type, CPU vendor).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace locus {

class Constraint {
 public:
  // Errors (kInvalidArgument): empty expression, empty feature name, unbalanced parentheses or
  // brackets, a dangling operator, a character that cannot start a feature name, counts.
  static Result<Constraint> parse(std::string_view text);

  // Whether a node with these features satisfies the expression. An empty Constraint (default
  // constructed) matches every node.
  bool matches(const std::vector<std::string>& features) const;
  bool empty() const { return ops_.empty(); }
  // Every feature name the expression mentions, in order of appearance (for error messages).
  std::vector<std::string> names() const;

 private:
  // Postfix (reverse Polish) program: kFeature pushes whether the node has names_[arg]; kAnd and
  // kOr pop two and push their combination. Evaluation is a loop over a small bool stack.
  enum class Op : uint8_t { kFeature, kAnd, kOr };
  struct Instr {
    Op op;
    uint32_t arg = 0;
  };
  std::vector<Instr> ops_;
  std::vector<std::string> names_;
};

}  // namespace locus
