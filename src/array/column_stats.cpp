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
  if (nan == NanPolicy::propagate && m.nan_count > 0) {  // NumPy: NaN wins, argmin finds it
    s.sum = s.mean = s.std = s.min = s.max = s.l1 = s.l2 = qnan;
    s.argmin = s.argmax = m.first_nan;
    return s;
  }
  s.sum = m.sum;  // numpy.nansum of nothing is 0
  s.l1 = m.abs_sum;
  s.l2 = std::sqrt(m.sum_sq);
  if (m.count == 0) {  // numpy.nanmean of nothing is NaN; nanargmin has no answer (-1)
    s.mean = s.std = s.min = s.max = qnan;
    return s;
  }
  s.mean = m.mean;
  s.std = std::sqrt(m.m2 / m.count);
  s.min = m.min;
  s.max = m.max;
  s.argmin = m.argmin;
  s.argmax = m.argmax;
  return s;
}

}  // namespace

namespace impl {

// One implementation for every memory space: the kernel runs where the data lives,
// the (small) partials come back to the host and are merged in chunk order.
template <class MemorySpace>
ColumnStats column_stats_impl(const DistMatrix<double, MemorySpace>& X,
                              const ColumnStatsOptions& options) {
  using Exec = typename MemorySpace::execution_space;
  const std::size_t cols = X.cols();
  std::vector<long> selected = options.columns;
  if (selected.empty())
    for (std::size_t j = 0; j < cols; ++j) selected.push_back(static_cast<long>(j));
  for (long c : selected)
    TESSERA_EXPECTS(c >= 0 && static_cast<std::size_t>(c) < cols,
                    "tessera::array::column_stats: column " + std::to_string(c) +
                        " is out of range (the data has " + std::to_string(cols) + " columns)");
  const std::size_t ncols = selected.size();
  const std::size_t local_chunks = X.last_chunk() - X.first_chunk();

  Kokkos::View<long*, Kokkos::HostSpace> host_ids("columns", ncols);
  for (std::size_t c = 0; c < ncols; ++c) host_ids(c) = selected[c];
  const auto column_ids = Kokkos::create_mirror_view_and_copy(MemorySpace(), host_ids);
  Kokkos::View<tessera::detail::Moments*, MemorySpace> partial("partials", local_chunks * ncols);
  using Functor =
      tessera::detail::ChunkColumnMoments<typename DistMatrix<double, MemorySpace>::local_type,
                                          decltype(column_ids), decltype(partial)>;
  Kokkos::parallel_for("tessera::column_stats", Kokkos::RangePolicy<Exec>(0, partial.extent(0)),
                       Functor{X.local(), column_ids, partial, X.chunk_rows(), ncols,
                               static_cast<std::int64_t>(X.row_begin())});
  const auto host_partial = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), partial);

  // Every rank receives every chunk's partials in chunk order and merges them in that order.
  const std::vector<tessera::detail::Moments> mine(host_partial.data(),
                                                   host_partial.data() + host_partial.extent(0));
  const std::vector<tessera::detail::Moments> all = X.comm().allgatherv(mine);
  TESSERA_ASSERT(all.size() == X.grid().chunks() * ncols);
  std::vector<tessera::detail::Moments> per_column(ncols);
  for (std::size_t chunk = 0; chunk < X.grid().chunks(); ++chunk)
    for (std::size_t c = 0; c < ncols; ++c) per_column[c].merge(all[chunk * ncols + c]);

  ColumnStats result;
  result.rows = X.rows();
  tessera::detail::Moments overall;
  for (std::size_t c = 0; c < ncols; ++c) {
    result.columns.push_back(summarise(per_column[c], selected[c], options.nan));
    overall.merge(per_column[c]);
  }
  result.overall = summarise(overall, -1, options.nan);
  result.overall.argmin = result.overall.argmax = -1;  // rows of different columns
  return result;
}

}  // namespace impl

ColumnStats column_stats(const DistMatrix<double, Kokkos::HostSpace>& X,
                         const ColumnStatsOptions& options) {
  return impl::column_stats_impl(X, options);
}

#if defined(KOKKOS_ENABLE_CUDA)
ColumnStats column_stats(const DistMatrix<double, Kokkos::CudaSpace>& X,
                         const ColumnStatsOptions& options) {
  return impl::column_stats_impl(X, options);
}
#endif

ColumnStats column_stats(const Comm& comm, const HostMatrix& X, const ColumnStatsOptions& options) {
  TESSERA_EXPECTS(options.chunk_rows > 0, "tessera::array::column_stats: chunk_rows must be > 0");
  const ChunkGrid grid{X.extent(0), options.chunk_rows};
  const std::size_t begin = grid.chunk_begin(grid.first_chunk(comm.rank(), comm.size()));
  const std::size_t end = grid.chunk_begin(grid.first_chunk(comm.rank() + 1, comm.size()));
  // This rank's rows of X, without a copy.
  const HostMatrix mine = Kokkos::subview(X, Kokkos::make_pair(begin, end), Kokkos::ALL);
  return column_stats(DistMatrix<double, Kokkos::HostSpace>(comm, grid, mine), options);
}

}  // namespace tessera::array
