#pragma once
/// @file
/// @brief The NCCL backend: collectives on device memory between GPUs, set up from an
/// MPI communicator (rank 0 creates the NCCL unique id, broadcast, ncclCommInitRank).
/// Host buffers (scalars, host Views) go through the MPI communicator it was made from.
/// Device collectives are ordered on the default Kokkos::Cuda stream.
///
/// @code
/// tessera::Comm gpus = tessera::make_nccl_comm(runtime.world());   // collective
/// gpus.allreduce(device_view, tessera::ReduceOp::sum);             // NCCL
/// @endcode
///
/// This header needs neither NCCL nor CUDA headers; in builds without NCCL the call
/// throws tessera::NotCompiled.

#include <tessera/comm/comm.hpp>

namespace tessera {

/// @brief Whether this build has the NCCL backend.
bool nccl_available() noexcept;

/// @brief A Comm over the same ranks as `bootstrap` (an MPI Comm) whose device-memory
/// collectives use NCCL (collective over bootstrap).
/// @throws NotCompiled without NCCL; CommError if NCCL cannot start (no GPU, driver).
Comm make_nccl_comm(const Comm& bootstrap);

}  // namespace tessera
