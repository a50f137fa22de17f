#include <algorithm>
#include <cmath>
#include <future>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/core/error.hpp>
#include <tessera/kernels/moments.hpp>

namespace tessera::array {

namespace {

ColumnSummary summarise(const detail::Moments& m, long index, NanPolicy nan, double ddof) {
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
  // NumPy's mean is sum / count: inf when a value is (Chan's merged mean would be NaN).
  s.mean = std::isfinite(m.sum) ? m.mean : m.sum / m.count;
  s.std = std::sqrt(m.m2 / std::max(m.count - ddof, 0.0));
  s.min = m.min;
  s.max = m.max;
  s.argmin = m.argmin;
  s.argmax = m.argmax;
  return s;
}

}  // namespace

namespace impl {

std::vector<long> select_columns(const ColumnStatsOptions& options, std::size_t cols) {
  TESSERA_EXPECTS(options.ddof >= 0 && std::isfinite(options.ddof),
                  "tessera::array::column_stats: ddof must be a finite number >= 0, got " +
                      std::to_string(options.ddof));
  std::vector<long> selected = options.columns;
  if (selected.empty())
    for (std::size_t j = 0; j < cols; ++j) selected.push_back(static_cast<long>(j));
  for (long c : selected)
    TESSERA_EXPECTS(c >= 0 && static_cast<std::size_t>(c) < cols,
                    "tessera::array::column_stats: column " + std::to_string(c) +
                        " is out of range (the data has " + std::to_string(cols) + " columns)");
  return selected;
}

// The sorted distinct keys in column key_column of X (row 0 = global row first_row), found
// per piece of rows in parallel and merged; "" or why a key is not one (the first such row:
// a NaN or a value that is not an integer a double holds exactly).
template <class Matrix>
std::string distinct_keys(const Matrix& X, std::size_t key_column, std::int64_t first_row,
                          std::size_t max_groups, std::vector<double>& keys) {
  constexpr std::size_t piece = 16384;
  const std::size_t n = X.extent(0), pieces = (n + piece - 1) / piece;
  std::vector<std::vector<double>> found(pieces);
  std::vector<std::size_t> bad(pieces, n);
  Kokkos::parallel_for(
      "tessera::group_keys", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, pieces),
      [&](const std::size_t p) {
        std::vector<double>& mine = found[p];
        for (std::size_t r = p * piece; r < std::min(n, (p + 1) * piece); ++r) {
          const double k = X(r, key_column);
          if (!(k == std::floor(k) && std::abs(k) <= 9.0e15)) {
            bad[p] = r;
            return;
          }
          const auto at = std::lower_bound(mine.begin(), mine.end(), k);  // new keys are rare
          if (at == mine.end() || *at != k) mine.insert(at, k);
          if (mine.size() > max_groups) return;  // too many: the caller says so
        }
      });
  Kokkos::fence();
  for (std::size_t p = 0; p < pieces; ++p) {
    if (bad[p] < n)
      return "tessera::array::group_stats: the key in row " +
             std::to_string(first_row + static_cast<std::int64_t>(bad[p])) + " is " +
             fmt::format("{}", X(bad[p], key_column)) +
             ", not an integer key (keys are integers within ±9e15)";
    std::vector<double> merged;
    std::set_union(keys.begin(), keys.end(), found[p].begin(), found[p].end(),
                   std::back_inserter(merged));
    keys.swap(merged);
  }
  return "";
}

// Every column but the key when options name none.
std::vector<long> group_columns(const ColumnStatsOptions& options, std::size_t cols,
                                long key_column) {
  TESSERA_EXPECTS(key_column >= 0 && static_cast<std::size_t>(key_column) < cols,
                  "tessera::array::group_stats: key column " + std::to_string(key_column) +
                      " is out of range (the data has " + std::to_string(cols) + " columns)");
  ColumnStatsOptions others = options;
  if (others.columns.empty())
    for (std::size_t j = 0; j < cols; ++j)
      if (static_cast<long>(j) != key_column) others.columns.push_back(static_cast<long>(j));
  return select_columns(others, cols);
}

// The host's column moments: spans of 1024 columns (8 KiB of each row) in tiles of 32,
// built for several instruction sets (exact operations in a fixed order and no FMA
// contraction in this file, see CMakeLists.txt: every version gives the same bits).
using HostColumnMoments =
    tessera::detail::ChunkColumnMoments<HostMatrix, Kokkos::View<long*, Kokkos::HostSpace>,
                                        Kokkos::View<tessera::detail::Moments*, Kokkos::HostSpace>,
                                        32, 1024>;
TESSERA_CLONES [[gnu::flatten]] void host_column_moments(const HostColumnMoments& f,
                                                         std::size_t item) {
  f(item);
}

// Moments of each (chunk, selected column) of a block of whole chunks, computed where the
// block lives; returned on the host in chunk-major order.
template <class MemorySpace, class Local>
std::vector<tessera::detail::Moments> chunk_partials(const Local& local, std::size_t chunk_rows,
                                                     std::size_t first_row,
                                                     const std::vector<long>& selected) {
  using Exec = typename MemorySpace::execution_space;
  const std::size_t ncols = selected.size();
  const std::size_t chunks = (local.extent(0) + chunk_rows - 1) / chunk_rows;
  Kokkos::View<long*, Kokkos::HostSpace> host_ids("columns", ncols);
  for (std::size_t c = 0; c < ncols; ++c) host_ids(c) = selected[c];
  const auto column_ids = Kokkos::create_mirror_view_and_copy(MemorySpace(), host_ids);
  Kokkos::View<tessera::detail::Moments*, MemorySpace> partial("partials", chunks * ncols);
  const auto first = static_cast<std::int64_t>(first_row);
  if constexpr (std::is_same_v<MemorySpace, Kokkos::HostSpace>) {
    const HostColumnMoments f{local, column_ids, partial, chunk_rows, ncols, first};
    Kokkos::parallel_for("tessera::column_stats",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(
                             0, HostColumnMoments::work_items(chunks, ncols)),
                         [=](const std::size_t i) { host_column_moments(f, i); });
    Kokkos::fence();
  } else {  // one column a thread, neighbouring threads on neighbouring columns
    using Functor =
        tessera::detail::ChunkColumnMoments<Local, decltype(column_ids), decltype(partial), 1>;
    Kokkos::parallel_for("tessera::column_stats",
                         Kokkos::RangePolicy<Exec>(0, Functor::work_items(chunks, ncols)),
                         Functor{local, column_ids, partial, chunk_rows, ncols, first});
  }
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), partial);
  return std::vector<tessera::detail::Moments>(host.data(), host.data() + host.extent(0));
}

// Per-(chunk, key, column) moments, part(chunk, k, c), of the rows of X whose key column
// holds keys[k] (sorted, holding every key of X). Where the data lives in device memory,
// a thread per (chunk, key, column) scans the chunk's rows; on the host, one pass over
// each chunk's rows adds every value to its key's moments: the same adds in the same
// order (the same bits), with the data read once instead of once per key and column.
template <class MemorySpace, class Local, class Keys, class Columns, class Part>
void group_partials(const Local& X, const Keys& keys, const Columns& columns, const Part& part,
                    std::size_t chunk_rows, std::size_t key_column, std::int64_t first_row) {
  using Exec = typename MemorySpace::execution_space;
  const std::size_t chunks = part.extent(0), nk = part.extent(1), nc = part.extent(2);
  if constexpr (std::is_same_v<MemorySpace, Kokkos::HostSpace>) {
    Kokkos::parallel_for(
        "tessera::group_stats", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, chunks),
        [=](const std::size_t chunk) {
          const std::size_t end = std::min((chunk + 1) * chunk_rows, X.extent(0));
          const double* key_begin = keys.data();
          for (std::size_t r = chunk * chunk_rows; r < end; ++r) {
            const double key = X(r, key_column);
            const auto k = static_cast<std::size_t>(
                std::lower_bound(key_begin, key_begin + nk, key) - key_begin);
            TESSERA_ASSERT(k < nk && keys(k) == key);
            const auto row = first_row + static_cast<std::int64_t>(r);
            for (std::size_t c = 0; c < nc; ++c)
              part(chunk, k, c).add(X(r, static_cast<std::size_t>(columns(c))), row);
          }
        });
    Kokkos::fence();
  } else {
    Kokkos::parallel_for("tessera::group_stats",
                         Kokkos::MDRangePolicy<Exec, Kokkos::Rank<3>>({0, 0, 0}, {chunks, nk, nc}),
                         tessera::detail::ChunkGroupMoments<Local, Keys, Columns, Part>{
                             X, keys, columns, part, chunk_rows, key_column, first_row});
  }
}

// Every rank receives every chunk's partials in chunk order and merges them in that order.
ColumnStats merge_partials(const Comm& comm, const ChunkGrid& grid,
                           const std::vector<tessera::detail::Moments>& mine,
                           const std::vector<long>& selected, const ColumnStatsOptions& options) {
  const std::size_t ncols = selected.size();
  const std::vector<tessera::detail::Moments> all = comm.allgatherv(mine);
  TESSERA_ASSERT(all.size() == grid.chunks() * ncols);
  std::vector<tessera::detail::Moments> per_column(ncols);
  for (std::size_t chunk = 0; chunk < grid.chunks(); ++chunk)
    for (std::size_t c = 0; c < ncols; ++c) per_column[c].merge(all[chunk * ncols + c]);
  ColumnStats result;
  result.rows = grid.rows;
  tessera::detail::Moments overall;
  for (std::size_t c = 0; c < ncols; ++c) {
    result.columns.push_back(summarise(per_column[c], selected[c], options.nan, options.ddof));
    overall.merge(per_column[c]);
  }
  result.overall = summarise(overall, -1, options.nan, options.ddof);
  result.overall.argmin = result.overall.argmax = -1;  // rows of different columns
  return result;
}

// One implementation for every memory space: the kernel runs where the data lives,
// the (small) partials come back to the host and are merged in chunk order.
template <class MemorySpace>
ColumnStats column_stats_impl(const DistMatrix<double, MemorySpace>& X,
                              const ColumnStatsOptions& options) {
  const std::vector<long> selected = select_columns(options, X.cols());
  const auto mine = chunk_partials<MemorySpace>(X.local(), X.chunk_rows(), X.row_begin(), selected);
  return merge_partials(X.comm(), X.grid(), mine, selected, options);
}

template <class MemorySpace>
std::vector<GroupStats> group_stats(const DistMatrix<double, MemorySpace>& X, long key_column,
                                    const ColumnStatsOptions& options, std::size_t max_groups) {
  using tessera::detail::Moments;
  std::vector<long> selected = group_columns(options, X.cols(), key_column);

  // The distinct keys of every rank, checked here and agreed on everywhere.
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), X.local());
  std::vector<double> local_keys;
  const std::string bad =
      distinct_keys(host, static_cast<std::size_t>(key_column),
                    static_cast<std::int64_t>(X.row_begin()), max_groups, local_keys);
  agree_check(X.comm(), bad.empty(), bad);
  std::vector<double> keys = X.comm().allgatherv(local_keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  TESSERA_EXPECTS(keys.size() <= max_groups,
                  "tessera::array::group_stats: " + std::to_string(keys.size()) +
                      " distinct keys, more than the " + std::to_string(max_groups) + " allowed");

  const std::size_t nk = keys.size(), nc = selected.size();
  const std::size_t local_chunks = X.last_chunk() - X.first_chunk();
  Kokkos::View<double*, Kokkos::HostSpace> host_keys(keys.data(), nk);
  Kokkos::View<long*, Kokkos::HostSpace> host_cols(selected.data(), nc);
  const auto dkeys = Kokkos::create_mirror_view_and_copy(MemorySpace(), host_keys);
  const auto dcols = Kokkos::create_mirror_view_and_copy(MemorySpace(), host_cols);
  Kokkos::View<Moments***, Kokkos::LayoutRight, MemorySpace> partial("group_partials", local_chunks,
                                                                     nk, nc);
  group_partials<MemorySpace>(X.local(), dkeys, dcols, partial, X.chunk_rows(),
                              static_cast<std::size_t>(key_column),
                              static_cast<std::int64_t>(X.row_begin()));
  const auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), partial);
  const std::vector<Moments> mine(hp.data(), hp.data() + hp.span());
  const std::vector<Moments> all = X.comm().allgatherv(mine);
  std::vector<GroupStats> groups(nk);
  for (std::size_t k = 0; k < nk; ++k) {
    std::vector<Moments> merged(nc);
    for (std::size_t chunk = 0; chunk < X.grid().chunks(); ++chunk)
      for (std::size_t c = 0; c < nc; ++c) merged[c].merge(all[(chunk * nk + k) * nc + c]);
    groups[k].key = keys[k];
    for (std::size_t c = 0; c < nc; ++c)
      groups[k].columns.push_back(summarise(merged[c], selected[c], options.nan, options.ddof));
  }
  return groups;
}

}  // namespace impl

std::vector<GroupStats> group_stats(const DistMatrix<double, Kokkos::HostSpace>& X, long key_column,
                                    const ColumnStatsOptions& options, std::size_t max_groups) {
  return impl::group_stats(X, key_column, options, max_groups);
}
#if defined(KOKKOS_ENABLE_CUDA)
std::vector<GroupStats> group_stats(const DistMatrix<double, Kokkos::CudaSpace>& X, long key_column,
                                    const ColumnStatsOptions& options, std::size_t max_groups) {
  return impl::group_stats(X, key_column, options, max_groups);
}
#endif

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

ColumnStats column_stats(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
                         const ColumnStatsOptions& options, std::uint64_t memory_limit) {
  TESSERA_EXPECTS(chunk_rows > 0, "tessera::array::column_stats: chunk_rows must be > 0");
  const ChunkGrid grid{source.rows(), chunk_rows};
  const std::vector<long> selected = impl::select_columns(options, source.cols());
  std::vector<tessera::detail::Moments> mine;
  for_each_batch(comm, source, chunk_rows, memory_limit,
                 [&](const HostMatrix& block, std::size_t first_chunk) {
                   const auto part = impl::chunk_partials<Kokkos::HostSpace>(
                       block, chunk_rows, grid.chunk_begin(first_chunk), selected);
                   mine.insert(mine.end(), part.begin(), part.end());
                 });
  return impl::merge_partials(comm, grid, mine, selected, options);
}

namespace {

// group_stats of a source in one read; with `columns`, column_stats of the same read too.
std::vector<GroupStats> stream_groups(const Comm& comm, io::ChunkSource& source,
                                      std::size_t chunk_rows, long key_column,
                                      const ColumnStatsOptions& options, std::uint64_t memory_limit,
                                      std::size_t max_groups, ColumnStats* columns) {
  using tessera::detail::Moments;
  TESSERA_EXPECTS(chunk_rows > 0, "tessera::array::group_stats: chunk_rows must be > 0");
  const ChunkGrid grid{source.rows(), chunk_rows};
  const std::vector<long> column_selected =
      columns ? impl::select_columns(options, source.cols()) : std::vector<long>();
  std::vector<Moments> column_partials;
  const std::vector<long> selected = impl::group_columns(options, source.cols(), key_column);
  const std::size_t nc = selected.size();
  // Sparse partials: for every (chunk, key present in it), the moments of each column.
  std::vector<std::uint64_t> rec_chunk;
  std::vector<double> rec_key;
  std::vector<Moments> rec_moments;
  std::vector<double> seen;  // this rank's distinct keys, sorted
  const Kokkos::View<long*, Kokkos::HostSpace> cols(const_cast<long*>(selected.data()), nc);
  for_each_batch(comm, source, chunk_rows, memory_limit,
                 [&](const HostMatrix& block, std::size_t first_chunk) {
                   const auto row0 = static_cast<std::int64_t>(grid.chunk_begin(first_chunk));
                   if (columns) {  // what column_stats over the source does with this batch
                     const auto part = impl::chunk_partials<Kokkos::HostSpace>(
                         block, chunk_rows, grid.chunk_begin(first_chunk), column_selected);
                     column_partials.insert(column_partials.end(), part.begin(), part.end());
                   }
                   std::vector<double> keys;
                   const std::string bad = impl::distinct_keys(
                       block, static_cast<std::size_t>(key_column), row0, max_groups, keys);
                   if (!bad.empty()) throw InvalidArgument(bad);
                   std::vector<double> merged;
                   std::set_union(seen.begin(), seen.end(), keys.begin(), keys.end(),
                                  std::back_inserter(merged));
                   seen.swap(merged);
                   if (seen.size() > max_groups)
                     throw InvalidArgument("tessera::array::group_stats: more than " +
                                           std::to_string(max_groups) + " distinct keys");
                   const std::size_t chunks = (block.extent(0) + chunk_rows - 1) / chunk_rows;
                   const Kokkos::View<double*, Kokkos::HostSpace> kv(keys.data(), keys.size());
                   Kokkos::View<Moments***, Kokkos::LayoutRight, Kokkos::HostSpace> part(
                       "group_partials", chunks, keys.size(), nc);
                   impl::group_partials<Kokkos::HostSpace>(block, kv, cols, part, chunk_rows,
                                                           static_cast<std::size_t>(key_column),
                                                           row0);
                   for (std::size_t c = 0; c < chunks; ++c)
                     for (std::size_t k = 0; k < keys.size(); ++k) {
                       if (nc && part(c, k, 0).count == 0 && part(c, k, 0).nan_count == 0)
                         continue;  // the key is not in this chunk
                       rec_chunk.push_back(first_chunk + c);
                       rec_key.push_back(keys[k]);
                       for (std::size_t j = 0; j < nc; ++j) rec_moments.push_back(part(c, k, j));
                     }
                 });
  const auto all_chunk = comm.allgatherv(rec_chunk);
  const auto all_key = comm.allgatherv(rec_key);
  const auto all_moments = comm.allgatherv(rec_moments);
  // Fold each key's partials in chunk order: what group_stats does over the whole matrix
  // (a chunk without the key adds nothing there), so the result is the same bit for bit.
  std::vector<std::size_t> order(all_key.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return all_key[a] != all_key[b] ? all_key[a] < all_key[b] : all_chunk[a] < all_chunk[b];
  });
  std::vector<GroupStats> groups;
  for (std::size_t at = 0; at < order.size();) {
    const double key = all_key[order[at]];
    std::vector<Moments> merged(nc);
    for (; at < order.size() && all_key[order[at]] == key; ++at)
      for (std::size_t j = 0; j < nc; ++j) merged[j].merge(all_moments[order[at] * nc + j]);
    GroupStats g;
    g.key = key;
    for (std::size_t j = 0; j < nc; ++j)
      g.columns.push_back(summarise(merged[j], selected[j], options.nan, options.ddof));
    groups.push_back(std::move(g));
  }
  TESSERA_EXPECTS(groups.size() <= max_groups,
                  "tessera::array::group_stats: " + std::to_string(groups.size()) +
                      " distinct keys, more than the " + std::to_string(max_groups) + " allowed");
  if (columns)
    *columns = impl::merge_partials(comm, grid, column_partials, column_selected, options);
  return groups;
}

}  // namespace

std::vector<GroupStats> group_stats(const Comm& comm, io::ChunkSource& source,
                                    std::size_t chunk_rows, long key_column,
                                    const ColumnStatsOptions& options, std::uint64_t memory_limit,
                                    std::size_t max_groups) {
  return stream_groups(comm, source, chunk_rows, key_column, options, memory_limit, max_groups,
                       nullptr);
}

std::pair<ColumnStats, std::vector<GroupStats>> column_and_group_stats(
    const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, long key_column,
    const ColumnStatsOptions& options, std::uint64_t memory_limit, std::size_t max_groups) {
  std::pair<ColumnStats, std::vector<GroupStats>> out;
  out.second = stream_groups(comm, source, chunk_rows, key_column, options, memory_limit,
                             max_groups, &out.first);
  return out;
}

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
