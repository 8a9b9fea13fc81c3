#pragma once
// The first steps of a child the node daemon makes with clone(CLONE_VM) (launcher.cpp: tasks;
// health_probe.cpp: check commands). The child shares the daemon's memory until it execs, so
// these use raw system calls only: glibc's setuid/setgid would try to synchronise the
// credentials of the daemon's threads.
#include <grp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace locus::nodedaemon::child {

// No blocked signals, SIGPIPE back to its default (the daemon ignores it; dispositions are per
// process here), and a session of its own, so that the whole tree it starts can be signalled as
// one process group. False when setsid fails (errno says why).
inline bool startOwnSession() {
  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, _NSIG / 8);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, nullptr);
  return syscall(SYS_setsid) >= 0;
}

enum class UserStep { kDone, kGroups, kSetgid, kSetuid };

// Becomes the job's user: supplementary groups, then gid, then uid (in that order: after setuid
// the others are no longer allowed). Returns the step that failed, errno set.
inline UserStep becomeUser(size_t ngroups, const gid_t* groups, gid_t gid, uid_t uid) {
  if (syscall(SYS_setgroups, ngroups, groups) != 0) return UserStep::kGroups;
  if (syscall(SYS_setgid, gid) != 0) return UserStep::kSetgid;
  if (syscall(SYS_setuid, uid) != 0) return UserStep::kSetuid;
  return UserStep::kDone;
}

}  // namespace locus::nodedaemon::child
