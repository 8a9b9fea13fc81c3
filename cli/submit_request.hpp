#pragma once
// The SubmitJob request that `locus submit` and `sbatch` send, built the same way for both: sbatch
// options and #SBATCH/#LOCUS directives (common/job_options.hpp), the submit directory, the
// submitter's environment and identity.
#include <string>
#include <vector>

#include "common/result.hpp"
#include "proto/locus.pb.h"

namespace locus::cli {

struct BuiltSubmit {
  proto::SubmitJobRequest request;
  bool parsable = false;               // --parsable
  std::vector<std::string> warnings;   // to print before submitting (ignored directives, ...)
};

// Reads the current directory and environment of this process. Errors: kInvalidArgument for a bad
// option or script (the message names it), kUnavailable when the current directory is unreadable.
Result<BuiltSubmit> buildSubmitRequest(const std::vector<std::string>& args);

// A fresh SubmitJobRequest.submit_token: 128 random bits in hex. buildSubmitRequest sets one;
// a client that reuses a request for another submit must set a new one.
std::string newSubmitToken();

// The login name of the calling user, or its uid as text when it has none.
std::string currentUserName();

}  // namespace locus::cli
