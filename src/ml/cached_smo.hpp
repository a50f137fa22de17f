#pragma once
// One-vs-one problems too large for a kernel matrix in memory: each binary problem is
// solved on its own with libsvm's steps (as solve_ovo), its Q rows computed on demand
// in GEMM batches into an LRU cache. Internal.
#include <cstdint>
#include <vector>

#include "ovo.hpp"

namespace tessera::ml::impl {

/// Counters of one cached solve (summed over the set's problems).
struct CacheStats {
  std::int64_t rows_computed = 0;  // Q rows computed (each a dot product with every row)
  std::int64_t batches = 0;        // GEMM launches that computed them
  std::int64_t misses = 0;         // steps that needed a row not in the cache
  std::size_t slots = 0;           // rows the largest problem's cache held
  std::int64_t shrinks = 0;        // shrinking rounds that set positions aside
};

/// Solves every problem of `set` (built by make_ovo over the rows of X, on the device)
/// one after another. A problem with l positions keeps at most cache_bytes of float Q
/// rows (l·4 bytes each; at least 3 rows), least recently used evicted first. A missing
/// row is computed together with up to `batch − 1` other uncached rows, the positions
/// that violate the optimality conditions most (the likely next picks), in one GEMM.
/// With `shrinking`, libsvm's shrinking heuristic: every min(l, 1000) iterations the
/// positions at a bound that cannot enter the working set are set aside (the scans skip
/// them), and their gradient is rebuilt before the end. Fills set.alpha, set.grad,
/// set.rho and set.iterations as solve_ovo does.
CacheStats solve_ovo_cached(const DMatrix& X, OvoSet& set, const detail::KernelSpec& spec, double C,
                            const std::vector<double>& weight, double tol, std::int64_t max_iter,
                            std::uint64_t cache_bytes, bool shrinking = false, int batch = 64);

}  // namespace tessera::ml::impl
