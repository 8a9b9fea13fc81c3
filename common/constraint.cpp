#include "common/constraint.hpp"

#include <algorithm>

namespace locus {
namespace {

// Deepest nesting of parentheses and brackets accepted. The parser recurses once per level, and
// the expression is a user's: "((((...a...))))" about 30,000 deep overflowed an 8 MB stack and
// took the process (the controller's pass parses it too) down. Real constraints nest 2 or 3 deep.
constexpr size_t kMaxNesting = 128;

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || c == '+';
}

// Recursive descent over: or := and ('|' and)* ; and := atom ('&' atom)* ;
// atom := NAME | '(' or ')' | '[' or ']'. Emits postfix into `out`.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status parseAll(std::vector<std::pair<int, std::string>>& out) {
    if (Status s = parseOr(out); !s.ok()) return s;
    if (pos_ != text_.size()) return fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return {};
  }

 private:
  // out: (-1 = feature name in .second, 0 = and, 1 = or)
  Status parseOr(std::vector<std::pair<int, std::string>>& out) {
    if (Status s = parseAnd(out); !s.ok()) return s;
    while (peek() == '|') {
      ++pos_;
      if (Status s = parseAnd(out); !s.ok()) return s;
      out.push_back({1, {}});
    }
    return {};
  }
  Status parseAnd(std::vector<std::pair<int, std::string>>& out) {
    if (Status s = parseAtom(out); !s.ok()) return s;
    while (peek() == '&') {
      ++pos_;
      if (Status s = parseAtom(out); !s.ok()) return s;
      out.push_back({0, {}});
    }
    return {};
  }
  Status parseAtom(std::vector<std::pair<int, std::string>>& out) {
    const char c = peek();
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      if (++depth_ > kMaxNesting)
        return fail("nested deeper than " + std::to_string(kMaxNesting) + " levels");
      ++pos_;
      if (Status s = parseOr(out); !s.ok()) return s;
      if (peek() != close) return fail(std::string("missing '") + close + "'");
      ++pos_;
      --depth_;
      return {};
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && isNameChar(text_[pos_])) ++pos_;
    if (pos_ == start) {
      if (pos_ == text_.size()) return fail("a feature name is missing at the end");
      return fail("expected a feature name at '" + std::string(1, text_[pos_]) + "'");
    }
    if (peek() == '*') return fail("feature counts ('*N') are not supported");
    out.push_back({-1, std::string(text_.substr(start, pos_ - start))});
    return {};
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  Error fail(const std::string& why) const {
    return invalidArgument("invalid --constraint '" + std::string(text_) + "': " + why);
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t depth_ = 0;  // open parentheses and brackets around pos_
};

}  // namespace

Result<Constraint> Constraint::parse(std::string_view text) {
  if (text.find_first_not_of(" \t") == std::string_view::npos)
    return invalidArgument("invalid --constraint: empty expression");
  if (text.find_first_of(" \t") != std::string_view::npos)
    return invalidArgument("invalid --constraint '" + std::string(text) + "': spaces are not allowed");
  std::vector<std::pair<int, std::string>> postfix;
  Parser parser(text);
  if (Status s = parser.parseAll(postfix); !s.ok()) return s.error();
  Constraint c;
  for (auto& [kind, name] : postfix) {
    if (kind >= 0) {
      c.ops_.push_back({kind == 0 ? Op::kAnd : Op::kOr, 0});
      continue;
    }
    auto it = std::find(c.names_.begin(), c.names_.end(), name);
    const uint32_t index = static_cast<uint32_t>(it - c.names_.begin());
    if (it == c.names_.end()) c.names_.push_back(std::move(name));
    c.ops_.push_back({Op::kFeature, index});
  }
  return c;
}

bool Constraint::matches(const std::vector<std::string>& features) const {
  if (ops_.empty()) return true;
  // Expressions are short: a fixed stack avoids allocating per node.
  bool stack[64];
  size_t top = 0;
  std::vector<bool> dynamic;  // only for pathological expressions deeper than 64
  const bool deep = ops_.size() > 64;
  if (deep) dynamic.reserve(ops_.size());
  auto push = [&](bool v) {
    if (deep) dynamic.push_back(v);
    else stack[top++] = v;
  };
  auto pop = [&]() {
    if (deep) {
      bool v = dynamic.back();
      dynamic.pop_back();
      return v;
    }
    return stack[--top];
  };
  for (const Instr& in : ops_) {
    if (in.op == Op::kFeature) {
      push(std::find(features.begin(), features.end(), names_[in.arg]) != features.end());
      continue;
    }
    const bool b = pop();
    const bool a = pop();
    push(in.op == Op::kAnd ? (a && b) : (a || b));
  }
  return pop();
}

std::vector<std::string> Constraint::names() const { return names_; }

}  // namespace locus
