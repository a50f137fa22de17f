#include "device.hpp"

namespace tessera::detail {
int visible_device_count() { return 0; }
std::string device_name(int) { return {}; }
}  // namespace tessera::detail
