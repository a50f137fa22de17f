// Builds without NCCL (TESSERA_ENABLE_NCCL=OFF).
#include <tessera/comm/nccl.hpp>

namespace tessera {

bool nccl_available() noexcept { return false; }

Comm make_nccl_comm(const Comm&) {
  throw NotCompiled(
      "tessera::make_nccl_comm: this tessera was built without NCCL (configure a CUDA build "
      "with -DTESSERA_ENABLE_NCCL=ON)");
}

}  // namespace tessera
