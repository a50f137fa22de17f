#pragma once
/// @file
/// @brief Small dependency-free SVG plots: a heat map with colour bar and a line plot.

#include <string>
#include <vector>

namespace tessera::io {

/// @brief A matrix of values drawn as coloured cells (row 0 at the top).
struct Heatmap {
  std::vector<std::vector<double>> values;  ///< rows × cols; NaN cells are grey
  std::vector<std::string> row_labels;      ///< one per row (y axis)
  std::vector<std::string> col_labels;      ///< one per column (x axis)
  std::string title;
  std::string x_label;
  std::string y_label;
  std::string value_label;  ///< colour bar caption
};

/// @brief One curve of a line plot.
struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

/// @brief Curves over shared axes, optionally with a log-scale y axis.
struct LinePlot {
  std::vector<LineSeries> series;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;  ///< non-positive values are left out on a log axis
};

/// @brief The SVG document of a heat map.
std::string svg_heatmap(const Heatmap& plot);
/// @brief The SVG document of a line plot.
std::string svg_line_plot(const LinePlot& plot);

}  // namespace tessera::io
