#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/core/log.hpp>
#include <tessera/io/results.hpp>
#include <tessera/ml/svc.hpp>

#include "cached_smo.hpp"
#include "ovo.hpp"

namespace tessera::ml {

Kernel parse_kernel(const std::string& name) {
  if (name == "linear") return Kernel::linear;
  if (name == "poly" || name == "polynomial") return Kernel::poly;
  if (name == "rbf") return Kernel::rbf;
  if (name == "sigmoid") return Kernel::sigmoid;
  throw InvalidArgument("unknown kernel '" + name + "' (linear, poly, rbf, sigmoid)");
}

const char* to_string(Kernel kernel) {
  switch (kernel) {
    case Kernel::linear: return "linear";
    case Kernel::poly: return "poly";
    case Kernel::rbf: return "rbf";
    case Kernel::sigmoid: return "sigmoid";
  }
  return "rbf";
}

Gamma Gamma::parse(const std::string& text) {
  if (text == "scale") return scale();
  if (text == "auto") return automatic();
  char* end = nullptr;
  const double g = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(g > 0) || !std::isfinite(g))
    throw InvalidArgument("gamma must be 'scale', 'auto' or a number > 0, got '" + text + "'");
  return value(g);
}

double Gamma::resolve(const HostMatrix& X) const {
  const double features = static_cast<double>(X.extent(1));
  switch (mode) {
    case Mode::value: return number;
    case Mode::automatic: return 1.0 / features;
    case Mode::scale: {
      // scikit-learn: 1 / (n_features * X.var()), the variance of all values.
      const double n = static_cast<double>(X.span());
      double mean = 0;
      for (std::size_t i = 0; i < X.extent(0); ++i)
        for (std::size_t j = 0; j < X.extent(1); ++j) mean += X(i, j);
      mean /= n;
      double var = 0;
      for (std::size_t i = 0; i < X.extent(0); ++i)
        for (std::size_t j = 0; j < X.extent(1); ++j) var += (X(i, j) - mean) * (X(i, j) - mean);
      var /= n;
      return var > 0 ? 1.0 / (features * var) : 1.0;
    }
  }
  return number;
}

void SVCParams::validate() const {
  if (!(C > 0) || !std::isfinite(C)) throw InvalidArgument(fmt::format("C must be > 0, got {}", C));
  if (gamma.mode == Gamma::Mode::value && (!(gamma.number > 0) || !std::isfinite(gamma.number)))
    throw InvalidArgument(fmt::format("gamma must be > 0, got {}", gamma.number));
  if (kernel == Kernel::poly && degree < 1)
    throw InvalidArgument(fmt::format("degree must be >= 1, got {}", degree));
  if (!(tol > 0)) throw InvalidArgument(fmt::format("tol must be > 0, got {}", tol));
  if (max_iter == 0 || max_iter < -1)
    throw InvalidArgument(fmt::format("max_iter must be -1 or >= 1, got {}", max_iter));
  for (const auto& [label, w] : class_weight)
    if (!(w > 0) || !std::isfinite(w))
      throw InvalidArgument(fmt::format("class weight of {} must be > 0, got {}", label, w));
}

namespace {

detail::KernelSpec spec_of(const SVCParams& p, double gamma) {
  detail::KernelSpec s;
  s.kind = static_cast<detail::KernelKind>(static_cast<int>(p.kernel));
  s.gamma = gamma;
  s.coef0 = p.coef0;
  s.degree = p.degree;
  return s;
}

// The model's binary problems over its support vectors (coef = dual coefficient).
impl::OvoSet model_set(const std::vector<int>& n_support, const HostMatrix& dual_coef,
                       const std::vector<double>& rho) {
  impl::OvoSet set;
  const int k = static_cast<int>(n_support.size());
  set.n_classes = k;
  std::vector<int> start(static_cast<std::size_t>(k) + 1, 0);
  for (int c = 0; c < k; ++c) start[c + 1] = start[c] + n_support[static_cast<std::size_t>(c)];
  set.class_start = start;
  set.order.resize(static_cast<std::size_t>(start[static_cast<std::size_t>(k)]));
  std::iota(set.order.begin(), set.order.end(), 0);  // support vectors by class already
  set.offset.push_back(0);
  for (int a = 0; a < k; ++a)
    for (int b = a + 1; b < k; ++b) {
      set.pairs.push_back({a, b});
      for (int s = start[a]; s < start[a + 1]; ++s)
        set.index.push_back(s), set.y.push_back(1.0), set.alpha.push_back(dual_coef(b - 1, s));
      for (int s = start[b]; s < start[b + 1]; ++s)
        set.index.push_back(s), set.y.push_back(1.0), set.alpha.push_back(dual_coef(a, s));
      set.offset.push_back(static_cast<int>(set.index.size()));
    }
  set.rho = rho;
  return set;
}

// X with `cols` columns (zeros added; libsvm treats absent features as 0).
HostMatrix widen(const HostMatrix& X, std::size_t cols) {
  if (X.extent(1) >= cols) return X;
  HostMatrix W("widened", X.extent(0), cols);
  for (std::size_t i = 0; i < X.extent(0); ++i)
    for (std::size_t j = 0; j < X.extent(1); ++j) W(i, j) = X(i, j);
  return W;
}

}  // namespace

SVC::SVC(SVCParams params) : params_(std::move(params)) { params_.validate(); }

SVC& SVC::fit(const HostMatrix& X, const HostVector& y) {
  params_.validate();
  const std::size_t n = X.extent(0);
  TESSERA_EXPECTS(y.extent(0) == n, fmt::format("SVC::fit: {} labels for {} rows", y.extent(0), n));
  TESSERA_EXPECTS(n >= 2 && X.extent(1) >= 1, "SVC::fit: needs at least 2 rows and 1 column");
  impl::require_finite(X, "SVC::fit");
  impl::Encoded labels = impl::encode_labels(y, params_.class_weight, "SVC::fit");
  const std::vector<double>& classes = labels.classes;
  const std::vector<int>& cls = labels.cls;
  const std::vector<double>& weight = labels.weight;
  gamma_value_ = params_.gamma.resolve(X);
  const auto spec = spec_of(params_, gamma_value_);
  const impl::DMatrix Xd = impl::to_device(X);
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  impl::OvoSet set = impl::make_ovo(all, cls, static_cast<int>(classes.size()));
  shrink_rounds_ = 0;
  // The kernel matrix when it fits the budget (all pairs at once), else cached Q rows
  // (one pair at a time).
  if (static_cast<std::uint64_t>(n) * n * sizeof(float) <= params_.kernel_memory) {
    Kokkos::Timer timer;
    impl::prepare_kernel(set, Xd, spec);
    Kokkos::fence();
    const double t_kernel = timer.seconds();
    impl::solve_ovo(set, params_.C, weight, params_.tol, params_.max_iter);
    std::int64_t total = 0;
    for (auto it : set.iterations) total += it;
    log_debug(fmt::format("SVC::fit: kernel matrix {:.4f} s, SMO {:.4f} s ({} iterations)",
                          t_kernel, timer.seconds() - t_kernel, total));
  } else {
    const impl::CacheStats stats =
        impl::solve_ovo_cached(Xd, set, spec, params_.C, weight, params_.tol, params_.max_iter,
                               params_.kernel_memory, params_.shrinking);
    shrink_rounds_ = stats.shrinks;
    log_debug(
        fmt::format("SVC::fit: kernel-row cache of {} rows: {} rows computed in {} batches "
                    "for {} misses; {} shrinking rounds",
                    stats.slots, stats.rows_computed, stats.batches, stats.misses, stats.shrinks));
  }

  // libsvm's model layout: support vectors grouped by class, training order within.
  const int k = static_cast<int>(classes.size());
  std::vector<char> nonzero(n, 0);
  for (std::size_t pos = 0; pos < set.index.size(); ++pos)
    if (set.alpha[pos] > 0) nonzero[static_cast<std::size_t>(set.index[pos])] = 1;
  classes_ = classes;
  n_support_.assign(static_cast<std::size_t>(k), 0);
  support_.clear();
  std::vector<int> sv_of(n, -1);
  for (int c = 0; c < k; ++c)
    for (std::size_t i = 0; i < n; ++i)
      if (cls[i] == c && nonzero[i]) {
        sv_of[i] = static_cast<int>(support_.size());
        support_.push_back(static_cast<std::int64_t>(i));
        ++n_support_[static_cast<std::size_t>(c)];
      }
  support_vectors_ = HostMatrix("support_vectors", support_.size(), X.extent(1));
  for (std::size_t s = 0; s < support_.size(); ++s)
    for (std::size_t j = 0; j < X.extent(1); ++j)
      support_vectors_(s, j) = X(static_cast<std::size_t>(support_[s]), j);
  dual_coef_ = HostMatrix("dual_coef", static_cast<std::size_t>(k - 1), support_.size());
  for (std::size_t p = 0; p < set.pairs.size(); ++p) {
    const int a = set.pairs[p][0], b = set.pairs[p][1];
    for (int pos = set.offset[p]; pos < set.offset[p + 1]; ++pos) {
      const int sv = sv_of[static_cast<std::size_t>(set.index[static_cast<std::size_t>(pos)])];
      if (sv < 0) continue;
      const int row = set.y[static_cast<std::size_t>(pos)] > 0 ? b - 1 : a;
      dual_coef_(static_cast<std::size_t>(row), static_cast<std::size_t>(sv)) =
          set.coef(static_cast<std::size_t>(pos));
    }
  }
  rho_ = set.rho;
  iterations_ = set.iterations;
  return *this;
}

HostMatrix SVC::decision_function(const HostMatrix& X) const {
  TESSERA_EXPECTS(fitted(), "SVC: the model is not fitted (call fit or load first)");
  impl::require_finite(X, "SVC::predict");
  const std::size_t width = std::max(X.extent(1), support_vectors_.extent(1));
  const auto spec = spec_of(params_, gamma_value_);
  const impl::OvoSet set = model_set(n_support_, dual_coef_, rho_);
  const impl::DMatrix Xd = impl::to_device(widen(X, width));
  const impl::DMatrix SV = impl::to_device(widen(support_vectors_, width));
  // Query rows in blocks whose kernel values (block × support vectors) take 16 MiB: the
  // buffers are then reused from the heap (glibc maps larger ones afresh, and zeroing
  // new pages cost more than the kernel values on a 50000-row training set).
  const std::size_t n = X.extent(0), nsv = std::max<std::size_t>(SV.extent(0), 1);
  const std::size_t block = std::max<std::size_t>(64, (std::size_t(16) << 20) / (8 * nsv));
  HostMatrix out(Kokkos::view_alloc(std::string("decisions"), Kokkos::WithoutInitializing), n,
                 set.pairs.size());
  for (std::size_t begin = 0;; begin += block) {
    const std::size_t end = std::min(n, begin + block);
    const auto rows = Kokkos::subview(Xd, std::make_pair(begin, end), Kokkos::ALL);
    const impl::DMatrix K = impl::kernel_matrix(rows, SV, spec);
    std::vector<int> ids(end - begin);
    std::iota(ids.begin(), ids.end(), 0);
    const HostMatrix part = impl::ovo_decisions(K, ids, set);
    Kokkos::deep_copy(Kokkos::subview(out, std::make_pair(begin, end), Kokkos::ALL), part);
    if (end == n) break;
  }
  return out;
}

HostVector SVC::predict(const HostMatrix& X) const {
  const HostMatrix dec = decision_function(X);
  const auto votes = impl::ovo_votes(dec, static_cast<int>(classes_.size()));
  HostVector out(Kokkos::view_alloc(std::string("predictions"), Kokkos::WithoutInitializing),
                 votes.size());
  for (std::size_t i = 0; i < votes.size(); ++i)
    out(i) = classes_[static_cast<std::size_t>(votes[i])];
  return out;
}

double SVC::score(const HostMatrix& X, const HostVector& y) const {
  TESSERA_EXPECTS(y.extent(0) == X.extent(0),
                  fmt::format("SVC::score: {} labels for {} rows", y.extent(0), X.extent(0)));
  const HostVector p = predict(X);
  std::size_t right = 0;
  for (std::size_t i = 0; i < p.extent(0); ++i) right += p(i) == y(i);
  return p.extent(0) ? static_cast<double>(right) / static_cast<double>(p.extent(0)) : 0.0;
}

void SVC::save(const std::string& path) const {
  TESSERA_EXPECTS(fitted(), "SVC::save: the model is not fitted");
  std::string out = "svm_type c_svc\n";
  const char* kernel_names[] = {"linear", "polynomial", "rbf", "sigmoid"};
  out += fmt::format("kernel_type {}\n", kernel_names[static_cast<int>(params_.kernel)]);
  if (params_.kernel == Kernel::poly) out += fmt::format("degree {}\n", params_.degree);
  if (params_.kernel != Kernel::linear)
    out += fmt::format("gamma {}\n", io::format_double(gamma_value_));
  if (params_.kernel == Kernel::poly || params_.kernel == Kernel::sigmoid)
    out += fmt::format("coef0 {}\n", io::format_double(params_.coef0));
  out += fmt::format("nr_class {}\ntotal_sv {}\nrho", classes_.size(), support_.size());
  for (double r : rho_) out += " " + io::format_double(r);
  out += "\nlabel";
  for (double c : classes_) out += fmt::format(" {}", static_cast<long long>(c));
  out += "\nnr_sv";
  for (int c : n_support_) out += fmt::format(" {}", c);
  out += "\nSV\n";
  for (std::size_t s = 0; s < support_vectors_.extent(0); ++s) {
    for (std::size_t r = 0; r < dual_coef_.extent(0); ++r)
      out += io::format_double(dual_coef_(r, s)) + " ";
    for (std::size_t j = 0; j < support_vectors_.extent(1); ++j)
      if (support_vectors_(s, j) != 0.0)
        out += fmt::format("{}:{} ", j + 1, io::format_double(support_vectors_(s, j)));
    out += "\n";
  }
  io::write_file_atomic(path, out);
}

SVC SVC::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IOError(path + ": cannot open the model file");
  SVC model;
  std::string line;
  long number = 0;
  int nr_class = 0;
  long total_sv = -1;
  bool saw_type = false;
  const auto fail = [&](const std::string& what) -> ParseError {
    return ParseError(path, number, 0, what + " (not a libsvm c_svc model?)");
  };
  std::vector<double> labels;
  bool saw_kernel = false, saw_gamma = false;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key.empty()) continue;  // a blank line (libsvm's reader skips white space too)
    if (key == "SV") break;
    if (key == "svm_type") {
      std::string type;
      words >> type;
      if (type != "c_svc") throw fail("svm_type '" + type + "' is not supported (c_svc only)");
      saw_type = true;
    } else if (key == "kernel_type") {
      std::string kernel;
      words >> kernel;
      try {
        model.params_.kernel = parse_kernel(kernel);
      } catch (const InvalidArgument&) {
        throw fail("kernel_type '" + kernel + "' is not supported");
      }
      saw_kernel = true;
    } else if (key == "degree") {
      words >> model.params_.degree;
    } else if (key == "gamma") {
      words >> model.gamma_value_;
      saw_gamma = true;
    } else if (key == "coef0") {
      words >> model.params_.coef0;
    } else if (key == "nr_class") {
      words >> nr_class;
    } else if (key == "total_sv") {
      words >> total_sv;
    } else if (key == "rho") {
      for (double r; words >> r;) model.rho_.push_back(r);
    } else if (key == "label") {
      for (double l; words >> l;) labels.push_back(l);
    } else if (key == "nr_sv") {
      for (int c; words >> c;) model.n_support_.push_back(c);
    } else if (key == "probA" || key == "probB" || key == "prob_density_marks") {
      // probability estimates: not used for prediction
    } else {
      throw fail("unexpected '" + key + "'");
    }
    if (!saw_type) throw fail("the first line must be 'svm_type c_svc'");
    if (words.fail() && !words.eof()) throw fail("cannot read the value of '" + key + "'");
  }
  if (!saw_type) throw ParseError(path, number, 0, "no 'svm_type' line: not a libsvm model");
  if (!saw_kernel) throw fail("no 'kernel_type' line");
  const Kernel kernel = model.params_.kernel;
  if (kernel != Kernel::linear && !saw_gamma)
    throw fail(fmt::format("no 'gamma' line (the {} kernel needs one)", to_string(kernel)));
  if (kernel != Kernel::linear && !(model.gamma_value_ > 0 && std::isfinite(model.gamma_value_)))
    throw fail(fmt::format("gamma must be a number > 0, got {}", model.gamma_value_));
  if (kernel == Kernel::poly && model.params_.degree < 1)
    throw fail(fmt::format("degree must be >= 1, got {}", model.params_.degree));
  if (!std::isfinite(model.params_.coef0))
    throw fail(fmt::format("coef0 must be finite, got {}", model.params_.coef0));
  for (const double r : model.rho_)
    if (!std::isfinite(r)) throw fail(fmt::format("rho {} is not finite", r));
  const std::size_t pairs = static_cast<std::size_t>(nr_class) * (nr_class - 1) / 2;
  if (nr_class < 2 || model.rho_.size() != pairs || labels.size() != std::size_t(nr_class) ||
      model.n_support_.size() != std::size_t(nr_class) || total_sv < 0 ||
      std::accumulate(model.n_support_.begin(), model.n_support_.end(), 0L) != total_sv)
    throw fail("inconsistent header: nr_class, rho, label, nr_sv and total_sv do not agree");
  for (const double l : labels)  // libsvm's labels are ints
    if (!(std::isfinite(l) && l == std::round(l) && std::fabs(l) <= INT_MAX))
      throw fail(fmt::format("label {} is not an integer", l));
  // libsvm lists labels in its own class order; tessera keeps them sorted.
  if (std::adjacent_find(labels.begin(), labels.end(), std::greater_equal<>()) != labels.end())
    throw fail(
        "labels are not distinct and in increasing order (models from tessera or "
        "sorted-label data only)");
  model.classes_ = labels;
  std::vector<std::vector<std::pair<std::size_t, double>>> rows;
  std::vector<std::vector<double>> coefs;
  std::size_t width = 0;
  while (static_cast<long>(rows.size()) < total_sv && std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::vector<double> coef(static_cast<std::size_t>(nr_class - 1));
    std::string word;
    for (std::size_t r = 0; r < coef.size(); ++r) {
      if (!(words >> word) || word.find(':') != std::string::npos)
        throw fail(
            fmt::format("support vector line needs {} coefficients, found {}", nr_class - 1, r));
      char* end = nullptr;
      coef[r] = std::strtod(word.c_str(), &end);
      if (*end != '\0' || !std::isfinite(coef[r]))
        throw fail("coefficient '" + word + "' is not a finite number");
    }
    std::vector<std::pair<std::size_t, double>> row;
    std::string pair;
    while (words >> pair) {
      const auto colon = pair.find(':');
      char* end = nullptr;
      const long index = colon == std::string::npos ? 0 : std::strtol(pair.c_str(), &end, 10);
      if (index < 1 || end != pair.c_str() + colon) throw fail("bad feature '" + pair + "'");
      if (index > INT_MAX)  // libsvm's indices are ints
        throw fail(fmt::format("feature index {} is above {}", index, INT_MAX));
      const double value = std::strtod(pair.c_str() + colon + 1, &end);
      if (*end != '\0' || !std::isfinite(value))
        throw fail("bad feature value '" + pair + "' (a finite number)");
      row.emplace_back(static_cast<std::size_t>(index - 1), value);
      width = std::max(width, static_cast<std::size_t>(index));
    }
    rows.push_back(std::move(row));
    coefs.push_back(std::move(coef));
  }
  if (static_cast<long>(rows.size()) != total_sv)
    throw ParseError(path, number, 0,
                     fmt::format("{} support vectors, the header says {}", rows.size(), total_sv));
  model.support_vectors_ =
      HostMatrix("support_vectors", rows.size(), std::max<std::size_t>(width, 1));
  model.dual_coef_ = HostMatrix("dual_coef", static_cast<std::size_t>(nr_class - 1), rows.size());
  for (std::size_t s = 0; s < rows.size(); ++s) {
    for (const auto& [j, v] : rows[s]) model.support_vectors_(s, j) = v;
    for (std::size_t r = 0; r < coefs[s].size(); ++r) model.dual_coef_(r, s) = coefs[s][r];
    model.support_.push_back(static_cast<std::int64_t>(s));
  }
  // (linear: the value is unused, and any valid one does)
  model.params_.gamma = Gamma::value(kernel == Kernel::linear ? 1.0 : model.gamma_value_);
  return model;
}

}  // namespace tessera::ml
