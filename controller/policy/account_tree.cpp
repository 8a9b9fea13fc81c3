#include "controller/policy/account_tree.hpp"

#include <cctype>

namespace locus::policy {
namespace {

// Names end up in config files, CLI tables and log keys (`account=hep`): keep them plain.
bool validName(const std::string& name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

Error failedPrecondition(std::string msg) {
  return {ErrorCode::kFailedPrecondition, std::move(msg)};
}

}  // namespace

AccountTree::AccountTree() { accounts_[kRootAccount] = Account{}; }

Status AccountTree::addAccount(const std::string& name, const std::string& parent,
                               uint32_t shares) {
  if (!validName(name)) {
    return invalidArgument("invalid account name '" + name +
                           "': use letters, digits, '_', '-', '.'");
  }
  if (name == kRootAccount) return invalidArgument("account 'root' already exists");
  if (shares == 0) return invalidArgument("account '" + name + "': shares must be at least 1");
  if (accounts_.count(name) != 0) return invalidArgument("account '" + name + "' already exists");
  auto p = accounts_.find(parent);
  if (p == accounts_.end()) {
    return notFound("parent account '" + parent + "' of '" + name + "' does not exist");
  }
  p->second.sub_accounts.insert(name);
  Account a;
  a.parent = parent;
  a.shares = shares;
  accounts_.emplace(name, std::move(a));
  return {};
}

bool AccountTree::isDescendantOrSelf(const std::string& name, const std::string& ancestor) const {
  // Walk up from `name`; the tree has no cycles, so this ends at root.
  for (std::string cur = name; !cur.empty(); cur = accounts_.at(cur).parent) {
    if (cur == ancestor) return true;
  }
  return false;
}

Status AccountTree::modifyAccount(const std::string& name, std::optional<std::string> new_parent,
                                  std::optional<uint32_t> shares) {
  if (name == kRootAccount) return invalidArgument("account 'root' cannot be modified");
  auto it = accounts_.find(name);
  if (it == accounts_.end()) return notFound("account '" + name + "' does not exist");
  if (shares && *shares == 0) {
    return invalidArgument("account '" + name + "': shares must be at least 1");
  }
  if (new_parent && *new_parent != it->second.parent) {
    if (accounts_.count(*new_parent) == 0) {
      return notFound("parent account '" + *new_parent + "' of '" + name + "' does not exist");
    }
    if (isDescendantOrSelf(*new_parent, name)) {
      return invalidArgument("moving account '" + name + "' under '" + *new_parent +
                             "' would create a cycle");
    }
    accounts_.at(it->second.parent).sub_accounts.erase(name);
    accounts_.at(*new_parent).sub_accounts.insert(name);
    it->second.parent = *new_parent;
  }
  if (shares) it->second.shares = *shares;
  return {};
}

Status AccountTree::removeAccount(const std::string& name) {
  if (name == kRootAccount) return invalidArgument("account 'root' cannot be removed");
  auto it = accounts_.find(name);
  if (it == accounts_.end()) return notFound("account '" + name + "' does not exist");
  const Account& a = it->second;
  if (!a.sub_accounts.empty() || !a.users.empty()) {
    return failedPrecondition("account '" + name + "' is not empty: it has " +
                              std::to_string(a.sub_accounts.size()) + " sub-accounts and " +
                              std::to_string(a.users.size()) + " users");
  }
  accounts_.at(a.parent).sub_accounts.erase(name);
  accounts_.erase(it);
  return {};
}

Status AccountTree::addUser(const std::string& account, const std::string& user, uint32_t shares) {
  if (!validName(user)) {
    return invalidArgument("invalid user name '" + user + "': use letters, digits, '_', '-', '.'");
  }
  if (shares == 0) {
    return invalidArgument("user '" + user + "' in '" + account + "': shares must be at least 1");
  }
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return notFound("account '" + account + "' does not exist");
  if (!it->second.users.emplace(user, shares).second) {
    return invalidArgument("user '" + user + "' is already in account '" + account + "'");
  }
  return {};
}

Status AccountTree::modifyUser(const std::string& account, const std::string& user,
                               uint32_t shares) {
  if (shares == 0) {
    return invalidArgument("user '" + user + "' in '" + account + "': shares must be at least 1");
  }
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return notFound("account '" + account + "' does not exist");
  auto u = it->second.users.find(user);
  if (u == it->second.users.end()) {
    return notFound("user '" + user + "' is not in account '" + account + "'");
  }
  u->second = shares;
  return {};
}

Status AccountTree::removeUser(const std::string& account, const std::string& user) {
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return notFound("account '" + account + "' does not exist");
  if (it->second.users.erase(user) == 0) {
    return notFound("user '" + user + "' is not in account '" + account + "'");
  }
  return {};
}

bool AccountTree::contains(const AssocId& id) const {
  auto it = accounts_.find(id.account);
  if (it == accounts_.end()) return false;
  return !id.isUser() || it->second.users.count(id.user) != 0;
}

Result<uint32_t> AccountTree::shares(const AssocId& id) const {
  if (!contains(id)) return notFound("no association '" + id.str() + "'");
  const Account& a = accounts_.at(id.account);
  return id.isUser() ? a.users.at(id.user) : a.shares;
}

Result<std::string> AccountTree::parent(const AssocId& id) const {
  if (!contains(id)) return notFound("no association '" + id.str() + "'");
  return id.isUser() ? id.account : accounts_.at(id.account).parent;
}

std::vector<AssocId> AccountTree::children(const std::string& account) const {
  std::vector<AssocId> out;
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return out;
  for (const std::string& sub : it->second.sub_accounts) out.push_back({sub, ""});
  for (const auto& [user, shares] : it->second.users) out.push_back({account, user});
  return out;
}

std::vector<std::string> AccountTree::accountsOf(const std::string& user) const {
  std::vector<std::string> out;
  for (const auto& [name, a] : accounts_) {
    if (a.users.count(user) != 0) out.push_back(name);
  }
  return out;
}

void AccountTree::preorderFrom(const std::string& account, std::vector<AssocId>& out) const {
  out.push_back({account, ""});
  for (const AssocId& c : children(account)) {
    if (c.isUser()) {
      out.push_back(c);
    } else {
      preorderFrom(c.account, out);
    }
  }
}

std::vector<AssocId> AccountTree::preorder() const {
  std::vector<AssocId> out;
  preorderFrom(kRootAccount, out);
  return out;
}

size_t AccountTree::userCount() const {
  size_t n = 0;
  for (const auto& [name, a] : accounts_) n += a.users.size();
  return n;
}

uint64_t AccountTree::levelShares(const std::string& account) const {
  uint64_t sum = 0;
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return 0;
  for (const std::string& sub : it->second.sub_accounts) sum += accounts_.at(sub).shares;
  for (const auto& [user, shares] : it->second.users) sum += shares;
  return sum;
}

Result<double> AccountTree::normalizedShares(const AssocId& id) const {
  if (!contains(id)) return notFound("no association '" + id.str() + "'");
  if (!id.isUser() && id.account == kRootAccount) return 1.0;
  // Walk up, multiplying each level's fraction: S = s/level * S(parent).
  double s = 1.0;
  AssocId cur = id;
  while (!(!cur.isUser() && cur.account == kRootAccount)) {
    const std::string p = *parent(cur);
    // Every share is >= 1, so a level with a child has a positive sum.
    s *= static_cast<double>(*shares(cur)) / static_cast<double>(levelShares(p));
    cur = AssocId{p, ""};
  }
  return s;
}

}  // namespace locus::policy
