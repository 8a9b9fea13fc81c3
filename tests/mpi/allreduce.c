/* Sums rank+1 over all ranks: prints "allreduce=<N(N+1)/2> size=N" from rank 0. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long mine = rank + 1, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("allreduce=%ld size=%d\n", sum, size);
  fflush(stdout);
  MPI_Finalize();
  return 0;
}
