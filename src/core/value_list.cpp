#include <charconv>
#include <cmath>

#include <tessera/core/error.hpp>
#include <tessera/core/value_list.hpp>

namespace tessera {

std::vector<double> linspace(double a, double b, int n) {
  TESSERA_EXPECTS(n >= 1, "linspace: the number of values must be >= 1");
  std::vector<double> v(static_cast<std::size_t>(n));
  if (n == 1) {
    v[0] = a;
    return v;
  }
  const double step = (b - a) / (n - 1);
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = a + i * step;
  v.back() = b;  // as numpy, the end point is exact
  return v;
}

std::vector<double> logspace(double a, double b, int n) {
  std::vector<double> v = linspace(a, b, n);
  for (double& x : v) x = std::pow(10.0, x);
  return v;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = s.find(sep, pos);
    parts.push_back(s.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return parts;
}

double number(const std::string& s, const std::string& option, const std::string& whole) {
  double v = 0;
  const char* begin = s.data();
  if (!s.empty() && s[0] == '+') ++begin;
  const auto r = std::from_chars(begin, s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v))
    throw InvalidArgument(option + ": '" + s + "' in '" + whole + "' is not a finite number");
  return v;
}

long integer(const std::string& s, const std::string& option, const std::string& whole) {
  long v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw InvalidArgument(option + ": '" + s + "' in '" + whole + "' is not an integer");
  return v;
}

}  // namespace

std::vector<double> parse_value_list(const std::string& text, const std::string& option) {
  TESSERA_EXPECTS(!text.empty(), option + ": empty value list");
  const auto parts = split(text, ':');
  if (parts[0] == "logspace" || parts[0] == "linspace") {
    if (parts.size() != 4)
      throw InvalidArgument(option + ": '" + text + "' should be " + parts[0] + ":A:B:N");
    const double a = number(parts[1], option, text), b = number(parts[2], option, text);
    const long n = integer(parts[3], option, text);
    if (n < 1 || n > 1000000)
      throw InvalidArgument(option + ": '" + text + "': N must be between 1 and 1000000");
    return parts[0] == "logspace" ? logspace(a, b, static_cast<int>(n))
                                  : linspace(a, b, static_cast<int>(n));
  }
  if (parts.size() == 2) {
    const long a = integer(parts[0], option, text), b = integer(parts[1], option, text);
    if (b < a) throw InvalidArgument(option + ": range '" + text + "' is empty (B < A)");
    if (b - a >= 1000000) throw InvalidArgument(option + ": range '" + text + "' is too long");
    std::vector<double> v;
    for (long i = a; i <= b; ++i) v.push_back(static_cast<double>(i));
    return v;
  }
  if (parts.size() != 1)
    throw InvalidArgument(option + ": cannot read '" + text +
                          "' (use 1,10,100 or logspace:A:B:N, linspace:A:B:N, A:B)");
  std::vector<double> v;
  for (const auto& item : split(text, ',')) v.push_back(number(item, option, text));
  return v;
}

std::vector<long> parse_index_list(const std::string& text, const std::string& option) {
  TESSERA_EXPECTS(!text.empty(), option + ": empty list");
  std::vector<long> out;
  for (const auto& item : split(text, ',')) {
    const auto range = split(item, ':');
    if (range.size() > 2) throw InvalidArgument(option + ": cannot read '" + item + "'");
    const long a = integer(range[0], option, text);
    const long b = range.size() == 2 ? integer(range[1], option, text) : a;
    if (a < 0 || b < a)
      throw InvalidArgument(option + ": '" + item + "' is not a non-negative index or range A:B");
    for (long i = a; i <= b; ++i) out.push_back(i);
  }
  return out;
}

}  // namespace tessera
