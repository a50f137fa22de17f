#pragma once
/// @file
/// @brief `tessera::Comm`: the one interface through which tessera communicates.
///
/// A Comm is a cheap handle (shared backend). Backends: MPI (host memory; device
/// Views are staged through host mirrors), self (one process, no MPI); the NCCL
/// backend for device memory plugs in behind the same calls. The library never
/// reaches for MPI_COMM_WORLD: a Comm comes from `Runtime::world()`,
/// `tessera::comm_from_mpi` (tessera/comm/mpi.hpp) or `Comm::self()`.
///
/// @code
/// tessera::Runtime runtime(argc, argv);
/// const tessera::Comm& comm = runtime.world();
/// double total = comm.allreduce(local_sum, tessera::ReduceOp::sum);
/// @endcode

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <Kokkos_Core.hpp>
#include <tessera/core/error.hpp>

namespace tessera {

/// @brief Reduction operations of `Comm::allreduce`.
enum class ReduceOp { sum, min, max };

/// @brief Element types the backends reduce natively.
enum class DataType { int32, int64, uint64, float32, float64, byte };

template <class T>
struct data_type_of;
template <>
struct data_type_of<std::int32_t> : std::integral_constant<DataType, DataType::int32> {};
template <>
struct data_type_of<std::int64_t> : std::integral_constant<DataType, DataType::int64> {};
template <>
struct data_type_of<std::uint64_t> : std::integral_constant<DataType, DataType::uint64> {};
template <>
struct data_type_of<float> : std::integral_constant<DataType, DataType::float32> {};
template <>
struct data_type_of<double> : std::integral_constant<DataType, DataType::float64> {};
#if !defined(_WIN32)
template <>
struct data_type_of<long long>
    : std::integral_constant<DataType, sizeof(long long) == 8 ? DataType::int64 : DataType::int32> {
};
template <>
struct data_type_of<unsigned long long> : std::integral_constant<DataType, DataType::uint64> {};
#endif

/// @brief A value with the global index it came from (for minloc/maxloc).
struct ValueLoc {
  double value;
  std::int64_t index;
};

namespace detail {

/// A 64-bit integer held by rank 0 that every rank updates atomically without rank 0
/// taking part (MPI one-sided passive target; a plain integer on one process).
class CounterBackend {
 public:
  virtual ~CounterBackend() = default;
  /// Adds `delta` and returns the value before the addition.
  virtual std::int64_t fetch_add(std::int64_t delta) = 0;
};

/// The operations a communication backend implements, on raw buffers. Buffers are in
/// host memory unless `accepts_device_memory()` is true.
class CommBackend {
 public:
  virtual ~CommBackend() = default;
  virtual const char* name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void barrier() const = 0;
  /// In place when send == recv.
  virtual void allreduce(const void* send, void* recv, std::size_t count, DataType type,
                         ReduceOp op) const = 0;
  virtual void bcast(void* buffer, std::size_t bytes, int root) const = 0;
  /// recv holds size() * bytes_each bytes, rank r's block at r * bytes_each.
  virtual void allgather(const void* send, std::size_t bytes_each, void* recv) const = 0;
  /// recv holds sum(bytes_per_rank); rank r's block follows those of ranks < r.
  virtual void allgatherv(const void* send, std::size_t bytes, void* recv,
                          const std::vector<std::size_t>& bytes_per_rank) const = 0;
  virtual std::shared_ptr<CommBackend> split(int color, int key) const = 0;
  /// Collective: a counter on rank 0 starting at `initial`; destroying it is collective.
  virtual std::unique_ptr<CounterBackend> make_counter(std::int64_t initial) const = 0;
  [[noreturn]] virtual void abort(int code) const = 0;
  virtual bool accepts_device_memory() const { return false; }
};

std::shared_ptr<CommBackend> make_self_backend();

template <class View>
constexpr bool host_accessible_v =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename View::memory_space>::accessible;

}  // namespace detail

/// @brief A global counter that any rank advances atomically, without the other ranks
/// taking part: the work queue of the task farm (`tessera/sched/farm.hpp`).
///
/// Made and destroyed collectively (`Comm::make_counter`); in between, `fetch_add` is
/// local to the caller. Move-only.
class SharedCounter {
 public:
  explicit SharedCounter(std::unique_ptr<detail::CounterBackend> backend)
      : backend_(std::move(backend)) {}
  /// Adds `delta` and returns the value before the addition.
  std::int64_t fetch_add(std::int64_t delta) { return backend_->fetch_add(delta); }

 private:
  std::unique_ptr<detail::CounterBackend> backend_;
};

/// @brief A communicator: rank, size and collectives on scalars and Kokkos Views.
class Comm {
 public:
  /// A one-process communicator (the self backend).
  Comm() : backend_(detail::make_self_backend()) {}
  explicit Comm(std::shared_ptr<detail::CommBackend> backend);

  /// The one-process communicator.
  static Comm self() { return Comm(); }

  int rank() const { return backend_->rank(); }
  int size() const { return backend_->size(); }
  bool is_root() const { return rank() == 0; }
  /// "mpi", "self", "nccl".
  const char* backend_name() const { return backend_->name(); }

  void barrier() const { backend_->barrier(); }

  /// @brief Reduces a scalar over all ranks; every rank gets the result.
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  T allreduce(T value, ReduceOp op) const {
    T out{};
    backend_->allreduce(&value, &out, 1, data_type_of<T>::value, op);
    return out;
  }

  /// @brief Reduces a contiguous View elementwise over all ranks, in place.
  template <class View, class = std::enable_if_t<Kokkos::is_view<View>::value>>
  void allreduce(const View& v, ReduceOp op) const {
    using T = typename View::non_const_value_type;
    check_contiguous(v.span_is_contiguous(), "allreduce");
    with_host_data(
        v, [&](T* data) { backend_->allreduce(data, data, v.span(), data_type_of<T>::value, op); });
  }

  /// @brief Smallest value over ranks with its index; ties go to the smallest index.
  ValueLoc minloc(ValueLoc local) const;
  /// @brief Largest value over ranks with its index; ties go to the smallest index.
  ValueLoc maxloc(ValueLoc local) const;

  /// @brief Broadcasts a trivially copyable value from root.
  template <class T, class = std::enable_if_t<!Kokkos::is_view<T>::value>>
  void bcast(T& value, int root = 0) const {
    static_assert(std::is_trivially_copyable_v<T>, "tessera::Comm::bcast: trivially copyable only");
    check_root(root);
    backend_->bcast(&value, sizeof(T), root);
  }
  /// @brief Broadcasts a string from root (any length).
  void bcast(std::string& value, int root = 0) const;

  /// @brief Broadcasts a contiguous View's contents from root (extents must agree).
  template <class View, class = std::enable_if_t<Kokkos::is_view<View>::value>, class = void>
  void bcast(const View& v, int root = 0) const {
    using T = typename View::non_const_value_type;
    check_root(root);
    check_contiguous(v.span_is_contiguous(), "bcast");
    with_host_data(v, [&](T* data) { backend_->bcast(data, v.span() * sizeof(T), root); });
  }

  /// @brief Every rank's value, in rank order.
  template <class T>
  std::vector<T> allgather(const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>,
                  "tessera::Comm::allgather: trivially copyable only");
    std::vector<T> out(static_cast<std::size_t>(size()));
    backend_->allgather(&value, sizeof(T), out.data());
    return out;
  }

  /// @brief Concatenation of every rank's vector, in rank order (lengths may differ).
  template <class T>
  std::vector<T> allgatherv(const std::vector<T>& local) const {
    static_assert(std::is_trivially_copyable_v<T>,
                  "tessera::Comm::allgatherv: trivially copyable only");
    const auto counts = allgather(static_cast<std::uint64_t>(local.size()));
    std::vector<std::size_t> bytes(counts.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      bytes[r] = counts[r] * sizeof(T);
      total += counts[r];
    }
    std::vector<T> out(total);
    backend_->allgatherv(local.data(), local.size() * sizeof(T), out.data(), bytes);
    return out;
  }

  /// @brief Concatenates every rank's rows (dimension 0) of a rank-1 or LayoutRight
  /// rank-2 View, in rank order; other extents must agree. Returns a new View in the
  /// same memory space.
  template <class View, class = std::enable_if_t<Kokkos::is_view<View>::value>>
  typename View::non_const_type allgatherv(const View& local) const {
    static_assert(Kokkos::is_view<View>::value, "tessera::Comm::allgatherv: expects a View");
    static_assert(
        View::rank == 1 ||
            (View::rank == 2 && std::is_same_v<typename View::array_layout, Kokkos::LayoutRight>),
        "tessera::Comm::allgatherv: rank-1 or LayoutRight rank-2 Views");
    using T = typename View::non_const_value_type;
    using Out = typename View::non_const_type;
    check_contiguous(local.span_is_contiguous(), "allgatherv");
    const std::size_t row = View::rank == 2 ? local.extent(1) : 1;
    const auto rows = allgather(static_cast<std::uint64_t>(local.extent(0)));
    const auto widths = allgather(static_cast<std::uint64_t>(row));
    std::size_t total_rows = 0;
    std::vector<std::size_t> bytes(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (widths[r] != row)
        throw InvalidArgument("tessera::Comm::allgatherv: rank " + std::to_string(r) + " has " +
                              std::to_string(widths[r]) + " columns, rank " +
                              std::to_string(rank()) + " has " + std::to_string(row));
      bytes[r] = rows[r] * row * sizeof(T);
      total_rows += rows[r];
    }
    Out out;
    if constexpr (View::rank == 1)
      out = Out(Kokkos::view_alloc(std::string("allgatherv"), Kokkos::WithoutInitializing),
                total_rows);
    else
      out = Out(Kokkos::view_alloc(std::string("allgatherv"), Kokkos::WithoutInitializing),
                total_rows, row);
    auto send = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local);
    auto recv = Kokkos::create_mirror_view(Kokkos::HostSpace(), out);
    backend_->allgatherv(send.data(), send.span() * sizeof(T), recv.data(), bytes);
    Kokkos::deep_copy(out, recv);
    return out;
  }

  /// @brief Splits into sub-communicators by color, ordered by key then rank (collective).
  Comm split(int color, int key) const { return Comm(backend_->split(color, key)); }

  /// @brief A counter on rank 0 starting at `initial` (collective; so is its destruction).
  SharedCounter make_counter(std::int64_t initial = 0) const {
    return SharedCounter(backend_->make_counter(initial));
  }

  /// @brief Aborts every rank (last resort when ranks cannot agree on an error).
  [[noreturn]] void abort(int code) const;

  const detail::CommBackend& backend() const { return *backend_; }

 private:
  void check_root(int root) const;
  static void check_contiguous(bool contiguous, const char* what);

  // Runs f on a host pointer to v's data: directly for host-accessible Views or
  // backends that take device memory, otherwise through a host mirror.
  template <class View, class F>
  void with_host_data(const View& v, F&& f) const {
    using T = typename View::non_const_value_type;
    if constexpr (detail::host_accessible_v<View>) {
      Kokkos::fence();
      f(const_cast<T*>(v.data()));
    } else {
      if (backend_->accepts_device_memory()) {
        Kokkos::fence();
        f(const_cast<T*>(v.data()));
        return;
      }
      auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
      f(host.data());
      Kokkos::deep_copy(v, host);
    }
  }

  std::shared_ptr<detail::CommBackend> backend_;
};

namespace detail {
/// Duplicates the MPI communicator with this Fortran handle (MPI_Comm_c2f) into a
/// Comm; throws NotCompiled in builds without MPI. See tessera/comm/mpi.hpp.
Comm comm_from_fortran_handle(int handle);
}  // namespace detail

}  // namespace tessera
