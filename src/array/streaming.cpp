#include <tessera/array/streaming.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <memory>
#include <string>

#include <tessera/array/dist_matrix.hpp>
#include <tessera/comm/agree.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/memory.hpp>

#include "../core/hash.hpp"

#include <fmt/format.h>

namespace tessera::array {

void for_each_batch(const Comm& comm, io::ChunkSource& source, std::size_t chunk_rows,
                    std::uint64_t memory_limit,
                    const std::function<void(const HostMatrix&, std::size_t)>& fn) {
  TESSERA_EXPECTS(chunk_rows > 0, "tessera::array::for_each_batch: chunk_rows must be > 0");
  const ChunkGrid grid{source.rows(), chunk_rows};
  const std::size_t first = grid.first_chunk(comm.rank(), comm.size());
  const std::size_t last = grid.first_chunk(comm.rank() + 1, comm.size());
  // Two batches in memory at once (one read ahead): each gets half the limit.
  const std::uint64_t chunk_bytes =
      static_cast<std::uint64_t>(chunk_rows) * source.cols() * sizeof(double);
  // Without a limit, batches of about 64 MiB keep reading and reducing overlapped.
  std::size_t batch = std::max<std::uint64_t>(
      1, (std::uint64_t(64) << 20) / std::max<std::uint64_t>(1, chunk_bytes));
  if (memory_limit) {
    TESSERA_EXPECTS(2 * chunk_bytes <= memory_limit,
                    "--memory-limit: a chunk of " + std::to_string(chunk_rows) + " rows x " +
                        std::to_string(source.cols()) + " columns needs " +
                        std::to_string(chunk_bytes) + " bytes, twice that with read-ahead, above " +
                        std::to_string(memory_limit) + "; use a smaller --chunk-rows");
    batch = std::max<std::size_t>(1, memory_limit / (2 * chunk_bytes));
  }
  // Reading is local; a failure on any rank is agreed on before anyone goes on.
  agree(comm, [&] {
    // A batch is the file's own pages where the source can map them (no copy), else
    // rows read into one of two buffers (one being reduced, one being filled).
    using Batch = io::MappedRows;
    HostMatrix buffers[2];
    const auto read_batch = [&](std::size_t c0, int slot) {
      const std::size_t c1 = std::min(last, c0 + batch);
      const std::size_t begin = grid.chunk_begin(c0), n = grid.chunk_begin(c1) - begin;
      if (auto mapped = source.map(begin, n)) return *std::move(mapped);
      HostMatrix& buffer = buffers[slot];
      if (buffer.extent(0) < n)
        buffer = HostMatrix(Kokkos::view_alloc(std::string("batch"), Kokkos::WithoutInitializing),
                            n, source.cols());
      const HostMatrix rows =
          Kokkos::subview(buffer, Kokkos::make_pair(std::size_t(0), n), Kokkos::ALL);
      source.read(begin, rows);
      return Batch{rows, nullptr};
    };
    std::future<Batch> next;
    // Read ahead on another thread when the source allows it, else read when needed.
    const auto policy = source.reads_in_background() ? std::launch::async : std::launch::deferred;
    int slot = 0;
    if (first < last) next = std::async(policy, read_batch, first, slot);
    for (std::size_t c0 = first; c0 < last; c0 += batch) {
      const Batch current = next.get();
      slot = 1 - slot;
      if (c0 + batch < last) next = std::async(policy, read_batch, c0 + batch, slot);
      fn(current.rows, c0);
    }
  });
}

DistMatrix<double, Kokkos::HostSpace> read_share_on_host(const Comm& comm, io::ChunkSource& source,
                                                         std::size_t chunk_rows,
                                                         const std::string& name) {
  TESSERA_EXPECTS(chunk_rows > 0, "tessera::array::read_share: chunk_rows must be > 0");
  const ChunkGrid grid{source.rows(), chunk_rows};
  const std::size_t begin = grid.chunk_begin(grid.first_chunk(comm.rank(), comm.size()));
  const std::size_t end = grid.chunk_begin(grid.first_chunk(comm.rank() + 1, comm.size()));
  // The shares of all ranks on this node (by host name) must fit its memory together: each
  // alone may, and the kernel would kill them part way through filling them.
  struct Share {
    std::uint64_t node;
    double rows;
  };
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const std::uint64_t node = detail::fnv1a(host, std::strlen(host));
  std::size_t ranks = 0;
  double rows = 0;
  for (const Share& s :
       comm.allgatherv(std::vector<Share>{{node, static_cast<double>(end - begin)}}))
    if (s.node == node) ++ranks, rows += s.rows;
  return agree(comm, [&] {
    require_host_memory(
        rows * static_cast<double>(source.cols()) * sizeof(double),
        fmt::format(
            "{}: the {} rows × {} columns that {} on this node", name, rows, source.cols(),
            ranks == 1 ? std::string("one rank holds") : fmt::format("{} ranks hold", ranks)));
    DistMatrix<double, Kokkos::HostSpace> D(comm, source.rows(), source.cols(), chunk_rows);
    if (end > begin) source.read(begin, D.local());
    return D;
  });
}

}  // namespace tessera::array
