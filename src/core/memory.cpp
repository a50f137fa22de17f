#include <tessera/core/memory.hpp>

#include <cstdint>
#include <cstdio>

#include <fmt/format.h>

#include <tessera/core/error.hpp>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace tessera {

void advise_huge_pages([[maybe_unused]] void* data, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t(1) << 21;
  const auto from = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (from + huge - 1) & ~(huge - 1), end = (from + bytes) & ~(huge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

std::uint64_t host_memory_available() noexcept {
#if defined(__linux__)
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f))
      found = std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    std::fclose(f);
    if (found) return static_cast<std::uint64_t>(kib) * 1024;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

void require_host_memory(double bytes, const std::string& what) {
  const std::uint64_t memory = host_memory_available();
  if (memory > 0 && bytes > static_cast<double>(memory))
    throw InvalidArgument(
        fmt::format("{} need {:.3g} GB, more than the {:.3g} GB of memory available on this node",
                    what, bytes / 1e9, static_cast<double>(memory) / 1e9));
}

}  // namespace tessera
