#pragma once
/// @file
/// @brief Collective agreement on failure: an error on one rank becomes the same
/// exception on every rank, so no rank is left waiting in a collective.
///
/// @code
/// auto table = tessera::agree(comm, [&] { return read_my_chunk(path, comm.rank()); });
/// // if rank 1 throws ParseError("x.csv:7: ..."), every rank throws that ParseError
/// @endcode
///
/// `fn` must be local (no collectives inside): agreement happens after it returns.

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <tessera/comm/comm.hpp>
#include <tessera/core/error.hpp>

namespace tessera {

namespace detail {
struct LocalFailure {
  ErrorKind kind;
  std::string message;
};
/// Classifies the exception being handled (call inside a catch block).
LocalFailure capture_current_exception();
/// Collective: if any rank failed, every rank throws the error of the lowest failing rank.
void settle(const Comm& comm, const std::optional<LocalFailure>& failure);
}  // namespace detail

/// @brief Runs `fn` on every rank and agrees on failure (collective).
/// @return fn's result on success everywhere.
/// @throws tessera::Error of the lowest failing rank's kind and message, on every
/// rank, marked `agreed()`.
template <class F>
std::decay_t<std::invoke_result_t<F&>> agree(const Comm& comm, F&& fn) {
  using R = std::invoke_result_t<F&>;
  std::optional<detail::LocalFailure> failure;
  if constexpr (std::is_void_v<R>) {
    try {
      fn();
    } catch (...) {
      failure = detail::capture_current_exception();
    }
    detail::settle(comm, failure);
  } else {
    std::optional<std::decay_t<R>> result;
    try {
      result.emplace(fn());
    } catch (...) {
      failure = detail::capture_current_exception();
    }
    detail::settle(comm, failure);
    return std::move(*result);
  }
}

/// @brief Collective check: throws the same InvalidArgument (or `kind`) on every rank
/// if `ok` is false on any rank; the lowest such rank's message wins.
void agree_check(const Comm& comm, bool ok, const std::string& message,
                 ErrorKind kind = ErrorKind::invalid_argument);

}  // namespace tessera
