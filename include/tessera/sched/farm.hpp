#pragma once
/// @file
/// @brief The task farm: a dynamic, load-balanced distributed map over task indices
/// (the role of SCOOP's `futures.map`, ipyparallel's load-balanced view and Dask
/// futures), with affinity groups and a journal for resuming interrupted runs.
///
/// @code
/// // every rank calls this; results come back in index order on every rank
/// std::vector<double> y = tessera::map(comm, 1000, [&](std::int64_t i) { return simulate(i); });
/// double total = tessera::map_reduce(comm, 1000, f, std::plus<>{});
/// @endcode
///
/// How tasks are handed out: a shared counter on rank 0 that every rank advances
/// atomically with one-sided MPI (`Comm::make_counter`), so no rank serves requests and
/// a rank busy with a long task delays nobody. Each grab takes a chunk that shrinks as
/// the work runs out (factoring: remaining / (2 · ranks), at least one), so empty tasks
/// cost a few atomics per rank and uneven tasks still balance at the end.
///
/// `fn` runs on the host of the rank that grabbed the task (it may launch Kokkos
/// kernels on that rank's device) and must not call collectives. Its result type must
/// be trivially copyable. Results depend only on the task index, never on which rank ran
/// it, so a map gives the same answer on any number of ranks.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tessera/comm/comm.hpp>
#include <tessera/core/error.hpp>

namespace tessera {

/// @brief Where a map's results are returned.
enum class Gather {
  all,   ///< every rank gets the full result vector
  root,  ///< rank 0 gets it; other ranks get an empty vector
};

/// @brief How the farm hands out, groups and records tasks.
struct FarmOptions {
  /// Tasks (or affinity groups) per grab; 0 picks them automatically (factoring).
  std::int64_t chunk = 0;
  /// One key per task, or empty. Tasks with equal keys form a group that one rank runs
  /// in increasing index order, back to back, so per-group data (a kernel matrix, a
  /// fold split) can be built once and kept until the key changes. Groups are handed
  /// out in the order of their first task.
  std::vector<std::int64_t> affinity;
  Gather gather = Gather::all;
  /// Folder for the journal of finished results ("" = no journal). Created if absent;
  /// a run without `resume` starts a new journal there. With a journal, SIGTERM and
  /// SIGUSR1 stop the farm after the running task: the journal is flushed, and every
  /// rank throws `tessera::Interrupted`.
  std::string journal;
  /// Skip the tasks whose results are in the journal (and return those results).
  bool resume = false;
  /// Identifies the job (its parameters); a journal written for another key is refused.
  std::string job_key;
  /// Draw a progress bar on rank 0 (see `tessera::progress_wanted`).
  bool progress = false;
  /// Label of the progress bar.
  std::string label = "tasks";
};

/// @brief What happened in one farm run, as seen from the calling rank.
struct FarmStats {
  std::int64_t tasks = 0;            ///< tasks in the map
  std::int64_t resumed = 0;          ///< results taken from the journal
  std::int64_t run_here = 0;         ///< tasks this rank ran
  std::int64_t grabs_here = 0;       ///< counter updates by this rank
  std::vector<std::int64_t> run_by;  ///< tasks run by each rank
  double busy_seconds = 0.0;         ///< this rank's time inside tasks
  double wall_seconds = 0.0;         ///< this rank's time in the farm
};

/// @brief Results in task-index order plus the run's statistics.
template <class T>
struct FarmResult {
  std::vector<T> results;
  FarmStats stats;
};

namespace detail {

/// Runs `task(index, out)` (writing `result_size` bytes to `out`) over the farm; fills
/// `results` with n * result_size bytes in index order where the options ask for them.
FarmStats run_farm(const Comm& comm, std::int64_t n, std::size_t result_size,
                   const std::function<void(std::int64_t, void*)>& task, const FarmOptions& options,
                   std::vector<unsigned char>& results);

}  // namespace detail

/// @brief Runs `fn(i)` for i in [0, n) over every rank of `comm` (collective).
/// @return results in index order (see FarmOptions::gather) and statistics.
/// @throws InvalidArgument for bad options (on every rank); the error a task threw on
/// any rank (on every rank, the lowest rank's); Interrupted after SIGTERM/SIGUSR1.
template <class F>
auto run_map(const Comm& comm, std::int64_t n, F&& fn, const FarmOptions& options = {})
    -> FarmResult<std::decay_t<std::invoke_result_t<F&, std::int64_t>>> {
  using T = std::decay_t<std::invoke_result_t<F&, std::int64_t>>;
  static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                "tessera::map: the task's result type must be trivially copyable (a number, "
                "a struct of numbers, std::array); return an index into your own storage for "
                "anything else");
  std::vector<unsigned char> bytes;
  FarmResult<T> out;
  out.stats = detail::run_farm(
      comm, n, sizeof(T),
      [&fn](std::int64_t i, void* result) {
        const T value = fn(i);
        std::memcpy(result, &value, sizeof(T));
      },
      options, bytes);
  out.results.resize(bytes.size() / sizeof(T));
  if (!bytes.empty()) std::memcpy(out.results.data(), bytes.data(), bytes.size());
  return out;
}

/// @brief Tasks that each write `width` doubles: `fn(i, out)` fills out[0 .. width).
/// @return n × width values, task-major, in index order (see FarmOptions::gather).
template <class F>
FarmResult<double> run_map_doubles(const Comm& comm, std::int64_t n, std::size_t width, F&& fn,
                                   const FarmOptions& options = {}) {
  TESSERA_EXPECTS(width > 0, "tessera::run_map_doubles: width must be > 0");
  std::vector<unsigned char> bytes;
  FarmResult<double> out;
  out.stats = detail::run_farm(
      comm, n, width * sizeof(double),
      [&fn, width](std::int64_t i, void* result) {
        std::vector<double> values(width, 0.0);
        fn(i, values.data());
        std::memcpy(result, values.data(), width * sizeof(double));
      },
      options, bytes);
  out.results.resize(bytes.size() / sizeof(double));
  if (!bytes.empty()) std::memcpy(out.results.data(), bytes.data(), bytes.size());
  return out;
}

/// @brief `fn(0), …, fn(n-1)` computed across the ranks, in index order (collective).
template <class F>
auto map(const Comm& comm, std::int64_t n, F&& fn, const FarmOptions& options = {}) {
  return run_map(comm, n, std::forward<F>(fn), options).results;
}

/// @brief `op(…op(op(fn(0), fn(1)), fn(2))…, fn(n-1))` on every rank (collective).
///
/// The fold runs in index order whatever the rank count, so floating-point sums are
/// identical on 1 or 64 ranks. n must be at least 1.
template <class F, class Op>
auto map_reduce(const Comm& comm, std::int64_t n, F&& fn, Op&& op, FarmOptions options = {}) {
  TESSERA_EXPECTS(n >= 1,
                  "tessera::map_reduce: needs at least one task, got n = " + std::to_string(n));
  options.gather = Gather::all;
  const auto values = map(comm, n, std::forward<F>(fn), options);
  auto total = values.front();
  for (std::size_t i = 1; i < values.size(); ++i) total = op(total, values[i]);
  return total;
}

}  // namespace tessera
