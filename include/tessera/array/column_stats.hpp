#pragma once
/// @file
/// @brief Per-column statistics (count, NaN count, sum, mean, std, min, max, their rows,
/// L1/L2 norms) over a fixed global chunk grid, distributed over the ranks of a Comm and
/// combined in chunk order: the result is bitwise identical for any number of ranks and
/// threads.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/comm/comm.hpp>
#include <tessera/io/chunk_source.hpp>
#include <tessera/io/table.hpp>

namespace tessera::array {

/// @brief NaN handling: propagate like NumPy's sum/mean, or skip like its nan* functions.
enum class NanPolicy { propagate, skip };

/// @brief Options of `column_stats`.
struct ColumnStatsOptions {
  std::size_t chunk_rows =
      65536;                  ///< rows per chunk (HostMatrix overload; a DistMatrix has its own)
  std::vector<long> columns;  ///< columns to reduce; empty: all
  NanPolicy nan = NanPolicy::propagate;
  /// Delta degrees of freedom of `std`: divisor count - ddof (NumPy's ddof; 1 gives the
  /// sample standard deviation). A divisor <= 0 gives inf (or NaN for zero spread), as NumPy.
  double ddof = 0;
};

/// @brief Statistics of one column (or of all selected values, for `overall`).
struct ColumnSummary {
  long index = -1;   ///< column index (-1 for overall)
  double count = 0;  ///< values that are not NaN
  double nan_count = 0;
  double sum = 0;
  double mean = 0;
  double std = 0;  ///< standard deviation (population, ddof 0, unless options say otherwise)
  double min = 0;
  double max = 0;
  /// Global row of the first minimum / maximum (NumPy argmin/argmax; with NaN propagated,
  /// the first NaN's row; -1 when there is none; -1 for `overall`).
  std::int64_t argmin = -1;
  std::int64_t argmax = -1;
  double l1 = 0;  ///< sum of |x|
  double l2 = 0;  ///< sqrt of the sum of x²
};

/// @brief Result of `column_stats`.
struct ColumnStats {
  std::size_t rows = 0;
  std::vector<ColumnSummary> columns;
  ColumnSummary overall;
};

/// @brief Reduces the columns of a distributed matrix (collective over its Comm).
/// @throws InvalidArgument for a column index out of range.
ColumnStats column_stats(const DistMatrix<double, Kokkos::HostSpace>& X,
                         const ColumnStatsOptions& options = {});
#if defined(KOKKOS_ENABLE_CUDA)
ColumnStats column_stats(const DistMatrix<double, Kokkos::CudaSpace>& X,
                         const ColumnStatsOptions& options = {});
#endif

/// @brief Statistics of the rows that share one key.
struct GroupStats {
  double key = 0;
  std::vector<ColumnSummary> columns;
};

/// @brief Group-by: per distinct integer value of column `key_column`, the statistics of
/// every other selected column (ascending keys; reproducible like column_stats). Meant for
/// keys of modest cardinality (at most `max_groups` distinct keys).
/// @throws InvalidArgument for a key that is NaN or not an integer (naming its row), more
/// than max_groups keys, or a bad column.
std::vector<GroupStats> group_stats(const DistMatrix<double, Kokkos::HostSpace>& X, long key_column,
                                    const ColumnStatsOptions& options = {},
                                    std::size_t max_groups = 10000);
#if defined(KOKKOS_ENABLE_CUDA)
std::vector<GroupStats> group_stats(const DistMatrix<double, Kokkos::CudaSpace>& X, long key_column,
                                    const ColumnStatsOptions& options = {},
                                    std::size_t max_groups = 10000);
#endif

/// @brief Streams the rows of a file (or generator) without holding it: each rank reads
/// its own chunks in batches that fit `memory_limit` bytes (0: no limit), reading the next
/// batch while the current one is reduced. The result is bit for bit that of column_stats
/// on the whole matrix with the same chunk_rows (collective).
/// @throws InvalidArgument if two chunks do not fit the limit; read errors on any rank
/// become the same error on every rank.
ColumnStats column_stats(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
                         const ColumnStatsOptions& options = {}, std::uint64_t memory_limit = 0);

/// @brief group_stats over a file (or generator) streamed like column_stats above: each
/// rank reduces its chunks in batches that fit `memory_limit`, keeping per (chunk, key
/// present) partials; they are merged in chunk order, so the result is bit for bit that of
/// group_stats on the whole matrix with the same chunk_rows (collective).
/// @throws InvalidArgument for a key that is not an integer (naming its row), more than
/// max_groups keys, or a bad column — on every rank.
std::vector<GroupStats> group_stats(const Comm& comm, io::ChunkSource& source,
                                    std::size_t chunk_rows, long key_column,
                                    const ColumnStatsOptions& options = {},
                                    std::uint64_t memory_limit = 0, std::size_t max_groups = 10000);

/// @brief column_stats and group_stats of a streamed source in one read of it (each bit
/// for bit what the two functions give apart; collective).
std::pair<ColumnStats, std::vector<GroupStats>> column_and_group_stats(
    const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, long key_column,
    const ColumnStatsOptions& options = {}, std::uint64_t memory_limit = 0,
    std::size_t max_groups = 10000);

/// @brief Reduces the columns of X, which every rank holds whole; rank r reduces its
/// share of the chunks of `options.chunk_rows` rows, in place (collective over comm).
/// @throws InvalidArgument for a column index out of range or chunk_rows == 0.
ColumnStats column_stats(const Comm& comm, const HostMatrix& X,
                         const ColumnStatsOptions& options = {});

}  // namespace tessera::array
