#pragma once
// One-vs-one C-SVC problems over a "universe" of samples whose kernel matrix is on the
// device: building the binary problems, solving them all at once (SmoBatch, SmoTeam), and
// decision values / votes for query rows. Shared by SVC and GridSearch. Internal.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Kokkos_Core.hpp>
#include <tessera/io/table.hpp>
#include <tessera/kernels/svm.hpp>

namespace tessera::ml::impl {

using Space = Kokkos::DefaultExecutionSpace;
using Mem = Space::memory_space;
using DMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Mem>;
using DVector = Kokkos::View<double*, Mem>;

/// Labels encoded for training: sorted classes, each row's class index, C weights.
struct Encoded {
  std::vector<double> classes;
  std::vector<int> cls;
  std::vector<double> weight;
};
/// @throws InvalidArgument (prefixed by `who`) for a label that is not an integer or a
/// single class.
Encoded encode_labels(const HostVector& y, const std::map<double, double>& class_weight,
                      const std::string& who);

/// @throws InvalidArgument (prefixed by `who`) naming the first row and column of X that
/// holds NaN or ±inf: SVMs have no meaning for them.
void require_finite(const HostMatrix& X, const std::string& who);

/// Rows of a host matrix on the device (the same View where the device is the host: not
/// to be written).
DMatrix to_device(const HostMatrix& X);
/// A host vector copied to the device.
template <class T>
Kokkos::View<T*, Mem> device_copy(const std::vector<T>& v, const char* label) {
  Kokkos::View<T*, Mem> out(Kokkos::view_alloc(std::string(label), Kokkos::WithoutInitializing),
                            v.size());
  Kokkos::deep_copy(
      out, Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(v.data(), v.size()));
  return out;
}
/// The rows rows(0), rows(1), … of X (a new matrix).
DMatrix gather_rows(const DMatrix& X, const Kokkos::View<int*, Mem>& rows);
/// Squared norms of the rows.
DVector row_norms(const DMatrix& X);
/// Dot products A·Bᵀ (one GEMM).
DMatrix dots(const DMatrix& A, const DMatrix& B);

#if !defined(KOKKOS_ENABLE_CUDA)
/// Kernel values of a row (squared norm `norm`) from its dot products with `count` rows
/// (norms: theirs), as float; times ys·y[c] where y is given (Q values). RBF values with a
/// vectorised exp (kmath::exp_fast); compiled for several instruction sets.
void kernel_row(const detail::KernelSpec& spec, const double* dots, double norm,
                const double* norms, std::size_t count, float* out, double ys = 1.0,
                const double* y = nullptr);
#endif
/// Kernel values from dot products and row norms (a new matrix).
DMatrix kernel_from_dots(const DMatrix& dots, const DVector& a_norms, const DVector& b_norms,
                         const detail::KernelSpec& spec);
/// K(i, j) = k(a_i, b_j).
DMatrix kernel_matrix(const DMatrix& A, const DMatrix& B, const detail::KernelSpec& spec);

/// The binary problems of one-vs-one over training samples of a universe.
struct OvoSet {
  int n_classes = 0;
  std::vector<std::array<int, 2>> pairs;  // (a, b), a < b, in libsvm's order
  std::vector<int> offset;                // pair p owns positions [offset[p], offset[p+1])
  std::vector<int> index;                 // universe sample of each position
  std::vector<double> y;                  // +1 for class a, -1 for class b
  std::vector<double> alpha;              // solution (≥ 0)
  std::vector<double> grad;               // Qα − e at the solution
  // The training samples ordered by class (universe ids) and where each class starts
  // there: the rows of the set's kernel matrix. Pair (a, b)'s positions are class a's
  // samples, then class b's, in this order.
  std::vector<int> order;
  std::vector<int> class_start;
  // On the device, made by prepare_kernel and kept for every solve (the set's structure
  // does not change along a C chain): the kernel matrix of `order` as float (libsvm's Q
  // precision), K(x, x) per row in double, each pair's offset and row segments (and the
  // first row of Kf in Kf_stack).
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> Kf;
  DVector kdiag;
  Kokkos::View<int*, Mem> d_offset;
  Kokkos::View<int* [5], Kokkos::LayoutRight, Mem> d_seg;
  // Kf and kdiag are rows stack_row … of these: the kernel matrices of several sets in
  // one allocation (stack_kernels), so that solve_ovo_batch runs their problems in one
  // launch. A set on its own: the same Views as Kf and kdiag, stack_row 0.
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> Kf_stack;
  DVector kdiag_stack;
  int stack_row = 0;
  DVector d_y;
  double kmax = 0;          // an upper bound of |K| over the kernel matrix (1 or from Kf)
  std::vector<double> rho;  // per pair
  std::vector<std::int64_t> iterations;  // per pair
  /// y·alpha at a position (the dual coefficient).
  double coef(std::size_t pos) const { return y[pos] * alpha[pos]; }
};

/// Problems for every class pair over `train` (universe ids; order kept within a class);
/// cls[id] is the class index (0 .. n_classes − 1) of universe sample id.
OvoSet make_ovo(const std::vector<int>& train, const std::vector<int>& cls, int n_classes);

/// Fraction of `ids` whose predicted class index equals cls[id].
double accuracy_of(const std::vector<int>& predicted, const std::vector<int>& ids,
                   const std::vector<int>& cls);

/// Room for the kernel matrices of `sets` (not yet prepared) in one allocation, their rows
/// stacked, so that solve_ovo_batch can solve all their problems in one launch (a GPU
/// kept busy by every fold's class pairs at once); prepare_kernel then fills each as usual.
void stack_kernels(std::vector<OvoSet>& sets);

/// The set's kernel matrix gathered from the universe kernel matrix K (once per set).
/// within_one: K's values are known to lie in [−1, 1] (RBF, sigmoid).
void prepare_kernel(OvoSet& set, const DMatrix& K, bool within_one = false);
/// The set's kernel matrix computed from the universe's rows X (on the device): only the
/// set's samples, the upper triangle in GEMM panels, mirrored (once per set).
void prepare_kernel(OvoSet& set, const DMatrix& X, const detail::KernelSpec& spec);

/// Before solving for C what was solved for previous_C (warm = true): per pair, the
/// solution scaled by C / previous_C (needed when C shrinks) or, when C grows, whichever of
/// it and the solution as it is has the smaller stopping gap; the gradient to match.
void warm_start(OvoSet& set, double previous_C, double C, const std::vector<double>& weight);

/// How solve_ovo runs the problems: one per thread (detail::SmoBatch, the host's way:
/// its scans vectorise), or one per team of threads (detail::SmoTeam, the GPU's way;
/// teams of `team_size` threads, 0: Kokkos' choice); automatic: the build's way.
enum class SmoLaunch { automatic, per_thread, per_team };

/// Solves every problem of `set` (its kernel prepared) at once. C of a sample is
/// C · weight[class]. With warm = true, set.alpha holds a feasible start (same set), and
/// set.grad, when filled, its gradient Qα − e (not recomputed then).
void solve_ovo(OvoSet& set, double C, const std::vector<double>& weight, double tol,
               std::int64_t max_iter, bool warm = false, SmoLaunch launch = SmoLaunch::automatic,
               int team_size = 0);

/// solve_ovo for several sets at once: every problem of every set in one launch. The sets'
/// kernel matrices are stacked (stack_kernels) and prepared; warm as in solve_ovo, for all
/// of them. Each set gets the bits solve_ovo would give it alone.
void solve_ovo_batch(const std::vector<OvoSet*>& sets, double C, const std::vector<double>& weight,
                     double tol, std::int64_t max_iter, bool warm = false,
                     SmoLaunch launch = SmoLaunch::automatic, int team_size = 0);

/// Kernel values of query samples at a set's training samples, gathered once: they serve
/// every solution of the set (each C of a chain). On CUDA, one block per class (queries ×
/// the class's samples in the set's order, for a GEMM per class); on the host, a row per
/// query with each class's values from a multiple of 8 columns (zeros between), kept
/// multiplied by 2^600 where they are all tiny (see ovo.cpp).
struct QueryKernel {
  Kokkos::View<double*, Mem> storage;
  std::size_t rows = 0;
  std::vector<DMatrix> blocks;  // CUDA: views of storage, one per class
  double* values = nullptr;     // host: rows × width in storage, from a 64-byte boundary
  std::size_t width = 0;
  std::vector<int> cstart;   // host: where each class's columns begin, then the width
  std::vector<char> scaled;  // host: rows × classes, whether the values were scaled
  std::size_t queries() const { return rows; }
};
/// K's rows are query samples and its columns universe samples.
QueryKernel query_kernel(const DMatrix& K, const std::vector<int>& query_ids, const OvoSet& set);

/// Decision values (queries × pairs): Σ coef · K(query, sample) − rho (a sample has a
/// coefficient in the k − 1 pairs of its class only).
HostMatrix ovo_decisions(const QueryKernel& QK, const OvoSet& set);
/// The same from a kernel matrix whose rows are query samples, columns universe samples.
HostMatrix ovo_decisions(const DMatrix& K, const std::vector<int>& query_ids, const OvoSet& set);
/// libsvm's votes (class indices) of the query rows `rows` of QK, or of all of them.
std::vector<int> ovo_predict(const QueryKernel& QK, const OvoSet& set,
                             const std::vector<int>& rows);
std::vector<int> ovo_predict(const QueryKernel& QK, const OvoSet& set);

/// Decisions of training samples in their own pairs, y_s (G_s + 1) − rho, from the
/// gradient; where every own pair is won clearly the prediction is the sample's class.
/// Returns the training accuracy over `ids` (the set's training samples, QK's rows in
/// order), computing full decisions only for the samples that are not settled that way.
double training_accuracy(const QueryKernel& QK, const std::vector<int>& ids,
                         const std::vector<int>& cls, const OvoSet& set);

/// libsvm's vote over decision rows (pairs in libsvm's order (0,1), (0,2), …): class
/// index per row (ties to the lower class).
std::vector<int> ovo_votes(const HostMatrix& decisions, int n_classes);

/// libsvm's default iteration limit for l samples.
std::int64_t default_max_iter(std::size_t l);

}  // namespace tessera::ml::impl
