// The text of Keras's model.summary() for a Sequential-like model, byte for byte, in four eras of Keras.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rnnkit {

// Which Keras prints the summary.
//   keras2_6:  Keras <= 2.6 (tf.keras <= 2.6): fields truncated, "_" rule between layers, "1,892" totals.
//   keras2_12: tf.keras 2.7-2.12 (the default): fields wrap onto further lines, a blank line after each
//   layer. keras2_15: tf.keras 2.13-2.15: as 2.12 but cut one character earlier, totals as "1892 (7.39 KB)".
//   keras3:    Keras 3: a box table drawn by the `rich` library, totals as " Total params: 1,892 (7.39 KB)".
enum class SummaryStyle { keras2_6, keras2_12, keras2_15, keras3 };

// "keras2.6", "keras2.12", "keras2.15" or "keras3"; anything else throws rnnkit::Error naming the valid ones.
SummaryStyle parse_summary_style(std::string_view text);
// The name parse_summary_style reads back: summary_style_name(SummaryStyle::keras3) == "keras3".
std::string_view summary_style_name(SummaryStyle style);

// One layer of the summary. output_shape is already formatted as Keras 2's str() of the shape:
// "(None, 5, 10)", "(8, 3)" or, for several outputs, "[(None, 8), (None, 8)]".
struct SummaryRow {
  std::string name;        // "embedding"
  std::string class_name;  // "Embedding"
  std::string output_shape;
  std::int64_t params;
  bool built = true;  // Keras 3 shows an unbuilt layer as "?" and "0 (unbuilt)"
  // A Functional model's "Connected to" column: each input of each call of the layer in this model, as Keras
  // prints it ("lstm_1[0][1]" in Keras 2, "lstm_1[0][1]" too in Keras 3); empty for an InputLayer.
  std::vector<std::string> connected_to{};
};

struct SummaryTable {
  std::string model_name;  // "sequential"
  std::vector<SummaryRow> rows;
  std::int64_t trainable_params;
  std::int64_t non_trainable_params;
  bool functional = false;  // Keras's Functional layout: the "Connected to" column, longer lines
};

// The whole summary text, each line ending in '\n', with Keras's default line length: 65 for the Keras 2
// eras, 76 for Keras 3 (Keras 3 uses min(88, terminal columns - 4); 76 is what it prints when the output is
// not a terminal or the terminal is 80 columns wide).
std::string format_summary(const SummaryTable& table, SummaryStyle style = SummaryStyle::keras2_12);
// The same as model.summary(line_length=line_length); 0 means the era's default. Throws rnnkit::Error when
// the line is too short to hold the columns.
std::string format_summary(const SummaryTable& table, SummaryStyle style, int line_length);

}  // namespace rnnkit
