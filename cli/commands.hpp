#pragma once
// The `locus` subcommands. Each returns the process exit status and prints its own errors as one
// line "locus: ..." on stderr.
#include <string>
#include <vector>

#include "proto/json.hpp"

namespace locus::cli {

struct Globals {
  std::string controller;   // resolved address (the leader's, of a list)
  std::string controllers;  // as given (--controller or $LOCUS_CONTROLLER): maybe a list
};

int runSubmit(const std::vector<std::string>& args, const Globals& g);
int runQueue(const std::vector<std::string>& args, const Globals& g);
int runShow(const std::vector<std::string>& args, const Globals& g);
int runCancel(const std::vector<std::string>& args, const Globals& g);
int runWhy(const std::vector<std::string>& args, const Globals& g);
int runEff(const std::vector<std::string>& args, const Globals& g);  // like seff
int runProfile(const std::vector<std::string>& args, const Globals& g);  // cli/profile_command.cpp
int runAcct(const std::vector<std::string>& args, const Globals& g);  // like sacct; acct_command.cpp
int runAccount(const std::vector<std::string>& args, const Globals& g);
int runShare(const std::vector<std::string>& args, const Globals& g);
int runQuota(const std::vector<std::string>& args, const Globals& g);  // cli/quota_command.cpp
int runToken(const std::vector<std::string>& args, const Globals& g);  // cli/token_command.cpp
int runData(const std::vector<std::string>& args, const Globals& g);  // cli/data_command.cpp
int runService(const std::vector<std::string>& args, const Globals& g);  // cli/service_command.cpp
int runFrameworks(const std::vector<std::string>& args, const Globals& g);  // cli/framework_command.cpp
int runPriority(const std::vector<std::string>& args, const Globals& g);
int runHold(const std::vector<std::string>& args, const Globals& g);
int runRelease(const std::vector<std::string>& args, const Globals& g);
int runRequeue(const std::vector<std::string>& args, const Globals& g);
int runWait(const std::vector<std::string>& args, const Globals& g);
int runEvents(const std::vector<std::string>& args, const Globals& g);  // cli/events_command.cpp
int runNodes(const std::vector<std::string>& args, const Globals& g);
int runControllers(const std::vector<std::string>& args, const Globals& g);  // cli/controllers_command.cpp
int runUp(const std::vector<std::string>& args, const Globals& g);
int runDown(const std::vector<std::string>& args, const Globals& g);
int runRun(const std::vector<std::string>& args, const Globals& g);  // cli/run_command.cpp
int runRshAgent(const std::vector<std::string>& args, const Globals& g);  // as locus-rsh

// JSON views with the field names the docs promise (and tools rely on); shared with the
// controller's dashboard (/api/jobs, /api/nodes), so they live in proto/json.hpp.
using proto::jobToJson;
using proto::nodeToJson;

// "locus: <message>" on stderr; returns `status` for `return fail(...)`.
int fail(const std::string& message, int status = 1);

}  // namespace locus::cli
