#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include <tessera/comm/mpi.hpp>

#include "mpi_env.hpp"

#define TESSERA_MPI_TRY(call)                                                                 \
  do {                                                                                        \
    const int tessera_mpi_rc_ = (call);                                                       \
    if (tessera_mpi_rc_ != MPI_SUCCESS) ::tessera::detail::throw_mpi(#call, tessera_mpi_rc_); \
  } while (false)

namespace tessera::detail {

[[noreturn]] static void throw_mpi(const char* call, int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw CommError(std::string("MPI call failed: ") + call + ": " + std::string(text, length));
}

static MPI_Datatype to_mpi(DataType type) {
  switch (type) {
    case DataType::int32: return MPI_INT32_T;
    case DataType::int64: return MPI_INT64_T;
    case DataType::uint64: return MPI_UINT64_T;
    case DataType::float32: return MPI_FLOAT;
    case DataType::float64: return MPI_DOUBLE;
    case DataType::byte: return MPI_BYTE;
  }
  return MPI_BYTE;
}

static MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  return MPI_SUM;
}

// Large messages are sent in pieces below INT_MAX bytes.
constexpr std::size_t max_piece = std::size_t(1) << 30;

// The counter lives in an MPI window on rank 0; MPI_Fetch_and_op under a shared
// passive-target epoch needs nothing from rank 0 (Open MPI's osc/sm and osc/ucx do it
// in hardware or in the progress engine).
class MpiCounter final : public CounterBackend {
 public:
  MpiCounter(MPI_Comm comm, std::int64_t initial) : comm_(comm) {
    int rank = 0;
    TESSERA_MPI_TRY(MPI_Comm_rank(comm_, &rank));
    const MPI_Aint bytes = rank == 0 ? sizeof(std::int64_t) : 0;
    TESSERA_MPI_TRY(
        MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm_, &base_, &window_));
    if (rank == 0) *base_ = initial;
    TESSERA_MPI_TRY(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_));
    TESSERA_MPI_TRY(MPI_Barrier(comm_));  // rank 0's initial value is in place
  }
  ~MpiCounter() override {
    if (!mpi_active()) return;
    MPI_Win_unlock_all(window_);
    MPI_Win_free(&window_);
  }
  std::int64_t fetch_add(std::int64_t delta) override {
    std::int64_t old = 0;
    TESSERA_MPI_TRY(MPI_Fetch_and_op(&delta, &old, MPI_INT64_T, 0, 0, MPI_SUM, window_));
    TESSERA_MPI_TRY(MPI_Win_flush(0, window_));
    return old;
  }

 private:
  MPI_Comm comm_;
  std::int64_t* base_ = nullptr;
  MPI_Win window_ = MPI_WIN_NULL;
};

class MpiBackend final : public CommBackend {
 public:
  // Takes ownership of comm (a duplicate made for tessera).
  explicit MpiBackend(MPI_Comm comm) : comm_(comm) {
    TESSERA_MPI_TRY(MPI_Comm_rank(comm_, &rank_));
    TESSERA_MPI_TRY(MPI_Comm_size(comm_, &size_));
    // The user vouches that MPI reads device memory (CUDA-aware Open MPI, Cray MPICH):
    // device Views then go to MPI directly instead of through host mirrors.
    const char* aware = std::getenv("TESSERA_CUDA_AWARE_MPI");
    cuda_aware_ = aware && std::string(aware) == "1";
  }
  bool accepts_device_memory() const override { return cuda_aware_; }
  ~MpiBackend() override {
    if (mpi_active() && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  const char* name() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void barrier() const override { TESSERA_MPI_TRY(MPI_Barrier(comm_)); }

  void allreduce(const void* send, void* recv, std::size_t count, DataType type,
                 ReduceOp op) const override {
    const std::size_t elem = type == DataType::int32 || type == DataType::float32 ? 4
                             : type == DataType::byte                             ? 1
                                                                                  : 8;
    const std::size_t piece = max_piece / elem;
    for (std::size_t offset = 0; offset < count; offset += piece) {
      const int n = static_cast<int>(std::min(piece, count - offset));
      char* out = static_cast<char*>(recv) + offset * elem;
      const void* in = send == recv ? MPI_IN_PLACE : static_cast<const char*>(send) + offset * elem;
      TESSERA_MPI_TRY(MPI_Allreduce(in, out, n, to_mpi(type), to_mpi(op), comm_));
    }
  }

  void bcast(void* buffer, std::size_t bytes, int root) const override {
    for (std::size_t offset = 0; offset < bytes; offset += max_piece) {
      const int n = static_cast<int>(std::min(max_piece, bytes - offset));
      TESSERA_MPI_TRY(MPI_Bcast(static_cast<char*>(buffer) + offset, n, MPI_BYTE, root, comm_));
    }
  }

  void allgather(const void* send, std::size_t bytes_each, void* recv) const override {
    TESSERA_ASSERT(bytes_each < max_piece);
    TESSERA_MPI_TRY(MPI_Allgather(send, static_cast<int>(bytes_each), MPI_BYTE, recv,
                                  static_cast<int>(bytes_each), MPI_BYTE, comm_));
  }

  void allgatherv(const void* send, std::size_t bytes, void* recv,
                  const std::vector<std::size_t>& bytes_per_rank) const override {
    std::size_t total = 0;
    for (std::size_t b : bytes_per_rank) total += b;
    if (total < max_piece) {
      std::vector<int> counts(bytes_per_rank.size()), displs(bytes_per_rank.size());
      int offset = 0;
      for (std::size_t r = 0; r < bytes_per_rank.size(); ++r) {
        counts[r] = static_cast<int>(bytes_per_rank[r]);
        displs[r] = offset;
        offset += counts[r];
      }
      TESSERA_MPI_TRY(MPI_Allgatherv(send, static_cast<int>(bytes), MPI_BYTE, recv, counts.data(),
                                     displs.data(), MPI_BYTE, comm_));
      return;
    }
    // Beyond 1 GiB in all: one broadcast per rank, in pieces.
    std::size_t offset = 0;
    for (int r = 0; r < size_; ++r) {
      char* block = static_cast<char*>(recv) + offset;
      if (r == rank_ && bytes) std::memmove(block, send, bytes);
      bcast(block, bytes_per_rank[static_cast<std::size_t>(r)], r);
      offset += bytes_per_rank[static_cast<std::size_t>(r)];
    }
  }

  std::shared_ptr<CommBackend> split(int color, int key) const override {
    MPI_Comm sub = MPI_COMM_NULL;
    TESSERA_MPI_TRY(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &sub));
    if (sub == MPI_COMM_NULL) return make_self_backend();
    return std::make_shared<MpiBackend>(sub);
  }

  std::unique_ptr<CounterBackend> make_counter(std::int64_t initial) const override {
    return std::make_unique<MpiCounter>(comm_, initial);
  }

  [[noreturn]] void abort(int code) const override {
    MPI_Abort(comm_, code);
    std::_Exit(code);
  }

  MPI_Comm handle() const { return comm_; }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  bool cuda_aware_ = false;
};

static Comm wrap_duplicate(MPI_Comm comm) {
  MPI_Comm dup = MPI_COMM_NULL;
  TESSERA_MPI_TRY(MPI_Comm_dup(comm, &dup));
  return Comm(std::make_shared<MpiBackend>(dup));
}

Comm comm_from_fortran_handle(int handle) {
  if (!mpi_active())
    throw InvalidArgument("tessera::comm_from_mpi: MPI is not initialised (or already finalised)");
  return wrap_duplicate(MPI_Comm_f2c(static_cast<MPI_Fint>(handle)));
}

bool mpi_initialize_if_needed(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return false;
  int provided = 0;
  TESSERA_MPI_TRY(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  return true;
}

bool mpi_initialized() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  return initialized != 0;
}

bool mpi_active() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

void mpi_finalize() {
  if (mpi_active()) MPI_Finalize();
}

Comm mpi_world() { return wrap_duplicate(MPI_COMM_WORLD); }

int mpi_local_rank(const Comm& world) {
  const auto* mpi = dynamic_cast<const MpiBackend*>(&world.backend());
  if (!mpi) return 0;
  MPI_Comm node = MPI_COMM_NULL;
  TESSERA_MPI_TRY(
      MPI_Comm_split_type(mpi->handle(), MPI_COMM_TYPE_SHARED, mpi->rank(), MPI_INFO_NULL, &node));
  int local = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  return local;
}

std::string node_name() {
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  if (mpi_active() && MPI_Get_processor_name(name, &length) == MPI_SUCCESS)
    return std::string(name, length);
  return "localhost";
}

}  // namespace tessera::detail
