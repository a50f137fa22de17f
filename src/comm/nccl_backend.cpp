// NCCL backend (CUDA builds with TESSERA_ENABLE_NCCL=ON). Device buffers go through NCCL
// on the default Kokkos::Cuda stream; host buffers through the bootstrap communicator.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <string>

#include <tessera/comm/nccl.hpp>

#define TESSERA_NCCL_TRY(call)                                                      \
  do {                                                                              \
    const ncclResult_t tessera_nccl_rc_ = (call);                                   \
    if (tessera_nccl_rc_ != ncclSuccess)                                            \
      throw ::tessera::CommError(std::string("NCCL call failed: ") + #call + ": " + \
                                 ncclGetErrorString(tessera_nccl_rc_));             \
  } while (false)

namespace tessera {

namespace {

bool is_device_pointer(const void* p) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    cudaGetLastError();  // plain host memory on old runtimes reports an error
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
}

ncclDataType_t to_nccl(DataType type) {
  switch (type) {
    case DataType::int32: return ncclInt32;
    case DataType::int64: return ncclInt64;
    case DataType::uint64: return ncclUint64;
    case DataType::float32: return ncclFloat32;
    case DataType::float64: return ncclFloat64;
    case DataType::byte: return ncclChar;
  }
  return ncclChar;
}

ncclRedOp_t to_nccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::min: return ncclMin;
    case ReduceOp::max: return ncclMax;
  }
  return ncclSum;
}

class NcclBackend final : public detail::CommBackend {
 public:
  explicit NcclBackend(const Comm& bootstrap) : bootstrap_(bootstrap) {
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (bootstrap_.rank() == 0) TESSERA_NCCL_TRY(ncclGetUniqueId(&id));
    bootstrap_.bcast(id, 0);
    TESSERA_NCCL_TRY(ncclCommInitRank(&comm_, bootstrap_.size(), id, bootstrap_.rank()));
  }
  ~NcclBackend() override {
    if (comm_) ncclCommDestroy(comm_);
  }
  const char* name() const override { return "nccl"; }
  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  void barrier() const override { bootstrap_.barrier(); }
  bool accepts_device_memory() const override { return true; }

  void allreduce(const void* send, void* recv, std::size_t count, DataType type,
                 ReduceOp op) const override {
    if (!is_device_pointer(recv))
      return bootstrap_.backend().allreduce(send, recv, count, type, op);
    TESSERA_NCCL_TRY(ncclAllReduce(send, recv, count, to_nccl(type), to_nccl(op), comm_, stream()));
  }
  void bcast(void* buffer, std::size_t bytes, int root) const override {
    if (!is_device_pointer(buffer)) return bootstrap_.backend().bcast(buffer, bytes, root);
    TESSERA_NCCL_TRY(ncclBroadcast(buffer, buffer, bytes, ncclChar, root, comm_, stream()));
  }
  void allgather(const void* send, std::size_t bytes_each, void* recv) const override {
    if (!is_device_pointer(recv)) return bootstrap_.backend().allgather(send, bytes_each, recv);
    TESSERA_NCCL_TRY(ncclAllGather(send, recv, bytes_each, ncclChar, comm_, stream()));
  }
  void allgatherv(const void* send, std::size_t bytes, void* recv,
                  const std::vector<std::size_t>& bytes_per_rank) const override {
    if (!is_device_pointer(recv))
      return bootstrap_.backend().allgatherv(send, bytes, recv, bytes_per_rank);
    // NCCL has no allgatherv: one broadcast per rank, grouped into one launch.
    TESSERA_NCCL_TRY(ncclGroupStart());
    std::size_t offset = 0;
    for (int r = 0; r < size(); ++r) {
      char* block = static_cast<char*>(recv) + offset;
      const void* source = r == rank() ? send : block;
      TESSERA_NCCL_TRY(ncclBroadcast(source, block, bytes_per_rank[static_cast<std::size_t>(r)],
                                     ncclChar, r, comm_, stream()));
      offset += bytes_per_rank[static_cast<std::size_t>(r)];
    }
    TESSERA_NCCL_TRY(ncclGroupEnd());
  }
  std::shared_ptr<CommBackend> split(int color, int key) const override {
    const Comm sub = bootstrap_.split(color, key);
    return std::make_shared<NcclBackend>(sub);
  }
  std::unique_ptr<detail::CounterBackend> make_counter(std::int64_t initial) const override {
    return bootstrap_.backend().make_counter(initial);
  }
  [[noreturn]] void abort(int code) const override {
    ncclCommAbort(comm_);
    bootstrap_.abort(code);
  }

 private:
  static cudaStream_t stream() { return Kokkos::Cuda().cuda_stream(); }
  Comm bootstrap_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_available() noexcept { return true; }

Comm make_nccl_comm(const Comm& bootstrap) {
  TESSERA_EXPECTS(std::string(bootstrap.backend_name()) != "nccl",
                  "tessera::make_nccl_comm: bootstrap with an MPI (or self) Comm");
  return Comm(std::make_shared<NcclBackend>(bootstrap));
}

}  // namespace tessera
