#pragma once
// MPI start-up and shutdown used by tessera::Runtime; the only MPI calls outside
// src/comm/mpi_backend.cpp. In builds without MPI these report a one-rank job.
#include <memory>

#include <tessera/comm/comm.hpp>

namespace tessera::detail {

/// Initialises MPI (thread level FUNNELED) unless already done; returns true if it did.
bool mpi_initialize_if_needed(int* argc, char*** argv);
/// True when MPI has been initialised (by anyone; false in builds without MPI).
bool mpi_initialized();
/// Finalises MPI if it is initialised and not finalised.
void mpi_finalize();
/// True when MPI is initialised and not yet finalised.
bool mpi_active();
/// A Comm over a duplicate of MPI_COMM_WORLD (self in builds without MPI).
Comm mpi_world();
/// Rank among the processes on this node (0 without MPI).
int mpi_local_rank(const Comm& world);
/// Name of this node.
std::string node_name();

}  // namespace tessera::detail
