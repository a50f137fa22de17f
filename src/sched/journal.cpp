#include "journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_set>

#include <tessera/core/error.hpp>

namespace tessera::detail {

namespace fs = std::filesystem;

namespace {

constexpr char magic[8] = {'T', 'S', 'J', 'R', 'N', 'L', '0', '1'};
constexpr std::size_t header_bytes = 32;

void put_u64(unsigned char* out, std::uint64_t v) {
  for (int b = 0; b < 8; ++b) out[b] = static_cast<unsigned char>(v >> (8 * b));
}
std::uint64_t get_u64(const unsigned char* in) {
  std::uint64_t v = 0;
  for (int b = 0; b < 8; ++b) v |= std::uint64_t(in[b]) << (8 * b);
  return v;
}

// "journal.<run>.<rank>.bin" → run, or -1 for other names.
int run_of(const std::string& name) {
  if (name.rfind("journal.", 0) != 0 || name.size() < 13 ||
      name.compare(name.size() - 4, 4, ".bin") != 0)
    return -1;
  const std::string middle = name.substr(8, name.size() - 12);
  const auto dot = middle.find('.');
  if (dot == std::string::npos || dot == 0) return -1;
  int run = 0;
  for (std::size_t i = 0; i < dot; ++i) {
    if (middle[i] < '0' || middle[i] > '9' || run > 100000000) return -1;
    run = run * 10 + (middle[i] - '0');
  }
  return run;
}

std::vector<fs::path> journal_files(const std::string& folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return files;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file(ec) && run_of(entry.path().filename().string()) >= 0)
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string describe(const JournalHeader& h) {
  return std::to_string(h.tasks) + " tasks, " + std::to_string(h.result_size) +
         "-byte results, job key hash " + std::to_string(h.key_hash);
}

}  // namespace

JournalContents read_journal(const std::string& folder, const JournalHeader& expected) {
  JournalContents contents;
  std::unordered_set<std::int64_t> seen;
  const std::size_t record_bytes = 16 + expected.result_size;
  for (const auto& path : journal_files(folder)) {
    contents.next_run = std::max(contents.next_run, run_of(path.filename().string()) + 1);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IOError("cannot read the journal file " + path.string());
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    ++contents.files;
    if (bytes.size() < header_bytes) {  // killed before the header was written
      ++contents.damaged;
      continue;
    }
    if (std::memcmp(bytes.data(), magic, sizeof(magic)) != 0)
      throw InvalidArgument("the journal file " + path.string() +
                            " is not a tessera journal (bad magic); remove it");
    const JournalHeader found{get_u64(&bytes[8]), get_u64(&bytes[16]), get_u64(&bytes[24])};
    if (found.tasks != expected.tasks || found.result_size != expected.result_size ||
        found.key_hash != expected.key_hash)
      throw InvalidArgument("the journal file " + path.string() + " belongs to another job (" +
                            describe(found) + "; this job: " + describe(expected) +
                            "); remove the journal or run without resume");
    std::size_t offset = header_bytes;
    for (; offset + record_bytes <= bytes.size(); offset += record_bytes) {
      const unsigned char* record = &bytes[offset];
      const std::uint64_t check = get_u64(record + 8 + expected.result_size);
      const auto index = static_cast<std::int64_t>(get_u64(record));
      if (fnv1a(record, 8 + expected.result_size) != check || index < 0 ||
          static_cast<std::uint64_t>(index) >= expected.tasks)
        break;
      if (!seen.insert(index).second) continue;
      contents.indices.push_back(index);
      contents.results.insert(contents.results.end(), record + 8,
                              record + 8 + expected.result_size);
    }
    if (offset != bytes.size()) ++contents.damaged;
  }
  return contents;
}

void clear_journal(const std::string& folder) {
  for (const auto& path : journal_files(folder)) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec)
      throw IOError("cannot remove the old journal file " + path.string() + ": " + ec.message());
  }
}

JournalWriter::JournalWriter(const std::string& folder, int run, int rank,
                             const JournalHeader& header, double flush_seconds)
    : result_size_(header.result_size), flush_seconds_(flush_seconds) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  path_ =
      (fs::path(folder) / ("journal." + std::to_string(run) + "." + std::to_string(rank) + ".bin"))
          .string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw IOError("cannot create the journal file " + path_ + ": " + std::strerror(errno));
  unsigned char head[header_bytes];
  std::memcpy(head, magic, sizeof(magic));
  put_u64(head + 8, header.tasks);
  put_u64(head + 16, header.result_size);
  put_u64(head + 24, header.key_hash);
  buffer_.assign(head, head + header_bytes);
  flush();
}

JournalWriter::~JournalWriter() {
  try {
    flush();
  } catch (...) {  // a destructor must not throw; flush() reported what it could
  }
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(std::int64_t index, const void* result) {
  const std::size_t start = buffer_.size();
  buffer_.resize(start + 16 + result_size_);
  unsigned char* record = &buffer_[start];
  put_u64(record, static_cast<std::uint64_t>(index));
  if (result_size_) std::memcpy(record + 8, result, result_size_);
  put_u64(record + 8 + result_size_, fnv1a(record, 8 + result_size_));
  if (since_flush_.seconds() >= flush_seconds_ || buffer_.size() >= (std::size_t(1) << 20)) flush();
}

void JournalWriter::flush() {
  if (!buffer_.empty()) write_all(buffer_.data(), buffer_.size());
  buffer_.clear();
  since_flush_.reset();
}

void JournalWriter::write_all(const unsigned char* data, std::size_t bytes) {
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, data, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw IOError("cannot write the journal file " + path_ + ": " + std::strerror(errno));
    data += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

}  // namespace tessera::detail
