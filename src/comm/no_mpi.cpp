// Builds without MPI (TESSERA_ENABLE_MPI=OFF): every job is one rank.
#include <unistd.h>

#include <string>

#include "mpi_env.hpp"

namespace tessera::detail {

Comm comm_from_fortran_handle(int) {
  throw NotCompiled("tessera::comm_from_mpi: this tessera was built without MPI");
}
bool mpi_initialize_if_needed(int*, char***) { return false; }
bool mpi_initialized() { return false; }
bool mpi_active() { return false; }
void mpi_finalize() {}
Comm mpi_world() { return Comm::self(); }
int mpi_local_rank(const Comm&) { return 0; }
std::string node_name() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) == 0) return name;
  return "localhost";
}

}  // namespace tessera::detail
