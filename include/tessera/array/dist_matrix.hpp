#pragma once
/// @file
/// @brief `DistMatrix`: a row-distributed 2-D array over the ranks of a Comm, cut into a
/// fixed global chunk grid. A chunk is a block of `chunk_rows` rows whose size does not
/// depend on the rank count; rank r of p owns chunks [C·r/p, C·(r+1)/p). Reductions
/// combine per-chunk partials in chunk order, so results are the same on any rank count.
///
/// @code
/// tessera::array::DistMatrix<double> X(comm, n, d, /*chunk_rows=*/4096);
/// fill(X.local());                         // this rank's rows X.row_begin()..X.row_end()
/// auto stats = tessera::array::column_stats(X);
/// @endcode

#include <cstddef>
#include <string>
#include <type_traits>

#include <Kokkos_Core.hpp>
#include <tessera/comm/comm.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>

namespace tessera::array {

/// @brief The global chunk grid of `rows` rows and its split over ranks.
struct ChunkGrid {
  std::size_t rows = 0;
  std::size_t chunk_rows = 65536;

  std::size_t chunks() const { return chunk_rows ? (rows + chunk_rows - 1) / chunk_rows : 0; }
  /// First chunk owned by `rank` of `ranks` (the last owned is first_chunk(rank + 1) - 1).
  std::size_t first_chunk(int rank, int ranks) const {
    return chunks() * static_cast<std::size_t>(rank) / static_cast<std::size_t>(ranks);
  }
  /// First row of chunk c (rows for c == chunks()).
  std::size_t chunk_begin(std::size_t c) const {
    return c * chunk_rows < rows ? c * chunk_rows : rows;
  }
};

/// @brief A row-distributed matrix: each rank holds its chunks' rows as one contiguous
/// LayoutRight View in `MemorySpace`.
template <class T, class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
class DistMatrix {
 public:
  using value_type = T;
  using memory_space = MemorySpace;
  using execution_space = typename MemorySpace::execution_space;
  using local_type = Kokkos::View<T**, Kokkos::LayoutRight, MemorySpace>;

  /// Allocates this rank's rows (zero-filled; in host memory on transparent huge pages,
  /// see tessera::advise_huge_pages).
  DistMatrix(const Comm& comm, std::size_t rows, std::size_t cols, std::size_t chunk_rows = 65536)
      : comm_(comm), grid_{rows, chunk_rows}, cols_(cols) {
    check();
    local_ =
        filled_on_huge_pages<local_type>("tessera::DistMatrix", T{}, row_end() - row_begin(), cols);
  }

  /// Wraps this rank's rows that the caller already holds (no copy): `local` must have
  /// row_end() - row_begin() rows of the grid.
  DistMatrix(const Comm& comm, const ChunkGrid& grid, const local_type& local)
      : comm_(comm), grid_(grid), cols_(local.extent(1)), local_(local) {
    check();
    TESSERA_EXPECTS(local.extent(0) == row_end() - row_begin(),
                    "tessera::array::DistMatrix: rank " + std::to_string(comm.rank()) +
                        " owns rows " + std::to_string(row_begin()) + ".." +
                        std::to_string(row_end()) + " but was given " +
                        std::to_string(local.extent(0)) + " rows");
  }

  const Comm& comm() const { return comm_; }
  const ChunkGrid& grid() const { return grid_; }
  std::size_t rows() const { return grid_.rows; }
  std::size_t cols() const { return cols_; }
  std::size_t chunk_rows() const { return grid_.chunk_rows; }
  /// This rank's chunks: [first_chunk(), last_chunk()).
  std::size_t first_chunk() const { return grid_.first_chunk(comm_.rank(), comm_.size()); }
  std::size_t last_chunk() const { return grid_.first_chunk(comm_.rank() + 1, comm_.size()); }
  /// This rank's global rows: [row_begin(), row_end()).
  std::size_t row_begin() const { return grid_.chunk_begin(first_chunk()); }
  std::size_t row_end() const { return grid_.chunk_begin(last_chunk()); }
  const local_type& local() const { return local_; }

 private:
  void check() const {
    TESSERA_EXPECTS(grid_.chunk_rows > 0, "tessera::array::DistMatrix: chunk_rows must be > 0");
  }
  Comm comm_;
  ChunkGrid grid_;
  std::size_t cols_;
  local_type local_;
};

/// @brief Spreads a matrix that every rank holds (e.g. read from a file) over the ranks:
/// each copies its own rows into `MemorySpace`.
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space, class HostView>
DistMatrix<double, MemorySpace> distribute(const Comm& comm, const HostView& X,
                                           std::size_t chunk_rows = 65536) {
  DistMatrix<double, MemorySpace> D(comm, X.extent(0), X.extent(1), chunk_rows);
  const auto mine = Kokkos::subview(X, Kokkos::make_pair(D.row_begin(), D.row_end()), Kokkos::ALL);
  Kokkos::deep_copy(D.local(), mine);
  return D;
}

/// @brief Like `distribute`, but without a copy where it can: when X is already in
/// MemorySpace, the DistMatrix views this rank's rows of X (changing one changes the other).
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space, class T, class XSpace>
DistMatrix<T, MemorySpace> share_rows(const Comm& comm,
                                      const Kokkos::View<T**, Kokkos::LayoutRight, XSpace>& X,
                                      std::size_t chunk_rows = 65536) {
  if constexpr (std::is_same_v<typename XSpace::memory_space, MemorySpace>) {
    const ChunkGrid grid{X.extent(0), chunk_rows};
    const std::size_t begin = grid.chunk_begin(grid.first_chunk(comm.rank(), comm.size()));
    const std::size_t end = grid.chunk_begin(grid.first_chunk(comm.rank() + 1, comm.size()));
    return DistMatrix<T, MemorySpace>(
        comm, grid, Kokkos::subview(X, Kokkos::make_pair(begin, end), Kokkos::ALL));
  } else {
    return distribute<MemorySpace>(comm, X, chunk_rows);
  }
}

/// @brief A DistMatrix over Comm::self() made of all rows of X (no copy): what a
/// one-process fit or reduction of a matrix in memory runs on.
template <class T, class MemorySpace>
DistMatrix<T, MemorySpace> whole(const Kokkos::View<T**, Kokkos::LayoutRight, MemorySpace>& X,
                                 std::size_t chunk_rows = 65536) {
  return DistMatrix<T, MemorySpace>(Comm::self(), ChunkGrid{X.extent(0), chunk_rows}, X);
}

/// @brief The whole matrix on every rank, in host memory (collective).
template <class T, class MemorySpace>
Kokkos::View<T**, Kokkos::LayoutRight, Kokkos::HostSpace> gather(
    const DistMatrix<T, MemorySpace>& D) {
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), D.local());
  return D.comm().allgatherv(host);
}

}  // namespace tessera::array
