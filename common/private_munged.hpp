#pragma once
// A private munged for a cluster on one machine (`locus up`, the test suite) when the system's
// is absent: its own key (128 random bytes, mode 0600), socket and logs under one directory, so
// it never touches /etc/munge or /run/munge. The socket's directory is world-searchable so that
// other users' clients can reach it (MUNGE identifies them; the key stays private).
#include <sys/types.h>

#include <string>

#include "common/result.hpp"

namespace locus {

struct PrivateMunged {
  pid_t pid = 0;
  std::string socket;
};

// Whether a munged answers at `socket` (a credential encodes and decodes).
bool mungedWorks(const std::string& socket);

// Starts munged in the foreground (it stays our child) with its files under `dir` (created,
// mode 0755), and waits up to 10 s for it to answer. Errors: kUnavailable (no munged binary:
// install Debian's munge; or it did not come up: its log is named).
Result<PrivateMunged> startPrivateMunged(const std::string& dir);

}  // namespace locus
