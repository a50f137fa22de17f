#pragma once
/// @file
/// @brief tessera's exception hierarchy and the macros that throw it.
///
/// Errors are thrown on the host only; kernels set a flag that the host checks.
/// Every message names what is at fault (parameter, file:line:column, rank).

#include <stdexcept>
#include <string>

namespace tessera {

/// @brief What went wrong, in the categories the CLI maps to exit codes.
enum class ErrorKind {
  invalid_argument,  ///< a parameter or option has a bad value (exit 2)
  parse,             ///< an input file is malformed (exit 2)
  io,                ///< a file cannot be opened, read or written (exit 2)
  not_compiled,      ///< a backend was asked for that this build lacks (exit 2)
  comm,              ///< MPI/NCCL failure (exit 1)
  internal,          ///< a broken invariant inside tessera (exit 1)
  interrupted,       ///< stopped by SIGTERM/SIGUSR1; resumable from a journal (exit 1)
};

/// @brief Name of an error kind ("invalid_argument", "parse", ...).
const char* to_string(ErrorKind kind) noexcept;

/// @brief Exit code the `tessera` command uses for an error kind: 2 for bad input, 1 otherwise.
int exit_code(ErrorKind kind) noexcept;

/// @brief Another library's exception as one line of text: line breaks and runs of spaces
/// become one space, Kokkos's note that tracebacks are unavailable is dropped, and a bare
/// std::bad_alloc reads "out of memory (an allocation failed)".
std::string one_line_message(const std::exception& e);

/// @brief Base of every exception tessera throws.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  /// True when every rank of a communicator is known to throw this same error
  /// (see `tessera::agree`), so the caller may exit collectively.
  bool agreed() const noexcept { return agreed_; }
  void set_agreed(bool agreed) noexcept { agreed_ = agreed; }

 private:
  ErrorKind kind_;
  bool agreed_ = false;
};

/// @brief A parameter or option has a bad value.
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& message)
      : Error(ErrorKind::invalid_argument, message) {}
};

/// @brief A file's content is malformed; the message starts with `file:line:column:`.
class ParseError : public Error {
 public:
  explicit ParseError(const std::string& message) : Error(ErrorKind::parse, message) {}
  /// Builds "file:line:column: what" (column 0 is omitted).
  ParseError(const std::string& file, long line, long column, const std::string& what);
};

/// @brief A file cannot be opened, read or written.
class IOError : public Error {
 public:
  explicit IOError(const std::string& message) : Error(ErrorKind::io, message) {}
};

/// @brief A backend that this build does not contain was requested.
class NotCompiled : public Error {
 public:
  explicit NotCompiled(const std::string& message) : Error(ErrorKind::not_compiled, message) {}
};

/// @brief A communication library call failed.
class CommError : public Error {
 public:
  explicit CommError(const std::string& message) : Error(ErrorKind::comm, message) {}
};

/// @brief An internal invariant does not hold (a bug in tessera).
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message) : Error(ErrorKind::internal, message) {}
};

/// @brief A run was stopped by a signal (SIGTERM, SIGUSR1) after saving its journal.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message) : Error(ErrorKind::interrupted, message) {}
};

/// @brief Rethrows an error of the given kind with the given message (used to
/// reproduce on every rank an error raised on one).
[[noreturn]] void throw_error(ErrorKind kind, const std::string& message, bool agreed = false);

}  // namespace tessera

/// Checks user input: throws tessera::InvalidArgument with the message when cond is false.
#define TESSERA_EXPECTS(cond, message)                      \
  do {                                                      \
    if (!(cond)) throw ::tessera::InvalidArgument(message); \
  } while (false)

/// Checks an internal invariant: throws tessera::InternalError naming the source line.
#define TESSERA_ASSERT(cond)                                                            \
  do {                                                                                  \
    if (!(cond))                                                                        \
      throw ::tessera::InternalError(std::string("internal error: ") + __FILE__ + ":" + \
                                     std::to_string(__LINE__) + ": " #cond);            \
  } while (false)
