#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/rng.hpp>
#include <tessera/ml/model_selection.hpp>

namespace tessera::ml {

namespace {

// Fisher-Yates with counter-based draws: the same permutation everywhere for a seed.
template <class T>
void shuffle_in_place(std::vector<T>& v, std::uint64_t seed, std::uint64_t stream) {
  const CounterRng rng(seed, stream);
  for (std::size_t i = v.size(); i > 1; --i)
    std::swap(v[i - 1], v[static_cast<std::size_t>(rng.integer(i - 1, i))]);
}

std::vector<Fold> folds_from_assignment(const std::vector<int>& fold_of, int n_splits) {
  std::vector<Fold> folds(static_cast<std::size_t>(n_splits));
  for (std::size_t i = 0; i < fold_of.size(); ++i)
    for (int f = 0; f < n_splits; ++f)
      (fold_of[i] == f ? folds[static_cast<std::size_t>(f)].test
                       : folds[static_cast<std::size_t>(f)].train)
          .push_back(static_cast<std::int64_t>(i));
  return folds;
}

}  // namespace

std::vector<Fold> kfold(std::size_t n, int n_splits, bool shuffle, std::uint64_t seed) {
  TESSERA_EXPECTS(n_splits >= 2, fmt::format("folds: need at least 2 splits, got {}", n_splits));
  TESSERA_EXPECTS(
      static_cast<std::size_t>(n_splits) <= n,
      fmt::format("folds: {} splits for {} rows (at most one split per row)", n_splits, n));
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) shuffle_in_place(order, seed, 0);
  std::vector<int> fold_of(n);
  std::size_t start = 0;
  for (int f = 0; f < n_splits; ++f) {
    const std::size_t size = n / n_splits + (static_cast<std::size_t>(f) < n % n_splits ? 1 : 0);
    for (std::size_t k = start; k < start + size; ++k)
      fold_of[static_cast<std::size_t>(order[k])] = f;
    start += size;
  }
  return folds_from_assignment(fold_of, n_splits);
}

std::vector<Fold> stratified_kfold(const HostVector& y, int n_splits, bool shuffle,
                                   std::uint64_t seed) {
  TESSERA_EXPECTS(n_splits >= 2, fmt::format("folds: need at least 2 splits, got {}", n_splits));
  const std::size_t n = y.extent(0);
  // Classes in order of first appearance (scikit-learn's encoding).
  std::vector<double> classes;
  std::vector<int> code(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y(i)) || y(i) != std::round(y(i)))
      throw InvalidArgument(fmt::format("folds: label {} of row {} is not an integer", y(i), i));
    const auto it = std::find(classes.begin(), classes.end(), y(i));
    code[i] = static_cast<int>(it - classes.begin());
    if (it == classes.end()) classes.push_back(y(i));
  }
  const std::size_t k = classes.size();
  std::vector<std::size_t> counts(k, 0);
  for (int c : code) ++counts[static_cast<std::size_t>(c)];
  for (std::size_t c = 0; c < k; ++c)
    if (counts[c] < static_cast<std::size_t>(n_splits))
      throw InvalidArgument(
          fmt::format("folds: class {} has {} rows, fewer than the {} folds (every fold needs one "
                      "of each class)",
                      classes[c], counts[c], n_splits));
  // allocation[f][c]: rows of class c in fold f = bincount(sorted codes[f::n_splits]).
  std::vector<int> sorted(code);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::size_t>> allocation(static_cast<std::size_t>(n_splits),
                                                   std::vector<std::size_t>(k, 0));
  for (std::size_t i = 0; i < n; ++i)
    ++allocation[i % static_cast<std::size_t>(n_splits)][static_cast<std::size_t>(sorted[i])];
  std::vector<int> fold_of(n);
  for (std::size_t c = 0; c < k; ++c) {
    std::vector<int> folds_for_class;
    for (int f = 0; f < n_splits; ++f)
      folds_for_class.insert(folds_for_class.end(), allocation[static_cast<std::size_t>(f)][c], f);
    if (shuffle) shuffle_in_place(folds_for_class, seed, c + 1);
    std::size_t next = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (static_cast<std::size_t>(code[i]) == c) fold_of[i] = folds_for_class[next++];
  }
  return folds_from_assignment(fold_of, n_splits);
}

}  // namespace tessera::ml
