#pragma once
// Support vector machine kernels: kernel values from dot products, and libsvm's SMO
// solver for C-SVC (second-order working-set selection, Fan, Chen & Lin 2005) run on
// many binary problems at once, one problem per thread.
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

// Q_st = y_s y_t K(x_s, x_t) of every binary problem, rounded to float as libsvm stores
// its Q matrix (Qfloat): the iterates then follow libsvm's (and scikit-learn's) closely,
// even where the problem is degenerate. Problem p's l × l block starts at qoffset(p).
template <class KView, class IntView, class RealView, class OffsetView, class FloatView>
struct BuildQ {
  KView K;
  IntView index;
  IntView offset;
  RealView y;
  OffsetView qoffset;
  FloatView Q;
  RealView qdiag;
  KOKKOS_INLINE_FUNCTION void operator()(const int p, const int row) const {
    const int begin = offset(p), l = offset(p + 1) - begin;
    if (row >= l) return;
    const int s = begin + row;
    qdiag(s) = K(index(s), index(s));
    float* out = &Q(qoffset(p) + static_cast<std::int64_t>(row) * l);
    for (int t = 0; t < l; ++t)
      out[t] = static_cast<float>(y(s) * y(begin + t) * K(index(s), index(begin + t)));
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

// libsvm's Solver for C-SVC without shrinking: minimise ½αᵀQα − eᵀα subject to
// yᵀα = 0, 0 ≤ α_t ≤ C_t. Problem p owns positions [offset(p), offset(p + 1)) of `index`
// (rows and columns of K), `y` (±1), `alpha` (start values in — zeros, or a feasible warm
// start — solution out) and `grad` (out: Qα − e); its Q block is at Q(qoffset(p)).
template <class KView, class IntView, class RealView, class CountView, class OffsetView,
          class FloatView>
struct SmoBatch {
  KView K;
  IntView index;
  IntView offset;
  RealView y;
  RealView alpha;
  RealView grad;
  RealView c_pos, c_neg;  // per problem: C of the +1 and -1 samples
  RealView rho;           // out, per problem
  CountView iterations;   // out, per problem (max_iter + 1: stopped by the limit)
  OffsetView qoffset;
  FloatView Q;
  RealView qdiag;  // K(x_t, x_t) per position
  double eps;
  std::int64_t max_iter;
  bool grad_given;  // grad already holds Qα − e for the start values

  static constexpr double tau = 1e-12;

  // Row s of problem p's Q block (positions relative to the problem's first).
  KOKKOS_INLINE_FUNCTION const float* q_row(int p, int s) const {
    const int begin = offset(p), l = offset(p + 1) - begin;
    return &Q(qoffset(p) + static_cast<std::int64_t>(s - begin) * l);
  }
  KOKKOS_INLINE_FUNCTION double c_of(int t, int p) const { return y(t) > 0 ? c_pos(p) : c_neg(p); }

  KOKKOS_INLINE_FUNCTION void operator()(const int p) const {
    const int begin = offset(p), end = offset(p + 1);
    // Gradient of the objective at the start values, Qα − e, unless the caller gave it.
    if (!grad_given) {
      for (int s = begin; s < end; ++s) grad(s) = -1.0;
      for (int t = begin; t < end; ++t) {
        if (alpha(t) == 0.0) continue;
        const float* qt = q_row(p, t);  // Q is symmetric
        for (int s = begin; s < end; ++s) grad(s) += static_cast<double>(qt[s - begin]) * alpha(t);
      }
    }
    std::int64_t iter = 0;
    while (iter < max_iter) {
      int i = -1, j = -1;
      if (select_working_set(p, begin, end, i, j)) break;
      ++iter;
      update_pair(p, begin, end, i, j);
    }
    iterations(p) = iter >= max_iter ? max_iter + 1 : iter;
    rho(p) = compute_rho(p, begin, end);
  }

  // Returns true when the maximal violating pair's gap is below eps (optimal). libsvm's
  // WSS2 written without branches on the label: with w = −y·G, i maximises w over I_up
  // (y = +1 below C, y = −1 above 0); j minimises −(gmax − w)²/quad over I_low with
  // gmax − w > 0. Same comparisons and ties (the last index wins) as libsvm.
  KOKKOS_INLINE_FUNCTION bool select_working_set(int p, int begin, int end, int& out_i,
                                                 int& out_j) const {
    const double cp = c_pos(p), cn = c_neg(p);
    double gmax = -__builtin_huge_val(), gmax2 = -__builtin_huge_val();
    int gmax_idx = -1, gmin_idx = -1;
    double obj_diff_min = __builtin_huge_val();
    for (int t = begin; t < end; ++t) {
      const double yt = y(t), a = alpha(t);
      const bool up = yt > 0 ? a < cp : a > 0.0;
      const double w = -yt * grad(t);
      const bool better = up && w >= gmax;
      gmax = better ? w : gmax;
      gmax_idx = better ? t : gmax_idx;
    }
    const int i = gmax_idx;
    if (i >= 0) {
      const double qd_i = qdiag(i), y_i = y(i);
      const float* qi = q_row(p, i);
      for (int t = begin; t < end; ++t) {
        const double yt = y(t), a = alpha(t);
        const bool low = yt > 0 ? a > 0.0 : a < cn;
        const double v = yt * grad(t);  // = −w
        gmax2 = low && v >= gmax2 ? v : gmax2;
        const double grad_diff = gmax + v;
        const double quad = qd_i + qdiag(t) - 2.0 * y_i * yt * static_cast<double>(qi[t - begin]);
        const double obj = -(grad_diff * grad_diff) / (quad > 0 ? quad : tau);
        const bool better = low && grad_diff > 0 && obj <= obj_diff_min;
        obj_diff_min = better ? obj : obj_diff_min;
        gmin_idx = better ? t : gmin_idx;
      }
    } else {
      for (int t = begin; t < end; ++t) {
        const double yt = y(t), a = alpha(t);
        const bool low = yt > 0 ? a > 0.0 : a < cn;
        const double v = yt * grad(t);
        gmax2 = low && v >= gmax2 ? v : gmax2;
      }
    }
    if (gmax + gmax2 < eps || gmin_idx == -1) return true;
    out_i = gmax_idx;
    out_j = gmin_idx;
    return false;
  }

  KOKKOS_INLINE_FUNCTION void update_pair(int p, int begin, int end, int i, int j) const {
    const float* qi = q_row(p, i);
    const float* qj = q_row(p, j);
    const double old_i = alpha(i), old_j = alpha(j);
    double ai = old_i, aj = old_j;
    smo_pair_step(y(i), y(j), c_of(i, p), c_of(j, p), qdiag(i), qdiag(j),
                  static_cast<double>(qi[j - begin]), grad(i), grad(j), ai, aj);
    alpha(i) = ai;
    alpha(j) = aj;
    const double di = ai - old_i, dj = aj - old_j;
    for (int t = begin; t < end; ++t)
      grad(t) += static_cast<double>(qi[t - begin]) * di + static_cast<double>(qj[t - begin]) * dj;
  }

  KOKKOS_INLINE_FUNCTION double compute_rho(int p, int begin, int end) const {
    return smo_rho(y, alpha, grad, begin, end, c_pos(p), c_neg(p));
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

template <class RealView, class RowView>
struct SelectFirst {
  using value_type = FirstPick;
  RealView y, alpha, grad;
  RowView qi, qj;  // rows of the previous step's pair (read when update)
  RealView delta;  // the previous step's alpha changes (2 values)
  double cp, cn;   // C of the +1 / −1 samples
  bool update;

  KOKKOS_INLINE_FUNCTION void operator()(const int t, value_type& v) const {
    double g = grad(t);
    if (update) {
      g += static_cast<double>(qi(t)) * delta(0) + static_cast<double>(qj(t)) * delta(1);
      grad(t) = g;
    }
    const double yt = y(t), a = alpha(t);
    const bool up = yt > 0 ? a < cp : a > 0.0;
    const bool low = yt > 0 ? a > 0.0 : a < cn;
    const double w = -yt * g;
    if (up && (w > v.gmax || (w == v.gmax && t > v.i))) v.gmax = w, v.i = t;
    if (low && -w > v.gmax2) v.gmax2 = -w;
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const {
    v.gmax = -__builtin_huge_val();
    v.i = -1;
    v.gmax2 = -__builtin_huge_val();
  }
  template <class A, class B>
  KOKKOS_INLINE_FUNCTION static void merge(A& a, B& b) {
    if (b.gmax > a.gmax || (b.gmax == a.gmax && b.i > a.i)) a.gmax = b.gmax, a.i = b.i;
    if (b.gmax2 > a.gmax2) a.gmax2 = b.gmax2;
  }
  KOKKOS_INLINE_FUNCTION void join(value_type& a, const value_type& b) const { merge(a, b); }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    merge(a, b);
  }
};

// Second half: j minimises −(gmax + y·G)² / quad over I_low where gmax + y·G > 0 (ties:
// the last position).
struct SecondPick {
  double obj;
  int j;
};

template <class RealView, class RowView>
struct SelectSecond {
  using value_type = SecondPick;
  RealView y, alpha, grad, qdiag;
  RowView qi;  // row i of Q
  double gmax, qd_i, y_i, cn;

  KOKKOS_INLINE_FUNCTION void operator()(const int t, value_type& v) const {
    const double yt = y(t), a = alpha(t);
    const bool low = yt > 0 ? a > 0.0 : a < cn;
    const double grad_diff = gmax + yt * grad(t);
    if (!low || !(grad_diff > 0)) return;
    const double quad = qd_i + qdiag(t) - 2.0 * y_i * yt * static_cast<double>(qi(t));
    const double obj = -(grad_diff * grad_diff) / (quad > 0 ? quad : 1e-12);
    if (obj < v.obj || (obj == v.obj && t > v.j)) v.obj = obj, v.j = t;
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& v) const {
    v.obj = __builtin_huge_val();
    v.j = -1;
  }
  template <class A, class B>
  KOKKOS_INLINE_FUNCTION static void merge(A& a, B& b) {
    if (b.obj < a.obj || (b.obj == a.obj && b.j > a.j)) a.obj = b.obj, a.j = b.j;
  }
  KOKKOS_INLINE_FUNCTION void join(value_type& a, const value_type& b) const { merge(a, b); }
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& a, const volatile value_type& b) const {
    merge(a, b);
  }
};

// The pair step on the device (one thread): new alpha(i), alpha(j); their changes in delta.
template <class RealView, class RowView>
struct PairUpdate {
  RealView y, alpha, grad, qdiag, delta;
  RowView qi;
  int i, j;
  double cp, cn;
  KOKKOS_INLINE_FUNCTION void operator()(const int) const {
    const double old_i = alpha(i), old_j = alpha(j);
    double ai = old_i, aj = old_j;
    smo_pair_step(y(i), y(j), y(i) > 0 ? cp : cn, y(j) > 0 ? cp : cn, qdiag(i), qdiag(j),
                  static_cast<double>(qi(j)), grad(i), grad(j), ai, aj);
    alpha(i) = ai;
    alpha(j) = aj;
    delta(0) = ai - old_i;
    delta(1) = aj - old_j;
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
