#pragma once
// Extent checks shared by the host and CUDA linalg back ends.
#include <string>

#include <tessera/core/error.hpp>
#include <tessera/linalg/linalg.hpp>

namespace tessera::linalg::detail {

struct GemmShape {
  int m, n, k;
};

template <class M>
GemmShape check_gemm(Op op_a, Op op_b, const M& A, const M& B, const M& C) {
  const std::size_t m = op_a == Op::none ? A.extent(0) : A.extent(1);
  const std::size_t ka = op_a == Op::none ? A.extent(1) : A.extent(0);
  const std::size_t kb = op_b == Op::none ? B.extent(0) : B.extent(1);
  const std::size_t n = op_b == Op::none ? B.extent(1) : B.extent(0);
  const auto dims = [](std::size_t r, std::size_t c) {
    return std::to_string(r) + "x" + std::to_string(c);
  };
  TESSERA_EXPECTS(ka == kb && C.extent(0) == m && C.extent(1) == n,
                  "tessera::linalg::gemm: op(A) is " + dims(m, ka) + ", op(B) is " + dims(kb, n) +
                      ", C is " + dims(C.extent(0), C.extent(1)));
  return {static_cast<int>(m), static_cast<int>(n), static_cast<int>(ka)};
}

template <class M>
void check_gram(const M& A, const M& C) {
  TESSERA_EXPECTS(C.extent(0) == A.extent(1) && C.extent(1) == A.extent(1),
                  "tessera::linalg::gram: A is " + std::to_string(A.extent(0)) + "x" +
                      std::to_string(A.extent(1)) + ", C must be " + std::to_string(A.extent(1)) +
                      "x" + std::to_string(A.extent(1)));
}

template <class M, class V>
void check_eigh(const M& A, const V& w, const M& Vec) {
  const std::size_t n = A.extent(0);
  TESSERA_EXPECTS(A.extent(1) == n && w.extent(0) == n && Vec.extent(0) == n && Vec.extent(1) == n,
                  "tessera::linalg::eigh: A must be square (" + std::to_string(A.extent(0)) + "x" +
                      std::to_string(A.extent(1)) + "), w of length n and V n x n");
}

}  // namespace tessera::linalg::detail
