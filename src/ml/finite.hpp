#pragma once
// The check every estimator makes on distributed data: no NaN or ±inf. Internal.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <tessera/array/column_stats.hpp>
#include <tessera/core/error.hpp>

namespace tessera::ml::impl {

/// @throws InvalidArgument (prefixed by `who`) naming the first row, then column, that
/// holds NaN or ±inf, found from the data's column statistics (NaN propagated).
inline void require_finite(const array::ColumnStats& s, const std::string& who) {
  std::int64_t row = -1;
  long col = -1;
  for (const auto& c : s.columns) {
    std::int64_t r = -1;
    if (c.nan_count > 0 || std::isnan(c.max) || c.max == std::numeric_limits<double>::infinity())
      r = c.argmax;
    if (c.min == -std::numeric_limits<double>::infinity() && (r < 0 || c.argmin < r)) r = c.argmin;
    if (r >= 0 && (row < 0 || r < row)) row = r, col = c.index;
  }
  if (row >= 0)
    throw InvalidArgument(
        fmt::format("{}: row {}, column {} is not finite (remove or impute missing values first)",
                    who, row, col));
}

/// @throws InvalidArgument (prefixed by `who`) when squared distances between rows and
/// points within their range could overflow (values beyond about 1e154): ‖x‖², the
/// products and their sums up to 4 Σ_j max(|min_j|, |max_j|)² must be finite.
inline void require_squares_finite(const array::ColumnStats& s, const std::string& who) {
  double bound = 0;
  for (const auto& c : s.columns) {
    const double m = std::max(std::fabs(c.min), std::fabs(c.max));
    bound += m * m;
  }
  if (!std::isfinite(4 * bound))
    throw InvalidArgument(who +
                          ": the data is too large to square in double precision (values beyond "
                          "about 1e154): scale the data first");
}

}  // namespace tessera::ml::impl
