/* Passes a token around all ranks (each adds its rank), then reports where each rank ran:
 *   rank=R size=N node=<LOCUS_NODENAME> cpus=<Cpus_allowed_list>
 *   ring=<sum of ranks>   (rank 0 only; N(N-1)/2 when every rank took part)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cpusAllowed(char* out, size_t size) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[512];
  out[0] = '\0';
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
      char* v = line + 18;
      while (*v == ' ' || *v == '\t') ++v;
      v[strcspn(v, "\n")] = '\0';
      snprintf(out, size, "%s", v);
    }
  }
  if (f) fclose(f);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long token = 0;
  if (size > 1) {
    if (rank == 0) {
      MPI_Send(&token, 1, MPI_LONG, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(&token, 1, MPI_LONG, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&token, 1, MPI_LONG, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      token += rank;
      MPI_Send(&token, 1, MPI_LONG, (rank + 1) % size, 0, MPI_COMM_WORLD);
    }
  }
  char cpus[256];
  cpusAllowed(cpus, sizeof cpus);
  const char* node = getenv("LOCUS_NODENAME");
  printf("rank=%d size=%d node=%s cpus=%s\n", rank, size, node ? node : "?", cpus);
  if (rank == 0) printf("ring=%ld\n", token);
  fflush(stdout);
  MPI_Finalize();
  return 0;
}
