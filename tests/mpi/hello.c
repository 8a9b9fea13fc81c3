/* MPI_Init, MPI_Finalize and nothing else: the launch benchmark's program. */
#include <mpi.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Finalize();
  return 0;
}
