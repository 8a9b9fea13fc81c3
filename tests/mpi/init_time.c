/* bench/mpi_launch's probe: the wall-clock times (CLOCK_REALTIME, microseconds since the epoch)
 * at which this rank started, returned from MPI_Init and returned from MPI_Finalize, printed as
 * one line per rank after MPI_Finalize so the printing is not part of what is timed:
 *   init_time rank=3 size=8 start_us=... init_us=... finalize_us=...
 * The bench compares them with the time it started the launcher (same clock, same machine). */
#include <mpi.h>
#include <stdio.h>
#include <time.h>

static long long nowUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (long long)t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int main(int argc, char** argv) {
  const long long start_us = nowUs();
  MPI_Init(&argc, &argv);
  const long long init_us = nowUs();
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Finalize();
  const long long finalize_us = nowUs();
  printf("init_time rank=%d size=%d start_us=%lld init_us=%lld finalize_us=%lld\n", rank, size,
         start_us, init_us, finalize_us);
  fflush(stdout);
  return 0;
}
