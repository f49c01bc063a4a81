// Keras's Functional model summary (the "Connected to" layout) in four eras. The expected texts are what
// Keras itself printed, copied from public notebooks and posts (the source beside each); the tables are the
// models those summaries describe, their rows written out by hand from the printed text.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "rnnkit/error.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/layers/lstm.h"
#include "rnnkit/model.h"
#include "rnnkit/summary.h"

namespace rnnkit {
namespace {

std::string lines(std::initializer_list<const char*> text) {
  std::string joined;
  for (const char* line : text) joined += std::string(line) + '\n';
  return joined;
}

SummaryRow row(std::string name, std::string class_name, std::string shape, std::int64_t params,
               std::vector<std::string> connected_to = {}) {
  return {std::move(name), std::move(class_name), std::move(shape), params, true, std::move(connected_to)};
}

SummaryTable functional(std::string name, std::vector<SummaryRow> rows) {
  std::int64_t trainable = 0;
  for (const SummaryRow& r : rows) trainable += r.params;
  SummaryTable table{std::move(name), std::move(rows), trainable, 0};
  table.functional = true;
  return table;
}

// Keras's lstm_seq2seq training model: encoder LSTM(return_state=True), decoder LSTM given the encoder's
// states as initial_state, Dense on the decoder's sequence.
SummaryTable seq2seq(std::string name, std::vector<std::string> inputs, std::vector<std::string> shapes,
                     std::vector<std::int64_t> params) {
  return functional(
      std::move(name),
      {row(inputs[0], "InputLayer", shapes[0], 0), row(inputs[1], "InputLayer", shapes[1], 0),
       row("lstm", "LSTM", shapes[2], params[0], {inputs[0] + "[0][0]"}),
       row("lstm_1", "LSTM", shapes[3], params[1], {inputs[1] + "[0][0]", "lstm[0][1]", "lstm[0][2]"}),
       row("dense", "Dense", shapes[4], params[2], {"lstm_1[0][0]"})});
}

// tf.keras 2.4 (TensorFlow 2.4.0, printed in the notebook), the same print_summary as Keras 2.6: a 98-wide
// line, positions [.33, .55, .67, 1.], fields cut, the first connection on the layer's line and the others
// each on a line of their own.
// Source: github.com/hiroshi0530/wa-src, ml/lec/text/seq2seq/seq2seq_nb.md at commit
// 77620b3b7ee1c46bb65006c4f554115bcf306677 (output of seq2seq_model.summary(), its 4-space indent removed).
TEST(FunctionalSummary, Keras26Seq2SeqPrintedByTf24) {
  const SummaryTable table =
      seq2seq("model", {"input_1", "input_2"},
              {"(None, 24, 1)", "(None, 24, 1)", "[(None, 75), (None, 75), (None, 75)]",
               "[(None, 24, 75), (None, 75), (None, 75)]", "(None, 24, 1)"},
              {23100, 23100, 76});
  const std::string expected = lines({
      "Model: \"model\"",
      "__________________________________________________________________________________________________",
      "Layer (type)                    Output Shape         Param #     Connected to                     ",
      "==================================================================================================",
      "input_1 (InputLayer)            [(None, 24, 1)]      0                                            ",
      "__________________________________________________________________________________________________",
      "input_2 (InputLayer)            [(None, 24, 1)]      0                                            ",
      "__________________________________________________________________________________________________",
      "lstm (LSTM)                     [(None, 75), (None,  23100       input_1[0][0]                    ",
      "__________________________________________________________________________________________________",
      "lstm_1 (LSTM)                   [(None, 24, 75), (No 23100       input_2[0][0]                    ",
      "                                                                 lstm[0][1]                       ",
      "                                                                 lstm[0][2]                       ",
      "__________________________________________________________________________________________________",
      "dense (Dense)                   (None, 24, 1)        76          lstm_1[0][0]                     ",
      "==================================================================================================",
      "Total params: 46,276",
      "Trainable params: 46,276",
      "Non-trainable params: 0",
      "__________________________________________________________________________________________________",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras2_6), expected);
}

// tf.keras 2.7-2.12 (the version is not printed; the layout, str() of the connections list with a blank
// line after each layer and "1,053,027" totals, is that of these versions only): the inference decoder of a
// word-level seq2seq, whose Embedding and LSTM are shared with the training model (node index 1).
// Source: the Jekyll post "Seq2seq Word-Level 번역기(NMT) 만들기" (Korean, fra-eng NMT with Masking), output
// of decoder_model.summary(); found through the code index, which gave no repository path for it.
TEST(FunctionalSummary, Keras212SharedLayersDecoder) {
  const SummaryTable table =
      functional("model_2", {row("input_2", "InputLayer", "(None, None)", 0),
                             row("embedding_1", "Embedding", "(None, None, 64)", 506048, {"input_2[0][0]"}),
                             row("input_3", "InputLayer", "(None, 64)", 0),
                             row("input_4", "InputLayer", "(None, 64)", 0),
                             row("lstm_1", "LSTM", "[(None, None, 64), (None, 64), (None, 64)]", 33024,
                                 {"embedding_1[1][0]", "input_3[0][0]", "input_4[0][0]"}),
                             row("dense", "Dense", "(None, None, 7907)", 513955, {"lstm_1[1][0]"})});
  const std::string expected = lines({
      "Model: \"model_2\"",
      "__________________________________________________________________________________________________",
      " Layer (type)                   Output Shape         Param #     Connected to                     ",
      "==================================================================================================",
      " input_2 (InputLayer)           [(None, None)]       0           []                               ",
      "                                                                                                  ",
      " embedding_1 (Embedding)        (None, None, 64)     506048      ['input_2[0][0]']                ",
      "                                                                                                  ",
      " input_3 (InputLayer)           [(None, 64)]         0           []                               ",
      "                                                                                                  ",
      " input_4 (InputLayer)           [(None, 64)]         0           []                               ",
      "                                                                                                  ",
      " lstm_1 (LSTM)                  [(None, None, 64),   33024       ['embedding_1[1][0]',            ",
      "                                 (None, 64),                      'input_3[0][0]',                ",
      "                                 (None, 64)]                      'input_4[0][0]']                ",
      "                                                                                                  ",
      " dense (Dense)                  (None, None, 7907)   513955      ['lstm_1[1][0]']                 ",
      "                                                                                                  ",
      "==================================================================================================",
      "Total params: 1,053,027",
      "Trainable params: 1,053,027",
      "Non-trainable params: 0",
      "__________________________________________________________________________________________________",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras2_12), expected);
}

// tf.keras 2.13-2.15 (keras.src in the notebook's output, "(0.00 Byte)" totals): positions
// [.3, .6, .7, 1.] and every column but the last cut one character earlier. Keras's character-level
// lstm_seq2seq with 32 units.
// Source: the Korean notebook export "seq to seq LSTM model 이해" (output of model.summary(), its 4-space
// indent removed); found through the code index, which gave no repository path for it.
TEST(FunctionalSummary, Keras215Seq2Seq) {
  const SummaryTable table =
      seq2seq("model", {"input_1", "input_2"},
              {"(None, None, 23)", "(None, None, 24)", "[(None, 32), (None, 32), (None, 32)]",
               "[(None, None, 32), (None, 32), (None, 32)]", "(None, None, 24)"},
              {7168, 7296, 792});
  const std::string expected = lines({
      "Model: \"model\"",
      "__________________________________________________________________________________________________",
      " Layer (type)                Output Shape                 Param #   Connected to                  ",
      "==================================================================================================",
      " input_1 (InputLayer)        [(None, None, 23)]           0         []                            ",
      "                                                                                                  ",
      " input_2 (InputLayer)        [(None, None, 24)]           0         []                            ",
      "                                                                                                  ",
      " lstm (LSTM)                 [(None, 32),                 7168      ['input_1[0][0]']             ",
      "                              (None, 32),                                                         ",
      "                              (None, 32)]                                                         ",
      "                                                                                                  ",
      " lstm_1 (LSTM)               [(None, None, 32),           7296      ['input_2[0][0]',             ",
      "                              (None, 32),                            'lstm[0][1]',                ",
      "                              (None, 32)]                            'lstm[0][2]']                ",
      "                                                                                                  ",
      " dense (Dense)               (None, None, 24)             792       ['lstm_1[0][0]']              ",
      "                                                                                                  ",
      "==================================================================================================",
      "Total params: 15256 (59.59 KB)",
      "Trainable params: 15256 (59.59 KB)",
      "Non-trainable params: 0 (0.00 Byte)",
      "__________________________________________________________________________________________________",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras2_15), expected);
}

// Keras 3 (3.4 or later: the model is named "functional", inputs "input_layer"), printed in a terminal of
// at least 112 columns, so line_length = min(108, columns - 4) = 108: positions [.3, .56, .74, 1.],
// connections joined by ", " and word-wrapped by rich, "-" for none, an InputLayer's shape as it is.
// Source: https://agapeuni.tistory.com/788 ("Seq2Seq 모델 - Encoder와 Decoder 구조 이해", 2026), the
// character-level seq2seq with latent_dim 128.
TEST(FunctionalSummary, Keras3Seq2SeqAt108Columns) {
  const SummaryTable table =
      seq2seq("functional", {"input_layer", "input_layer_1"},
              {"(None, None, 9)", "(None, None, 8)", "[(None, 128), (None, 128), (None, 128)]",
               "[(None, None, 128), (None, 128), (None, 128)]", "(None, None, 8)"},
              {70656, 70144, 1032});
  const std::string expected = lines({
      "Model: \"functional\"",
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━"
      "━━━━━┓",
      "┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to          "
      "     ┃",
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━"
      "━━━━━┩",
      "│ input_layer (InputLayer)      │ (None, None, 9)           │               0 │ -                     "
      "     │",
      "├───────────────────────────────┼───────────────────────────┼─────────────────┼───────────────────────"
      "─────┤",
      "│ input_layer_1 (InputLayer)    │ (None, None, 8)           │               0 │ -                     "
      "     │",
      "├───────────────────────────────┼───────────────────────────┼─────────────────┼───────────────────────"
      "─────┤",
      "│ lstm (LSTM)                   │ [(None, 128), (None,      │          70,656 │ input_layer[0][0]     "
      "     │",
      "│                               │ 128), (None, 128)]        │                 │                       "
      "     │",
      "├───────────────────────────────┼───────────────────────────┼─────────────────┼───────────────────────"
      "─────┤",
      "│ lstm_1 (LSTM)                 │ [(None, None, 128),       │          70,144 │ input_layer_1[0][0],  "
      "     │",
      "│                               │ (None, 128), (None, 128)] │                 │ lstm[0][1], "
      "lstm[0][2]     │",
      "├───────────────────────────────┼───────────────────────────┼─────────────────┼───────────────────────"
      "─────┤",
      "│ dense (Dense)                 │ (None, None, 8)           │           1,032 │ lstm_1[0][0]          "
      "     │",
      "└───────────────────────────────┴───────────────────────────┴─────────────────┴───────────────────────"
      "─────┘",
      " Total params: 141,832 (554.03 KB)",
      " Trainable params: 141,832 (554.03 KB)",
      " Non-trainable params: 0 (0.00 B)",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras3, 108), expected);
}

// Keras 3 at its default width (76: output not a terminal, or an 80-column one): columns of 19, 17, 10 and
// 17 characters; a connection longer than its column gets a line of its own, cut with "…".
// Source: a Keras 3 emotion classifier's README (Turkish, two Input -> Embedding -> Conv1D branches joined
// by Concatenate), found through the code index without a repository path. Its table is long; kept here
// are the header with the first two rows and, further down, the Concatenate row and the last row with the
// bottom rule: rich lays out each row on its own, so these rows alone print exactly these lines.
TEST(FunctionalSummary, Keras3DefaultWidthCutsLongConnections) {
  SummaryTable table = functional(
      "functional", {row("input_layer_2", "InputLayer", "(None, 50)", 0),
                     row("embedding_2", "Embedding", "(None, 50, 32)", 320000, {"input_layer_2[0][0]"}),
                     row("concatenate_1", "Concatenate", "(None, 128)", 0,
                         {"global_max_pooling1d_2[0][0]", "global_max_pooling1d_3[0][0]"}),
                     row("dense_3", "Dense", "(None, 4)", 516, {"dropout_5[0][0]"})});
  const std::string printed = format_summary(table, SummaryStyle::keras3);
  const std::string table_lines = lines({
      "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓",
      "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃",
      "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩",
      "│ input_layer_2       │ (None, 50)        │          0 │ -                 │",
      "│ (InputLayer)        │                   │            │                   │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ embedding_2         │ (None, 50, 32)    │    320,000 │ input_layer_2[0]… │",
      "│ (Embedding)         │                   │            │                   │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ concatenate_1       │ (None, 128)       │          0 │ global_max_pooli… │",
      "│ (Concatenate)       │                   │            │ global_max_pooli… │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ dense_3 (Dense)     │ (None, 4)         │        516 │ dropout_5[0][0]   │",
      "└─────────────────────┴───────────────────┴────────────┴───────────────────┘",
  });
  EXPECT_EQ(printed.substr(0, printed.find("\n Total params")).substr(printed.find('\n') + 1) + '\n',
            table_lines);
}

// A Functional model that is a plain chain is sequential-like: the sequential layout, but tf.keras lists
// its InputLayer, whose output_shape is the list of its one shape.
// Source: keras-team/keras-io, guides/md/functional_api.md at commit
// 14dd69a57c7a330ca51e025fe2a9e159b7ef265e (tf.keras of TensorFlow 2.x before 2.6; the "mnist_model").
TEST(FunctionalSummary, SequentialLikeFunctionalListsItsInputLayer) {
  const SummaryTable table{
      "mnist_model",
      {row("input_1", "InputLayer", "(None, 784)", 0), row("dense", "Dense", "(None, 64)", 50240),
       row("dense_1", "Dense", "(None, 64)", 4160), row("dense_2", "Dense", "(None, 10)", 650)},
      55050,
      0};
  const std::string expected = lines({
      "Model: \"mnist_model\"",
      "_________________________________________________________________",
      "Layer (type)                 Output Shape              Param #   ",
      "=================================================================",
      "input_1 (InputLayer)         [(None, 784)]             0         ",
      "_________________________________________________________________",
      "dense (Dense)                (None, 64)                50240     ",
      "_________________________________________________________________",
      "dense_1 (Dense)              (None, 64)                4160      ",
      "_________________________________________________________________",
      "dense_2 (Dense)              (None, 10)                650       ",
      "=================================================================",
      "Total params: 55,050",
      "Trainable params: 55,050",
      "Non-trainable params: 0",
      "_________________________________________________________________",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras2_6), expected);
}

// Derived by hand from the Keras sources (no printed example): the seq2seq of Keras215Seq2Seq in
// tf.keras 2.12 (positions [32, 53, 65, 98], no "- 1") and Keras 3 at the default 76 columns
// (columns 21, 19, 12, 19 after rich's ratio_reduce of 13 excess cells: 3, 3, 4, 3).
TEST(FunctionalSummary, HandDerivedSeq2SeqInKeras212AndKeras3) {
  const SummaryTable table =
      seq2seq("model", {"input_1", "input_2"},
              {"(None, None, 23)", "(None, None, 24)", "[(None, 32), (None, 32), (None, 32)]",
               "[(None, None, 32), (None, 32), (None, 32)]", "(None, None, 24)"},
              {7168, 7296, 792});
  const std::string pad98 = std::string(98, ' ');
  // print_row: " " + field padded to 32; shape (cutoff 19) padded to 53; params padded to 65; connections.
  const std::string keras212 =
      "Model: \"model\"\n" + std::string(98, '_') + "\n" +
      " Layer (type)                   Output Shape         Param #     Connected to                     \n" +
      std::string(98, '=') + "\n" +
      " input_1 (InputLayer)           [(None, None, 23)]   0           []                               \n" +
      pad98 + "\n" +
      " input_2 (InputLayer)           [(None, None, 24)]   0           []                               \n" +
      pad98 + "\n" +
      " lstm (LSTM)                    [(None, 32),         7168        ['input_1[0][0]']                \n" +
      "                                 (None, 32),                                                      \n" +
      "                                 (None, 32)]                                                      \n" +
      pad98 + "\n" +
      " lstm_1 (LSTM)                  [(None, None, 32),   7296        ['input_2[0][0]',                \n" +
      "                                 (None, 32),                      'lstm[0][1]',                   \n" +
      "                                 (None, 32)]                      'lstm[0][2]']                   \n" +
      pad98 + "\n" +
      " dense (Dense)                  (None, None, 24)     792         ['lstm_1[0][0]']                 \n" +
      pad98 + "\n" + std::string(98, '=') + "\n" +
      "Total params: 15,256\nTrainable params: 15,256\nNon-trainable params: 0\n" + std::string(98, '_') +
      "\n";
  EXPECT_EQ(format_summary(table, SummaryStyle::keras2_12), keras212);

  const std::string keras3 = lines({
      "Model: \"model\"",
      "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓",
      "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃",
      "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩",
      "│ input_1             │ (None, None, 23)  │          0 │ -                 │",
      "│ (InputLayer)        │                   │            │                   │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ input_2             │ (None, None, 24)  │          0 │ -                 │",
      "│ (InputLayer)        │                   │            │                   │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ lstm (LSTM)         │ [(None, 32),      │      7,168 │ input_1[0][0]     │",
      "│                     │ (None, 32),       │            │                   │",
      "│                     │ (None, 32)]       │            │                   │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ lstm_1 (LSTM)       │ [(None, None,     │      7,296 │ input_2[0][0],    │",
      "│                     │ 32), (None, 32),  │            │ lstm[0][1],       │",
      "│                     │ (None, 32)]       │            │ lstm[0][2]        │",
      "├─────────────────────┼───────────────────┼────────────┼───────────────────┤",
      "│ dense (Dense)       │ (None, None, 24)  │        792 │ lstm_1[0][0]      │",
      "└─────────────────────┴───────────────────┴────────────┴───────────────────┘",
      " Total params: 15,256 (59.59 KB)",
      " Trainable params: 15,256 (59.59 KB)",
      " Non-trainable params: 0 (0.00 B)",
  });
  EXPECT_EQ(format_summary(table, SummaryStyle::keras3), keras3);
}

// tf.keras 2.x's list form of an InputLayer's shape, if given, is printed as it is in Keras 2 and as the
// one shape in Keras 3.
TEST(FunctionalSummary, InputLayerShapeGivenAsAList) {
  const SummaryTable plain = functional("m", {row("x", "InputLayer", "(None, 3)", 0)});
  const SummaryTable listed = functional("m", {row("x", "InputLayer", "[(None, 3)]", 0)});
  for (SummaryStyle style :
       {SummaryStyle::keras2_6, SummaryStyle::keras2_12, SummaryStyle::keras2_15, SummaryStyle::keras3})
    EXPECT_EQ(format_summary(plain, style), format_summary(listed, style)) << summary_style_name(style);
}

// str() of a list quotes like Python's repr: a name with a quote in it switches to double quotes.
TEST(FunctionalSummary, ConnectionsQuotedLikePythonRepr) {
  const SummaryTable table =
      functional("m", {row("d", "Dense", "(None, 1)", 2, {"it's[0][0]", "a\\b[0][0]"})});
  const std::string text = format_summary(table, SummaryStyle::keras2_12);
  EXPECT_NE(text.find("[\"it's[0][0]\","), std::string::npos) << text;
  EXPECT_NE(text.find(" 'a\\\\b[0][0]']"), std::string::npos) << text;
}

// A line too short for four columns is an error, not print_row's endless loop on a column of no width.
TEST(FunctionalSummary, TooShortLineIsAnError) {
  const SummaryTable table = functional("m", {row("d", "Dense", "(None, 1)", 2, {"x[0][0]"})});
  EXPECT_THROW(format_summary(table, SummaryStyle::keras2_12, 20), Error);
  EXPECT_THROW(format_summary(table, SummaryStyle::keras2_15, 20), Error);
  EXPECT_THROW(format_summary(table, SummaryStyle::keras3, 20), Error);
  EXPECT_NO_THROW(format_summary(table, SummaryStyle::keras2_6, 20));  // Keras 2.6 only truncates
}

// The keras.io lstm_seq2seq model built with rnnkit's Functional API summarises as the table of
// Keras215Seq2Seq, whose text is what tf.keras 2.15 printed for it; the same in every era.
TEST(FunctionalSummary, Seq2SeqModelBuiltHereSummarisesAsKerasPrintedIt) {
  clear_session();
  const SymbolicTensor encoder_inputs = Input({kNone, 23});
  const LayerOutputs encoder = LSTM(32, {.return_state = true})(encoder_inputs);
  const SymbolicTensor decoder_inputs = Input({kNone, 24});
  const LayerOutputs decoder = LSTM(32, {.return_sequences = true, .return_state = true})(
      decoder_inputs, {.initial_state = encoder.states()});
  const SymbolicTensor outputs = Dense(24, {.activation = "softmax"})(decoder[0]);
  const Model model({encoder_inputs, decoder_inputs}, {outputs});
  EXPECT_EQ(model.name(), "model");
  EXPECT_FALSE(model.sequential_like());
  const SummaryTable keras =
      seq2seq("model", {"input_1", "input_2"},
              {"(None, None, 23)", "(None, None, 24)", "[(None, 32), (None, 32), (None, 32)]",
               "[(None, None, 32), (None, 32), (None, 32)]", "(None, None, 24)"},
              {7168, 7296, 792});
  for (const SummaryStyle style :
       {SummaryStyle::keras2_6, SummaryStyle::keras2_12, SummaryStyle::keras2_15, SummaryStyle::keras3})
    EXPECT_EQ(model.summary_text(style), format_summary(keras, style)) << summary_style_name(style);
}

}  // namespace
}  // namespace rnnkit
