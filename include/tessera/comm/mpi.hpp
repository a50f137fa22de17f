#pragma once
/// @file
/// @brief Opt-in MPI interoperability: wraps a host program's MPI communicator.
/// The only tessera header that includes <mpi.h>; include it only where you hold an
/// MPI_Comm.

#include <mpi.h>

#include <tessera/comm/comm.hpp>

namespace tessera {

/// @brief A Comm over a duplicate of `comm` (collective over `comm`). The duplicate is
/// freed with the last copy of the returned Comm.
inline Comm comm_from_mpi(MPI_Comm comm) {
  return detail::comm_from_fortran_handle(static_cast<int>(MPI_Comm_c2f(comm)));
}

}  // namespace tessera
