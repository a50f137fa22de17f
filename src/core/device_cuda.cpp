// CUDA builds only (added by CMake when TESSERA_ENABLE_CUDA is on).
#include <cuda_runtime_api.h>

#include "device.hpp"

namespace tessera::detail {

int visible_device_count() {
  int count = 0;  // left untouched when no driver is present
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

std::string device_name(int id) {
  if (id < 0) return {};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, id) != cudaSuccess) return "cuda device " + std::to_string(id);
  return prop.name;
}

}  // namespace tessera::detail
