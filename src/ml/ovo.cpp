#include "ovo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <tessera/core/error.hpp>
#include <tessera/io/results.hpp>
#include <tessera/linalg/linalg.hpp>

#include "../core/lanes.hpp"
#include "../core/prefault.hpp"

namespace tessera::ml::impl {

Encoded encode_labels(const HostVector& y, const std::map<double, double>& class_weight,
                      const std::string& who) {
  const std::size_t n = y.extent(0);
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(y(i)) || y(i) != std::round(y(i)))
      throw InvalidArgument(who + ": label " + io::format_double(y(i)) + " of row " +
                            std::to_string(i) +
                            " is not an integer (class labels must be integers)");
  Encoded e;
  e.classes.assign(y.data(), y.data() + n);
  std::sort(e.classes.begin(), e.classes.end());
  e.classes.erase(std::unique(e.classes.begin(), e.classes.end()), e.classes.end());
  if (e.classes.size() < 2)
    throw InvalidArgument(who + ": the labels hold a single class" +
                          (n ? " (" + io::format_double(e.classes.front()) + ")" : std::string()) +
                          "; classification needs at least 2");
  const auto class_of = [&](double label) {
    return static_cast<int>(std::lower_bound(e.classes.begin(), e.classes.end(), label) -
                            e.classes.begin());
  };
  e.cls.resize(n);
  for (std::size_t i = 0; i < n; ++i) e.cls[i] = class_of(y(i));
  e.weight.assign(e.classes.size(), 1.0);
  for (const auto& [label, w] : class_weight) {
    const int c = class_of(label);
    if (c < static_cast<int>(e.classes.size()) && e.classes[static_cast<std::size_t>(c)] == label)
      e.weight[static_cast<std::size_t>(c)] = w;
  }
  return e;
}

void require_finite(const HostMatrix& X, const std::string& who) {
  for (std::size_t i = 0; i < X.extent(0); ++i) {
    double norm2 = 0;
    for (std::size_t j = 0; j < X.extent(1); ++j) {
      if (!std::isfinite(X(i, j)))
        throw InvalidArgument(who + ": row " + std::to_string(i) + ", column " + std::to_string(j) +
                              " is " + io::format_double(X(i, j)) +
                              " (remove or impute missing values first)");
      norm2 += X(i, j) * X(i, j);
    }
    // kernels take dot products and ‖x‖² + ‖y‖² − 2x·y: up to 4 squared norms
    if (!std::isfinite(4 * norm2))
      throw InvalidArgument(who + ": row " + std::to_string(i) +
                            " is too large to square in double precision (values beyond about "
                            "1e154): scale the data first");
  }
}

DMatrix to_device(const HostMatrix& X) {
  return Kokkos::create_mirror_view_and_copy(Mem(), X);  // X itself where Mem is host memory
}

DMatrix gather_rows(const DMatrix& X, const Kokkos::View<int*, Mem>& rows) {
  DMatrix out(Kokkos::view_alloc(std::string("svm_rows"), Kokkos::WithoutInitializing),
              rows.extent(0), X.extent(1));
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for(
      "tessera::svm::gather_rows", Policy({0, 0}, {out.extent(0), out.extent(1)}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t k) { out(r, k) = X(rows(r), k); });
  return out;
}

DVector row_norms(const DMatrix& X) {
  DVector out(Kokkos::view_alloc(std::string("row_norms"), Kokkos::WithoutInitializing),
              X.extent(0));
  Kokkos::parallel_for("tessera::svm::row_norms", Kokkos::RangePolicy<Space>(0, X.extent(0)),
                       detail::RowSquaredNorms<DMatrix, DVector>{X, out});
  return out;
}

DMatrix dots(const DMatrix& A, const DMatrix& B) {
  DMatrix G(Kokkos::view_alloc(std::string("svm_dots"), Kokkos::WithoutInitializing), A.extent(0),
            B.extent(0));
  if (A.extent(0) && B.extent(0))
    linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, A, B, 0.0, G);
  return G;
}

#if !defined(KOKKOS_ENABLE_CUDA)
namespace {

// Row i of K from row i of the dot products (the same memory or not): RBF values with the
// vectorised exp where its argument is at least −708 and libm's below, where the values
// are subnormal as libsvm gets them (the decisions of degenerate grid cells are sums of
// them; exp_fast gives 0 there).
TESSERA_CLONES void kernel_row_f64(const detail::KernelSpec& spec, const double* dots, double norm,
                                   const double* norms, std::size_t count, double* out) {
  if (spec.kind != detail::KernelKind::rbf) {
    for (std::size_t c = 0; c < count; ++c) out[c] = spec(dots[c], norm, norms[c]);
    return;
  }
  const double g = spec.gamma;
  TESSERA_SIMD
  for (std::size_t c = 0; c < count; ++c) {
    const double x = -g * (norm + norms[c] - 2.0 * dots[c]);
    out[c] = x < -708.0 ? x : detail::kmath::exp_fast(x);  // the argument kept: negative
  }
  for (std::size_t c = 0; c < count; ++c)
    if (out[c] < 0) out[c] = detail::kmath::exp(out[c]);
}

// K(i, j) = kernel(dots(i, j), a_norms(i), b_norms(j)) by rows; K may be dots.
void kernel_rows(const DMatrix& dots, const DMatrix& K, const DVector& a_norms,
                 const DVector& b_norms, const detail::KernelSpec& spec) {
  Kokkos::parallel_for(
      "tessera::svm::kernel", Kokkos::RangePolicy<Space>(0, K.extent(0)), [=](const std::size_t i) {
        kernel_row_f64(spec, &dots(i, 0), a_norms(i), b_norms.data(), K.extent(1), &K(i, 0));
      });
}

}  // namespace
#endif

DMatrix kernel_from_dots(const DMatrix& dot, const DVector& a_norms, const DVector& b_norms,
                         const detail::KernelSpec& spec) {
  DMatrix K(Kokkos::view_alloc(std::string("svm_kernel"), Kokkos::WithoutInitializing),
            dot.extent(0), dot.extent(1));
#if defined(KOKKOS_ENABLE_CUDA)
  Kokkos::deep_copy(K, dot);
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for("tessera::svm::kernel", Policy({0, 0}, {K.extent(0), K.extent(1)}),
                       detail::KernelFromDots<DMatrix, DVector>{K, a_norms, b_norms, spec});
#else
  kernel_rows(dot, K, a_norms, b_norms, spec);
#endif
  return K;
}

DMatrix kernel_matrix(const DMatrix& A, const DMatrix& B, const detail::KernelSpec& spec) {
  const DMatrix K = dots(A, B);  // made kernel values in place
#if defined(KOKKOS_ENABLE_CUDA)
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for(
      "tessera::svm::kernel", Policy({0, 0}, {K.extent(0), K.extent(1)}),
      detail::KernelFromDots<DMatrix, DVector>{K, row_norms(A), row_norms(B), spec});
#else
  kernel_rows(K, K, row_norms(A), row_norms(B), spec);
#endif
  return K;
}

#if !defined(KOKKOS_ENABLE_CUDA)
TESSERA_CLONES void kernel_row(const detail::KernelSpec& spec, const double* dots, double norm,
                               const double* norms, std::size_t count, float* out, double ys,
                               const double* y) {
  if (spec.kind == detail::KernelKind::rbf) {
    const double g = spec.gamma;
    if (y == nullptr) {
      TESSERA_SIMD
      for (std::size_t c = 0; c < count; ++c)
        out[c] =
            static_cast<float>(detail::kmath::exp_fast(-g * (norm + norms[c] - 2.0 * dots[c])));
    } else {
      TESSERA_SIMD
      for (std::size_t c = 0; c < count; ++c)
        out[c] = static_cast<float>(
            ys * y[c] * detail::kmath::exp_fast(-g * (norm + norms[c] - 2.0 * dots[c])));
    }
  } else {
    for (std::size_t c = 0; c < count; ++c)
      out[c] = static_cast<float>((y ? ys * y[c] : 1.0) * spec(dots[c], norm, norms[c]));
  }
}
#endif

std::int64_t default_max_iter(std::size_t l) {
  return std::max<std::int64_t>(10000000, l > 21474836 ? INT64_MAX / 2 : 100 * std::int64_t(l));
}

OvoSet make_ovo(const std::vector<int>& train, const std::vector<int>& cls, int n_classes) {
  OvoSet set;
  set.n_classes = n_classes;
  std::vector<std::vector<int>> members(static_cast<std::size_t>(n_classes));
  for (int id : train)
    members[static_cast<std::size_t>(cls[static_cast<std::size_t>(id)])].push_back(id);
  set.class_start.push_back(0);
  for (const auto& m : members) {
    set.order.insert(set.order.end(), m.begin(), m.end());
    set.class_start.push_back(static_cast<int>(set.order.size()));
  }
  set.offset.push_back(0);
  for (int a = 0; a < n_classes; ++a)
    for (int b = a + 1; b < n_classes; ++b) {
      set.pairs.push_back({a, b});
      for (int id : members[static_cast<std::size_t>(a)])
        set.index.push_back(id), set.y.push_back(1.0);
      for (int id : members[static_cast<std::size_t>(b)])
        set.index.push_back(id), set.y.push_back(-1.0);
      set.offset.push_back(static_cast<int>(set.index.size()));
    }
  set.alpha.assign(set.index.size(), 0.0);
  set.rho.assign(set.pairs.size(), 0.0);
  set.iterations.assign(set.pairs.size(), 0);
  return set;
}

namespace {

template <class T, class View>
void host_copy(const View& from, std::vector<T>& to) {
  to.resize(from.extent(0));
  const Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(to.data(), to.size());
  Kokkos::deep_copy(host, from);
}

using HostSeg = Kokkos::View<int* [5], Kokkos::LayoutRight, Kokkos::HostSpace>;

// Pair p's two row segments of the set's kernel matrix (see detail::SmoBatch) and its
// first row in the stack, as row `at` of seg.
void segments(const OvoSet& set, const HostSeg& seg, std::size_t at) {
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const auto a = static_cast<std::size_t>(set.pairs[p][0]);
    const auto b = static_cast<std::size_t>(set.pairs[p][1]);
    seg(at + p, 0) = set.class_start[a];
    seg(at + p, 1) = set.class_start[a + 1] - set.class_start[a];
    seg(at + p, 2) = set.class_start[b];
    seg(at + p, 3) = set.class_start[b + 1] - set.class_start[b];
    seg(at + p, 4) = set.stack_row;
  }
}

using KfView = Kokkos::View<float**, Kokkos::LayoutRight, Mem>;

// The set's structure on the device and room for its kernel matrix (unless stack_kernels
// made it); false when an earlier call made them (once per set).
bool prepare_structure(OvoSet& set) {
  if (set.d_offset.extent(0)) return false;
  const std::size_t n = set.order.size();
  if (set.Kf.extent(0) != n) {
    set.Kf = KfView(Kokkos::view_alloc(std::string("svm_Kf"), Kokkos::WithoutInitializing), n, n);
    tessera::impl::prefault<Mem>(set.Kf.data(), set.Kf.span() * sizeof(float));
    set.kdiag =
        DVector(Kokkos::view_alloc(std::string("svm_kdiag"), Kokkos::WithoutInitializing), n);
    set.Kf_stack = set.Kf, set.kdiag_stack = set.kdiag, set.stack_row = 0;
  }
  HostSeg seg("svm_seg", set.pairs.size());
  segments(set, seg, 0);
  set.d_seg = Kokkos::create_mirror_view_and_copy(Mem(), seg);
  set.d_offset = device_copy(set.offset, "svm_offset");
  set.d_y = device_copy(set.y, "svm_y");
  return true;
}

// set.kmax from the filled Kf: float(K) is within 2^-24·|K| of K, or 2^-149 where K is
// below float's normal range. RBF and sigmoid kernels are within [−1, 1] (within_one):
// no pass over Kf then.
void bound_kernel(OvoSet& set, bool within_one) {
  if (within_one) {
    set.kmax = 1.0;
    return;
  }
  const auto Kf = set.Kf;
  const std::size_t n = Kf.extent(0);
  float largest = 0;
  Kokkos::parallel_reduce(
      "tessera::svm::kernel_bound", Kokkos::RangePolicy<Space>(0, n),
      KOKKOS_LAMBDA(const std::size_t r, float& acc) {
#if defined(KOKKOS_ENABLE_CUDA)
        for (std::size_t c = 0; c < n; ++c) {
          const float v = Kf(r, c) < 0 ? -Kf(r, c) : Kf(r, c);
          acc = v > acc ? v : acc;
        }
#else
        // |v| as its bits without the sign: ordered as the values are, and a maximum over
        // integers that the compiler vectorises.
        const float* row = &Kf(r, 0);
        std::uint32_t top = 0;
        for (std::size_t c = 0; c < n; ++c) {
          std::uint32_t bits;
          std::memcpy(&bits, row + c, sizeof bits);
          top = std::max(top, bits & 0x7fffffffu);
        }
        float v;
        std::memcpy(&v, &top, sizeof v);
        acc = v > acc ? v : acc;
#endif
      },
      Kokkos::Max<float>(largest));
  set.kmax = static_cast<double>(largest) * (1.0 + 0x1p-23) + 0x1p-149;
}

}  // namespace

void stack_kernels(std::vector<OvoSet>& sets) {
  std::size_t rows = 0, width = 0;
  for (const OvoSet& set : sets) {
    TESSERA_EXPECTS(!set.d_offset.extent(0), "stack_kernels: a set is already prepared");
    rows += set.order.size(), width = std::max(width, set.order.size());
  }
  TESSERA_EXPECTS(rows <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                  "stack_kernels: too many rows for one stack");
  const KfView Kf(Kokkos::view_alloc(std::string("svm_Kf_stack"), Kokkos::WithoutInitializing),
                  rows, width);
  tessera::impl::prefault<Mem>(Kf.data(), Kf.span() * sizeof(float));
  const DVector kdiag(
      Kokkos::view_alloc(std::string("svm_kdiag_stack"), Kokkos::WithoutInitializing), rows);
  std::size_t at = 0;
  for (OvoSet& set : sets) {
    const auto range = std::make_pair(at, at + set.order.size());
    set.Kf = Kokkos::subview(Kf, range, Kokkos::ALL);
    set.kdiag = Kokkos::subview(kdiag, range);
    set.Kf_stack = Kf, set.kdiag_stack = kdiag, set.stack_row = static_cast<int>(at);
    at = range.second;
  }
}

void prepare_kernel(OvoSet& set, const DMatrix& K, bool within_one) {
  if (!prepare_structure(set)) return;
  const auto order = device_copy(set.order, "svm_order");
  const int n = static_cast<int>(set.order.size());
#if defined(KOKKOS_ENABLE_CUDA)
  using Gather = detail::GatherKernel<DMatrix, Kokkos::View<int*, Mem>,
                                      Kokkos::View<float**, Kokkos::LayoutRight, Mem>, DVector>;
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for("tessera::svm::gather_kernel", Policy({0, 0}, {n, n}),
                       Gather{K, order, set.Kf, set.kdiag});
#else
  // Row by row on the host: a row of K read in one sweep, its row of Kf written in order.
  const auto Kf = set.Kf;
  const auto kdiag = set.kdiag;
  Kokkos::parallel_for("tessera::svm::gather_kernel", Kokkos::RangePolicy<Space>(0, n),
                       [=](const int r) {
                         const double* from = &K(static_cast<std::size_t>(order(r)), 0);
                         float* to = &Kf(r, 0);
                         for (int c = 0; c < n; ++c) to[c] = static_cast<float>(from[order(c)]);
                         kdiag(r) = from[order(r)];
                       });
#endif
  bound_kernel(set, within_one);
}

namespace {

#if defined(KOKKOS_ENABLE_CUDA)
// Kf and kdiag of the rows Xs (norms: theirs) on a GPU: panels of rows, their dot
// products with the rows from the panel's first on (one GEMM into a reused buffer), kernel
// values as float on and above the diagonal, and mirrored below it.
void fill_kernel(const KfView& Kf, const DVector& kdiag, const DMatrix& Xs, const DVector& norms,
                 const detail::KernelSpec& spec) {
  const std::size_t n = Xs.extent(0);
  const std::size_t panel = 128;
  DMatrix buffer(Kokkos::view_alloc(std::string("svm_panel"), Kokkos::WithoutInitializing),
                 std::min(panel, n), n);
  for (std::size_t r0 = 0; r0 < n; r0 += panel) {
    const std::size_t r1 = std::min(n, r0 + panel), m = r1 - r0, w = n - r0;
    const auto rows = Kokkos::subview(Xs, std::make_pair(r0, r1), Kokkos::ALL);
    const auto cols = Kokkos::subview(Xs, std::make_pair(r0, n), Kokkos::ALL);
    const DMatrix dots =  // the buffer's first m × w values, rows contiguous
        Kokkos::View<double**, Kokkos::LayoutRight, Mem, Kokkos::MemoryUnmanaged>(buffer.data(), m,
                                                                                  w);
    linalg::gemm(linalg::Op::none, linalg::Op::transpose, 1.0, rows, cols, 0.0, dots);
    Kokkos::parallel_for(
        "tessera::svm::panel_kernel", Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>({0, 0}, {m, w}),
        KOKKOS_LAMBDA(const std::size_t i, const std::size_t c) {
          const std::size_t r = r0 + i, col = r0 + c;
          if (col < r) return;
          const double v = spec(dots(i, c), norms(r), norms(col));
          Kf(r, col) = static_cast<float>(v);
          if (col == r) kdiag(r) = v;
        });
    // Rows below the panel take its values as their columns [r0, r1), 16 rows per work item;
    // the last item mirrors the panel's own lower triangle.
    const std::size_t blocks = (n - r1 + 15) / 16;
    Kokkos::parallel_for(
        "tessera::svm::mirror_panel", Kokkos::RangePolicy<Space>(0, blocks + 1),
        KOKKOS_LAMBDA(const std::size_t b) {
          if (b == blocks) {
            for (std::size_t r = r0; r < r1; ++r)
              for (std::size_t c = r0; c < r; ++c) Kf(r, c) = Kf(c, r);
            return;
          }
          const std::size_t c0 = r1 + 16 * b, c1 = c0 + 16 < n ? c0 + 16 : n;
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t c = c0; c < c1; ++c) Kf(c, r) = Kf(r, c);
        });
  }
}
#else
// The same on the host in one parallel region: tiles (I, J ≥ I) of kTile rows, each a
// serial GEMM of its dot products into the thread's buffer (in cache), its kernel values
// written to Kf(I, J) and, while they are in cache, to Kf(J, I) transposed (the diagonal
// tiles' lower triangles from their upper ones). Threads take the tiles as they come free;
// a tile's values do not depend on which thread computed it.
void fill_kernel(const KfView& Kf, const DVector& kdiag, const DMatrix& Xs, const DVector& norms,
                 const detail::KernelSpec& spec) {
  constexpr std::size_t kTile = 128;
  const std::size_t n = Xs.extent(0), tiles = (n + kTile - 1) / kTile;
  using HostExec = Kokkos::DefaultHostExecutionSpace;
  const Kokkos::Experimental::UniqueToken<HostExec> token;
  const DMatrix buffers(Kokkos::view_alloc(std::string("svm_tiles"), Kokkos::WithoutInitializing),
                        static_cast<std::size_t>(token.size()), kTile * kTile);
  Kokkos::parallel_for(
      "tessera::svm::kernel_tiles",
      Kokkos::RangePolicy<HostExec, Kokkos::Schedule<Kokkos::Dynamic>>(0, tiles * (tiles + 1) / 2),
      [=](const std::size_t task) {
        std::size_t I = 0, first = 0;  // task -> (I, J): row I holds tiles - I tasks
        while (task >= first + (tiles - I)) first += tiles - I, ++I;
        const std::size_t J = I + (task - first);
        const std::size_t r0 = I * kTile, r1 = std::min(n, r0 + kTile), m = r1 - r0;
        const std::size_t c0 = J * kTile, c1 = std::min(n, c0 + kTile), w = c1 - c0;
        const int slot = token.acquire();
        double* const dots = &buffers(static_cast<std::size_t>(slot), 0);
        linalg::gemm_serial(linalg::Op::none, linalg::Op::transpose, 1.0,
                            HostMatrix(&Xs(r0, 0), m, Xs.extent(1)),
                            HostMatrix(&Xs(c0, 0), w, Xs.extent(1)), 0.0, HostMatrix(dots, m, w));
        for (std::size_t i = 0; i < m; ++i) {
          const std::size_t r = r0 + i, from = I == J ? i : 0;  // on and above the diagonal
          kernel_row(spec, dots + i * w + from, norms(r), &norms(c0 + from), w - from,
                     &Kf(r, c0 + from));
          if (I == J) kdiag(r) = spec(dots[i * w + i], norms(r), norms(r));
        }
        token.release(slot);
        if (I == J) {
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t c = r0; c < r; ++c) Kf(r, c) = Kf(c, r);
          return;
        }
        for (std::size_t c = c0; c < c1; ++c) {
          float* const to = &Kf(c, r0);
          for (std::size_t r = 0; r < m; ++r) to[r] = Kf(r0 + r, c);
        }
      });
}
#endif

}  // namespace

void prepare_kernel(OvoSet& set, const DMatrix& X, const detail::KernelSpec& spec) {
  if (!prepare_structure(set)) return;
  const DMatrix Xs = gather_rows(X, device_copy(set.order, "svm_order"));
  fill_kernel(set.Kf, set.kdiag, Xs, row_norms(Xs), spec);
  bound_kernel(set,
               spec.kind == detail::KernelKind::rbf || spec.kind == detail::KernelKind::sigmoid);
}

namespace {
using SegView = Kokkos::View<int* [5], Kokkos::LayoutRight, Mem>;
using CountView = Kokkos::View<std::int64_t*, Mem>;
using Solver = detail::SmoBatch<KfView, Kokkos::View<int*, Mem>, SegView, DVector, CountView>;
using TeamSolver = detail::SmoTeam<KfView, Kokkos::View<int*, Mem>, SegView, DVector, CountView>;
#if !defined(KOKKOS_ENABLE_CUDA)
// One problem's SMO, compiled for several instruction sets (the scans vectorise).
TESSERA_CLONES [[gnu::flatten]] void solve_problem(const Solver& solver, int p) { solver(p); }
#endif
}  // namespace

void solve_ovo(OvoSet& set, double C, const std::vector<double>& weight, double tol,
               std::int64_t max_iter, bool warm, SmoLaunch launch, int team_size) {
  solve_ovo_batch({&set}, C, weight, tol, max_iter, warm, launch, team_size);
}

void solve_ovo_batch(const std::vector<OvoSet*>& sets, double C, const std::vector<double>& weight,
                     double tol, std::int64_t max_iter, bool warm, SmoLaunch launch,
                     int team_size) {
  TESSERA_EXPECTS(!sets.empty(), "solve_ovo_batch: no sets");
  const OvoSet& first = *sets.front();
  // The problems of every set in order: pair p of set s is problem base[s] + p, its
  // positions from start[s] + offset[p] on.
  std::vector<std::size_t> base(sets.size() + 1, 0), start(sets.size() + 1, 0);
  for (std::size_t s = 0; s < sets.size(); ++s) {
    const OvoSet& set = *sets[s];
    TESSERA_ASSERT(set.Kf.extent(0) == set.order.size() &&
                   set.d_offset.extent(0) == set.pairs.size() + 1);
    TESSERA_EXPECTS(set.Kf_stack.data() == first.Kf_stack.data(),
                    "solve_ovo_batch: the sets' kernel matrices are not in one stack_kernels");
    base[s + 1] = base[s] + set.pairs.size();
    start[s + 1] = start[s] + set.index.size();
  }
  const std::size_t pairs = base.back(), positions = start.back();
  if (pairs == 0) return;
  std::vector<double> c_pos(pairs), c_neg(pairs), alpha_h(positions), grad_h(positions);
  std::size_t longest = 0;
  // A warm start with the gradient of its start values skips recomputing it (O(l²)).
  bool grad_given = warm;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    OvoSet& set = *sets[s];
    for (std::size_t p = 0; p < set.pairs.size(); ++p) {
      c_pos[base[s] + p] = C * weight[static_cast<std::size_t>(set.pairs[p][0])];
      c_neg[base[s] + p] = C * weight[static_cast<std::size_t>(set.pairs[p][1])];
      longest = std::max<std::size_t>(longest,
                                      static_cast<std::size_t>(set.offset[p + 1] - set.offset[p]));
    }
    if (!warm) std::fill(set.alpha.begin(), set.alpha.end(), 0.0);
    std::copy(set.alpha.begin(), set.alpha.end(), alpha_h.begin() + start[s]);
    grad_given = grad_given && set.grad.size() == set.index.size();
    if (grad_given) std::copy(set.grad.begin(), set.grad.end(), grad_h.begin() + start[s]);
  }
  // One set: its own device structure; several: theirs end to end.
  Kokkos::View<int*, Mem> offset = first.d_offset;
  SegView seg = first.d_seg;
  DVector y = first.d_y;
  if (sets.size() > 1) {
    std::vector<int> offset_h(pairs + 1, 0);
    std::vector<double> y_h(positions);
    HostSeg seg_h("svm_seg", pairs);
    for (std::size_t s = 0; s < sets.size(); ++s) {
      const OvoSet& set = *sets[s];
      for (std::size_t p = 0; p <= set.pairs.size(); ++p)
        offset_h[base[s] + p] = static_cast<int>(start[s]) + set.offset[p];
      std::copy(set.y.begin(), set.y.end(), y_h.begin() + start[s]);
      segments(set, seg_h, base[s]);
    }
    offset = device_copy(offset_h, "svm_offset");
    y = device_copy(y_h, "svm_y");
    seg = Kokkos::create_mirror_view_and_copy(Mem(), seg_h);
  }
  const auto alpha = device_copy(alpha_h, "svm_alpha");
  const auto pos = device_copy(c_pos, "svm_cpos");
  const auto neg = device_copy(c_neg, "svm_cneg");
  DVector grad = grad_given ? device_copy(grad_h, "svm_grad") : DVector("svm_grad", positions);
  DVector rho("svm_rho", pairs);
  Kokkos::View<std::int64_t*, Mem> iterations("svm_iterations", pairs);
  // (libsvm's limit is per problem; it exceeds the default only past 100,000 positions)
  const std::int64_t limit = max_iter > 0 ? max_iter : default_max_iter(longest);
  const Solver solver{first.Kf_stack,
                      first.kdiag_stack,
                      offset,
                      seg,
                      y,
                      alpha,
                      grad,
                      pos,
                      neg,
                      rho,
                      iterations,
                      tol,
                      limit,
                      grad_given};
#if defined(KOKKOS_ENABLE_CUDA)
  const bool teams = launch != SmoLaunch::per_thread;
#else
  const bool teams = launch == SmoLaunch::per_team;
#endif
  if (teams) {
    // A team per problem, its threads sharing each scan.
    using Policy = Kokkos::TeamPolicy<Space>;
    const auto league = static_cast<int>(pairs);
    const TeamSolver teams_solver{solver};
    Policy policy = team_size > 0 ? Policy(league, team_size) : Policy(league, Kokkos::AUTO);
    policy.set_scratch_size(0, Kokkos::PerTeam(TeamSolver::scratch_bytes<Space>()));
    Kokkos::parallel_for("tessera::svm::smo_teams", policy, teams_solver);
  } else {
#if defined(KOKKOS_ENABLE_CUDA)
    Kokkos::parallel_for("tessera::svm::smo",
                         Kokkos::RangePolicy<Space>(0, static_cast<int>(pairs)), solver);
#else
    // Problems take from a few to thousands of iterations: dynamic scheduling on the host.
    Kokkos::parallel_for(
        "tessera::svm::smo",
        Kokkos::RangePolicy<Space, Kokkos::Schedule<Kokkos::Dynamic>>(0, static_cast<int>(pairs)),
        [=](const int p) { solve_problem(solver, p); });
#endif
  }
  std::vector<double> rho_h;
  std::vector<std::int64_t> iterations_h;
  host_copy(alpha, alpha_h);
  host_copy(grad, grad_h);
  host_copy(rho, rho_h);
  host_copy(iterations, iterations_h);
  for (std::size_t s = 0; s < sets.size(); ++s) {
    OvoSet& set = *sets[s];
    const auto at = [](const auto& all, std::size_t i) {
      return all.begin() + static_cast<std::ptrdiff_t>(i);
    };
    set.alpha.assign(at(alpha_h, start[s]), at(alpha_h, start[s + 1]));
    set.grad.assign(at(grad_h, start[s]), at(grad_h, start[s + 1]));
    set.rho.assign(at(rho_h, base[s]), at(rho_h, base[s + 1]));
    set.iterations.assign(at(iterations_h, base[s]), at(iterations_h, base[s + 1]));
  }
}

namespace {

// Every class's dual coefficients: k − 1 rows of its members from (k − 1)·cstart[c] on
// (row o for the pair with the o-th other class: a sample has coefficients in its own
// class's pairs only), each row padded with zeros to a multiple of `pad` values; the pair
// of each row and its slot (that pair's part from this class), and which classes have any
// nonzero coefficient.
struct ClassCoefficients {
  std::vector<double> coef;
  std::vector<int> cstart;  // per class, then the total: where its padded rows begin / k − 1
  std::vector<int> target;  // c·(k − 1) + o -> pair
  std::vector<int> slot;    // c·(k − 1) + o -> 2·pair + (0 where c is the pair's first class)
  std::vector<char> any;    // per class
};

// Where each class's members begin when every class is padded to a multiple of `pad`.
std::vector<int> padded_starts(const OvoSet& set, int pad) {
  const auto k = static_cast<std::size_t>(set.n_classes);
  std::vector<int> out(k + 1, 0);
  for (std::size_t c = 0; c < k; ++c) {
    const int members = set.class_start[c + 1] - set.class_start[c];
    out[c + 1] = out[c] + (members + pad - 1) / pad * pad;
  }
  return out;
}

ClassCoefficients class_coefficients(const OvoSet& set, int pad) {
  const auto k = static_cast<std::size_t>(set.n_classes);
  std::vector<int> pair_of(k * k, -1);  // (c, other) -> pair
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const auto a = static_cast<std::size_t>(set.pairs[p][0]);
    const auto b = static_cast<std::size_t>(set.pairs[p][1]);
    pair_of[a * k + b] = pair_of[b * k + a] = static_cast<int>(p);
  }
  ClassCoefficients out;
  out.cstart = padded_starts(set, pad);
  out.coef.assign((k - 1) * static_cast<std::size_t>(out.cstart[k]), 0.0);
  out.target.resize(k * (k - 1));
  out.slot.resize(k * (k - 1));
  out.any.assign(k, 0);
  for (std::size_t c = 0; c < k; ++c) {
    const auto members = static_cast<std::size_t>(set.class_start[c + 1] - set.class_start[c]);
    const auto stride = static_cast<std::size_t>(out.cstart[c + 1] - out.cstart[c]);
    double* rows = out.coef.data() + (k - 1) * static_cast<std::size_t>(out.cstart[c]);
    for (std::size_t o = 0, col = 0; o < k; ++o) {
      if (o == c) continue;
      const auto p = static_cast<std::size_t>(pair_of[c * k + o]);
      out.target[c * (k - 1) + col] = static_cast<int>(p);
      out.slot[c * (k - 1) + col] = 2 * static_cast<int>(p) + (c < o ? 0 : 1);
      const auto a = static_cast<std::size_t>(set.pairs[p][0]);
      const int first = set.offset[p] + (a == c ? 0 : set.class_start[a + 1] - set.class_start[a]);
      for (std::size_t m = 0; m < members; ++m) {
        const auto pos = static_cast<std::size_t>(first) + m;
        rows[col * stride + m] = set.coef(pos);
        out.any[c] = out.any[c] || set.alpha[pos] != 0.0;
      }
      ++col;
    }
  }
  return out;
}

#if !defined(KOKKOS_ENABLE_CUDA)
// The host's decisions: 8 columns of a query row a step, in double lanes, each class's k − 1
// coefficient rows (padded with zeros to whole steps) against the row's values of that class.
constexpr int kPad = 8;
using lanes::Lanes;
using lanes::load;
using lanes::store;

// A query row's values of a class are kept multiplied by 2^600 unless they reach 2^400:
// arithmetic on subnormal doubles (kernel values of far classes at large gamma) costs a
// microcode assist per operation, about 100 times a normal one. The scaling is exact
// (a power of 2), and the scaled sums lose nothing to gradual underflow.
constexpr double kScaleBelow = 0x1p400, kUp = 0x1p600, kDown = 0x1p-600;

// max |x| over `steps` steps of 8.
inline double largest_magnitude(const double* x, std::size_t steps) {
  Lanes top{};
  for (std::size_t s = 0; s < steps; ++s) {
    Lanes v = load(x + 8 * s);
    v = v < 0 ? -v : v;
    top = v > top ? v : top;
  }
  double largest = 0;
  for (int l = 0; l < 8; ++l) largest = std::max(largest, top[l]);
  return largest;
}

// Row r of a query kernel: K's row q at the set's samples, class by class from cstart[c],
// zeros up to the next class; scaled[c] set where the class's values were scaled.
TESSERA_CLONES [[gnu::flatten]] void fill_query_row(const double* from, const int* order,
                                                    const int* start, const int* cstart, int k,
                                                    double* to, char* scaled) {
  for (int c = 0; c < k; ++c) {
    const int first = start[c], m = start[c + 1] - first, stride = cstart[c + 1] - cstart[c];
    double* seg = to + cstart[c];
    for (int j = 0; j < m; ++j) seg[j] = from[order[first + j]];
    for (int j = m; j < stride; ++j) seg[j] = 0.0;
    scaled[c] = largest_magnitude(seg, static_cast<std::size_t>(stride) / 8) < kScaleBelow;
    if (scaled[c])
      for (int j = 0; j < m; ++j) seg[j] *= kUp;
  }
}

struct HostDecisions {
  const double* values;  // the query kernel's rows
  std::size_t width;
  const char* scaled;  // rows × k
  const int* rows;     // the rows to decide
  const int *cstart, *slot;
  const std::array<int, 2>* pair_classes;
  const double *coef, *rho;
  double* out;  // rows × pairs
  int k;
  std::size_t pairs;
  bool signs_only;  // decisions where a class was scaled may stay multiplied by 2^600
};

// G coefficient rows (stride apart) against x, `steps` steps of 8; the sums stored to the
// lanes of slots slot[0 .. G) (a slot is one class's part of one pair: written once per
// row). One load of x feeds G products.
template <int G>
inline void sweep(const double* x, std::size_t steps, const double* w, std::size_t stride,
                  const int* slot, double* slot_lanes) {
  Lanes a[G] = {};
  for (std::size_t s = 0; s < steps; ++s) {
    const Lanes v = load(x + 8 * s);
    for (int g = 0; g < G; ++g) a[g] += v * load(w + g * stride + 8 * s);
  }
  for (int g = 0; g < G; ++g) store(slot_lanes + 8 * slot[g], a[g]);
}

// All k − 1 coefficient rows of a class, up to 12 per sweep.
inline void sweeps(const double* x, std::size_t steps, const double* w, std::size_t stride,
                   const int* slot, int others, double* slot_lanes) {
  constexpr int most = 12;
  for (int o = 0; o < others; o += most) {
    const double* wo = w + static_cast<std::size_t>(o) * stride;
    const int* to = slot + o;
    switch (std::min(most, others - o)) {
      case 1: sweep<1>(x, steps, wo, stride, to, slot_lanes); break;
      case 2: sweep<2>(x, steps, wo, stride, to, slot_lanes); break;
      case 3: sweep<3>(x, steps, wo, stride, to, slot_lanes); break;
      case 4: sweep<4>(x, steps, wo, stride, to, slot_lanes); break;
      case 5: sweep<5>(x, steps, wo, stride, to, slot_lanes); break;
      case 6: sweep<6>(x, steps, wo, stride, to, slot_lanes); break;
      case 7: sweep<7>(x, steps, wo, stride, to, slot_lanes); break;
      case 8: sweep<8>(x, steps, wo, stride, to, slot_lanes); break;
      case 9: sweep<9>(x, steps, wo, stride, to, slot_lanes); break;
      case 10: sweep<10>(x, steps, wo, stride, to, slot_lanes); break;
      case 11: sweep<11>(x, steps, wo, stride, to, slot_lanes); break;
      case 12: sweep<12>(x, steps, wo, stride, to, slot_lanes); break;
      default: break;
    }
  }
}

inline double lane_sum(const double* p) {
  const Lanes v = load(p);
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

// Decisions of rows [r0, r1) of d.rows, class by class (the class's coefficients stay in
// cache for every row of the block). Each pair's two classes are summed apart and combined
// at the end, in the larger scale of the two: where either was scaled the decision comes
// out multiplied by 2^600 (the same sign) and, unless only signs are asked for, is scaled
// back. Built for several instruction sets: the sums' order is the same in every one, the
// rounding of a product and its sum (fused or not) may differ.
TESSERA_CLONES [[gnu::flatten]] void host_decisions(const HostDecisions& d, std::size_t r0,
                                                    std::size_t r1) {
  const int others = d.k - 1;
  const auto k = static_cast<std::size_t>(d.k);
  thread_local std::vector<double> lane_storage;  // per row, 8 lanes per slot
  lane_storage.resize((r1 - r0) * 2 * d.pairs * 8);
  double* const lanes = lane_storage.data();
  for (std::size_t c = 0; c < k; ++c) {
    const auto stride = static_cast<std::size_t>(d.cstart[c + 1] - d.cstart[c]);
    const double* w = d.coef + static_cast<std::size_t>(others) * d.cstart[c];
    const int* slot = d.slot + c * static_cast<std::size_t>(others);
    for (std::size_t u = r0; u < r1; ++u)
      sweeps(d.values + static_cast<std::size_t>(d.rows[u]) * d.width + d.cstart[c], stride / 8, w,
             stride, slot, others, lanes + (u - r0) * 2 * d.pairs * 8);
  }
  for (std::size_t u = r0; u < r1; ++u) {
    const double* slots = lanes + (u - r0) * 2 * d.pairs * 8;
    const char* scaled = d.scaled + static_cast<std::size_t>(d.rows[u]) * k;
    for (std::size_t p = 0; p < d.pairs; ++p) {
      const double first = lane_sum(slots + 16 * p), second = lane_sum(slots + 16 * p + 8);
      const bool sa = scaled[d.pair_classes[p][0]], sb = scaled[d.pair_classes[p][1]];
      double v = (first + second) - d.rho[p];
      if (sa || sb) {
        const double up =
            (sa ? first : first * kUp) + (sb ? second : second * kUp) - d.rho[p] * kUp;
        if (!std::isfinite(up))  // an unscaled class's sum beyond 2^424
          v = (sa ? first * kDown : first) + (sb ? second * kDown : second) - d.rho[p];
        else
          v = d.signs_only ? up : up * kDown;
      }
      d.out[u * d.pairs + p] = v;
    }
  }
}

// The first 64-byte boundary at or after p, in a buffer with 8 doubles to spare (a load of
// 8 doubles from there on never straddles two cache lines: that would halve the loads'
// rate).
inline double* aligned_64(double* p) {
  const auto misaligned = reinterpret_cast<std::uintptr_t>(p) % 64;
  return p + (misaligned ? (64 - misaligned) / sizeof(double) : 0);
}
inline double* aligned_buffer(std::vector<double>& storage, std::size_t n) {
  storage.assign(n + 8, 0.0);
  return aligned_64(storage.data());
}

// Decisions (rows × pairs) of QK's rows `rows` on the host.
HostMatrix host_ovo_decisions(const QueryKernel& QK, const std::vector<int>& rows,
                              const OvoSet& set, bool signs_only) {
  const ClassCoefficients cc = class_coefficients(set, kPad);
  TESSERA_ASSERT(cc.cstart == QK.cstart);
  std::vector<double> storage;
  double* coef = aligned_buffer(storage, cc.coef.size());
  std::copy(cc.coef.begin(), cc.coef.end(), coef);
  HostMatrix out(Kokkos::view_alloc(std::string("svm_decisions"), Kokkos::WithoutInitializing),
                 rows.size(), set.pairs.size());
  const HostDecisions d{QK.values,        QK.width,       QK.scaled.data(), rows.data(),
                        cc.cstart.data(), cc.slot.data(), set.pairs.data(), coef,
                        set.rho.data(),   out.data(),     set.n_classes,    set.pairs.size(),
                        signs_only};
  constexpr std::size_t block = 16;
  Kokkos::parallel_for("tessera::svm::decisions",
                       Kokkos::RangePolicy<Space>(0, (rows.size() + block - 1) / block),
                       [&](const std::size_t b) {
                         host_decisions(d, b * block, std::min(rows.size(), (b + 1) * block));
                       });
  return out;
}
#endif

std::vector<int> all_rows(std::size_t n) {
  std::vector<int> rows(n);
  for (std::size_t r = 0; r < n; ++r) rows[r] = static_cast<int>(r);
  return rows;
}

}  // namespace

namespace {

// libsvm's stopping gap of pair p's problem at alpha·s (its gradient from grad:
// Q(sα) − e = s(G + 1) − 1), the pair's samples bounded by C·weight of their class.
double scaled_gap(const OvoSet& set, std::size_t p, double s, double c_pos, double c_neg) {
  double up = -std::numeric_limits<double>::infinity(), low = up;  // max −y·G, max y·G
  for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
    const auto t = static_cast<std::size_t>(pos);
    const double a = set.alpha[t] * s, g = s * (set.grad[t] + 1.0) - 1.0;
    if (set.y[t] > 0) {
      if (a < c_pos) up = std::max(up, -g);
      if (a > 0) low = std::max(low, g);
    } else {
      if (a > 0) up = std::max(up, g);
      if (a < c_neg) low = std::max(low, -g);
    }
  }
  return up + low;
}

}  // namespace

void warm_start(OvoSet& set, double previous_C, double C, const std::vector<double>& weight) {
  const double s = C / previous_C;
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const double w_pos = weight[static_cast<std::size_t>(set.pairs[p][0])];
    const double w_neg = weight[static_cast<std::size_t>(set.pairs[p][1])];
    // The previous solution as it is stays feasible when C grows; scaled by s it is feasible
    // either way. When C grows, the one closer to optimal (smaller gap) is taken: with a
    // small C the scaled one usually satisfies the stopping rule already (every sample at
    // the new bound), where the other would move every sample up one SMO step at a time.
    if (s > 1 && !(scaled_gap(set, p, s, C * w_pos, C * w_neg) <
                   scaled_gap(set, p, 1.0, C * w_pos, C * w_neg)))
      continue;
    for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
      const auto t = static_cast<std::size_t>(pos);
      const double w = set.y[t] > 0 ? w_pos : w_neg;
      // At the old bound exactly: at the new one exactly (s·C_prev·w may round off it).
      set.alpha[t] = set.alpha[t] == previous_C * w ? C * w : set.alpha[t] * s;
      set.grad[t] = s * (set.grad[t] + 1.0) - 1.0;  // Q(sα) − e
    }
  }
}

double training_accuracy(const QueryKernel& QK, const std::vector<int>& ids,
                         const std::vector<int>& cls, const OvoSet& set) {
  // A training sample's decision in a pair it belongs to is y_s (G_s + 1) − rho. G comes
  // from float Q entries, so a sign counts only beyond a margin that bounds that rounding:
  // 1e-6 · (Σ alpha · kmax + |rho|) per pair (float's relative error is 6e-8), plus 1e-9
  // for G's additions in double over the SMO steps (each within 1.1e-16 of |G| ~ 1). Not
  // a margin of 1e-6 absolute: with a tiny C every decision is about C in size, and every
  // sample would be recomputed.
  TESSERA_ASSERT(set.Kf.extent(0) == set.order.size() && set.grad.size() == set.index.size() &&
                 QK.queries() == ids.size());
  std::vector<int> wins(cls.size(), 0), own(cls.size(), 0);
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    double alpha_sum = 0;
    for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos)
      alpha_sum += set.alpha[static_cast<std::size_t>(pos)];
    const double margin = 1e-6 * (alpha_sum * set.kmax + std::abs(set.rho[p])) + 1e-9;
    for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
      const auto k = static_cast<std::size_t>(pos);
      const double decision = set.y[k] * (set.grad[k] + 1.0) - set.rho[p];
      const auto id = static_cast<std::size_t>(set.index[k]);
      ++own[id];
      if (set.y[k] * decision > margin) ++wins[id];
    }
  }
  std::size_t right = 0;
  std::vector<int> unsettled;  // rows of QK
  for (std::size_t r = 0; r < ids.size(); ++r) {
    const auto i = static_cast<std::size_t>(ids[r]);
    if (own[i] == set.n_classes - 1 && wins[i] == own[i])
      ++right;  // n_classes - 1 votes: no other class can reach as many
    else
      unsettled.push_back(static_cast<int>(r));
  }
  if (!unsettled.empty()) {
    const std::vector<int> votes = ovo_predict(QK, set, unsettled);
    for (std::size_t u = 0; u < unsettled.size(); ++u)
      right +=
          votes[u] == cls[static_cast<std::size_t>(ids[static_cast<std::size_t>(unsettled[u])])];
  }
  return ids.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(ids.size());
}

double accuracy_of(const std::vector<int>& predicted, const std::vector<int>& ids,
                   const std::vector<int>& cls) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < ids.size(); ++i)
    right += predicted[i] == cls[static_cast<std::size_t>(ids[i])];
  return ids.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(ids.size());
}

QueryKernel query_kernel(const DMatrix& K, const std::vector<int>& query_ids, const OvoSet& set) {
  const std::size_t k = static_cast<std::size_t>(set.n_classes), n = query_ids.size();
  TESSERA_ASSERT(set.class_start.size() == k + 1 &&
                 set.order.size() == static_cast<std::size_t>(set.class_start[k]));
  QueryKernel out;
  out.rows = n;
#if defined(KOKKOS_ENABLE_CUDA)
  out.storage = Kokkos::View<double*, Mem>(
      Kokkos::view_alloc(std::string("svm_query_kernel"), Kokkos::WithoutInitializing),
      n * set.order.size());
  for (std::size_t c = 0; c < k; ++c)
    out.blocks.push_back(Kokkos::View<double**, Kokkos::LayoutRight, Mem, Kokkos::MemoryUnmanaged>(
        out.storage.data() + n * static_cast<std::size_t>(set.class_start[c]), n,
        static_cast<std::size_t>(set.class_start[c + 1] - set.class_start[c])));
  if (n == 0 || set.order.empty()) return out;
  // Row by row (each of K's rows read once), every class's block from it.
  const auto queries = device_copy(query_ids, "svm_queries");
  const auto order = device_copy(set.order, "svm_order");
  const auto start = device_copy(set.class_start, "svm_class_start");
  const auto storage = out.storage;
  Kokkos::parallel_for(
      "tessera::svm::query_kernel", Kokkos::RangePolicy<Space>(0, n),
      KOKKOS_LAMBDA(const std::size_t r) {
        const int q = queries(r);
        for (std::size_t c = 0; c + 1 < start.extent(0); ++c) {
          const auto first = static_cast<std::size_t>(start(c));
          const auto count = static_cast<std::size_t>(start(c + 1)) - first;
          double* to = storage.data() + n * first + r * count;
          for (std::size_t j = 0; j < count; ++j) to[j] = K(q, order(first + j));
        }
      });
#else
  out.cstart = padded_starts(set, kPad);
  out.width = static_cast<std::size_t>(out.cstart[k]);
  out.storage = Kokkos::View<double*, Mem>(
      Kokkos::view_alloc(std::string("svm_query_kernel"), Kokkos::WithoutInitializing),
      n * out.width + kPad);
  out.values = aligned_64(out.storage.data());
  out.scaled.assign(n * k, 0);
  const QueryKernel& q = out;
  char* scaled = out.scaled.data();
  Kokkos::parallel_for("tessera::svm::query_kernel", Kokkos::RangePolicy<Space>(0, n),
                       [&](const std::size_t r) {
                         fill_query_row(&K(static_cast<std::size_t>(query_ids[r]), 0),
                                        set.order.data(), set.class_start.data(), q.cstart.data(),
                                        set.n_classes, q.values + r * q.width, scaled + r * k);
                       });
#endif
  return out;
}

HostMatrix ovo_decisions(const QueryKernel& QK, const OvoSet& set) {
#if !defined(KOKKOS_ENABLE_CUDA)
  return host_ovo_decisions(QK, all_rows(QK.queries()), set, false);
#else
  const std::size_t pairs = set.pairs.size(), n = QK.queries();
  const auto k = static_cast<std::size_t>(set.n_classes);
  TESSERA_ASSERT(QK.blocks.size() == k);
  const ClassCoefficients cc = class_coefficients(set, 1);
  const auto to = device_copy(cc.target, "svm_pair_of");
  DMatrix out("svm_decisions", n, pairs);
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  for (std::size_t c = 0; c < k; ++c) {
    const std::size_t members = QK.blocks[c].extent(1);
    if (members == 0 || n == 0 || !cc.any[c]) continue;
    // The class's coefficients as members × other classes (libsvm's dual_coef layout).
    HostMatrix coef(Kokkos::view_alloc(std::string("svm_coef"), Kokkos::WithoutInitializing),
                    members, k - 1);
    const double* rows = cc.coef.data() + (k - 1) * static_cast<std::size_t>(cc.cstart[c]);
    for (std::size_t m = 0; m < members; ++m)
      for (std::size_t o = 0; o < k - 1; ++o) coef(m, o) = rows[o * members + m];
    const auto dense = Kokkos::create_mirror_view_and_copy(Mem(), coef);
    DMatrix part(
        Kokkos::view_alloc(std::string("svm_class_decisions"), Kokkos::WithoutInitializing), n,
        k - 1);
    linalg::gemm(linalg::Op::none, linalg::Op::none, 1.0, QK.blocks[c], dense, 0.0, part);
    const std::size_t first = c * (k - 1);
    Kokkos::parallel_for(
        "tessera::svm::add_class", Policy({0, 0}, {n, k - 1}),
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t o) {
          out(r, to(first + o)) += part(r, o);
        });
  }
  const auto rho = device_copy(set.rho, "svm_rho");
  Kokkos::parallel_for(
      "tessera::svm::minus_rho", Policy({0, 0}, {n, pairs}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t p) { out(r, p) -= rho(p); });
  HostMatrix host(Kokkos::view_alloc(std::string("decisions"), Kokkos::WithoutInitializing), n,
                  pairs);
  Kokkos::deep_copy(host, out);
  return host;
#endif
}

std::vector<int> ovo_predict(const QueryKernel& QK, const OvoSet& set,
                             const std::vector<int>& rows) {
#if !defined(KOKKOS_ENABLE_CUDA)
  return ovo_votes(host_ovo_decisions(QK, rows, set, true), set.n_classes);
#else
  const std::vector<int> votes = ovo_votes(ovo_decisions(QK, set), set.n_classes);
  std::vector<int> out(rows.size());
  for (std::size_t u = 0; u < rows.size(); ++u) out[u] = votes[static_cast<std::size_t>(rows[u])];
  return out;
#endif
}

std::vector<int> ovo_predict(const QueryKernel& QK, const OvoSet& set) {
  return ovo_predict(QK, set, all_rows(QK.queries()));
}

HostMatrix ovo_decisions(const DMatrix& K, const std::vector<int>& query_ids, const OvoSet& set) {
  return ovo_decisions(query_kernel(K, query_ids, set), set);
}

std::vector<int> ovo_votes(const HostMatrix& decisions, int n_classes) {
  std::vector<int> out(decisions.extent(0));
  std::vector<int> votes(static_cast<std::size_t>(n_classes));
  for (std::size_t r = 0; r < out.size(); ++r) {
    std::fill(votes.begin(), votes.end(), 0);
    std::size_t p = 0;
    for (int a = 0; a < n_classes; ++a)
      for (int b = a + 1; b < n_classes; ++b, ++p)
        ++votes[static_cast<std::size_t>(decisions(r, p) > 0 ? a : b)];
    out[r] = static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  return out;
}

}  // namespace tessera::ml::impl
