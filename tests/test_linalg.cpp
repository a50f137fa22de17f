// linalg on host memory against closed forms: products of small integer matrices
// (exact), the Gram matrix, and the eigenpairs of the second-difference matrix.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <tessera/core/error.hpp>
#include <tessera/linalg/linalg.hpp>

using namespace tessera;
using linalg::Matrix;
using linalg::Op;
using Host = Kokkos::HostSpace;

namespace {

Matrix<Host> filled(std::size_t r, std::size_t c, double (*f)(std::size_t, std::size_t)) {
  Matrix<Host> M("M", r, c);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) M(i, j) = f(i, j);
  return M;
}

double a_value(std::size_t i, std::size_t j) { return double(i + 2 * j) - 3.0; }
double b_value(std::size_t i, std::size_t j) { return double(3 * i) - double(j * j) + 1.0; }

}  // namespace

TEST(Linalg, GemmAllTransposesMatchLoops) {
  const std::size_t m = 5, k = 4, n = 3;
  for (Op oa : {Op::none, Op::transpose})
    for (Op ob : {Op::none, Op::transpose}) {
      const Matrix<Host> A = oa == Op::none ? filled(m, k, a_value) : filled(k, m, a_value);
      const Matrix<Host> B = ob == Op::none ? filled(k, n, b_value) : filled(n, k, b_value);
      Matrix<Host> C = filled(m, n, [](std::size_t i, std::size_t j) { return double(i - j); });
      const Matrix<Host> C0 =
          filled(m, n, [](std::size_t i, std::size_t j) { return double(i - j); });
      linalg::gemm(oa, ob, 2.0, A, B, 0.5, C);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          double s = 0;
          for (std::size_t p = 0; p < k; ++p)
            s += (oa == Op::none ? A(i, p) : A(p, i)) * (ob == Op::none ? B(p, j) : B(j, p));
          EXPECT_EQ(C(i, j), 2.0 * s + 0.5 * C0(i, j)) << i << "," << j;  // small integers: exact
        }
    }
}

TEST(Linalg, GemmRejectsMismatchedExtents) {
  Matrix<Host> A("A", 3, 4), B("B", 5, 2), C("C", 3, 2);
  try {
    linalg::gemm(Op::none, Op::none, 1.0, A, B, 0.0, C);
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "tessera::linalg::gemm: op(A) is 3x4, op(B) is 5x2, C is 3x2");
  }
}

TEST(Linalg, GramIsSymmetricAndExact) {
  const Matrix<Host> A = filled(7, 3, a_value);
  Matrix<Host> G("G", 3, 3);
  linalg::gram(1.0, A, 0.0, G);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      double s = 0;
      for (std::size_t p = 0; p < 7; ++p) s += A(p, i) * A(p, j);
      EXPECT_EQ(G(i, j), s);
    }
  Matrix<Host> wrong("wrong", 2, 3);
  EXPECT_THROW(linalg::gram(1.0, A, 0.0, wrong), InvalidArgument);
}

// The upper triangle only, alpha and beta as dsyrk's, for column counts on both sides of
// the micro-kernel's vector width and of its limit (128, wider ones call dsyrk); small
// integers, so every order of the sums gives the exact value.
TEST(Linalg, GramUpperSerialMatchesItsDefinition) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const std::size_t d : {1, 3, 8, 13, 64, 130})
    for (const std::size_t n : {1, 7, 301})
      for (const double beta : {0.0, 0.5}) {
        const Matrix<Host> A = filled(
            n, d, [](std::size_t i, std::size_t j) { return double((i * 7 + j * 3) % 11) - 5.0; });
        Matrix<Host> C("C", d, d);
        for (std::size_t i = 0; i < d; ++i)
          for (std::size_t j = 0; j < d; ++j)
            C(i, j) = j < i ? -1234.0 : (beta == 0 ? nan : double(i + j));
        linalg::prepare_serial();
        linalg::gram_upper_serial(2.0, A, beta, C);
        for (std::size_t i = 0; i < d; ++i)
          for (std::size_t j = 0; j < d; ++j) {
            if (j < i) {
              ASSERT_EQ(C(i, j), -1234.0) << "lower triangle changed at " << i << "," << j;
              continue;
            }
            double s = 0;
            for (std::size_t p = 0; p < n; ++p) s += A(p, i) * A(p, j);
            ASSERT_EQ(C(i, j), 2.0 * s + beta * double(i + j))
                << "d " << d << ", n " << n << ", beta " << beta << " at " << i << "," << j;
          }
      }
}

namespace {

// T = tridiag(-1, 2, -1) of size n: eigenvalues 2 - 2 cos(k pi / (n + 1)), k = 1..n.
Matrix<Host> second_difference(std::size_t n) {
  Matrix<Host> T("T", n, n);
  for (std::size_t i = 0; i < n; ++i) {
    T(i, i) = 2;
    if (i + 1 < n) T(i, i + 1) = T(i + 1, i) = -1;
  }
  return T;
}

// w, V are T's eigenpairs: the closed-form values ascending, T v_k = w_k v_k, V orthonormal.
void expect_second_difference_eigenpairs(const linalg::Vector<Host>& w, const Matrix<Host>& V) {
  const std::size_t n = w.extent(0);
  const Matrix<Host> T = second_difference(n);
  const double pi = std::acos(-1.0);
  for (std::size_t k = 0; k < n; ++k)
    EXPECT_NEAR(w(k), 2 - 2 * std::cos(double(k + 1) * pi / double(n + 1)), 1e-13);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t i = 0; i < n; ++i) {
      double tv = 0;
      for (std::size_t j = 0; j < n; ++j) tv += T(i, j) * V(j, k);
      EXPECT_NEAR(tv, w(k) * V(i, k), 1e-13);
    }
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b) {
      double dot = 0;
      for (std::size_t i = 0; i < n; ++i) dot += V(i, a) * V(i, b);
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-13);
    }
}

}  // namespace

TEST(Linalg, EighSecondDifferenceMatrix) {
  const std::size_t n = 12;
  const Matrix<Host> T = second_difference(n);
  Matrix<Host> V("V", n, n);
  linalg::Vector<Host> w("w", n);
  linalg::eigh(T, w, V);
  EXPECT_EQ(T(0, 0), 2.0);  // input untouched
  expect_second_difference_eigenpairs(w, V);
}

// eigh_serial reads the upper triangle only (the lower one is garbage here), in place too.
TEST(Linalg, EighSerialReadsTheUpperTriangle) {
  for (const std::size_t n : {1, 12, 50}) {
    const Matrix<Host> T = second_difference(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j) T(i, j) = 1e3 + double(i * n + j);
    Matrix<Host> V("V", n, n);
    linalg::Vector<Host> w("w", n);
    linalg::prepare_serial();
    linalg::eigh_serial(T, w, V);
    expect_second_difference_eigenpairs(w, V);
    linalg::eigh_serial(T, w, T);
    expect_second_difference_eigenpairs(w, T);
  }
}

// OpenBLAS built for several CPUs falls back to its SSE-era kernels on CPUs newer than
// itself (Debian 12's 0.3.21 on Sapphire and Emerald Rapids: Prescott, dgemm 3x slower);
// tessera then chooses the AVX2 or AVX-512 kernels the CPU runs. Products stay exact.
TEST(Linalg, OpenBlasRunsKernelsThisCpuSupports) {
  const std::string kernels = linalg::blas_kernels();
  ASSERT_FALSE(kernels.empty());
  if (kernels.rfind("OpenBLAS ", 0) != 0 || std::getenv("OPENBLAS_CORETYPE") != nullptr)
    GTEST_SKIP() << kernels;
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << kernels;
  // "OpenBLAS 0.3.21 SkylakeX ...": the third word is the kernels' name.
  const auto first = kernels.find(' ', kernels.find(' ') + 1) + 1;
  std::string core = kernels.substr(first, kernels.find(' ', first) - first);
  for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* sse :
       {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
        "northwood", "banias", "athlon", "opteron", "barcelona", "nano"})
    EXPECT_NE(core.rfind(sse, 0), 0u) << kernels;
#endif
  const std::size_t m = 70, k = 50, n = 60;  // past the kernels' register blocks
  const Matrix<Host> A = filled(m, k, a_value), B = filled(k, n, b_value);
  Matrix<Host> C("C", m, n);
  linalg::gemm(Op::none, Op::none, 1.0, A, B, 0.0, C);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t l = 0; l < k; ++l) s += a_value(i, l) * b_value(l, j);
      ASSERT_EQ(C(i, j), s) << i << ", " << j;  // small integers: exact in any order
    }
}
