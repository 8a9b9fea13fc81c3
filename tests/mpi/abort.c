/* Rank 1 calls MPI_Abort(3) once every rank is up; the others wait in a barrier that never
 * completes. A launcher must end every rank and report the failure. */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  printf("up rank=%d\n", rank);
  fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 1) MPI_Abort(MPI_COMM_WORLD, 3);
  MPI_Barrier(MPI_COMM_WORLD);
  sleep(600);
  MPI_Finalize();
  return 0;
}
