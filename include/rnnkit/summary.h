// The text of Keras's model.summary(), byte for byte, in four eras of Keras: the layout of a sequential-like
// model and the Functional layout with its "Connected to" column.
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
// "(None, 5, 10)", "(8, 3)" or, for several outputs, "[(None, 8), (None, 8)]". For an InputLayer give its
// one shape, "(None, None, 71)": the Keras 2 eras print it as tf.keras's list "[(None, None, 71)]" (in
// either layout), Keras 3 as it is.
struct SummaryRow {
  std::string name;        // "embedding"
  std::string class_name;  // "Embedding"
  std::string output_shape;
  std::int64_t params;
  bool built = true;  // Keras 3 shows an unbuilt layer as "?" and "0 (unbuilt)"
  // The Functional layout's "Connected to": for each call of the layer that belongs to this model (its
  // inbound nodes found in the model's nodes_by_depth), in call order, each input tensor of that call as
  // "inbound_layer[node_index][tensor_index]" ("lstm[0][1]": output 1 of lstm's call 0; a shared layer's
  // second call makes "embedding_1[1][0]"); empty for an InputLayer. How it prints:
  //   keras2_6:  the first on the layer's line, each further one on a line of its own ("" when none).
  //   keras2_12, keras2_15: str() of the Python list, "['input_2[0][0]', 'lstm[0][1]', 'lstm[0][2]']",
  //              wrapped after each "'," (one per line); "[]" when none.
  //   keras3:    joined by ", " into one cell that rich word-wraps; "-" when none.
  std::vector<std::string> connected_to{};
};

struct SummaryTable {
  std::string model_name;  // "sequential"
  std::vector<SummaryRow> rows;
  std::int64_t trainable_params;
  std::int64_t non_trainable_params;
  // Keras's Functional layout: the "Connected to" column and its own line length and column positions.
  // Keras (print_summary in every era) uses it exactly when the model is not "sequential-like":
  //   - a Sequential model, or a subclassed model, is always sequential-like;
  //   - a Functional model is sequential-like iff every depth of model._nodes_by_depth holds exactly one
  //     node, that node has at most one input tensor (tf.nest.flatten(node.keras_inputs), Keras 3:
  //     tree.flatten(node.input_tensors)), and no layer of model.layers has two of its inbound nodes among
  //     those nodes (no layer called twice in the model).
  // So a plain chain Input -> layer -> layer (each layer called once on one tensor) prints the sequential
  // layout even as a Functional model (its InputLayer listed as a row); several inputs, two branches (two
  // calls at one depth), a layer taking several tensors (an LSTM given initial_state, Concatenate) or a
  // shared layer make it Functional. Outputs taken from one chain do not by themselves (a model returning
  // an LSTM(return_state=True)'s three tensors, or two tensors of the chain, stays sequential-like).
  bool functional = false;
};

// The whole summary text, each line ending in '\n', with Keras's default line length: for a sequential-like
// model 65 in the Keras 2 eras and 76 in Keras 3 (Keras 3 uses min(88, terminal columns - 4); 76 is what
// it prints when the output is not a terminal or the terminal is 80 columns wide); for the Functional
// layout 98 in the Keras 2 eras, and in Keras 3 min(108, terminal columns - 4), 76 as well.
// Column positions, as fractions of the line length: Keras 2 [.45, .85, 1.], Functional [.33, .55, .67, 1.]
// (keras2_6, keras2_12) or [.3, .6, .7, 1.] (keras2_15); Keras 3 [.45, .80, 1.], Functional
// [.3, .56, .74, 1.].
std::string format_summary(const SummaryTable& table, SummaryStyle style = SummaryStyle::keras2_12);
// The same as model.summary(line_length=line_length); 0 means the era's default. Throws rnnkit::Error when
// the line is too short to hold the columns.
std::string format_summary(const SummaryTable& table, SummaryStyle style, int line_length);

}  // namespace rnnkit
