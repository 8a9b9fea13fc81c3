#pragma once
// The account hierarchy that fair-share is computed over, like Slurm's association tree.
//
//   root
//   ├── physics (shares 40)
//   │   ├── hep (30)           <- sub-account
//   │   │   └── alice (1)      <- user association: (account "hep", user "alice")
//   │   └── astro (10)
//   │       ├── bob (1)
//   │       └── carol (1)
//   └── chem (60)
//       └── alice (1)          <- a user may belong to several accounts; each is its own leaf
//
// Accounts have globally unique names; "root" always exists and has no shares. Users are leaves
// of an account, identified by (account, user). Sub-accounts and users of one account are
// siblings of each other (as in Slurm), so a user's share is taken among both.
//
// Normalized share (Slurm, classic_fair_share.html "Normalized Shares"):
//   S(node) = shares(node) / sum(shares of node and its siblings) * S(parent),  S(root) = 1.
// In the tree above S(hep) = 30/40 * 40/100 = 0.3, S(bob) = 1/2 * 10/40 * 0.4 = 0.05.
//
// Pure value type: no I/O, no clock. Not thread-safe; copy it for a snapshot.
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::policy {

inline constexpr char kRootAccount[] = "root";

// One association: an account (user empty) or a user inside an account.
struct AssocId {
  std::string account;
  std::string user;  // empty: the account itself

  bool isUser() const { return !user.empty(); }
  std::string str() const { return user.empty() ? account : account + "/" + user; }
  auto operator<=>(const AssocId&) const = default;
};

class AccountTree {
 public:
  // A tree holding only "root".
  AccountTree();

  // Errors (all kInvalidArgument unless said): bad name (empty, "root", or not
  // [A-Za-z0-9_.-]+), shares == 0, kNotFound for an unknown parent, duplicate account name.
  Status addAccount(const std::string& name, const std::string& parent, uint32_t shares);
  // Changes the parent and/or shares; moving an account under itself or one of its descendants
  // is a cycle (kInvalidArgument). kNotFound for an unknown account or parent. root is immutable.
  Status modifyAccount(const std::string& name, std::optional<std::string> new_parent,
                       std::optional<uint32_t> shares);
  // kFailedPrecondition if it still has sub-accounts or users (remove those first, like
  // sacctmgr); kNotFound if unknown; root cannot be removed.
  Status removeAccount(const std::string& name);

  // Users: kNotFound for an unknown account, kInvalidArgument for a duplicate, bad name or 0
  // shares. Users may be added to root too (they are then first-tier associations).
  Status addUser(const std::string& account, const std::string& user, uint32_t shares = 1);
  Status modifyUser(const std::string& account, const std::string& user, uint32_t shares);
  Status removeUser(const std::string& account, const std::string& user);

  bool contains(const AssocId& id) const;
  bool hasAccount(const std::string& name) const { return accounts_.count(name) != 0; }
  // Raw shares of an association; 0 for root; kNotFound if unknown.
  Result<uint32_t> shares(const AssocId& id) const;
  // Parent account of an association ("" for root); kNotFound if unknown.
  Result<std::string> parent(const AssocId& id) const;
  // Direct children of an account: sub-accounts then users, each sorted by name. Empty if the
  // account is unknown.
  std::vector<AssocId> children(const std::string& account) const;
  // Accounts `user` belongs to, sorted.
  std::vector<std::string> accountsOf(const std::string& user) const;
  // Every association in pre-order (root first, then each account's sub-accounts and users),
  // the order `locus share` prints.
  std::vector<AssocId> preorder() const;
  // Number of user associations.
  size_t userCount() const;

  // S as defined above; 1 for root; kNotFound if unknown.
  Result<double> normalizedShares(const AssocId& id) const;
  // Sum of the raw shares of the children of `account` (the denominator of S at that level).
  uint64_t levelShares(const std::string& account) const;

 private:
  struct Account {
    std::string parent;  // empty for root
    uint32_t shares = 0;
    std::set<std::string> sub_accounts;
    std::map<std::string, uint32_t> users;  // user -> shares
  };
  bool isDescendantOrSelf(const std::string& name, const std::string& ancestor) const;
  void preorderFrom(const std::string& account, std::vector<AssocId>& out) const;

  std::map<std::string, Account> accounts_;
};

}  // namespace locus::policy
