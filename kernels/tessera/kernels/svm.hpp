#pragma once
// Support vector machine kernels: kernel values from dot products, and libsvm's SMO
// solver for C-SVC (second-order working-set selection, Fan, Chen & Lin 2005) run on
// many binary problems at once: one problem per thread (SmoBatch: the host, where the
// scans vectorise) or per team of threads sharing each scan (SmoTeam: GPUs).
#include <cstdint>

#include <Kokkos_Core.hpp>
#include <tessera/kernels/math.hpp>

namespace tessera::detail {

enum class KernelKind : int { linear = 0, poly = 1, rbf = 2, sigmoid = 3 };

struct KernelSpec {
  KernelKind kind = KernelKind::rbf;
  double gamma = 1.0;
  double coef0 = 0.0;
  int degree = 3;

  // libsvm's definitions, from x·y and the squared norms |x|², |y|².
  KOKKOS_INLINE_FUNCTION double operator()(double dot, double xx, double yy) const {
    switch (kind) {
      case KernelKind::linear: return dot;
      case KernelKind::poly: {
        const double base = gamma * dot + coef0;
        double r = 1.0;
        for (int k = 0; k < degree; ++k) r *= base;
        return r;
      }
      case KernelKind::rbf: return kmath::exp(-gamma * (xx + yy - 2.0 * dot));
      case KernelKind::sigmoid: return kmath::tanh(gamma * dot + coef0);
    }
    return 0.0;
  }
};

// Overwrites dot products G(i, j) = a_i·b_j with kernel values.
template <class MatrixView, class VectorView>
struct KernelFromDots {
  MatrixView G;
  VectorView a_norms, b_norms;  // |a_i|², |b_j|²
  KernelSpec spec;
  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i, const std::size_t j) const {
    G(i, j) = spec(G(i, j), a_norms(i), b_norms(j));
  }
};

// Squared norms of rows.
template <class MatrixView, class VectorView>
struct RowSquaredNorms {
  MatrixView X;
  VectorView out;
  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const {
    double s = 0;
    for (std::size_t k = 0; k < X.extent(1); ++k) s += X(i, k) * X(i, k);
    out(i) = s;
  }
};

// The kernel matrix of a set's training samples ordered by class, as float (libsvm keeps
// its Q matrix, y_s y_t K(x_s, x_t), as float: the iterates then follow libsvm's and
// scikit-learn's closely, even where a problem is degenerate), gathered from a universe
// kernel matrix: Kf(r, c) = K(order(r), order(c)) and kdiag(r) = K(order(r), order(r)).
template <class KView, class IntView, class FloatMatrix, class RealView>
struct GatherKernel {
  KView K;
  IntView order;
  FloatMatrix Kf;
  RealView kdiag;
  KOKKOS_INLINE_FUNCTION void operator()(const int r, const int c) const {
    const double v = K(order(r), order(c));
    Kf(r, c) = static_cast<float>(v);
    if (r == c) kdiag(r) = v;
  }
};

// One SMO step on the pair (i, j), libsvm's update with clipping to [0, C]: new alphas
// ai, aj (in: the old ones) from labels, bounds, Q entries and gradients.
KOKKOS_INLINE_FUNCTION void smo_pair_step(double yi, double yj, double ci, double cj, double qii,
                                          double qjj, double qij, double gi, double gj, double& ai,
                                          double& aj) {
  constexpr double tau = 1e-12;
  if (yi != yj) {
    double quad = qii + qjj + 2.0 * qij;
    if (quad <= 0) quad = tau;
    const double delta = (-gi - gj) / quad;
    const double diff = ai - aj;
    ai += delta;
    aj += delta;
    if (diff > 0) {
      if (aj < 0) aj = 0, ai = diff;
    } else {
      if (ai < 0) ai = 0, aj = -diff;
    }
    if (diff > ci - cj) {
      if (ai > ci) ai = ci, aj = ci - diff;
    } else {
      if (aj > cj) aj = cj, ai = cj + diff;
    }
  } else {
    double quad = qii + qjj - 2.0 * qij;
    if (quad <= 0) quad = tau;
    const double delta = (gi - gj) / quad;
    const double sum = ai + aj;
    ai -= delta;
    aj += delta;
    if (sum > ci) {
      if (ai > ci) ai = ci, aj = sum - ci;
    } else {
      if (aj < 0) aj = 0, ai = sum;
    }
    if (sum > cj) {
      if (aj > cj) aj = cj, ai = sum - cj;
    } else {
      if (ai < 0) ai = 0, aj = sum;
    }
  }
}

// libsvm's rho over positions [begin, end): the mean of y·G over free alphas, else the
// midpoint of the bounds the others give. cp / cn: C of the +1 / −1 samples.
template <class RealView>
KOKKOS_INLINE_FUNCTION double smo_rho(const RealView& y, const RealView& alpha,
                                      const RealView& grad, int begin, int end, double cp,
                                      double cn) {
  double ub = __builtin_huge_val(), lb = -__builtin_huge_val(), sum_free = 0;
  int free = 0;
  for (int t = begin; t < end; ++t) {
    const double yg = y(t) * grad(t);
    const bool at_upper = alpha(t) >= (y(t) > 0 ? cp : cn);
    if (at_upper) {
      if (y(t) < 0)
        ub = kmath::min(ub, yg);
      else
        lb = kmath::max(lb, yg);
    } else if (alpha(t) <= 0.0) {
      if (y(t) > 0)
        ub = kmath::min(ub, yg);
      else
        lb = kmath::max(lb, yg);
    } else {
      ++free;
      sum_free += yg;
    }
  }
  return free > 0 ? sum_free / free : (ub + lb) / 2;
}

// libsvm's Solver for C-SVC without shrinking, for many binary problems at once (one
// per thread): minimise ½αᵀQα − eᵀα subject to yᵀα = 0, 0 ≤ α_t ≤ C_t.
//
// Problem p owns positions [offset(p), offset(p + 1)) of `y` (±1), `alpha` (start values
// in — zeros, or a feasible warm start — solution out) and `grad` (out: Qα − e). Its
// positions are class a's samples (y = +1) then class b's (y = −1); they are the rows
// seg(p, 0) … seg(p, 0) + seg(p, 1) − 1 and seg(p, 2) … seg(p, 2) + seg(p, 3) − 1 of the
// class-ordered float kernel matrix Kf, so Q(s, t) = y_s y_t Kf(row s, row t) and every
// Q row is two contiguous pieces of a Kf row. kdiag: K(x, x) per Kf row, in double.
// Several sets of problems (folds) can share one launch: their kernel matrices stacked
// in Kf's rows, seg(p, 4) the first row of problem p's matrix (0 for a single set); rows
// are then that plus the positions above, columns and seg(p, 0 / 2) as offsets within a
// row stay the matrix's own.
//
// Each iteration reads the problem's positions twice, as libsvm's Solver does: the
// gradient update of the previous step fused with the first half of the working-set
// selection, then the second half.
template <class FloatMatrix, class IntView, class SegView, class RealView, class CountView>
struct SmoBatch {
  FloatMatrix Kf;
  RealView kdiag;
  IntView offset;
  SegView seg;
  RealView y;
  RealView alpha;
  RealView grad;
  RealView c_pos, c_neg;  // per problem: C of the +1 and -1 samples
  RealView rho;           // out, per problem
  CountView iterations;   // out, per problem (max_iter + 1: stopped by the limit)
  double eps;
  std::int64_t max_iter;
  bool grad_given;  // grad already holds Qα − e for the start values

  static constexpr double tau = 1e-12;

  // Column of problem p's kernel matrix that holds position s, and the row of Kf.
  KOKKOS_INLINE_FUNCTION int col_of(int p, int s) const {
    const int r = s - offset(p);
    return r < seg(p, 1) ? seg(p, 0) + r : seg(p, 2) + (r - seg(p, 1));
  }
  KOKKOS_INLINE_FUNCTION int row_of(int p, int s) const { return seg(p, 4) + col_of(p, s); }
  KOKKOS_INLINE_FUNCTION double c_of(int t, int p) const { return y(t) > 0 ? c_pos(p) : c_neg(p); }

  KOKKOS_INLINE_FUNCTION void operator()(const int p) const {
    const int begin = offset(p), end = offset(p + 1);
    // Gradient of the objective at the start values, Qα − e, unless the caller gave it.
    if (!grad_given) {
      for (int s = begin; s < end; ++s) grad(s) = -1.0;
      for (int t = begin; t < end; ++t) {
        if (alpha(t) == 0.0) continue;
        const int rt = row_of(p, t);
        for (int h = 0; h < 2; ++h) {
          const double coef = (h ? -y(t) : y(t)) * alpha(t);  // y_s y_t α_t, y_s = ±1
          const float* k = &Kf(rt, seg(p, 2 * h));
          const int first = begin + (h ? seg(p, 1) : 0), len = seg(p, 2 * h + 1);
          for (int r = 0; r < len; ++r) grad(first + r) += static_cast<double>(k[r]) * coef;
        }
      }
    }
    std::int64_t iter = 0;
    int i = -1, j = -1;
    double di = 0, dj = 0;  // the last step's alpha changes, not yet in grad
    for (;;) {
      double gmax, gmax2;
      const int next_i = first_pick(p, begin, i, j, di, dj, gmax, gmax2);
      di = dj = 0;
      if (iter >= max_iter) break;
      i = next_i;
      j = i < 0 ? -1 : second_pick(p, begin, i, gmax);
      if (gmax + gmax2 < eps || j < 0) break;
      ++iter;
      step(p, i, j, di, dj);
    }
    iterations(p) = iter >= max_iter ? max_iter + 1 : iter;
    rho(p) = smo_rho(y, alpha, grad, begin, end, c_pos(p), c_neg(p));
  }

  // Adds the previous step (pair i, j with changes di, dj; i < 0: none) to the gradient
  // and returns i of the working set: the position maximising w = −y·G over I_up (y = +1
  // below C, y = −1 above 0; ties: the last position, as libsvm). gmax = that w; gmax2 =
  // the maximum of y·G over I_low, the other half of the stopping gap.
  KOKKOS_INLINE_FUNCTION int first_pick(int p, int begin, int i, int j, double di, double dj,
                                        double& gmax, double& gmax2) const {
    return i >= 0 && (di != 0.0 || dj != 0.0)
               ? first_pick_lanes<true>(p, begin, row_of(p, i), row_of(p, j), y(i) * di, y(j) * dj,
                                        gmax, gmax2)
               : first_pick_lanes<false>(p, begin, 0, 0, 0.0, 0.0, gmax, gmax2);
  }

  // The scans keep `lanes` independent running bests (position t goes to lane t mod
  // lanes, the tail to lane 0), so that the host compiler vectorises them; each lane sees
  // its positions in increasing order, and merging takes the best value, ties to the
  // larger position: the same pick as one scan.
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  static constexpr int lanes = 1;
#else
  static constexpr int lanes = 8;
#endif

  // visit(lane, r) for r = 0 … len − 1: position r in lane r mod lanes, the tail in lane 0.
  template <class Visit>
  KOKKOS_INLINE_FUNCTION static void scan_lanes(int len, const Visit& visit) {
    int r = 0;
    for (; r + lanes <= len; r += lanes)
      for (int l = 0; l < lanes; ++l) visit(l, r + l);
    for (; r < len; ++r) visit(0, r);
  }

  template <bool Update>
  KOKKOS_INLINE_FUNCTION int first_pick_lanes(int p, int begin, int ri, int rj, double yd_i,
                                              double yd_j, double& gmax, double& gmax2) const {
    double best_w[lanes], best_low[lanes];
    int best_t[lanes];
    for (int l = 0; l < lanes; ++l) best_w[l] = best_low[l] = -__builtin_huge_val(), best_t[l] = -1;
    for (int h = 0; h < 2; ++h) {
      const double yt = h ? -1.0 : 1.0;
      const double up_bound = h ? 0.0 : c_pos(p);   // y = +1: up while α < C_p
      const double low_bound = h ? c_neg(p) : 0.0;  // y = −1: low while α < C_n
      const int first = begin + (h ? seg(p, 1) : 0), len = seg(p, 2 * h + 1);
      const float* ki = Update ? &Kf(ri, seg(p, 2 * h)) : nullptr;
      const float* kj = Update ? &Kf(rj, seg(p, 2 * h)) : nullptr;
      const double ci = yt * yd_i, cj = yt * yd_j;  // Q(i, t) / K(i, t) · Δα_i, likewise j
      const auto visit = [&](int l, int r) {
        const int t = first + r;
        double g = grad(t);
        if (Update) {
          g += static_cast<double>(ki[r]) * ci + static_cast<double>(kj[r]) * cj;
          grad(t) = g;
        }
        const double a = alpha(t);
        const bool up = h ? a > up_bound : a < up_bound;
        const bool low = h ? a < low_bound : a > low_bound;
        const double w = -yt * g;
        const bool better = up & (w >= best_w[l]);
        best_w[l] = better ? w : best_w[l];
        best_t[l] = better ? t : best_t[l];
        best_low[l] = low & (-w >= best_low[l]) ? -w : best_low[l];
      };
      scan_lanes(len, visit);
    }
    for (int l = 1; l < lanes; ++l) {
      const bool take = best_w[l] > best_w[0] || (best_w[l] == best_w[0] && best_t[l] > best_t[0]);
      best_w[0] = take ? best_w[l] : best_w[0];
      best_t[0] = take ? best_t[l] : best_t[0];
      best_low[0] = best_low[l] > best_low[0] ? best_low[l] : best_low[0];
    }
    gmax = best_w[0];
    gmax2 = best_low[0];
    return best_t[0];
  }

  // j of the working set: minimises −(gmax + y·G)² / quad over I_low where
  // gmax + y·G > 0, quad = K_ii + K_tt − 2 K_it (ties: the last position). −1: none.
  KOKKOS_INLINE_FUNCTION int second_pick(int p, int begin, int i, double gmax) const {
    const int ri = row_of(p, i);
    const double qd_i = kdiag(ri);
    double best_obj[lanes];
    int best_t[lanes];
    for (int l = 0; l < lanes; ++l) best_obj[l] = __builtin_huge_val(), best_t[l] = -1;
    for (int h = 0; h < 2; ++h) {
      const double yt = h ? -1.0 : 1.0;
      const double low_bound = h ? c_neg(p) : 0.0;
      const int first = begin + (h ? seg(p, 1) : 0), len = seg(p, 2 * h + 1);
      const int row0 = seg(p, 2 * h);
      const float* ki = &Kf(ri, row0);
      const auto visit = [&](int l, int r) {
        const int t = first + r;
        const double a = alpha(t);
        const bool low = h ? a < low_bound : a > low_bound;
        const double grad_diff = gmax + yt * grad(t);
        const double quad = qd_i + kdiag(seg(p, 4) + row0 + r) - 2.0 * static_cast<double>(ki[r]);
        const double obj = -(grad_diff * grad_diff) / (quad > 0 ? quad : tau);
        const bool better = low & (grad_diff > 0) & (obj <= best_obj[l]);
        best_obj[l] = better ? obj : best_obj[l];
        best_t[l] = better ? t : best_t[l];
      };
      scan_lanes(len, visit);
    }
    for (int l = 1; l < lanes; ++l) {
      const bool take =
          best_obj[l] < best_obj[0] || (best_obj[l] == best_obj[0] && best_t[l] > best_t[0]);
      best_obj[0] = take ? best_obj[l] : best_obj[0];
      best_t[0] = take ? best_t[l] : best_t[0];
    }
    return best_t[0];
  }

  // The SMO step on (i, j): new alpha(i), alpha(j) and their changes.
  KOKKOS_INLINE_FUNCTION void step(int p, int i, int j, double& di, double& dj) const {
    const double old_i = alpha(i), old_j = alpha(j);
    double ai = old_i, aj = old_j;
    const double qij = y(i) * y(j) * static_cast<double>(Kf(row_of(p, i), col_of(p, j)));
    smo_pair_step(y(i), y(j), c_of(i, p), c_of(j, p), kdiag(row_of(p, i)), kdiag(row_of(p, j)), qij,
                  grad(i), grad(j), ai, aj);
    alpha(i) = ai;
    alpha(j) = aj;
    di = ai - old_i;
    dj = aj - old_j;
  }
};

// ---- The cached solver: one binary problem at a time, Q rows from an LRU cache ----
// (src/ml/cached_smo.cpp drives the iterations from the host; each step is a
// reduction over the problem's positions, deterministic whatever the thread count.)

// Working-set selection, first half, fused with the gradient update of the previous
// step: i maximises w = −y·G over I_up (ties: the last position, as libsvm), and
// gmax2 = max over I_low of y·G (the other half of the stopping gap).
struct FirstPick {
  double gmax;
  int i;
  double gmax2;
};

// The first half's reduction: the largest w, ties to the larger position (the same pick
// whatever order the positions are merged in), and the largest of the other half.
struct FirstRule {
  template <class V>
  KOKKOS_INLINE_FUNCTION static void init(V& v) {
    v.gmax = -__builtin_huge_val();
    v.i = -1;
    v.gmax2 = -__builtin_huge_val();
  }
  template <class A, class B>
  KOKKOS_INLINE_FUNCTION static void merge(A& a, B& b) {
    if (b.gmax > a.gmax || (b.gmax == a.gmax && b.i > a.i)) a.gmax = b.gmax, a.i = b.i;
    if (b.gmax2 > a.gmax2) a.gmax2 = b.gmax2;
  }
  // Position t with w = −y·G, in I_up and/or I_low.
  KOKKOS_INLINE_FUNCTION static void offer(FirstPick& v, int t, double w, bool up, bool low) {
    if (up && (w > v.gmax || (w == v.gmax && t > v.i))) v.gmax = w, v.i = t;
    if (low && -w > v.gmax2) v.gmax2 = -w;
  }
};

template <class RealView, class RowView, class IntView>
struct SelectFirst {
  using value_type = FirstPick;
  RealView y, alpha, grad;
  RowView qi, qj;  // rows of the previous step's pair (read when update)
  RealView delta;  // the previous step's alpha changes (first 2 values)
  double cp, cn;   // C of the +1 / −1 samples
  bool update;
  IntView active;  // the positions to visit (shrinking), ascending; empty: all

  KOKKOS_INLINE_FUNCTION void operator()(const int q, value_type& v) const {
    const int t = active.extent(0) ? active(q) : q;
    double g = grad(t);
    if (update) {
      g += static_cast<double>(qi(t)) * delta(0) + static_cast<double>(qj(t)) * delta(1);
      grad(t) = g;
    }
    const double yt = y(t), a = alpha(t);
    const bool up = yt > 0 ? a < cp : a > 0.0;
    const bool low = yt > 0 ? a > 0.0 : a < cn;
    const double w = -yt * g;
    FirstRule::offer(v, t, w, up, low);
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const { FirstRule::init(v); }
  KOKKOS_INLINE_FUNCTION void join(value_type& a, const value_type& b) const {
    FirstRule::merge(a, b);
  }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    FirstRule::merge(a, b);
  }
};

// Second half: j minimises −(gmax + y·G)² / quad over I_low where gmax + y·G > 0 (ties:
// the last position).
struct SecondPick {
  double obj;
  int j;
};

// The second half's reduction: the smallest objective, ties to the larger position.
struct SecondRule {
  template <class V>
  KOKKOS_INLINE_FUNCTION static void init(V& v) {
    v.obj = __builtin_huge_val();
    v.j = -1;
  }
  template <class A, class B>
  KOKKOS_INLINE_FUNCTION static void merge(A& a, B& b) {
    if (b.obj < a.obj || (b.obj == a.obj && b.j > a.j)) a.obj = b.obj, a.j = b.j;
  }
  // Position t, a candidate with objective obj.
  KOKKOS_INLINE_FUNCTION static void offer(SecondPick& v, int t, double obj) {
    if (obj < v.obj || (obj == v.obj && t > v.j)) v.obj = obj, v.j = t;
  }
};

// A Kokkos reducer over a pick with one of the rules above (team reductions take
// reducers, not functors with join).
template <class Pick, class Rule, class Space = Kokkos::HostSpace>
struct PickReducer {
  using reducer = PickReducer;
  using value_type = Pick;
  using result_view_type = Kokkos::View<value_type, Space, Kokkos::MemoryUnmanaged>;
  value_type* value;
  KOKKOS_INLINE_FUNCTION explicit PickReducer(value_type& v) : value(&v) {}
  KOKKOS_INLINE_FUNCTION void join(value_type& a, const value_type& b) const { Rule::merge(a, b); }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    Rule::merge(a, b);
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const { Rule::init(v); }
  KOKKOS_INLINE_FUNCTION value_type& reference() const { return *value; }
  KOKKOS_INLINE_FUNCTION result_view_type view() const { return result_view_type(value); }
  KOKKOS_INLINE_FUNCTION bool references_scalar() const { return true; }
};

template <class RealView, class RowView, class IntView>
struct SelectSecond {
  using value_type = SecondPick;
  RealView y, alpha, grad, qdiag;
  RowView qi;  // row i of Q
  double gmax, qd_i, y_i, cn;
  IntView active;  // as SelectFirst's

  KOKKOS_INLINE_FUNCTION void operator()(const int q, value_type& v) const {
    const int t = active.extent(0) ? active(q) : q;
    const double yt = y(t), a = alpha(t);
    const bool low = yt > 0 ? a > 0.0 : a < cn;
    const double grad_diff = gmax + yt * grad(t);
    if (!low || !(grad_diff > 0)) return;
    const double quad = qd_i + qdiag(t) - 2.0 * y_i * yt * static_cast<double>(qi(t));
    const double obj = -(grad_diff * grad_diff) / (quad > 0 ? quad : 1e-12);
    SecondRule::offer(v, t, obj);
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const { SecondRule::init(v); }
  KOKKOS_INLINE_FUNCTION void join(value_type& a, const value_type& b) const {
    SecondRule::merge(a, b);
  }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    SecondRule::merge(a, b);
  }
};

// SmoBatch's problems one per team (league rank = problem): the team's threads share
// each scan over the problem's positions (the gradient update fused with the first pick,
// then the second pick) as team reductions, and one thread takes the step. Each gradient
// value gets the same operations in the same order as in SmoBatch, and the picks' rules
// (largest, ties to the larger position) do not depend on how positions are split among
// threads, so the results are the same for any team size. What GPUs run: a problem of a
// few hundred positions keeps a team busy where one thread per problem left most of the
// device idle.
template <class FloatMatrix, class IntView, class SegView, class RealView, class CountView>
struct SmoTeam {
  using Serial = SmoBatch<FloatMatrix, IntView, SegView, RealView, CountView>;
  Serial s;  // the problems, and row_of / c_of / step

  // Whether position t of problem p (positions from begin) is in its second half (class
  // b, y = −1); its Kf row and column are s.row_of(p, t) and s.col_of(p, t).
  KOKKOS_INLINE_FUNCTION bool second_half(int p, int begin, int t) const {
    return t - begin >= s.seg(p, 1);
  }

  // Team scratch (level 0) a launch must give each team.
  template <class ExecSpace>
  static std::size_t scratch_bytes() {
    return Kokkos::View<double*, typename ExecSpace::scratch_memory_space,
                        Kokkos::MemoryUnmanaged>::shmem_size(2);
  }

  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const int p = team.league_rank();
    const int begin = s.offset(p), end = s.offset(p + 1);
    if (!s.grad_given) start_gradient(team, p, begin, end);
    // the step's alpha changes, from the thread that takes it to all (team scratch)
    const Kokkos::View<double*, typename Member::scratch_memory_space, Kokkos::MemoryUnmanaged>
        shared(team.team_scratch(0), 2);
    std::int64_t iter = 0;
    int i = -1, j = -1;
    double di = 0, dj = 0;
    for (;;) {
      FirstPick first;
      first_pick(team, p, begin, end, i, j, di, dj, first);
      team.team_barrier();  // the gradient is complete before anyone reads it
      if (iter >= s.max_iter) break;
      i = first.i;
      SecondPick second{__builtin_huge_val(), -1};
      if (i >= 0) second_pick(team, p, begin, end, i, first.gmax, second);
      j = second.j;
      if (first.gmax + first.gmax2 < s.eps || j < 0) break;
      ++iter;
      Kokkos::single(Kokkos::PerTeam(team), [&]() { s.step(p, i, j, shared(0), shared(1)); });
      team.team_barrier();  // the new alphas and their changes are seen by all
      // (read before the next step writes them: the first pick's barrier lies between)
      di = shared(0), dj = shared(1);
    }
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      s.iterations(p) = iter >= s.max_iter ? s.max_iter + 1 : iter;
      s.rho(p) = smo_rho(s.y, s.alpha, s.grad, begin, end, s.c_pos(p), s.c_neg(p));
    });
  }

  // Qα − e at the start values: each position's sum over the nonzero alphas in order, as
  // SmoBatch adds them.
  template <class Member>
  KOKKOS_INLINE_FUNCTION void start_gradient(const Member& team, int p, int begin, int end) const {
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, begin, end), [&](const int q) {
      const bool h = second_half(p, begin, q);
      const int col = s.col_of(p, q);
      double g = -1.0;
      for (int t = begin; t < end; ++t) {
        if (s.alpha(t) == 0.0) continue;
        const double coef = (h ? -s.y(t) : s.y(t)) * s.alpha(t);  // y_q y_t α_t
        g += static_cast<double>(s.Kf(s.row_of(p, t), col)) * coef;
      }
      s.grad(q) = g;
    });
    team.team_barrier();
  }

  // SmoBatch::first_pick over the team: the previous step (i, j; changes di, dj; i < 0 or
  // no change: none) added to the gradient, then i and the stopping gap's halves.
  template <class Member>
  KOKKOS_INLINE_FUNCTION void first_pick(const Member& team, int p, int begin, int end, int i,
                                         int j, double di, double dj, FirstPick& out) const {
    const bool update = i >= 0 && (di != 0.0 || dj != 0.0);
    const int ri = update ? s.row_of(p, i) : 0, rj = update ? s.row_of(p, j) : 0;
    const double yd_i = update ? s.y(i) * di : 0.0, yd_j = update ? s.y(j) * dj : 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, begin, end),
        [&](const int t, FirstPick& v) {
          const bool h = second_half(p, begin, t);
          const double yt = h ? -1.0 : 1.0;
          double g = s.grad(t);
          if (update) {
            const int col = s.col_of(p, t);
            g += static_cast<double>(s.Kf(ri, col)) * (yt * yd_i) +
                 static_cast<double>(s.Kf(rj, col)) * (yt * yd_j);
            s.grad(t) = g;
          }
          const double a = s.alpha(t);
          const bool up = h ? a > 0.0 : a < s.c_pos(p);
          const bool low = h ? a < s.c_neg(p) : a > 0.0;
          const double w = -yt * g;
          FirstRule::offer(v, t, w, up, low);
        },
        PickReducer<FirstPick, FirstRule>(out));
  }

  // SmoBatch::second_pick over the team.
  template <class Member>
  KOKKOS_INLINE_FUNCTION void second_pick(const Member& team, int p, int begin, int end, int i,
                                          double gmax, SecondPick& out) const {
    const int ri = s.row_of(p, i);
    const double qd_i = s.kdiag(ri);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, begin, end),
        [&](const int t, SecondPick& v) {
          const bool h = second_half(p, begin, t);
          const double yt = h ? -1.0 : 1.0;
          const double a = s.alpha(t);
          const bool low = h ? a < s.c_neg(p) : a > 0.0;
          const double grad_diff = gmax + yt * s.grad(t);
          const int col = s.col_of(p, t);
          const double quad =
              qd_i + s.kdiag(s.seg(p, 4) + col) - 2.0 * static_cast<double>(s.Kf(ri, col));
          const double obj = -(grad_diff * grad_diff) / (quad > 0 ? quad : Serial::tau);
          if (low && grad_diff > 0) SecondRule::offer(v, t, obj);
        },
        PickReducer<SecondPick, SecondRule>(out));
  }
};

// The pair step on the device (one thread): new alpha(i), alpha(j); their changes in
// delta(0), delta(1); in delta(2), delta(3) the change of C_i·[alpha_i = C_i] and likewise
// for j (libsvm's G_bar = Σ_{alpha_s = C_s} C_s Q_s moves by it times Q row i or j).
template <class RealView, class RowView>
struct PairUpdate {
  RealView y, alpha, grad, qdiag, delta;
  RowView qi;
  int i, j;
  double cp, cn;
  KOKKOS_INLINE_FUNCTION void operator()(const int) const {
    const double old_i = alpha(i), old_j = alpha(j);
    const double ci = y(i) > 0 ? cp : cn, cj = y(j) > 0 ? cp : cn;
    double ai = old_i, aj = old_j;
    smo_pair_step(y(i), y(j), ci, cj, qdiag(i), qdiag(j), static_cast<double>(qi(j)), grad(i),
                  grad(j), ai, aj);
    alpha(i) = ai;
    alpha(j) = aj;
    delta(0) = ai - old_i;
    delta(1) = aj - old_j;
    delta(2) = ((ai >= ci) - (old_i >= ci)) * ci;
    delta(3) = ((aj >= cj) - (old_j >= cj)) * cj;
  }
};

// Q rows y_s y_t K(x_s, x_t) as float into cache slots, from a batch's dot products.
template <class DotsView, class CacheView, class IntView, class RealView>
struct FillQRows {
  DotsView dots;  // batch row r, position t: x_rows(r) · x_t
  CacheView cache;
  IntView rows, slots;
  RealView y, norms;
  KernelSpec spec;
  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t r, const std::size_t t) const {
    const int s = rows(r);
    cache(slots(r), t) = static_cast<float>(y(s) * y(t) * spec(dots(r, t), norms(s), norms(t)));
  }
};

}  // namespace tessera::detail
