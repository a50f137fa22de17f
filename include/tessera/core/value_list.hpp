#pragma once
/// @file
/// @brief Value lists as the command line writes them, and NumPy-like ranges.
///
/// `1,10,100`, `logspace:A:B:N` (N values 10^A .. 10^B inclusive, as numpy.logspace),
/// `linspace:A:B:N`, `A:B` (integers A..B inclusive).

#include <string>
#include <vector>

namespace tessera {

/// @brief N values from 10^a to 10^b inclusive (numpy.logspace).
std::vector<double> logspace(double a, double b, int n);
/// @brief N evenly spaced values from a to b inclusive (numpy.linspace).
std::vector<double> linspace(double a, double b, int n);

/// @brief Parses a value list; `option` names it in errors ("--C: ...").
/// @throws InvalidArgument naming the option and the bad part.
std::vector<double> parse_value_list(const std::string& text, const std::string& option);

/// @brief Parses non-negative integer lists/ranges (`0,3,5`, `2:19`).
std::vector<long> parse_index_list(const std::string& text, const std::string& option);

}  // namespace tessera
