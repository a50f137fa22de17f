// A host program that owns MPI and Kokkos (as a simulation code does), uses tessera,
// and finalises them itself. tessera must neither finalise them nor break them.
#include <mpi.h>

#include <cstdio>

#include <Kokkos_Core.hpp>
#include <tessera/comm/mpi.hpp>
#include <tessera/core/runtime.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  Kokkos::initialize(argc, argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  bool ok = true;
  {
    tessera::Runtime runtime(argc, argv);
    ok &= !runtime.info().initialized_mpi && !runtime.info().initialized_kokkos;
    ok &= runtime.world().size() == size;
    const tessera::Comm comm = tessera::comm_from_mpi(MPI_COMM_WORLD);
    ok &= comm.allreduce(rank + 1, tessera::ReduceOp::sum) == size * (size + 1) / 2;
    Kokkos::View<double*> v("v", 4);
    Kokkos::deep_copy(v, 1.0);
    runtime.world().allreduce(v, tessera::ReduceOp::sum);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
    ok &= h(3) == size;
  }
  // After tessera is gone, MPI and Kokkos still work for the host program.
  int finalized = 1;
  MPI_Finalized(&finalized);
  ok &= !finalized && Kokkos::is_initialized();
  int all_ok = 0, mine = ok ? 1 : 0;
  MPI_Allreduce(&mine, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == 0) std::printf(all_ok ? "embedding ok\n" : "embedding FAILED\n");
  Kokkos::finalize();
  MPI_Finalize();
  return all_ok ? 0 : 1;
}
