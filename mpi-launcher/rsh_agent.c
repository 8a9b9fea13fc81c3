// locus-mpi-agent HOST COMMAND...: the rsh agent `locus run --mpi openmpi` gives mpirun.
//
// Open MPI's rsh launcher starts one agent per node to run that node's daemon (orted). `locus-rsh`
// can do it alone, but it is the whole gRPC client: loading it and opening two connections cost
// ~30-45 ms per node, which a 2-rank launch feels. This agent is tiny: it hands its arguments,
// environment and stdio descriptors to the `locus run` that started mpirun (over the Unix socket
// named by LOCUS_RSH_SOCKET), which already holds the connections and runs the daemon as a step;
// then it waits for the step's exit status and exits with it, as ssh would. Killing the agent (or
// mpirun going away) closes the socket, and `locus run` kills the step.
//
// Without LOCUS_RSH_SOCKET, or when nothing listens there, it execs `locus-rsh` beside it.
//
// Protocol (cli/rsh_relay.cpp is the other side), one connection per daemon:
//   agent -> relay: "LOCUS-RSH 1 <argc> <envc>\n", then argc + envc NUL-terminated strings
//                   (HOST, COMMAND words, then NAME=VALUE), with fds 0, 1, 2 attached (SCM_RIGHTS)
//                   to the first byte.
//   relay -> agent: "<exit status>\n", then it closes.
//
// `locus-mpi-agent --exec-stdin` is the other half: what `locus run` starts on each node as the
// daemon's step before mpirun even asks (so the step, its cgroup and its process are ready when
// it does). It reads the daemon's command from stdin and execs it there:
//   "LOCUS-EXEC 1 <argc> <setc> <unsetc>\n", then NUL-terminated strings: argv, NAME=VALUE to
//   set, NAME to unset; then end of file. End of file alone: not needed after all; exit 0.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char** environ;

// ssh's status when it cannot reach the other side.
enum { kConnectionFailed = 255 };

struct Buffer {
  char* data;
  size_t size, capacity;
};

static int append(struct Buffer* b, const char* text, size_t n) {
  if (b->size + n > b->capacity) {
    size_t capacity = b->capacity ? b->capacity : 4096;
    while (capacity < b->size + n) capacity *= 2;
    char* grown = realloc(b->data, capacity);
    if (!grown) return -1;
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->size, text, n);
  b->size += n;
  return 0;
}

// Sends the request; fds 0-2 travel with the first byte.
static int sendRequest(int sock, const struct Buffer* b) {
  int fds[3] = {0, 1, 2};
  char control[CMSG_SPACE(sizeof fds)];
  memset(control, 0, sizeof control);
  struct iovec iov = {b->data, 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t n;
  while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (n != 1) return -1;
  for (size_t done = 1; done < b->size;) {
    n = send(sock, b->data + done, b->size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

// The daemon's exit status through the relay; -1: no relay there (fall back to locus-rsh).
static int relay(const char* path, int argc, char** argv) {
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, path);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  if (connect(sock, (struct sockaddr*)&addr, sizeof addr) != 0) {
    close(sock);
    return -1;
  }
  int envc = 0;
  while (environ[envc]) ++envc;
  struct Buffer b = {0};
  char header[64];
  int n = snprintf(header, sizeof header, "LOCUS-RSH 1 %d %d\n", argc - 1, envc);
  int failed = append(&b, header, (size_t)n);
  for (int i = 1; i < argc && !failed; ++i) failed = append(&b, argv[i], strlen(argv[i]) + 1);
  for (int i = 0; i < envc && !failed; ++i) failed = append(&b, environ[i], strlen(environ[i]) + 1);
  if (failed || sendRequest(sock, &b) != 0) {
    fprintf(stderr, "locus-mpi-agent: cannot hand %s's daemon to locus run: %s\n", argv[1], strerror(errno));
    return kConnectionFailed;
  }
  free(b.data);
  // The only thing that comes back is the status line.
  char reply[32];
  size_t got = 0;
  while (got < sizeof reply - 1) {
    ssize_t r = read(sock, reply + got, sizeof reply - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  reply[got] = '\0';
  char* end = NULL;
  long status = strtol(reply, &end, 10);
  if (got == 0 || end == reply || *end != '\n') return kConnectionFailed;  // the step was killed
  return (int)(status & 0xff);
}

// --exec-stdin: runs the command that arrives on stdin, in this process.
static int execFromStdin(void) {
  struct Buffer b = {0};
  char chunk[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 127;
    if (n == 0) break;
    if (append(&b, chunk, (size_t)n) != 0) return 127;
  }
  if (b.size == 0) return 0;
  if (append(&b, "", 1) != 0) return 127;  // a terminator past the end, for the parsing below
  int argc = 0, setc = 0, unsetc = 0, used = 0;
  if (sscanf(b.data, "LOCUS-EXEC 1 %d %d %d\n%n", &argc, &setc, &unsetc, &used) != 3 || used == 0 ||
      argc < 1 || setc < 0 || unsetc < 0) {
    fprintf(stderr, "locus-mpi-agent: not a command on stdin\n");
    return 127;
  }
  char** words = calloc((size_t)argc + (size_t)setc + (size_t)unsetc + 1, sizeof *words);
  if (!words) return 127;
  size_t pos = (size_t)used;
  for (int i = 0; i < argc + setc + unsetc; ++i) {
    if (pos >= b.size - 1) {
      fprintf(stderr, "locus-mpi-agent: command on stdin cut short\n");
      return 127;
    }
    words[i] = b.data + pos;
    pos += strlen(words[i]) + 1;
  }
  for (int i = 0; i < unsetc; ++i) unsetenv(words[argc + setc + i]);
  for (int i = 0; i < setc; ++i) putenv(words[argc + i]);
  char** args = calloc((size_t)argc + 1, sizeof *args);
  if (!args) return 127;
  memcpy(args, words, (size_t)argc * sizeof *args);
  execv(args[0], args);
  fprintf(stderr, "locus-mpi-agent: cannot run %s: %s\n", args[0], strerror(errno));
  return 127;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--exec-stdin") == 0) return execFromStdin();
  if (argc < 3) {
    fprintf(stderr, "usage: locus-mpi-agent HOST COMMAND... (Open MPI's plm_rsh_agent)\n");
    return 2;
  }
  // Descriptors 0-2 travel to the relay: any that is closed becomes /dev/null first.
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) return kConnectionFailed;
  const char* socket_path = getenv("LOCUS_RSH_SOCKET");
  if (socket_path && *socket_path) {
    int status = relay(socket_path, argc, argv);
    if (status >= 0) return status;
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return kConnectionFailed;
  self[len] = '\0';
  char* slash = strrchr(self, '/');
  if (!slash || (size_t)(slash - self) + sizeof "/locus-rsh" > sizeof self) return kConnectionFailed;
  strcpy(slash + 1, "locus-rsh");
  argv[0] = self;
  execv(self, argv);
  fprintf(stderr, "locus-mpi-agent: cannot run %s: %s\n", self, strerror(errno));
  return kConnectionFailed;
}
