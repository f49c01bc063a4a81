// Labelled text files: a TSV or CSV with a header row, one text and (usually) one label per row, read with
// errors that name the file, the line and the column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rnnkit {

struct LabelledFileOptions {
  // Columns by header name; empty: the first header among the common names (text, document, sentence,
  // review, content; label, sentiment, class, target), case-insensitively.
  std::string text_column;
  std::string label_column;
  // A file without a label column is an error, unless labels are optional (prediction): then labels is
  // empty.
  bool labels_required = true;
  // '\t' or ','; 0: ',' for a name ending in .csv, '\t' otherwise.
  char delimiter = 0;
};

struct LabelledTexts {
  std::vector<std::string> texts;
  std::vector<std::string> labels;  // one per text, or none (see labels_required)
  std::vector<std::int64_t> lines;  // the line each row starts on, from 1 (the header is line 1)
  std::string text_column, label_column;
  std::string source;                    // the file, for errors about its rows
  std::int64_t label_column_number = 0;  // from 1; 0 without labels

  // "file 'x.tsv', line 7, column 3 (label)": where row `row`'s label is, for errors found later (a label
  // the model does not know).
  std::string label_location(std::size_t row) const;
};

// Reads a delimited file. CSV follows RFC 4180 (fields in double quotes may hold the delimiter, line breaks
// and "" for a quote); TSV fields are taken as they are, as Python's csv module with the excel-tab dialect
// reads files without quotes. A UTF-8 byte order mark and CRLF line ends are accepted. Errors name the
// file, line and column: a column not found (listing the header), an empty text or label, a row with more or
// fewer fields than the header, invalid UTF-8, an unclosed quote.
LabelledTexts read_labelled_file(const std::filesystem::path& path, const LabelledFileOptions& options = {});
// The same for bytes in memory; `source` names them in errors (a file name, for the delimiter default too).
LabelledTexts parse_labelled_text(std::string_view content, const std::string& source,
                                  const LabelledFileOptions& options = {});

}  // namespace rnnkit
