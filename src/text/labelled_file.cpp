#include "rnnkit/text/labelled_file.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <span>

#include "rnnkit/error.h"
#include "rnnkit/text/utf8.h"

namespace rnnkit {
namespace {

constexpr std::array kTextNames{"text", "document", "sentence", "review", "content"};
constexpr std::array kLabelNames{"label", "sentiment", "class", "target"};

struct Row {
  std::vector<std::string> fields;
  std::int64_t line = 0;  // where the row starts
};

std::string lowercase_ascii(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

std::string where(const std::string& source, std::int64_t line) {
  return "file '" + source + "', line " + std::to_string(line);
}

// Rows of RFC 4180 CSV (quoted fields) or plain TSV; blank lines are skipped, as pandas and Keras users'
// loaders do.
std::vector<Row> split_rows(std::string_view content, char delimiter, const std::string& source) {
  const bool quoting = delimiter == ',';
  std::vector<Row> rows;
  Row row;
  std::string field;
  std::int64_t line = 1;
  bool in_row = false;  // something seen on this row
  std::size_t i = 0;
  const auto end_row = [&] {
    if (in_row) {
      row.fields.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    row = Row{};
    field.clear();
    in_row = false;
  };
  while (i < content.size()) {
    const char c = content[i];
    if (!in_row) row.line = line;
    if (quoting && c == '"' && field.empty()) {
      // A quoted field: up to the closing quote, "" standing for one quote.
      in_row = true;
      const std::int64_t opened = line;
      ++i;
      bool closed = false;
      while (i < content.size()) {
        const char q = content[i];
        if (q == '"') {
          if (i + 1 < content.size() && content[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (q == '\n') ++line;
        if (q == '\r' && i + 1 < content.size() && content[i + 1] == '\n') {
          ++i;
          continue;  // CRLF inside a field is a line break, kept as LF
        }
        field += q;
        ++i;
      }
      check(closed, where(source, opened), ", column ", row.fields.size() + 1,
            ": a quoted field is not closed before the end of the file");
      check(i >= content.size() || content[i] == delimiter || content[i] == '\n' || content[i] == '\r',
            where(source, line), ", column ", row.fields.size() + 1,
            ": text after the closing quote of a quoted field (a quote inside a field is written \"\")");
      continue;
    }
    if (c == delimiter) {
      in_row = true;
      row.fields.push_back(std::move(field));
      field.clear();
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r') {
      end_row();
      i += (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ? 2 : 1;
      ++line;
      continue;
    }
    in_row = true;
    field += c;
    ++i;
  }
  end_row();
  return rows;
}

// The column named `wanted`, or the first of the common names; -1 when none (only allowed for an optional
// label column).
std::int64_t find_column(const std::vector<std::string>& header, const std::string& wanted,
                         std::span<const char* const> common) {
  if (!wanted.empty()) {
    const auto found = std::find(header.begin(), header.end(), wanted);
    return found == header.end() ? -1 : found - header.begin();
  }
  for (const char* name : common)
    for (std::size_t i = 0; i < header.size(); ++i)
      if (lowercase_ascii(header[i]) == name) return static_cast<std::int64_t>(i);
  return -1;
}

std::string header_list(const std::vector<std::string>& header) {
  std::string list;
  for (const std::string& name : header) list += (list.empty() ? "'" : ", '") + name + "'";
  return list;
}

std::string common_list(std::span<const char* const> names) {
  std::string list;
  for (const char* name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

}  // namespace

std::string LabelledTexts::label_location(std::size_t row) const {
  return where(source, lines.at(row)) + ", column " + std::to_string(label_column_number) + " (" +
         label_column + ")";
}

LabelledTexts parse_labelled_text(std::string_view content, const std::string& source,
                                  const LabelledFileOptions& options) {
  char delimiter = options.delimiter;
  if (delimiter == 0) {
    const std::string lower = lowercase_ascii(source);
    delimiter = lower.size() >= 4 && lower.ends_with(".csv") ? ',' : '\t';
  }
  check(delimiter == ',' || delimiter == '\t', "file '", source, "': the delimiter must be ',' or a tab");
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  std::vector<Row> rows = split_rows(content, delimiter, source);
  check(!rows.empty(), "file '", source, "' is empty: it needs a header row naming its columns");
  const std::vector<std::string>& header = rows[0].fields;
  for (std::size_t column = 0; column < header.size(); ++column)
    if (const auto bad = find_invalid_utf8(header[column]))
      fail(where(source, 1), ", column ", column + 1, ": invalid UTF-8 at byte ", *bad, " of the field");

  const std::int64_t text = find_column(header, options.text_column, kTextNames);
  const std::int64_t label = find_column(header, options.label_column, kLabelNames);
  const char* delimiter_name = delimiter == ',' ? "comma" : "tab";
  if (text < 0)
    fail("file '", source, "' has no text column ",
         options.text_column.empty() ? "(none of " + common_list(kTextNames) + ")"
                                     : "'" + options.text_column + "'",
         "; its header (", delimiter_name, "-separated) has ", header_list(header),
         ": name the column with --text-column");
  if (label < 0 && (options.labels_required || !options.label_column.empty()))
    fail("file '", source, "' has no label column ",
         options.label_column.empty() ? "(none of " + common_list(kLabelNames) + ")"
                                      : "'" + options.label_column + "'",
         "; its header (", delimiter_name, "-separated) has ", header_list(header),
         ": name the column with --label-column");
  check(text != label, "file '", source, "': the text and label columns are the same column '",
        header[static_cast<std::size_t>(text)], "'");

  LabelledTexts result;
  result.source = source;
  result.text_column = header[static_cast<std::size_t>(text)];
  if (label >= 0) {
    result.label_column = header[static_cast<std::size_t>(label)];
    result.label_column_number = label + 1;
  }
  for (std::size_t r = 1; r < rows.size(); ++r) {
    Row& row = rows[r];
    check(row.fields.size() == header.size(), where(source, row.line), ": ", row.fields.size(),
          row.fields.size() == 1 ? " field" : " fields", " where the header has ", header.size(), " (column ",
          std::min(row.fields.size(), header.size()) + 1, " is ",
          row.fields.size() < header.size() ? "missing" : "extra", ")",
          delimiter == '\t' ? "; a tab inside a text must be removed" : "; quote a field holding a comma");
    for (std::size_t column = 0; column < row.fields.size(); ++column)
      if (const auto bad = find_invalid_utf8(row.fields[column]))
        fail(where(source, row.line), ", column ", column + 1, " (", header[column],
             "): invalid UTF-8 at byte ", *bad, " of the field");
    std::string& text_field = row.fields[static_cast<std::size_t>(text)];
    check(!text_field.empty(), where(source, row.line), ", column ", text + 1, " (", result.text_column,
          "): the text is empty");
    result.texts.push_back(std::move(text_field));
    result.lines.push_back(row.line);
    if (label >= 0) {
      std::string& label_field = row.fields[static_cast<std::size_t>(label)];
      check(!label_field.empty(), where(source, row.line), ", column ", label + 1, " (", result.label_column,
            "): the label is empty");
      result.labels.push_back(std::move(label_field));
    }
  }
  check(!result.texts.empty(), "file '", source, "' has a header but no rows");
  return result;
}

LabelledTexts read_labelled_file(const std::filesystem::path& path, const LabelledFileOptions& options) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), "file '", path.string(), "' cannot be read");
  const std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return parse_labelled_text(content, path.string(), options);
}

}  // namespace rnnkit
