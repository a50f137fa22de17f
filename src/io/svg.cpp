#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <tessera/core/error.hpp>
#include <tessera/io/svg.hpp>

namespace tessera::io {

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Viridis, sampled at 9 points and interpolated.
std::string colour(double t) {
  static const double stops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                     {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                     {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 8.0;
  const int i = std::min(7, static_cast<int>(t));
  const double f = t - i;
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string label_number(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e4 || a < 1e-3) return fmt::format("{:.2g}", v);
  return fmt::format("{:.4g}", v);
}

std::string header(int width, int height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      width, height);
}

std::string text(double x, double y, const std::string& s, const char* anchor = "middle",
                 double rotate = 0, int size = 12) {
  std::string transform =
      rotate != 0 ? fmt::format(" transform=\"rotate({} {:.1f} {:.1f})\"", rotate, x, y) : "";
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-size=\"{}\"{}>{}</text>\n", x, y,
      anchor, size, transform, escape(s));
}

// About five round tick values spanning [lo, hi].
std::vector<double> nice_ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

}  // namespace

std::string svg_heatmap(const Heatmap& plot) {
  const std::size_t rows = plot.values.size();
  TESSERA_EXPECTS(rows > 0, "svg_heatmap: no values");
  const std::size_t cols = plot.values[0].size();
  for (const auto& r : plot.values)
    TESSERA_EXPECTS(r.size() == cols, "svg_heatmap: rows of different lengths");
  TESSERA_EXPECTS(plot.row_labels.empty() || plot.row_labels.size() == rows,
                  "svg_heatmap: one row label per row");
  TESSERA_EXPECTS(plot.col_labels.empty() || plot.col_labels.size() == cols,
                  "svg_heatmap: one column label per column");

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& r : plot.values)
    for (double v : r)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double span = hi > lo ? hi - lo : 1.0;

  const double cell = std::clamp(480.0 / static_cast<double>(std::max(rows, cols)), 8.0, 40.0);
  const double left = 110, top = 50;
  const double grid_w = cell * static_cast<double>(cols), grid_h = cell * static_cast<double>(rows);
  const int width = static_cast<int>(left + grid_w + 130);
  const int height = static_cast<int>(top + grid_h + 100);

  std::string svg = header(width, height);
  svg += text(left + grid_w / 2, 28, plot.title, "middle", 0, 15);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      const double v = plot.values[i][j];
      svg += fmt::format(
          "<rect class=\"cell\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
          "fill=\"{}\"><title>{}</title></rect>\n",
          left + cell * static_cast<double>(j), top + cell * static_cast<double>(i), cell, cell,
          std::isfinite(v) ? colour((v - lo) / span) : "#bbbbbb", label_number(v));
    }
  // Axis labels: at most ~20 ticks per axis.
  const std::size_t row_every = std::max<std::size_t>(1, rows / 20);
  const std::size_t col_every = std::max<std::size_t>(1, cols / 20);
  for (std::size_t i = 0; i < plot.row_labels.size(); i += row_every)
    svg += text(left - 6, top + cell * (static_cast<double>(i) + 0.5) + 4, plot.row_labels[i],
                "end", 0, 10);
  for (std::size_t j = 0; j < plot.col_labels.size(); j += col_every) {
    const double x = left + cell * (static_cast<double>(j) + 0.5);
    svg += text(x, top + grid_h + 12, plot.col_labels[j], "end", -45, 10);
  }
  svg += text(left + grid_w / 2, top + grid_h + 80, plot.x_label);
  svg += text(24, top + grid_h / 2, plot.y_label, "middle", -90);

  // Colour bar with its extremes and midpoint.
  const double bar_x = left + grid_w + 30, bar_w = 18;
  const int steps = 50;
  for (int s = 0; s < steps; ++s) {
    const double t = 1.0 - (s + 0.5) / steps;
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.2f}\" width=\"{}\" height=\"{:.2f}\" fill=\"{}\"/>\n", bar_x,
        top + grid_h * s / steps, bar_w, grid_h / steps + 0.5, colour(t));
  }
  for (double f : {0.0, 0.5, 1.0})
    svg += text(bar_x + bar_w + 4, top + grid_h * (1 - f) + 4, label_number(lo + f * span), "start",
                0, 10);
  svg += text(bar_x + bar_w + 60, top + grid_h / 2, plot.value_label, "middle", 90);
  svg += "</svg>\n";
  return svg;
}

std::string svg_line_plot(const LinePlot& plot) {
  TESSERA_EXPECTS(!plot.series.empty(), "svg_line_plot: no series");
  auto ty = [&](double y) { return plot.log_y ? std::log10(y) : y; };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : plot.series) {
    TESSERA_EXPECTS(s.x.size() == s.y.size(),
                    "svg_line_plot: series '" + s.name + "' has different x and y lengths");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (plot.log_y && s.y[i] <= 0)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
    }
  }
  if (!(x0 <= x1)) x0 = 0, x1 = 1;
  if (!(y0 <= y1)) y0 = 0, y1 = 1;
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;

  const double left = 80, top = 40, w = 560, h = 360;
  const int width = 800, height = 470;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto py = [&](double y) { return top + h - (y - y0) / (y1 - y0) * h; };

  std::string svg = header(width, height);
  svg += text(left + w / 2, 24, plot.title, "middle", 0, 15);
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      left, top, w, h);
  for (double t : nice_ticks(x0, x1)) {
    svg +=
        fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n",
                    px(t), top, top + h);
    svg += text(px(t), top + h + 16, label_number(t), "middle", 0, 10);
  }
  std::vector<double> yt = plot.log_y ? std::vector<double>{} : nice_ticks(y0, y1);
  if (plot.log_y)
    for (double e = std::ceil(y0); e <= y1; e += std::max(1.0, std::ceil((y1 - y0) / 8)))
      yt.push_back(e);
  for (double t : yt) {
    svg +=
        fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n",
                    left, py(t), left + w);
    svg +=
        text(left - 6, py(t) + 4,
             plot.log_y ? fmt::format("1e{}", static_cast<int>(t)) : label_number(t), "end", 0, 10);
  }
  svg += text(left + w / 2, top + h + 40, plot.x_label);
  svg += text(22, top + h / 2, plot.y_label + (plot.log_y ? " (log)" : ""), "middle", -90);

  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  for (std::size_t k = 0; k < plot.series.size(); ++k) {
    const auto& s = plot.series[k];
    std::string points;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (plot.log_y && s.y[i] <= 0)) continue;
      points += fmt::format("{:.2f},{:.2f} ", px(s.x[i]), py(ty(s.y[i])));
    }
    const char* c = palette[k % 8];
    svg += fmt::format(
        "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" "
        "points=\"{}\"/>\n",
        c, points);
    const double ly = top + 14 + 18 * static_cast<double>(k);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
        "stroke-width=\"3\"/>\n",
        left + w + 12, ly - 4, left + w + 32, c);
    svg += text(left + w + 38, ly, s.name, "start", 0, 11);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace tessera::io
