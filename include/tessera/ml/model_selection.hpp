#pragma once
/// @file
/// @brief Cross-validation splits that reproduce scikit-learn's `KFold` and
/// `StratifiedKFold` (without shuffling, index for index), and the grid search of SVC
/// parameters over every rank (tessera/ml/grid_search.hpp).

#include <cstdint>
#include <vector>

#include <tessera/io/table.hpp>

namespace tessera::ml {

/// @brief One split: training and validation (test) row indices, both ascending.
struct Fold {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> test;
};

/// @brief scikit-learn's KFold: consecutive test blocks, the first n % k one row larger.
/// With `shuffle`, rows are permuted first by a counter-based generator keyed by `seed`
/// (the same folds on any machine, not NumPy's).
/// @throws InvalidArgument for n_splits < 2 or n_splits > n.
std::vector<Fold> kfold(std::size_t n, int n_splits, bool shuffle = false, std::uint64_t seed = 0);

/// @brief scikit-learn's StratifiedKFold: each class's rows (classes in order of first
/// appearance) dealt to folds so that fold class counts differ by at most one, as
/// scikit-learn allocates them. With `shuffle`, each class's fold assignment is permuted
/// (counter-based generator keyed by `seed`).
/// @throws InvalidArgument for n_splits < 2, non-integer labels, or a class with fewer
/// rows than n_splits (naming it; scikit-learn only warns there).
std::vector<Fold> stratified_kfold(const HostVector& y, int n_splits, bool shuffle = false,
                                   std::uint64_t seed = 0);

}  // namespace tessera::ml
