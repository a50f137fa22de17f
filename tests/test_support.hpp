#pragma once
// Helpers shared by the tests.
#include <cstdlib>
#include <fstream>
#include <string>

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

}  // namespace tessera::test
