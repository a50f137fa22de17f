#include <cmath>
#include <limits>

#include <tessera/array/column_stats.hpp>
#include <tessera/core/error.hpp>
#include <tessera/kernels/moments.hpp>

namespace tessera::array {

namespace {

ColumnSummary summarise(const detail::Moments& m, long index, NanPolicy nan) {
  ColumnSummary s;
  s.index = index;
  s.count = m.count;
  s.nan_count = m.nan_count;
  const double qnan = std::numeric_limits<double>::quiet_NaN();
  if ((nan == NanPolicy::propagate && m.nan_count > 0) || m.count == 0) {
    s.sum = m.count == 0 && m.nan_count == 0 ? 0.0 : qnan;
    s.mean = s.std = s.min = s.max = qnan;
    if (nan == NanPolicy::skip && m.count == 0) s.sum = 0.0;  // numpy.nansum of nothing
    return s;
  }
  s.sum = m.sum;
  s.mean = m.mean;
  s.std = std::sqrt(m.m2 / m.count);
  s.min = m.min;
  s.max = m.max;
  return s;
}

}  // namespace

ColumnStats column_stats(const Comm& comm, const HostMatrix& X, const ColumnStatsOptions& options) {
  TESSERA_EXPECTS(options.chunk_rows > 0, "tessera::array::column_stats: chunk_rows must be > 0");
  const std::size_t rows = X.extent(0), cols = X.extent(1);
  std::vector<long> selected = options.columns;
  if (selected.empty())
    for (std::size_t j = 0; j < cols; ++j) selected.push_back(static_cast<long>(j));
  for (long c : selected)
    TESSERA_EXPECTS(c >= 0 && static_cast<std::size_t>(c) < cols,
                    "tessera::array::column_stats: column " + std::to_string(c) +
                        " is out of range (the data has " + std::to_string(cols) + " columns)");
  const std::size_t ncols = selected.size();

  // This rank's contiguous range of the global chunk grid.
  const std::size_t nchunks = (rows + options.chunk_rows - 1) / options.chunk_rows;
  const auto share = [&](int r) {
    return nchunks * static_cast<std::size_t>(r) / static_cast<std::size_t>(comm.size());
  };
  const std::size_t first = share(comm.rank()), last = share(comm.rank() + 1);
  const std::size_t row_begin = std::min(rows, first * options.chunk_rows);
  const std::size_t row_end = std::min(rows, last * options.chunk_rows);

  using Host = Kokkos::DefaultHostExecutionSpace;
  Kokkos::View<long*, Kokkos::HostSpace> column_ids("columns", ncols);
  for (std::size_t c = 0; c < ncols; ++c) column_ids(c) = selected[c];
  Kokkos::View<detail::Moments*, Kokkos::HostSpace> partial("partials", (last - first) * ncols);
  const auto local = Kokkos::subview(X, Kokkos::make_pair(row_begin, row_end), Kokkos::ALL);
  using Functor =
      detail::ChunkColumnMoments<decltype(local), decltype(column_ids), decltype(partial)>;
  Kokkos::parallel_for("tessera::column_stats", Kokkos::RangePolicy<Host>(0, partial.extent(0)),
                       Functor{local, column_ids, partial, options.chunk_rows, ncols});
  Kokkos::fence();

  // Every rank receives every chunk's partials in chunk order and merges them in
  // that order.
  const std::vector<detail::Moments> mine(partial.data(), partial.data() + partial.extent(0));
  const std::vector<detail::Moments> all = comm.allgatherv(mine);
  TESSERA_ASSERT(all.size() == nchunks * ncols);
  std::vector<detail::Moments> per_column(ncols);
  for (std::size_t chunk = 0; chunk < nchunks; ++chunk)
    for (std::size_t c = 0; c < ncols; ++c) per_column[c].merge(all[chunk * ncols + c]);

  ColumnStats result;
  result.rows = rows;
  detail::Moments overall;
  for (std::size_t c = 0; c < ncols; ++c) {
    result.columns.push_back(summarise(per_column[c], selected[c], options.nan));
    overall.merge(per_column[c]);
  }
  result.overall = summarise(overall, -1, options.nan);
  return result;
}

}  // namespace tessera::array
