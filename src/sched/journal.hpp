#pragma once
// The task farm's journal: finished task results appended to files in a folder, read
// back by `--resume`. Internal to the sched layer.
//
// Layout: one file per rank and run, `journal.<run>.<rank>.bin`, each a 32-byte header
// (magic "TSJRNL01", task count, result size, job-key hash, all little-endian
// uint64) followed by records (int64 index, result bytes, uint64 FNV-1a checksum of
// both). A record cut short by a kill, or one whose checksum fails, ends the file's
// readable part; the task is simply run again.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tessera/core/timer.hpp>

#include "../core/hash.hpp"

namespace tessera::detail {

struct JournalHeader {
  std::uint64_t tasks = 0;
  std::uint64_t result_size = 0;
  std::uint64_t key_hash = 0;
};

/// Results found in a journal folder: `indices[k]`'s result is the k-th block of
/// `results`. Each index appears once (the first record read wins).
struct JournalContents {
  std::vector<std::int64_t> indices;
  std::vector<unsigned char> results;
  int next_run = 0;  ///< the run number the next writers use
  int files = 0;
  int damaged = 0;  ///< files whose tail was cut short or failed its checksum
};

/// Reads every journal file in `folder` (absent folder: empty contents).
/// @throws InvalidArgument when a file belongs to another job (key, task count or
/// result size differ), naming the file.
JournalContents read_journal(const std::string& folder, const JournalHeader& expected);

/// Removes the journal files in `folder` (a fresh run).
void clear_journal(const std::string& folder);

/// Appends records to this rank's journal file; buffered, written at least every
/// `flush_seconds` and on flush() / destruction.
class JournalWriter {
 public:
  JournalWriter(const std::string& folder, int run, int rank, const JournalHeader& header,
                double flush_seconds = 1.0);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  void append(std::int64_t index, const void* result);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_all(const unsigned char* data, std::size_t bytes);

  std::string path_;
  std::size_t result_size_;
  int fd_ = -1;
  std::vector<unsigned char> buffer_;
  double flush_seconds_;
  Timer since_flush_;
};

}  // namespace tessera::detail
