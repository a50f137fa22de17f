#include "ovo.hpp"

#include <algorithm>
#include <string>

#include <tessera/core/error.hpp>
#include <tessera/linalg/linalg.hpp>

namespace tessera::ml::impl {

DMatrix to_device(const HostMatrix& X) {
  DMatrix D(Kokkos::view_alloc(std::string("svm_X"), Kokkos::WithoutInitializing), X.extent(0),
            X.extent(1));
  Kokkos::deep_copy(D, X);
  return D;
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

DMatrix kernel_from_dots(const DMatrix& dot, const DVector& a_norms, const DVector& b_norms,
                         const detail::KernelSpec& spec) {
  DMatrix K(Kokkos::view_alloc(std::string("svm_kernel"), Kokkos::WithoutInitializing),
            dot.extent(0), dot.extent(1));
  Kokkos::deep_copy(K, dot);
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for("tessera::svm::kernel", Policy({0, 0}, {K.extent(0), K.extent(1)}),
                       detail::KernelFromDots<DMatrix, DVector>{K, a_norms, b_norms, spec});
  return K;
}

DMatrix kernel_matrix(const DMatrix& A, const DMatrix& B, const detail::KernelSpec& spec) {
  return kernel_from_dots(dots(A, B), row_norms(A), row_norms(B), spec);
}

std::int64_t default_max_iter(std::size_t l) {
  return std::max<std::int64_t>(10000000, l > 21474836 ? INT64_MAX / 2 : 100 * std::int64_t(l));
}

OvoSet make_ovo(const std::vector<int>& train, const std::vector<int>& cls, int n_classes) {
  OvoSet set;
  set.n_classes = n_classes;
  std::vector<std::vector<int>> members(static_cast<std::size_t>(n_classes));
  for (int id : train)
    members[static_cast<std::size_t>(cls[static_cast<std::size_t>(id)])].push_back(id);
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

template <class T>
Kokkos::View<T*, Mem> device_copy(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, Mem> out(Kokkos::view_alloc(std::string(label), Kokkos::WithoutInitializing),
                            v.size());
  const Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(v.data(), v.size());
  Kokkos::deep_copy(out, host);
  return out;
}

template <class T, class View>
void host_copy(const View& from, std::vector<T>& to) {
  to.resize(from.extent(0));
  const Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(to.data(), to.size());
  Kokkos::deep_copy(host, from);
}

}  // namespace

void solve_ovo(const DMatrix& K, OvoSet& set, double C, const std::vector<double>& weight,
               double tol, std::int64_t max_iter, bool warm) {
  const std::size_t pairs = set.pairs.size();
  if (pairs == 0) return;
  std::vector<double> c_pos(pairs), c_neg(pairs);
  std::size_t longest = 0;
  for (std::size_t p = 0; p < pairs; ++p) {
    c_pos[p] = C * weight[static_cast<std::size_t>(set.pairs[p][0])];
    c_neg[p] = C * weight[static_cast<std::size_t>(set.pairs[p][1])];
    longest =
        std::max<std::size_t>(longest, static_cast<std::size_t>(set.offset[p + 1] - set.offset[p]));
  }
  if (!warm) std::fill(set.alpha.begin(), set.alpha.end(), 0.0);
  const auto index = device_copy(set.index, "svm_index");
  const auto offset = device_copy(set.offset, "svm_offset");
  const auto y = device_copy(set.y, "svm_y");
  const auto alpha = device_copy(set.alpha, "svm_alpha");
  const auto pos = device_copy(c_pos, "svm_cpos");
  const auto neg = device_copy(c_neg, "svm_cneg");
  DVector grad("svm_grad", set.index.size()), rho("svm_rho", pairs);
  Kokkos::View<std::int64_t*, Mem> iterations("svm_iterations", pairs);
  using Solver = detail::SmoBatch<DMatrix, decltype(index), DVector, decltype(iterations)>;
  const std::int64_t limit = max_iter > 0 ? max_iter : default_max_iter(longest);
  Kokkos::parallel_for(
      "tessera::svm::smo", Kokkos::RangePolicy<Space>(0, static_cast<int>(pairs)),
      Solver{K, index, offset, y, alpha, grad, pos, neg, rho, iterations, tol, limit});
  host_copy(alpha, set.alpha);
  host_copy(rho, set.rho);
  host_copy(iterations, set.iterations);
}

HostMatrix ovo_decisions(const DMatrix& K, const std::vector<int>& query_ids, const OvoSet& set) {
  const std::size_t pairs = set.pairs.size(), n = query_ids.size();
  std::vector<double> coef(set.index.size());
  for (std::size_t k = 0; k < coef.size(); ++k) coef[k] = set.coef(k);
  const auto queries = device_copy(query_ids, "svm_queries");
  const auto index = device_copy(set.index, "svm_index");
  const auto offset = device_copy(set.offset, "svm_offset");
  const auto c = device_copy(coef, "svm_coef");
  const auto rho = device_copy(set.rho, "svm_rho");
  DMatrix out(Kokkos::view_alloc(std::string("svm_decisions"), Kokkos::WithoutInitializing), n,
              pairs);
  using Policy = Kokkos::MDRangePolicy<Space, Kokkos::Rank<2>>;
  Kokkos::parallel_for(
      "tessera::svm::decision", Policy({0, 0}, {n, pairs}),
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t p) {
        double sum = 0;
        const int q = queries(r);
        for (int k = offset(p); k < offset(p + 1); ++k) sum += c(k) * K(q, index(k));
        out(r, p) = sum - rho(p);
      });
  HostMatrix host(Kokkos::view_alloc(std::string("decisions"), Kokkos::WithoutInitializing), n,
                  pairs);
  Kokkos::deep_copy(host, out);
  return host;
}

std::vector<int> ovo_votes(const HostMatrix& decisions, const OvoSet& set) {
  std::vector<int> out(decisions.extent(0));
  std::vector<int> votes(static_cast<std::size_t>(set.n_classes));
  for (std::size_t r = 0; r < out.size(); ++r) {
    std::fill(votes.begin(), votes.end(), 0);
    for (std::size_t p = 0; p < set.pairs.size(); ++p)
      ++votes[static_cast<std::size_t>(decisions(r, p) > 0 ? set.pairs[p][0] : set.pairs[p][1])];
    out[r] = static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  return out;
}

}  // namespace tessera::ml::impl
