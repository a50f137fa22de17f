#pragma once
// GPU discovery, implemented in device_cuda.cpp for CUDA builds and device_host.cpp
// otherwise; the only place runtime code asks the CUDA runtime anything.
#include <string>

namespace tessera::detail {
/// Number of GPUs this process can see (0 on CPU builds or without a driver).
int visible_device_count();
/// Name of GPU `id`, or "" on CPU builds / id < 0.
std::string device_name(int id);
}  // namespace tessera::detail
