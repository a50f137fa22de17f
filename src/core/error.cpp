#include <cctype>
#include <new>

#include <tessera/core/error.hpp>

namespace tessera {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::parse: return "parse";
    case ErrorKind::io: return "io";
    case ErrorKind::not_compiled: return "not_compiled";
    case ErrorKind::comm: return "comm";
    case ErrorKind::internal: return "internal";
    case ErrorKind::interrupted: return "interrupted";
  }
  return "unknown";
}

int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument:
    case ErrorKind::parse:
    case ErrorKind::io:
    case ErrorKind::not_compiled: return 2;
    case ErrorKind::comm:
    case ErrorKind::internal:
    case ErrorKind::interrupted: return 1;
  }
  return 1;
}

std::string one_line_message(const std::exception& e) {
  std::string text = e.what();
  if (dynamic_cast<const std::bad_alloc*>(&e) && text == std::bad_alloc().what())
    return "out of memory (an allocation failed)";
  const std::string note = "Traceback functionality not available";
  for (auto at = text.find(note); at != std::string::npos; at = text.find(note))
    text.erase(at, note.size());
  std::string line;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      line += c;
    else if (!line.empty() && line.back() != ' ')
      line += ' ';
  }
  if (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

static std::string locate(const std::string& file, long line, long column) {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  if (column > 0) where += ":" + std::to_string(column);
  return where;
}

ParseError::ParseError(const std::string& file, long line, long column, const std::string& what)
    : Error(ErrorKind::parse, locate(file, line, column) + ": " + what) {}

template <class E>
[[noreturn]] static void raise(const std::string& message, bool agreed) {
  E error(message);
  error.set_agreed(agreed);
  throw error;
}

void throw_error(ErrorKind kind, const std::string& message, bool agreed) {
  switch (kind) {
    case ErrorKind::invalid_argument: raise<InvalidArgument>(message, agreed);
    case ErrorKind::parse: raise<ParseError>(message, agreed);
    case ErrorKind::io: raise<IOError>(message, agreed);
    case ErrorKind::not_compiled: raise<NotCompiled>(message, agreed);
    case ErrorKind::comm: raise<CommError>(message, agreed);
    case ErrorKind::interrupted: raise<Interrupted>(message, agreed);
    case ErrorKind::internal: break;
  }
  raise<InternalError>(message, agreed);
}

}  // namespace tessera
