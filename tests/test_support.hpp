#pragma once
// Helpers shared by the tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <typeinfo>

#include <nlohmann/json.hpp>
#include <tessera/comm/comm.hpp>

namespace tessera::test {

/// The world communicator of MPI tests (set by mpi_main.cpp).
extern const Comm* g_world;

/// Path of a file under tests/fixtures.
inline std::string fixture(const std::string& name) {
  const char* dir = std::getenv("TESSERA_FIXTURES");
  return std::string(dir ? dir : "tests/fixtures") + "/" + name;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

/// Relative difference, with an absolute floor for values near zero.
inline double rel_diff(double a, double b) {
  const double scale = std::max({std::abs(a), std::abs(b), 1e-300});
  return std::abs(a - b) / scale;
}

/// The message of the `Error` that f() throws; when f returns instead, a test failure and "".
/// (Another exception type propagates: the test fails with it.)
template <class Error, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a " << typeid(Error).name() << ", nothing was thrown";
  return "";
}

}  // namespace tessera::test

/// The statement throws `Error` with `text` in its message.
#define EXPECT_ERROR_MENTIONS(Error, statement, text)                                            \
  do {                                                                                           \
    const std::string tessera_message_ = ::tessera::test::message_of<Error>([&] { statement; }); \
    EXPECT_NE(tessera_message_.find(text), std::string::npos) << tessera_message_;               \
  } while (0)
