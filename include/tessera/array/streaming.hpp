#pragma once
/// @file
/// @brief Reductions over a chunk source without holding it: each rank reads its own
/// chunks (the DistMatrix chunk grid) in batches that fit a memory limit, reading the
/// next batch while the current one is reduced.
///
/// @code
/// auto source = tessera::io::open_source("big.npy", {});
/// tessera::array::for_each_batch(comm, *source, 65536, 1ull << 30,
///     [&](const tessera::HostMatrix& rows, std::size_t first_chunk) { /* local work */ });
/// auto cov = tessera::array::covariance(comm, *source, 65536, 1, 1ull << 30);
/// @endcode

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/array/reductions.hpp>
#include <tessera/comm/comm.hpp>
#include <tessera/io/chunk_source.hpp>

namespace tessera::array {

/// @brief Calls `fn(rows, first_chunk)` for this rank's chunks of the source, in order, in
/// batches of whole chunks (rows begins at global chunk `first_chunk`). Two batches are
/// in memory at once (one read ahead), each within memory_limit / 2 bytes (0: batches of
/// about 64 MiB). `fn` must not call collectives. A read or `fn` failure on any rank
/// becomes the same exception on every rank (collective).
/// @throws InvalidArgument if two chunks do not fit the limit.
void for_each_batch(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
                    std::uint64_t memory_limit,
                    const std::function<void(const HostMatrix&, std::size_t)>& fn);

/// @brief Covariance of a source's columns, streamed: bit for bit `covariance` of the
/// whole matrix in a DistMatrix with the same chunk_rows (collective).
Covariance covariance(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, int ddof,
                      std::uint64_t memory_limit);

/// @brief Histograms of a source's columns, streamed (see `histogram`): the counts of the
/// whole matrix exactly (integers; collective).
Histogram histogram(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, double lo,
                    double hi, std::size_t bins, std::uint64_t memory_limit);

/// @brief This rank's rows of a source, read by this rank alone (no rank holds the whole
/// matrix): the DistMatrix that `distribute` makes of the whole, chunk_rows rows per chunk,
/// on the host. `name` (the file) starts the error messages. A share larger than the
/// memory available on the rank's node, or a read failure on any rank, becomes the same
/// exception on every rank (collective).
DistMatrix<double, Kokkos::HostSpace> read_share_on_host(const Comm& comm, io::ChunkSource& source,
                                                         std::size_t chunk_rows,
                                                         const std::string& name);

/// @brief read_share_on_host in MemorySpace (copied there from the host where that is
/// another space).
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
DistMatrix<double, MemorySpace> read_share(const Comm& comm, io::ChunkSource& source,
                                           std::size_t chunk_rows, const std::string& name) {
  auto host = read_share_on_host(comm, source, chunk_rows, name);
  if constexpr (std::is_same_v<MemorySpace, Kokkos::HostSpace>) {
    return host;
  } else {
    DistMatrix<double, MemorySpace> D(
        comm, host.grid(),
        Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>(
            Kokkos::view_alloc(std::string("tessera::DistMatrix"), Kokkos::WithoutInitializing),
            host.local().extent(0), host.cols()));
    Kokkos::deep_copy(D.local(), host.local());
    return D;
  }
}

}  // namespace tessera::array
