#pragma once
/// @file
/// @brief `SVC`: C-support vector classification with libsvm's solver and parameter
/// meanings (what scikit-learn's `SVC` wraps), trained on the build's device.
///
/// @code
/// tessera::ml::SVCParams p;
/// p.C = 10;
/// p.gamma = tessera::ml::Gamma::value(0.001);
/// tessera::ml::SVC clf(p);
/// clf.fit(X, y);                        // HostMatrix (n × d), HostVector of class labels
/// tessera::HostVector labels = clf.predict(X_test);
/// clf.save("digits.model");            // libsvm's text model format (svm-predict reads it)
/// @endcode
///
/// Multiclass is one-vs-one with libsvm's voting; classes are the sorted distinct labels.
/// Each binary problem is solved by SMO with second-order working-set selection (Fan,
/// Chen & Lin 2005) and libsvm's stopping rule (maximal violating pair gap < tol); all
/// the class pairs train at once, one per thread (CPU) or per GPU thread. Kernel values
/// come from a kernel matrix computed with one GEMM; when that would pass
/// `kernel_memory`, pairs train one after another, each SMO step a parallel reduction,
/// with kernel rows from an LRU cache.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <tessera/io/table.hpp>

namespace tessera::ml {

/// @brief Kernel functions, as libsvm defines them.
enum class Kernel {
  linear,   ///< x·y
  poly,     ///< (gamma x·y + coef0)^degree
  rbf,      ///< exp(-gamma |x - y|²)
  sigmoid,  ///< tanh(gamma x·y + coef0)
};

/// @brief "linear", "poly", "rbf", "sigmoid" (InvalidArgument otherwise).
Kernel parse_kernel(const std::string& name);
const char* to_string(Kernel kernel);

/// @brief gamma: a value, or scikit-learn's "scale" (1 / (features · Var(X))) or "auto"
/// (1 / features).
struct Gamma {
  enum class Mode { value, scale, automatic } mode = Mode::scale;
  double number = 0.0;
  static Gamma value(double g) { return {Mode::value, g}; }
  static Gamma scale() { return {Mode::scale, 0.0}; }
  static Gamma automatic() { return {Mode::automatic, 0.0}; }
  /// "scale", "auto" or a positive number.
  static Gamma parse(const std::string& text);
  /// The value for data X (features = X.extent(1)).
  double resolve(const HostMatrix& X) const;
};

/// @brief Parameters of `SVC`, with scikit-learn's defaults.
struct SVCParams {
  Kernel kernel = Kernel::rbf;
  double C = 1.0;
  Gamma gamma = Gamma::scale();
  int degree = 3;
  double coef0 = 0.0;
  double tol = 1e-3;
  /// libsvm's shrinking heuristic for training sets solved with cached kernel rows (above
  /// `kernel_memory`): samples at a bound that cannot enter the working set are set aside
  /// every min(l, 1000) iterations and their gradient rebuilt at the end. The in-memory
  /// solver (all pairs at once) scans every sample. The optimum is the same either way
  /// (within `tol`); off by default, the reference configuration.
  bool shrinking = false;
  /// Iterations per binary problem; -1: libsvm's own limit (max(10⁷, 100·n)).
  std::int64_t max_iter = -1;
  /// Per-class multipliers of C (label → weight); classes not named get 1.
  std::map<double, double> class_weight;
  /// Bytes the kernel matrix (n × n floats) may take. Above it, each class pair is
  /// solved on its own with kernel rows (float, as libsvm) computed in GEMM batches into
  /// an LRU cache of at most this many bytes (at least 3 rows).
  std::uint64_t kernel_memory = std::uint64_t(8) << 30;
  /// @throws InvalidArgument naming the bad parameter (C <= 0, gamma <= 0, degree < 1,
  /// tol <= 0, a weight <= 0).
  void validate() const;
};

/// @brief A fitted (or loaded) C-SVC model in libsvm's layout.
class SVC {
 public:
  explicit SVC(SVCParams params = {});

  /// @brief Trains on rows of X with labels y (class labels: integers as doubles).
  /// @throws InvalidArgument for a single class, non-integer or NaN labels, mismatched
  /// sizes.
  SVC& fit(const HostMatrix& X, const HostVector& y);

  /// @brief One-vs-one decision values, n × k(k−1)/2, pairs (0,1), (0,2), …, (1,2), …
  /// in class order; positive votes for the pair's first class (libsvm's convention;
  /// scikit-learn's binary `decision_function` is the negative).
  HostMatrix decision_function(const HostMatrix& X) const;
  /// @brief Predicted labels (libsvm's voting; ties go to the lower class).
  HostVector predict(const HostMatrix& X) const;
  /// @brief Mean accuracy of predict(X) against y.
  double score(const HostMatrix& X, const HostVector& y) const;

  /// @brief Writes libsvm's text model format (svm-predict reads it).
  void save(const std::string& path) const;
  /// @brief Reads a model written by `save` or by libsvm's svm-train (c_svc).
  /// @throws ParseError naming the file and line for anything else.
  static SVC load(const std::string& path);

  const SVCParams& params() const { return params_; }
  bool fitted() const { return !classes_.empty(); }
  /// Sorted class labels.
  const std::vector<double>& classes() const { return classes_; }
  /// Support vectors per class.
  const std::vector<int>& n_support() const { return n_support_; }
  /// Support vectors, grouped by class in class order (training order within a class).
  const HostMatrix& support_vectors() const { return support_vectors_; }
  /// Indices of the support vectors in the training data.
  const std::vector<std::int64_t>& support() const { return support_; }
  /// libsvm's sv_coef: (k − 1) × n_SV.
  const HostMatrix& dual_coef() const { return dual_coef_; }
  /// libsvm's rho per class pair (decision = Σ coef·K − rho).
  const std::vector<double>& rho() const { return rho_; }
  /// The gamma used (resolved from scale/auto at fit).
  double gamma_value() const { return gamma_value_; }
  /// SMO iterations per class pair in the last fit.
  const std::vector<std::int64_t>& iterations() const { return iterations_; }
  /// Shrinking rounds that set samples aside in the last fit (the cached solver only).
  std::int64_t shrink_rounds() const { return shrink_rounds_; }

 private:
  SVCParams params_;
  double gamma_value_ = 0.0;
  std::vector<double> classes_;
  std::vector<int> n_support_;
  HostMatrix support_vectors_;
  std::vector<std::int64_t> support_;
  HostMatrix dual_coef_;
  std::vector<double> rho_;
  std::vector<std::int64_t> iterations_;
  std::int64_t shrink_rounds_ = 0;
};

}  // namespace tessera::ml
