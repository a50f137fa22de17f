#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <tessera/comm/agree.hpp>
#include <tessera/core/log.hpp>
#include <tessera/core/progress.hpp>
#include <tessera/core/timer.hpp>
#include <tessera/sched/farm.hpp>

#include "../core/stop_signals.hpp"
#include "journal.hpp"

namespace tessera::detail {

namespace {

// A counter value at or above this means "stop": a rank failed or was interrupted.
constexpr std::int64_t stop_mark = std::int64_t(1) << 62;
// How often a rank inside a chunk looks at the counter for a stop (seconds).
constexpr double peek_seconds = 0.01;
// Automatic chunks aim at this much work per grab (seconds).
constexpr double target_grab_seconds = 0.005;

// The work list: `order` holds the pending task indices unit by unit; unit u is
// order[begin[u] .. begin[u+1]). Without affinity a unit is one task.
struct Units {
  std::vector<std::int64_t> order;
  std::vector<std::int64_t> begin;
  std::int64_t count() const { return static_cast<std::int64_t>(begin.size()) - 1; }
};

Units make_units(std::int64_t n, const std::vector<char>& done,
                 const std::vector<std::int64_t>& affinity) {
  Units units;
  if (affinity.empty()) {
    for (std::int64_t i = 0; i < n; ++i)
      if (!done[static_cast<std::size_t>(i)]) units.order.push_back(i);
    units.begin.resize(units.order.size() + 1);
    for (std::size_t u = 0; u < units.begin.size(); ++u)
      units.begin[u] = static_cast<std::int64_t>(u);
    return units;
  }
  std::unordered_map<std::int64_t, std::size_t> group_of;
  std::vector<std::vector<std::int64_t>> groups;
  for (std::int64_t i = 0; i < n; ++i) {
    if (done[static_cast<std::size_t>(i)]) continue;
    const auto [it, fresh] = group_of.emplace(affinity[static_cast<std::size_t>(i)], groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  units.begin.push_back(0);
  for (const auto& g : groups) {
    units.order.insert(units.order.end(), g.begin(), g.end());
    units.begin.push_back(static_cast<std::int64_t>(units.order.size()));
  }
  return units;
}

void validate(const Comm& comm, std::int64_t n, std::size_t result_size,
              const FarmOptions& options) {
  const std::int64_t low = comm.allreduce(n, ReduceOp::min);
  const std::int64_t high = comm.allreduce(n, ReduceOp::max);
  agree_check(comm, low == high,
              "tessera::map: the ranks disagree on the number of tasks (" + std::to_string(low) +
                  " to " + std::to_string(high) + "); every rank must pass the same n");
  std::string problem;
  if (n < 0)
    problem = "tessera::map: the number of tasks must be >= 0, got " + std::to_string(n);
  else if (options.chunk < 0)
    problem = "tessera::map: FarmOptions::chunk must be >= 0 (0 = automatic), got " +
              std::to_string(options.chunk);
  else if (!options.affinity.empty() && options.affinity.size() != static_cast<std::size_t>(n))
    problem = "tessera::map: FarmOptions::affinity has " + std::to_string(options.affinity.size()) +
              " keys for " + std::to_string(n) + " tasks (give one key per task, or none)";
  else if (result_size == 0)
    problem = "tessera::map: the task's result type has size 0";
  else if (options.resume && options.journal.empty())
    problem = "tessera::map: resume needs a journal folder (FarmOptions::journal)";
  agree_check(comm, problem.empty(), problem);
}

// The journal as every rank sees it: rank 0 reads the folder and broadcasts.
JournalContents load_journal(const Comm& comm, const FarmOptions& options,
                             const JournalHeader& header) {
  JournalContents contents;
  if (options.journal.empty()) return contents;
  agree(comm, [&] {
    if (!comm.is_root()) return;
    if (options.resume)
      contents = read_journal(options.journal, header);
    else
      clear_journal(options.journal);
  });
  std::int64_t found = static_cast<std::int64_t>(contents.indices.size());
  comm.bcast(found);
  comm.bcast(contents.next_run);
  contents.indices.resize(static_cast<std::size_t>(found));
  contents.results.resize(static_cast<std::size_t>(found) * header.result_size);
  if (found > 0) {
    comm.bcast(Kokkos::View<std::int64_t*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
        contents.indices.data(), contents.indices.size()));
    comm.bcast(Kokkos::View<unsigned char*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
        contents.results.data(), contents.results.size()));
  }
  if (comm.is_root() && options.resume)
    log_info(std::to_string(found) + " task results resumed from " + options.journal +
             (contents.damaged ? " (" + std::to_string(contents.damaged) +
                                     " journal file(s) ended in a cut-short record)"
                               : ""));
  return contents;
}

}  // namespace

FarmStats run_farm(const Comm& comm, std::int64_t n, std::size_t result_size,
                   const std::function<void(std::int64_t, void*)>& task, const FarmOptions& options,
                   std::vector<unsigned char>& results) {
  Timer wall;
  validate(comm, n, result_size, options);
  const JournalHeader header{static_cast<std::uint64_t>(n), result_size,
                             fnv1a(options.job_key.data(), options.job_key.size())};
  const JournalContents journal = load_journal(comm, options, header);

  std::vector<char> done(static_cast<std::size_t>(n), 0);
  for (std::int64_t i : journal.indices) done[static_cast<std::size_t>(i)] = 1;
  const Units units = make_units(n, done, options.affinity);
  const std::int64_t unit_count = units.count();
  const int ranks = comm.size();

  FarmStats stats;
  stats.tasks = n;
  stats.resumed = static_cast<std::int64_t>(journal.indices.size());

  std::vector<std::int64_t> my_indices;
  std::vector<unsigned char> my_results;
  std::optional<LocalFailure> failure;
  int interrupted_by = 0;
  {
    std::optional<StopSignals> signals;
    std::unique_ptr<JournalWriter> writer;
    agree(comm, [&] {
      if (options.journal.empty()) return;
      signals.emplace();
      writer =
          std::make_unique<JournalWriter>(options.journal, journal.next_run, comm.rank(), header);
    });
    SharedCounter counter = comm.make_counter(0);
    ProgressBar bar(static_cast<std::size_t>(n), options.label, options.progress && comm.is_root());
    bar.advance(static_cast<std::size_t>(stats.resumed));
    std::int64_t shown = 0;  // units whose start the bar shows
    const auto show = [&](std::int64_t seen) {
      const std::int64_t u = std::min(seen, unit_count);
      if (u > shown) {
        bar.advance(static_cast<std::size_t>(units.begin[static_cast<std::size_t>(u)] -
                                             units.begin[static_cast<std::size_t>(shown)]));
        shown = u;
      }
    };

    std::vector<unsigned char> scratch(result_size);
    double seconds_per_task = -1.0;  // running estimate, < 0 until measured
    std::int64_t seen = 0;           // last counter value this rank saw
    bool stopped = false;
    Timer since_peek;
    // A signal stops this rank and, through the counter, every other one.
    const auto stop_for_signal = [&] {
      interrupted_by = StopSignals::pending();
      counter.fetch_add(stop_mark);
    };
    try {
      while (!stopped) {
        std::int64_t chunk = options.chunk;
        if (chunk == 0) {
          if (!options.affinity.empty() || seconds_per_task < 0.0) {
            chunk = 1;
          } else {
            const std::int64_t share = std::max<std::int64_t>(1, (unit_count - seen) / (2 * ranks));
            const double by_time = target_grab_seconds / std::max(seconds_per_task, 1e-9);
            chunk = std::clamp<std::int64_t>(static_cast<std::int64_t>(by_time), 1, share);
          }
        }
        const std::int64_t start = counter.fetch_add(chunk);
        ++stats.grabs_here;
        seen = start + chunk;
        if (start >= unit_count) break;
        show(seen);
        const std::int64_t stop = std::min(start + chunk, unit_count);
        Timer chunk_timer;
        std::int64_t chunk_tasks = 0;
        for (std::int64_t u = start; u < stop && !stopped; ++u) {
          for (std::int64_t k = units.begin[static_cast<std::size_t>(u)];
               k < units.begin[static_cast<std::size_t>(u) + 1]; ++k) {
            if (StopSignals::pending() && writer) {
              stop_for_signal();
              stopped = true;
              break;
            }
            if (since_peek.seconds() >= peek_seconds) {
              since_peek.reset();
              const std::int64_t now = counter.fetch_add(0);
              if (now >= stop_mark / 2) {
                stopped = true;
                break;
              }
              show(now);
            }
            const std::int64_t index = units.order[static_cast<std::size_t>(k)];
            Timer task_timer;
            task(index, scratch.data());
            stats.busy_seconds += task_timer.seconds();
            ++chunk_tasks;
            my_indices.push_back(index);
            my_results.insert(my_results.end(), scratch.begin(), scratch.end());
            if (writer) writer->append(index, scratch.data());
          }
        }
        if (chunk_tasks > 0) {
          const double per_task = chunk_timer.seconds() / static_cast<double>(chunk_tasks);
          seconds_per_task =
              seconds_per_task < 0.0 ? per_task : 0.5 * (seconds_per_task + per_task);
        }
      }
      // Signalled after its last task: stop the ranks still working.
      if (!stopped && StopSignals::pending() && writer) stop_for_signal();
    } catch (...) {
      failure = capture_current_exception();
      counter.fetch_add(stop_mark);  // the other ranks stop after their current task
    }
    if (writer) {
      try {
        writer->flush();
      } catch (...) {
        if (!failure) failure = capture_current_exception();
      }
    }
    if (!failure && interrupted_by == 0) bar.finish();
  }  // counter freed (collectively), journal closed, signal handlers restored
  stats.run_here = static_cast<std::int64_t>(my_indices.size());
  settle(comm, failure);

  const std::int64_t finished = stats.resumed + comm.allreduce(stats.run_here, ReduceOp::sum);
  const int signal = comm.allreduce(interrupted_by, ReduceOp::max);
  if (signal != 0 || finished != n) {
    Interrupted error(std::string("interrupted by ") + signal_name(signal) + ": " +
                      std::to_string(finished) + " of " + std::to_string(n) +
                      " tasks finished and saved in the journal " + options.journal +
                      "; run again with --resume to do the rest");
    error.set_agreed(true);
    throw error;
  }

  // Every result to every rank (or rank 0), in index order.
  const auto all_indices = comm.allgatherv(my_indices);
  const auto all_results = comm.allgatherv(my_results);
  stats.run_by = comm.allgather(stats.run_here);
  results.clear();
  if (options.gather == Gather::all || comm.is_root()) {
    results.resize(static_cast<std::size_t>(n) * result_size);
    const auto place = [&](std::int64_t index, const unsigned char* value) {
      std::memcpy(&results[static_cast<std::size_t>(index) * result_size], value, result_size);
    };
    for (std::size_t k = 0; k < journal.indices.size(); ++k)
      place(journal.indices[k], &journal.results[k * result_size]);
    for (std::size_t k = 0; k < all_indices.size(); ++k)
      place(all_indices[k], &all_results[k * result_size]);
  }
  TESSERA_ASSERT(static_cast<std::int64_t>(all_indices.size()) + stats.resumed == n);
  stats.wall_seconds = wall.seconds();
  return stats;
}

}  // namespace tessera::detail
