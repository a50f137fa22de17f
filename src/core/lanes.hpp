#pragma once
// Eight doubles in a GCC vector (one AVX-512 register, two AVX2 or four SSE2 ones):
// elementwise IEEE operations, so the same bits in every instruction-set clone. Used by
// the host kernels of k-means, the SVM decisions, PCA's sign scan and the summary.
#include <cstddef>
#include <cstring>

namespace tessera::lanes {

using Lanes = double __attribute__((vector_size(8 * sizeof(double))));
constexpr std::size_t kLanes = 8;

// The helpers take and return Lanes by value and are inlined into the clones
// ([[gnu::flatten]]): the argument-passing ABI GCC warns about never applies (-Wno-psabi
// for the files that use them, src/CMakeLists.txt).
inline Lanes load(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(double* p, Lanes v) { std::memcpy(p, &v, sizeof v); }
inline Lanes broadcast(double x) { return Lanes{} + x; }
inline Lanes min(Lanes a, Lanes b) { return a < b ? a : b; }

}  // namespace tessera::lanes
