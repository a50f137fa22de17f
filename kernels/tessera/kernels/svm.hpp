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

  KOKKOS_INLINE_FUNCTION bool upper(int t, int p) const { return alpha(t) >= c_of(t, p); }
  KOKKOS_INLINE_FUNCTION bool lower(int t) const { return alpha(t) <= 0.0; }

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
    const double ci = c_of(i, p), cj = c_of(j, p);
    const double old_i = alpha(i), old_j = alpha(j);
    const float* qi = q_row(p, i);
    const float* qj = q_row(p, j);
    const double qii = qdiag(i), qjj = qdiag(j), qij = static_cast<double>(qi[j - begin]);
    double ai = old_i, aj = old_j;
    if (y(i) != y(j)) {
      double quad = qii + qjj + 2.0 * qij;
      if (quad <= 0) quad = tau;
      const double delta = (-grad(i) - grad(j)) / quad;
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
      const double delta = (grad(i) - grad(j)) / quad;
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
    alpha(i) = ai;
    alpha(j) = aj;
    const double di = ai - old_i, dj = aj - old_j;
    for (int t = begin; t < end; ++t)
      grad(t) += static_cast<double>(qi[t - begin]) * di + static_cast<double>(qj[t - begin]) * dj;
  }

  KOKKOS_INLINE_FUNCTION double compute_rho(int p, int begin, int end) const {
    double ub = __builtin_huge_val(), lb = -__builtin_huge_val(), sum_free = 0;
    int free = 0;
    for (int t = begin; t < end; ++t) {
      const double yg = y(t) * grad(t);
      if (upper(t, p)) {
        if (y(t) < 0)
          ub = kmath::min(ub, yg);
        else
          lb = kmath::max(lb, yg);
      } else if (lower(t)) {
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
};

}  // namespace tessera::detail
