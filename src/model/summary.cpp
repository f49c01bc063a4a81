// model.summary() text in four eras of Keras. Each era follows its own Keras source:
//   keras2_6:  print_summary/print_row in tf.keras <= 2.6 (tensorflow/python/keras/utils/layer_utils.py,
//              the same code as keras/utils/layer_utils.py of Keras 2.6).
//   keras2_12: print_summary/print_row in keras/utils/layer_utils.py of Keras 2.7-2.12.
//   keras2_15: the same function in Keras 2.13-2.15 (keras/src/utils/layer_utils.py, later
//              tf_keras/utils/layer_utils.py), which adds "cutoff -= 1" and readable_memory_size.
//   keras3:    print_summary in keras/src/utils/summary_utils.py, drawn by rich.table.Table (rich/table.py,
//              rich/text.py, rich/_wrap.py, rich/_ratio.py, rich/box.py).
// A Functional model that is not sequential-like gets a fourth column, "Connected to", and its own line
// length and column positions in each era (see SummaryTable::functional).
#include "rnnkit/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

constexpr int kKeras2LineLength = 65;            // sequential-like models
constexpr int kKeras2FunctionalLineLength = 98;  // models with a "Connected to" column
// min(88, 80 - 4), and for the Functional layout min(108, 80 - 4), when stdout is not a terminal.
constexpr int kKeras3LineLength = 76;

// Python's "{:,}".format(n).
std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return value < 0 ? "-" + text : text;
}

// Python's "{:.2f}".format(x): correctly rounded, as glibc's printf is.
std::string fixed2(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

// readable_memory_size(): divide by 1024 while the quotient is at least 1, two decimals, the unit reached.
// Keras 2.13-2.15 spells bytes "Byte", Keras 3 "B".
std::string readable_memory_size(std::int64_t bytes, bool keras3) {
  static constexpr const char* kUnits[] = {"Byte", "KB", "MB", "GB", "TB", "PB"};
  double size = static_cast<double>(bytes);
  for (const char* unit : kUnits) {
    if (size / 1024 < 1) {
      const std::string name = keras3 && unit == kUnits[0] ? "B" : unit;
      return fixed2(size) + " " + name;
    }
    size /= 1024;
  }
  return fixed2(size) + " PB";
}

// weight_memory_size() for float32 weights: 4 bytes a parameter.
std::int64_t float32_bytes(std::int64_t params) {
  return params * 4;
}

std::string layer_field(const SummaryRow& row) {
  return row.name + " (" + row.class_name + ")";
}

// Keras 2's column end positions, int(line_length * p) for each fraction p: [.45, .85, 1.] for a
// sequential-like model; for the Functional layout [.33, .55, .67, 1.] up to tf.keras 2.12 and
// [.3, .6, .7, 1.] from 2.13.
std::vector<std::size_t> keras2_positions(int line_length, bool functional, bool keras215) {
  std::vector<double> fractions = {0.45, 0.85, 1.0};
  if (functional) fractions = keras215 ? std::vector{0.3, 0.6, 0.7, 1.0} : std::vector{0.33, 0.55, 0.67, 1.0};
  std::vector<std::size_t> positions;
  for (double p : fractions) positions.push_back(static_cast<std::size_t>(line_length * p));
  return positions;
}

// tf.keras 2.x prints an InputLayer's output_shape as the list of its one shape: "[(None, None, 71)]".
std::string keras2_shape(const SummaryRow& row) {
  if (row.class_name == "InputLayer" && !row.output_shape.starts_with('['))
    return "[" + row.output_shape + "]";
  return row.output_shape;
}

// Python's repr() of a str: single quotes unless the text holds ' and no ", backslash escapes.
std::string python_repr(const std::string& text) {
  const bool double_quotes = text.find('\'') != std::string::npos && text.find('"') == std::string::npos;
  const char quote = double_quotes ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", byte);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + quote;
}

// str() of a Python list of str: "['lstm[0][1]', 'lstm[0][2]']", "[]" when empty.
std::string python_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + python_repr(items[i]);
  return out + "]";
}

void pad_to(std::string& line, std::size_t width) {
  if (line.size() < width) line.append(width - line.size(), ' ');
}

// ---- Keras <= 2.6
// ------------------------------------------------------------------------------------------

// print_row: each field is appended after turning the last character of the line so far into a space, the
// line is cut at the column's end position and padded to it. Long fields are simply truncated.
std::string keras26_row(const std::vector<std::string>& fields, const std::vector<std::size_t>& positions) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      if (!line.empty()) line.pop_back();
      line += ' ';
    }
    line += fields[i];
    if (line.size() > positions[i]) line.resize(positions[i]);
    pad_to(line, positions[i]);
  }
  return line + '\n';
}

// The Functional layout prints the first connection on the layer's line and each further one on a line of
// its own, the other columns empty.
std::string keras26_summary(const SummaryTable& table, int line_length) {
  const auto positions = keras2_positions(line_length, table.functional, false);
  const std::string underscores(static_cast<std::size_t>(line_length), '_');
  const std::string equals(static_cast<std::size_t>(line_length), '=');
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  if (table.functional) header.emplace_back("Connected to");
  std::string text = "Model: \"" + table.model_name + "\"\n";
  text += underscores + '\n';
  text += keras26_row(header, positions);
  text += equals + '\n';
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const SummaryRow& row = table.rows[i];
    std::vector<std::string> fields = {layer_field(row), keras2_shape(row), std::to_string(row.params)};
    if (table.functional) fields.push_back(row.connected_to.empty() ? "" : row.connected_to.front());
    text += keras26_row(fields, positions);
    for (std::size_t j = 1; table.functional && j < row.connected_to.size(); ++j)
      text += keras26_row({"", "", "", row.connected_to[j]}, positions);
    text += (i + 1 == table.rows.size() ? equals : underscores) + '\n';
  }
  const std::int64_t total = table.trainable_params + table.non_trainable_params;
  text += "Total params: " + with_thousands(total) + '\n';
  text += "Trainable params: " + with_thousands(table.trainable_params) + '\n';
  text += "Non-trainable params: " + with_thousands(table.non_trainable_params) + '\n';
  text += underscores + '\n';
  return text;
}

// ---- tf.keras 2.7-2.15
// -------------------------------------------------------------------------------------

// print_row (nested_level 0): while any field has text left, print one line. Column `col` spans
// [positions[col-1], positions[col]); it takes at most `cutoff` characters of what is left of its field:
//   cutoff = end - start - space, space = 2 except for the last column (the gap before the next column);
//   Keras 2.13+ also subtracts 1 for every column but the last ("offset by one to align the start of col":
//   the first column's leading space otherwise pushes a full first field one character into the second).
// If the piece taken contains "),", "},", "]," or "'," it is cut just after the first of them, so a list of
// shapes breaks after a shape. The first column starts with one space. After the piece come `space`
// spaces, then padding to positions[col] (none if the line is already past it).
std::string keras2_row(std::vector<std::string> left, const std::vector<std::size_t>& positions,
                       bool offset_by_one) {
  std::string text;
  const std::size_t last = positions.size() - 1;
  auto any_left = [&] {
    for (const std::string& field : left)
      if (!field.empty()) return true;
    return false;
  };
  while (any_left()) {
    std::string line;
    for (std::size_t col = 0; col < left.size(); ++col) {
      const std::size_t start = col > 0 ? positions[col - 1] : 0;
      const std::size_t space = col != last ? 2 : 0;
      std::size_t cutoff = positions[col] - start - space;
      if (offset_by_one && col != last) cutoff -= 1;
      std::string fit = left[col].substr(0, cutoff);
      std::size_t best = std::string::npos;
      for (const char* mark : {"),", "},", "],", "',"}) {
        const std::size_t found = fit.find(mark);
        if (found != std::string::npos && (best == std::string::npos || found + 2 < best)) best = found + 2;
      }
      if (best != std::string::npos) {
        cutoff = best;
        fit.resize(cutoff);
      }
      if (col == 0) line += ' ';
      line += fit;
      line.append(space, ' ');
      left[col].erase(0, std::min(cutoff, left[col].size()));
      pad_to(line, positions[col]);
    }
    text += line + '\n';
  }
  return text;
}

// The Functional layout's fourth field is str() of the list of connections, wrapped by print_row after
// each "',": one connection a line, the first line starting "['", the others " '".
std::string keras2_summary(const SummaryTable& table, int line_length, bool keras215) {
  const auto positions = keras2_positions(line_length, table.functional, keras215);
  // A column with no room would make print_row loop forever (cutoff 0) or eat its field from the end.
  for (std::size_t col = 0; col < positions.size(); ++col) {
    const std::size_t start = col > 0 ? positions[col - 1] : 0;
    const std::size_t reserved = col + 1 == positions.size() ? 0 : (keras215 ? 3 : 2);
    check(positions[col] >= start + reserved + 1, "summary line_length ", line_length,
          " is too short: column ", col + 1, " has no room left");
  }
  const std::string underscores(static_cast<std::size_t>(line_length), '_');
  const std::string equals(static_cast<std::size_t>(line_length), '=');
  const std::string blank(static_cast<std::size_t>(line_length), ' ');
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  if (table.functional) header.emplace_back("Connected to");
  std::string text = "Model: \"" + table.model_name + "\"\n";
  text += underscores + '\n';
  text += keras2_row(header, positions, keras215);
  text += equals + '\n';
  for (const SummaryRow& row : table.rows) {
    std::vector<std::string> fields = {layer_field(row), keras2_shape(row), std::to_string(row.params)};
    if (table.functional) fields.push_back(python_list(row.connected_to));
    text += keras2_row(fields, positions, keras215);
    text += blank + '\n';  // print_layer's separator after every top-level layer, the last one included
  }
  text += equals + '\n';
  const std::int64_t total = table.trainable_params + table.non_trainable_params;
  if (keras215) {
    // f"Total params: {count} ({readable_memory_size(bytes)})": no thousands separators.
    const auto line = [](const char* label, std::int64_t count) {
      return std::string(label) + std::to_string(count) + " (" +
             readable_memory_size(float32_bytes(count), false) + ")\n";
    };
    text += line("Total params: ", total);
    text += line("Trainable params: ", table.trainable_params);
    text += line("Non-trainable params: ", table.non_trainable_params);
  } else {
    text += "Total params: " + with_thousands(total) + '\n';
    text += "Trainable params: " + with_thousands(table.trainable_params) + '\n';
    text += "Non-trainable params: " + with_thousands(table.non_trainable_params) + '\n';
  }
  text += underscores + '\n';
  return text;
}

// ---- Keras 3 (rich)
// ----------------------------------------------------------------------------------------

// rich's Text.wrap of one line to `width` cells with overflow "ellipsis" (Column's default) and the column's
// justification, each result exactly `width` characters. Text is treated as one cell per byte (ASCII).
std::vector<std::string> rich_wrap(const std::string& text, std::size_t width, bool right) {
  // rich._wrap.divide_line(fold=False): words are runs of \s*\S+\s*; a word that does not fit the rest of
  // the line starts a new one (unless it is the line's first), a word longer than the width gets a line of
  // its own and is cut later.
  std::vector<std::size_t> breaks;
  std::size_t offset = 0;
  std::size_t position = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  while (position < text.size()) {
    const std::size_t start = position;
    while (position < text.size() && is_space(text[position])) ++position;
    if (position == text.size()) break;  // only trailing whitespace: no further word
    while (position < text.size() && !is_space(text[position])) ++position;
    const std::size_t stripped_end = position;
    while (position < text.size() && is_space(text[position])) ++position;
    const std::size_t word_length = stripped_end - start;  // cell_len(word.rstrip())
    const std::size_t full_length = position - start;
    const std::size_t remaining = width > offset ? width - offset : 0;
    if (width >= offset && remaining >= word_length) {
      offset += full_length;
    } else if (word_length > width) {
      if (start > 0) breaks.push_back(start);
      offset = full_length;
    } else if (offset > 0 && start > 0) {
      breaks.push_back(start);
      offset = full_length;
    }
  }
  std::vector<std::string> lines;
  std::size_t begin = 0;
  breaks.push_back(text.size());
  for (std::size_t end : breaks) {
    std::string line = text.substr(begin, end - begin);
    begin = end;
    // Text.rstrip_end(width): drop trailing whitespace, at most as much as overflows.
    if (line.size() > width) {
      std::size_t trailing = 0;
      while (trailing < line.size() && is_space(line[line.size() - 1 - trailing])) ++trailing;
      line.resize(line.size() - std::min(trailing, line.size() - width));
    }
    if (right) {
      while (!line.empty() && is_space(line.back())) line.pop_back();
    }
    // Text.truncate(width, overflow="ellipsis"): cut to width - 1 and add "…" (one cell, three bytes).
    if (line.size() > width) {
      line.resize(width - 1);
      line += "\u2026";
    } else if (right) {
      line.insert(0, width - line.size(), ' ');
    } else {
      pad_to(line, width);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// One table row: each cell wrapped to its column, then " " + content + " " (Padding(0, 1)), cells padded
// with blank lines to the tallest, joined by the box's vertical characters. Body cells are aligned to the top
// (Column's vertical "top"); rich aligns header cells to the bottom.
std::string rich_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                     const std::vector<bool>& right, const char* edge, bool header) {
  std::vector<std::vector<std::string>> wrapped;
  std::size_t height = 1;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    wrapped.push_back(rich_wrap(cells[i], widths[i] - 2, right[i]));
    height = std::max(height, wrapped.back().size());
  }
  std::string text;
  for (std::size_t line = 0; line < height; ++line) {
    text += edge;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      text += ' ';
      const std::size_t blank_lines = height - wrapped[i].size();
      const std::size_t first = header ? blank_lines : 0;
      const bool filled = line >= first && line - first < wrapped[i].size();
      text += filled ? wrapped[i][line - first] : std::string(widths[i] - 2, ' ');
      text += ' ';
      text += edge;
    }
    text += '\n';
  }
  return text;
}

std::string rich_rule(const std::vector<std::size_t>& widths, const char* left, const char* fill,
                      const char* divider, const char* right) {
  std::string text = left;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (i > 0) text += divider;
    for (std::size_t j = 0; j < widths[i]; ++j) text += fill;
  }
  return text + right + '\n';
}

// Keras 3 formats a shape as "(" + ", ".join(dims) + ")", so a rank-1 shape has no trailing comma:
// Keras 2's "(None,)" becomes "(None)".
std::string keras3_shape(std::string shape) {
  for (std::size_t found = shape.find(",)"); found != std::string::npos; found = shape.find(",)", found))
    shape.erase(found, 1);
  return shape;
}

// An InputLayer's shape is its one shape in Keras 3, not tf.keras 2's list of it.
std::string keras3_row_shape(const SummaryRow& row) {
  std::string shape = row.output_shape;
  if (row.class_name == "InputLayer" && shape.starts_with("[(") && shape.ends_with(")]") &&
      shape.find("), (") == std::string::npos)
    shape = shape.substr(1, shape.size() - 2);
  return keras3_shape(shape);
}

// The Functional layout's "Connected to" cell: every connection joined by ", " (rich wraps it between
// them), "-" for none.
std::string keras3_connections(const SummaryRow& row) {
  if (row.connected_to.empty()) return "-";
  std::string text;
  for (const std::string& connection : row.connected_to) text += (text.empty() ? "" : ", ") + connection;
  return text;
}

std::string keras3_summary(const SummaryTable& table, int line_length) {
  // Column widths: int(pos * line_length) - current for positions [0.45, 0.80, 1.0] (Functional layout:
  // [0.3, 0.56, 0.74, 1.0]), each at least 4.
  std::vector<std::size_t> widths;
  int current = 0;
  const std::vector<double> positions =
      table.functional ? std::vector{0.3, 0.56, 0.74, 1.0} : std::vector{0.45, 0.80, 1.0};
  for (double pos : positions) {
    const int width = static_cast<int>(pos * line_length) - current;
    check(width >= 4, "Insufficient console width to print summary: line_length ", line_length,
          " leaves a column of ", width, " characters (Keras 3 needs at least 4)");
    widths.push_back(static_cast<std::size_t>(width));
    current += width;
  }
  // rich.table.Table(width=line_length): each fixed-width column measures width + 2 (padding); the columns
  // must fit line_length - (columns + 1) (the edges and dividers). Being too wide, rich's ratio_reduce
  // takes round(excess_left * 1 / ratios_left) (Python's round: half to even) from each column in turn.
  const std::size_t available = static_cast<std::size_t>(line_length) - (widths.size() + 1);
  std::size_t total = 0;
  for (std::size_t& width : widths) total += (width += 2);
  if (total > available) {
    double excess = static_cast<double>(total - available);
    double ratios = static_cast<double>(widths.size());
    for (std::size_t& width : widths) {
      const auto distributed = std::min(width, static_cast<std::size_t>(std::nearbyint(excess / ratios)));
      width -= distributed;
      excess -= static_cast<double>(distributed);
      ratios -= 1;
    }
  }
  std::vector<bool> right = {false, false, true};
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  if (table.functional) {
    right.push_back(false);
    header.emplace_back("Connected to");
  }
  std::string text = "Model: \"" + table.model_name + "\"\n";
  // box.HEAVY_HEAD, show_lines=True: heavy top and header, a heavy-to-light rule under the header, light
  // rules between the layers and a light bottom.
  text += rich_rule(widths, "\u250f", "\u2501", "\u2533", "\u2513");  // ┏━┳┓
  text += rich_row(header, widths, right, "\u2503", true);            // ┃
  text += rich_rule(widths, "\u2521", "\u2501", "\u2547", "\u2529");  // ┡━╇┩
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const SummaryRow& row = table.rows[i];
    if (i > 0) text += rich_rule(widths, "\u251c", "\u2500", "\u253c", "\u2524");  // ├─┼┤
    std::vector<std::string> cells = {layer_field(row), keras3_row_shape(row),
                                      row.built ? with_thousands(row.params) : std::string("0 (unbuilt)")};
    if (table.functional) cells.push_back(keras3_connections(row));
    text += rich_row(cells, widths, right, "\u2502", false);  // │
  }
  text += rich_rule(widths, "\u2514", "\u2500", "\u2534", "\u2518");  // └─┴┘
  const std::int64_t all = table.trainable_params + table.non_trainable_params;
  const auto line = [](const char* label, std::int64_t count) {
    return std::string(label) + with_thousands(count) + " (" +
           readable_memory_size(float32_bytes(count), true) + ")\n";
  };
  text += line(" Total params: ", all);
  text += line(" Trainable params: ", table.trainable_params);
  text += line(" Non-trainable params: ", table.non_trainable_params);
  return text;
}

}  // namespace

SummaryStyle parse_summary_style(std::string_view text) {
  for (SummaryStyle style :
       {SummaryStyle::keras2_6, SummaryStyle::keras2_12, SummaryStyle::keras2_15, SummaryStyle::keras3}) {
    if (text == summary_style_name(style)) return style;
  }
  fail("unknown summary style \"", text, "\": expected one of keras2.6, keras2.12, keras2.15, keras3");
}

std::string_view summary_style_name(SummaryStyle style) {
  switch (style) {
    case SummaryStyle::keras2_6:
      return "keras2.6";
    case SummaryStyle::keras2_12:
      return "keras2.12";
    case SummaryStyle::keras2_15:
      return "keras2.15";
    case SummaryStyle::keras3:
      return "keras3";
  }
  fail("invalid SummaryStyle value ", static_cast<int>(style));
}

std::string format_summary(const SummaryTable& table, SummaryStyle style) {
  return format_summary(table, style, 0);
}

std::string format_summary(const SummaryTable& table, SummaryStyle style, int line_length) {
  constexpr std::int64_t kMaxCount = std::int64_t{1} << 60;  // so that counts * 4 bytes and sums fit
  check(table.trainable_params >= 0 && table.non_trainable_params >= 0 &&
            table.trainable_params < kMaxCount && table.non_trainable_params < kMaxCount,
        "summary of model \"", table.model_name, "\": parameter counts must be in [0, 2^60)");
  for (const SummaryRow& row : table.rows)
    check(row.params >= 0 && row.params < kMaxCount, "summary row \"", row.name,
          "\": parameter count must be in [0, 2^60)");
  check(line_length == 0 || line_length >= 20,
        "summary line_length must be 0 (the default) or at least 20, got ", line_length);
  const int keras2_default = table.functional ? kKeras2FunctionalLineLength : kKeras2LineLength;
  switch (style) {
    case SummaryStyle::keras2_6:
      return keras26_summary(table, line_length ? line_length : keras2_default);
    case SummaryStyle::keras2_12:
      return keras2_summary(table, line_length ? line_length : keras2_default, false);
    case SummaryStyle::keras2_15:
      return keras2_summary(table, line_length ? line_length : keras2_default, true);
    case SummaryStyle::keras3:
      return keras3_summary(table, line_length ? line_length : kKeras3LineLength);
  }
  fail("invalid SummaryStyle value ", static_cast<int>(style));
}

}  // namespace rnnkit
