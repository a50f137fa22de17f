#pragma once
/// @file
/// @brief Per-column statistics (count, NaN count, sum, mean, std, min, max) over a
/// fixed global chunk grid, distributed over the ranks of a Comm and combined in chunk
/// order: the result is bitwise identical for any number of ranks and threads.

#include <cstddef>
#include <vector>

#include <tessera/comm/comm.hpp>
#include <tessera/io/table.hpp>

namespace tessera::array {

/// @brief NaN handling: propagate like NumPy's sum/mean, or skip like its nan* functions.
enum class NanPolicy { propagate, skip };

/// @brief Options of `column_stats`.
struct ColumnStatsOptions {
  std::size_t chunk_rows = 65536;  ///< rows per chunk of the global grid
  std::vector<long> columns;       ///< columns to reduce; empty: all
  NanPolicy nan = NanPolicy::propagate;
};

/// @brief Statistics of one column (or of all selected values, for `overall`).
struct ColumnSummary {
  long index = -1;   ///< column index (-1 for overall)
  double count = 0;  ///< values that are not NaN
  double nan_count = 0;
  double sum = 0;
  double mean = 0;
  double std = 0;  ///< population standard deviation (ddof 0)
  double min = 0;
  double max = 0;
};

/// @brief Result of `column_stats`.
struct ColumnStats {
  std::size_t rows = 0;
  std::vector<ColumnSummary> columns;
  ColumnSummary overall;
};

/// @brief Reduces the columns of X, which every rank holds whole; rank r reduces its
/// contiguous share of the chunks (collective over comm).
/// @throws InvalidArgument for a column index out of range or chunk_rows == 0.
ColumnStats column_stats(const Comm& comm, const HostMatrix& X,
                         const ColumnStatsOptions& options = {});

}  // namespace tessera::array
