#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <tessera/array/reductions.hpp>
#include <tessera/array/streaming.hpp>
#include <tessera/core/error.hpp>
#include <tessera/kernels/comoments.hpp>
#include <tessera/kernels/moments.hpp>
#include <tessera/linalg/linalg.hpp>

#include "../core/lanes.hpp"

namespace tessera::array {

namespace impl {

// Per local chunk c: out(c, :, :) = Σ over its rows of (x − m_c)(x − m_c)ᵀ, m_c being row c
// of `means` (or no centring when `means` is empty): one syrk per chunk (BLAS on host
// memory, cuBLAS on device memory), the same on any rank since a chunk's rows are.
template <class MemorySpace>
Kokkos::View<double***, Kokkos::LayoutRight, MemorySpace> chunk_products(
    const DistMatrix<double, MemorySpace>& X,
    const Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>& means) {
  using Exec = typename MemorySpace::execution_space;
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;
  const std::size_t d = X.cols(), local_chunks = X.last_chunk() - X.first_chunk();
  const std::size_t n = X.local().extent(0), chunk_rows = X.chunk_rows();
  Kokkos::View<double***, Kokkos::LayoutRight, MemorySpace> out("chunk_products", local_chunks, d,
                                                                d);
  const bool centre = means.extent(0) > 0;
  Matrix buffer(Kokkos::view_alloc(std::string("centred_chunk"), Kokkos::WithoutInitializing),
                centre ? std::min(chunk_rows, n) : 0, d);
  for (std::size_t c = 0; c < local_chunks; ++c) {
    const std::size_t begin = c * chunk_rows, end = std::min(n, begin + chunk_rows);
    const Matrix rows = Kokkos::subview(X.local(), std::make_pair(begin, end), Kokkos::ALL);
    Matrix A = rows;
    if (centre) {
      A = Kokkos::subview(buffer, std::make_pair(std::size_t(0), end - begin), Kokkos::ALL);
      const Matrix centred = A;
      Kokkos::parallel_for(
          "tessera::covariance::centre",
          Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {end - begin, d}),
          KOKKOS_LAMBDA(const std::size_t r, const std::size_t j) {
            centred(r, j) = rows(r, j) - means(c, j);
          });
    }
    linalg::gram(1.0, A, 0.0, Kokkos::subview(out, c, Kokkos::ALL, Kokkos::ALL));
  }
  return out;
}

// Rows of the sub-blocks that covariance_partials cuts host chunks into (fits in cache).
constexpr std::size_t kSubRows = 1024;

// Per local chunk: its means, then the upper triangle of its co-moments.
//
// Host memory: one read of the data. Work items are chunks (in parallel); a chunk is cut
// into sub-blocks of kSubRows rows: the sub-block's mean (row order), its rows centred on
// it in a buffer that stays in cache, one serial syrk; sub-blocks merged with Chan et al.'s
// update in order. Device memory: the chunk means, then the rows centred on them and one
// cuBLAS syrk per chunk. Either way a chunk's result depends only on its rows.
template <class MemorySpace>
std::vector<double> covariance_partials(const DistMatrix<double, MemorySpace>& X) {
  const std::size_t d = X.cols(), local_chunks = X.last_chunk() - X.first_chunk();
  const std::size_t width = d + d * (d + 1) / 2;
  std::vector<double> mine(local_chunks * width);
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemorySpace>::accessible) {
    const auto local = X.local();
    const std::size_t n = local.extent(0), chunk_rows = X.chunk_rows();
    double* out_all = mine.data();
    linalg::prepare_serial();  // outside the parallel loop
    Kokkos::parallel_for("tessera::covariance::chunks",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, local_chunks),
                         [=](const std::size_t c) {
                           const std::size_t begin = c * chunk_rows,
                                             end = std::min(n, begin + chunk_rows);
                           std::vector<double> buffer(std::min(kSubRows, end - begin) * d),
                               sub_mean(d), mean(d, 0.0), m2(d * d, 0.0), sub_m2(d * d), delta(d);
                           double count = 0;
                           for (std::size_t r0 = begin; r0 < end; r0 += kSubRows) {
                             const std::size_t rows = std::min(kSubRows, end - r0);
                             std::fill(sub_mean.begin(), sub_mean.end(), 0.0);
                             for (std::size_t r = r0; r < r0 + rows; ++r)
                               for (std::size_t j = 0; j < d; ++j) sub_mean[j] += local(r, j);
                             for (std::size_t j = 0; j < d; ++j)
                               sub_mean[j] /= static_cast<double>(rows);
                             for (std::size_t r = 0; r < rows; ++r)
                               for (std::size_t j = 0; j < d; ++j)
                                 buffer[r * d + j] = local(r0 + r, j) - sub_mean[j];
                             linalg::gram_upper_serial(1.0, HostMatrix(buffer.data(), rows, d), 0.0,
                                                       HostMatrix(sub_m2.data(), d, d));
                             const double nb = static_cast<double>(rows), total = count + nb;
                             for (std::size_t j = 0; j < d; ++j) delta[j] = sub_mean[j] - mean[j];
                             const double weight = count * nb / total;
                             for (std::size_t i = 0; i < d; ++i)
                               for (std::size_t j = i; j < d; ++j)
                                 m2[i * d + j] += sub_m2[i * d + j] + delta[i] * delta[j] * weight;
                             for (std::size_t j = 0; j < d; ++j) mean[j] += delta[j] * (nb / total);
                             count = total;
                           }
                           double* out = out_all + c * width;
                           for (std::size_t j = 0; j < d; ++j) *out++ = mean[j];
                           for (std::size_t i = 0; i < d; ++i)
                             for (std::size_t j = i; j < d; ++j) *out++ = m2[i * d + j];
                         });
  } else {
    using Exec = typename MemorySpace::execution_space;
    using Local = typename DistMatrix<double, MemorySpace>::local_type;
    Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> means("means", local_chunks, d);
    Kokkos::parallel_for(
        "tessera::covariance::means", Kokkos::RangePolicy<Exec>(0, local_chunks),
        tessera::detail::ChunkMeans<Local, decltype(means)>{X.local(), means, X.chunk_rows()});
    const auto comoments = chunk_products(X, means);
    const auto hm = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), means);
    const auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), comoments);
    for (std::size_t c = 0; c < local_chunks; ++c) {
      double* out = mine.data() + c * width;
      for (std::size_t j = 0; j < d; ++j) *out++ = hm(c, j);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = i; j < d; ++j) *out++ = hc(c, i, j);
    }
  }
  return mine;
}

void require_rows(std::size_t rows, int ddof) {
  TESSERA_EXPECTS(ddof >= 0 && rows > static_cast<std::size_t>(ddof),
                  "tessera::array::covariance: needs more than ddof = " + std::to_string(ddof) +
                      " rows, the matrix has " + std::to_string(rows));
}

// Every rank's chunk partials gathered, then Chan et al.'s pairwise update chunk by
// chunk in global order.
Covariance merge_covariance(const Comm& comm, const ChunkGrid& grid, std::size_t d,
                            const std::vector<double>& mine, int ddof) {
  const std::size_t width = d + d * (d + 1) / 2;
  const std::vector<double> all = comm.allgatherv(mine);
  Covariance result;
  result.rows = grid.rows;
  result.mean = HostVector("mean", d);
  result.cov = HostMatrix("cov", d, d);
  std::vector<double> delta(d);
  double n = 0;
  for (std::size_t c = 0; c < grid.chunks(); ++c) {
    const double nb = static_cast<double>(grid.chunk_begin(c + 1) - grid.chunk_begin(c));
    const double* in = all.data() + c * width;
    const double total = n + nb;
    for (std::size_t j = 0; j < d; ++j) delta[j] = in[j] - result.mean(j);
    const double* m2 = in + d;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i; j < d; ++j)
        result.cov(i, j) += *m2++ + delta[i] * delta[j] * (n * nb / total);
    for (std::size_t j = 0; j < d; ++j) result.mean(j) += delta[j] * (nb / total);
    n = total;
  }
  const double scale = 1.0 / (n - ddof);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = i; j < d; ++j) result.cov(j, i) = result.cov(i, j) *= scale;
  return result;
}

template <class MemorySpace>
Covariance covariance(const DistMatrix<double, MemorySpace>& X, int ddof) {
  require_rows(X.rows(), ddof);
  return merge_covariance(X.comm(), X.grid(), X.cols(), covariance_partials(X), ddof);
}

template <class MemorySpace>
HostMatrix gram(const DistMatrix<double, MemorySpace>& X) {
  const std::size_t d = X.cols();
  // The raw products Σ x_i x_j of each chunk.
  const auto products =
      chunk_products(X, Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>());
  const auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), products);
  const std::vector<double> mine(hp.data(), hp.data() + hp.span());
  const std::vector<double> all = X.comm().allgatherv(mine);
  HostMatrix G("gram", d, d);
  for (std::size_t c = 0; c < X.grid().chunks(); ++c)
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i; j < d; ++j) G(i, j) += all[(c * d + i) * d + j];
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < i; ++j) G(i, j) = G(j, i);
  return G;
}

// below, above and nan of a histogram from the (cols, 3) totals.
void set_outside(Histogram& h,
                 const Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Kokkos::HostSpace>& out) {
  const std::size_t d = out.extent(0);
  h.below = Kokkos::View<std::int64_t*, Kokkos::HostSpace>("below", d);
  h.above = Kokkos::View<std::int64_t*, Kokkos::HostSpace>("above", d);
  h.nan = Kokkos::View<std::int64_t*, Kokkos::HostSpace>("nan", d);
  for (std::size_t j = 0; j < d; ++j)
    h.below(j) = out(j, 0), h.above(j) = out(j, 1), h.nan(j) = out(j, 2);
}

template <class MemorySpace>
Histogram histogram(const DistMatrix<double, MemorySpace>& X, double lo, double hi,
                    std::size_t bins) {
  using Exec = typename MemorySpace::execution_space;
  TESSERA_EXPECTS(lo < hi && bins >= 1,
                  "tessera::array::histogram: needs lo < hi and bins >= 1 (got lo " +
                      std::to_string(lo) + ", hi " + std::to_string(hi) + ", bins " +
                      std::to_string(bins) + ")");
  const std::size_t d = X.cols();
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, MemorySpace> counts("counts", d, bins);
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, MemorySpace> outside("outside", d, 3);
  using Local = typename DistMatrix<double, MemorySpace>::local_type;
  Kokkos::parallel_for(
      "tessera::histogram",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>({0, 0}, {X.local().extent(0), d}),
      tessera::detail::ColumnHistogram<Local, decltype(counts), decltype(outside)>{
          X.local(), counts, outside, lo, hi, bins});
  Histogram h;
  h.lo = lo;
  h.hi = hi;
  h.bins = bins;
  h.counts = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), counts);
  auto out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), outside);
  X.comm().allreduce(h.counts, ReduceOp::sum);  // integers: exact in any order
  X.comm().allreduce(out, ReduceOp::sum);
  set_outside(h, out);
  return h;
}

// The host's block summaries, built for several instruction sets (no FMA contraction in
// this file, see CMakeLists.txt: every version gives the same bits). A work item is a run
// of consecutive blocks of one chunk, and the second pass over a block (from cache) runs
// in the same loop as the first pass over the next one, so that memory is read while the
// deviations are summed: each block's lanes get the same operations in the same order as
// BlockSummary::of (the same bits).
using HostSummarize = tessera::detail::SummarizeBlocks<
    Kokkos::View<tessera::detail::BlockSummary*, Kokkos::HostSpace>>;
constexpr std::size_t summary_run = 32;  // blocks per host work item

TESSERA_CLONES [[gnu::flatten]] void host_summarize(const HostSummarize& f, std::size_t item) {
  using tessera::detail::BlockSummary;
  constexpr std::size_t L = 8;
  const std::size_t runs = (f.per_chunk + summary_run - 1) / summary_run;
  const std::size_t chunk = item / runs;  // blocks [first, last) of it, numbered globally
  const std::size_t first = chunk * f.per_chunk + (item % runs) * summary_run;
  const std::size_t last = std::min((chunk + 1) * f.per_chunk, first + summary_run);
  std::size_t len = 0;
  const double* x = f.elements(first, len);
  BlockSummary cur = BlockSummary::first_pass(x, len);
  for (std::size_t b = first; b < last; ++b) {
    std::size_t next_len = 0;
    const double* y = b + 1 < last ? f.elements(b + 1, next_len) : nullptr;
    BlockSummary next;
    if (y && len == next_len && len > 0 && len % L == 0) {  // the usual case: fused
      using namespace tessera::lanes;
      Lanes sum{}, dev{};
      const Lanes mean = broadcast(cur.mean);
      for (std::size_t i = 0; i < len; i += L) {
        sum += load(y + i);
        const Lanes d = load(x + i) - mean;
        dev += d * d;
      }
      double m[L], lanes[L];
      store(m, dev);
      store(lanes, sum);
      cur.m2 = BlockSummary::fold(m);
      next = BlockSummary::summed(y, next_len, lanes);
    } else {
      cur.second_pass(x, len);
      if (y) next = BlockSummary::first_pass(y, next_len);
    }
    f.out(b) = cur;
    cur = next, x = y, len = next_len;
  }
}

template <class MemorySpace>
Summary summary(const DistMatrix<double, MemorySpace>& X, double ddof) {
  using Exec = typename MemorySpace::execution_space;
  using tessera::detail::BlockSummary;
  constexpr std::size_t block = 2048;
  const auto local = X.local();
  const std::size_t rows = local.extent(0), cols = local.extent(1);
  const std::size_t chunk_rows = X.chunk_rows();
  const std::size_t chunks = X.last_chunk() - X.first_chunk();
  const std::size_t per_chunk = std::max<std::size_t>(1, (chunk_rows * cols + block - 1) / block);
  Kokkos::View<BlockSummary*, MemorySpace> blocks(
      Kokkos::view_alloc(std::string("summary_blocks"), Kokkos::WithoutInitializing),
      chunks * per_chunk);
  const tessera::detail::SummarizeBlocks<decltype(blocks)> f{
      local.data(), rows, cols, chunk_rows, block, per_chunk, blocks};
  if constexpr (std::is_same_v<MemorySpace, Kokkos::HostSpace>)
    Kokkos::parallel_for("tessera::summary",
                         Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(
                             0, chunks * ((per_chunk + summary_run - 1) / summary_run)),
                         [=](const std::size_t item) { host_summarize(f, item); });
  else
    Kokkos::parallel_for("tessera::summary", Kokkos::RangePolicy<Exec>(0, chunks * per_chunk), f);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), blocks);
  std::vector<BlockSummary> mine(chunks);  // per chunk, its blocks in order
  for (std::size_t c = 0; c < chunks; ++c)
    for (std::size_t b = 0; b < per_chunk; ++b) mine[c].merge(host(c * per_chunk + b));
  const std::vector<BlockSummary> all = X.comm().allgatherv(mine);
  BlockSummary total;
  for (const auto& c : all) total.merge(c);  // chunk order
  Summary s;
  s.count = total.n;
  s.nan_count = total.nan;
  s.sum = total.sum;
  s.mean = total.sum / total.n;  // NumPy's mean: the sum over the size
  s.std = std::sqrt(total.m2 / (total.n - ddof));
  return s;
}

}  // namespace impl

Summary summary(const DistMatrix<double, Kokkos::HostSpace>& X, double ddof) {
  return impl::summary(X, ddof);
}
#if defined(KOKKOS_ENABLE_CUDA)
Summary summary(const DistMatrix<double, Kokkos::CudaSpace>& X, double ddof) {
  return impl::summary(X, ddof);
}
#endif
Covariance covariance(const DistMatrix<double, Kokkos::HostSpace>& X, int ddof) {
  return impl::covariance(X, ddof);
}
Histogram histogram(const DistMatrix<double, Kokkos::HostSpace>& X, double lo, double hi,
                    std::size_t bins) {
  return impl::histogram(X, lo, hi, bins);
}
HostMatrix gram(const DistMatrix<double, Kokkos::HostSpace>& X) { return impl::gram(X); }
#if defined(KOKKOS_ENABLE_CUDA)
Covariance covariance(const DistMatrix<double, Kokkos::CudaSpace>& X, int ddof) {
  return impl::covariance(X, ddof);
}
Histogram histogram(const DistMatrix<double, Kokkos::CudaSpace>& X, double lo, double hi,
                    std::size_t bins) {
  return impl::histogram(X, lo, hi, bins);
}
HostMatrix gram(const DistMatrix<double, Kokkos::CudaSpace>& X) { return impl::gram(X); }
#endif

Histogram histogram(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, double lo,
                    double hi, std::size_t bins, std::uint64_t memory_limit) {
  TESSERA_EXPECTS(lo < hi && bins >= 1,
                  "tessera::array::histogram: needs lo < hi and bins >= 1 (got lo " +
                      std::to_string(lo) + ", hi " + std::to_string(hi) + ", bins " +
                      std::to_string(bins) + ")");
  const std::size_t d = source.cols();
  Histogram total;
  total.lo = lo, total.hi = hi, total.bins = bins;
  total.counts = decltype(total.counts)("counts", d, bins);
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Kokkos::HostSpace> outside("outside", d, 3);
  for_each_batch(comm, source, chunk_rows, memory_limit, [&](const HostMatrix& rows, std::size_t) {
    const Histogram h = impl::histogram(whole(rows, chunk_rows), lo, hi, bins);
    for (std::size_t j = 0; j < d; ++j) {
      for (std::size_t b = 0; b < bins; ++b) total.counts(j, b) += h.counts(j, b);
      outside(j, 0) += h.below(j), outside(j, 1) += h.above(j), outside(j, 2) += h.nan(j);
    }
  });
  comm.allreduce(total.counts, ReduceOp::sum);  // integers: exact in any order
  comm.allreduce(outside, ReduceOp::sum);
  impl::set_outside(total, outside);
  return total;
}

Covariance covariance(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows, int ddof,
                      std::uint64_t memory_limit) {
  impl::require_rows(source.rows(), ddof);
  std::vector<double> mine;
  for_each_batch(comm, source, chunk_rows, memory_limit, [&](const HostMatrix& rows, std::size_t) {
    const auto part = impl::covariance_partials(whole(rows, chunk_rows));
    mine.insert(mine.end(), part.begin(), part.end());
  });
  return impl::merge_covariance(comm, ChunkGrid{source.rows(), chunk_rows}, source.cols(), mine,
                                ddof);
}

}  // namespace tessera::array
