#include "rnnkit/summary.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string acceptance_path(const std::string& stem, const std::string& era) {
  return RNNKIT_TEST_DATA "/acceptance/summaries/" + stem + ".keras" + era + ".txt";
}

SummaryTable sequential(std::vector<SummaryRow> rows) {
  std::int64_t trainable = 0;
  for (const SummaryRow& row : rows) trainable += row.params;
  return {"sequential", std::move(rows), trainable, 0};
}

// The 15 acceptance models (tests/acceptance/summaries/STEM.json), written out by hand: each layer's name and
// class from the JSON config, its output shape and parameter count as Keras computes them. All weights are
// trainable; Keras names a Sequential model "sequential".
std::vector<std::pair<std::string, SummaryTable>> acceptance_tables() {
  return {
      {"bidirectional_simple_rnn_x4",
       sequential({{"bidirectional", "Bidirectional", "(None, 10, 16)", 208},
                   {"bidirectional_1", "Bidirectional", "(None, 10, 16)", 400},
                   {"bidirectional_2", "Bidirectional", "(None, 10, 16)", 400},
                   {"bidirectional_3", "Bidirectional", "(None, 10, 16)", 400}})},
      {"char_rnn_td", sequential({{"lstm", "LSTM", "(None, None, 256)", 320512},
                                  {"lstm_1", "LSTM", "(None, None, 256)", 525312},
                                  {"time_distributed", "TimeDistributed", "(None, None, 56)", 14392}})},
      {"deep_simple_rnn", sequential({{"simple_rnn", "SimpleRNN", "(None, 10, 8)", 112},
                                      {"simple_rnn_1", "SimpleRNN", "(None, 10, 8)", 136}})},
      {"embedding1_lstm_dense", sequential({{"embedding", "Embedding", "(None, 32, 1)", 100},
                                            {"lstm", "LSTM", "(None, 32)", 4352},
                                            {"dense", "Dense", "(None, 1)", 33}})},
      {"embedding3_lstm_dense", sequential({{"embedding", "Embedding", "(None, 32, 3)", 300},
                                            {"lstm", "LSTM", "(None, 32)", 4608},
                                            {"dense", "Dense", "(None, 1)", 33}})},
      {"embedding_bilstm_dense", sequential({{"embedding", "Embedding", "(None, None, 3)", 300},
                                             {"bidirectional", "Bidirectional", "(None, 64)", 9216},
                                             {"dense", "Dense", "(None, 1)", 65}})},
      {"gru_reset_after", sequential({{"gru", "GRU", "(None, 3)", 135}})},
      {"gru_reset_before", sequential({{"gru", "GRU", "(None, 3)", 126}})},
      {"recurrent_dropout", sequential({{"embedding", "Embedding", "(None, None, 32)", 3200},
                                        {"lstm", "LSTM", "(None, 32)", 8320},
                                        {"dense", "Dense", "(None, 1)", 33}})},
      {"rnnlm_lstm", sequential({{"embedding", "Embedding", "(None, None, 10)", 120},
                                 {"lstm", "LSTM", "(None, 128)", 71168},
                                 {"dense", "Dense", "(None, 12)", 1548}})},
      {"rnnlm_simple_rnn", sequential({{"embedding", "Embedding", "(None, 5, 10)", 120},
                                       {"simple_rnn", "SimpleRNN", "(None, 32)", 1376},
                                       {"dense", "Dense", "(None, 12)", 396}})},
      {"simple_rnn_2x10", sequential({{"simple_rnn", "SimpleRNN", "(None, 3)", 42}})},
      {"simple_rnn_batch8", sequential({{"simple_rnn", "SimpleRNN", "(8, 3)", 42}})},
      {"simple_rnn_batch8_seq", sequential({{"simple_rnn", "SimpleRNN", "(8, 2, 3)", 42}})},
      {"stacked_lstm", sequential({{"embedding", "Embedding", "(None, None, 32)", 3200},
                                   {"lstm", "LSTM", "(None, None, 32)", 8320},
                                   {"lstm_1", "LSTM", "(None, 32)", 8320},
                                   {"dense", "Dense", "(None, 1)", 33}})},
  };
}

TEST(Summary, MatchesAcceptanceKeras212) {
  for (const auto& [stem, table] : acceptance_tables()) {
    SCOPED_TRACE(stem);
    EXPECT_EQ(format_summary(table, SummaryStyle::keras2_12), read_text(acceptance_path(stem, "2.12")));
  }
}

TEST(Summary, MatchesAcceptanceKeras26) {
  for (const auto& [stem, table] : acceptance_tables()) {
    SCOPED_TRACE(stem);
    EXPECT_EQ(format_summary(table, SummaryStyle::keras2_6), read_text(acceptance_path(stem, "2.6")));
  }
}

TEST(Summary, MatchesAcceptanceKeras215) {
  for (const auto& [stem, table] : acceptance_tables()) {
    SCOPED_TRACE(stem);
    EXPECT_EQ(format_summary(table, SummaryStyle::keras2_15), read_text(acceptance_path(stem, "2.15")));
  }
}

TEST(Summary, Keras215MemorySizesFollowReadableMemorySize) {
  // 4 bytes a float32 parameter; divide by 1024 while the quotient is >= 1; "{:.2f} unit".
  SummaryTable table = sequential({{"dense", "Dense", "(None, 1)", 255}});
  table.rows.push_back({"dense_1", "Dense", "(None, 1)", 256});
  table.trainable_params = 255;      // 1020 bytes: still bytes
  table.non_trainable_params = 256;  // 1024 bytes: exactly 1 KB; 2044 bytes in all: 1.996 KB
  const std::string text = format_summary(table, SummaryStyle::keras2_15);
  EXPECT_NE(text.find("Total params: 511 (2.00 KB)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Trainable params: 255 (1020.00 Byte)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Non-trainable params: 256 (1.00 KB)\n"), std::string::npos) << text;
}

TEST(SummaryStyle, ParsesTheFourNames) {
  EXPECT_EQ(parse_summary_style("keras2.6"), SummaryStyle::keras2_6);
  EXPECT_EQ(parse_summary_style("keras2.12"), SummaryStyle::keras2_12);
  EXPECT_EQ(parse_summary_style("keras2.15"), SummaryStyle::keras2_15);
  EXPECT_EQ(parse_summary_style("keras3"), SummaryStyle::keras3);
  for (SummaryStyle style :
       {SummaryStyle::keras2_6, SummaryStyle::keras2_12, SummaryStyle::keras2_15, SummaryStyle::keras3})
    EXPECT_EQ(parse_summary_style(summary_style_name(style)), style);
}

TEST(SummaryStyle, RejectsUnknownNamesListingTheValidOnes) {
  for (const char* bad : {"", "keras2", "keras2.7", "Keras3", "keras3 ", "tf2.12"}) {
    SCOPED_TRACE(bad);
    try {
      parse_summary_style(bad);
      ADD_FAILURE() << "no error for \"" << bad << "\"";
    } catch (const Error& error) {
      const std::string message = error.what();
      for (const char* valid : {"keras2.6", "keras2.12", "keras2.15", "keras3"})
        EXPECT_NE(message.find(valid), std::string::npos) << message;
    }
  }
}

TEST(SummaryStyle, DefaultIsKeras212) {
  const SummaryTable table = acceptance_tables().front().second;
  EXPECT_EQ(format_summary(table), format_summary(table, SummaryStyle::keras2_12));
}

// A layer with two outputs (e.g. GRU(8, return_state=True) on 4 features: 336 params) in tf.keras 2.12.
// Derived by hand from print_row (keras/utils/layer_utils.py, 2.7-2.12), positions [29, 55, 65]:
//  - column 0 takes at most 29 - 0 - 2 = 27 characters after its leading space: " gru (GRU)", padded to 29;
//  - column 1 takes at most 55 - 29 - 2 = 24 characters; "[(None, 8), (None, 8)]" (22) fits, but the piece
//    contains "),", so it is cut just after the first one: "[(None, 8)," and " (None, 8)]" is left over;
//  - column 2 (the last) takes at most 65 - 55 = 10: "336";
//  - while any field has text left another line is printed: empty columns 0 and 2, column 1 " (None, 8)]"
//    starting at 29 (so its "(" is at 30);
//  - then the 65-space line that follows every layer.
// A third output breaks again after the second shape.
TEST(Summary, MultiOutputRowWrapsAfterEachShapeInKeras212) {
  const SummaryRow two = {"gru", "GRU", "[(None, 8), (None, 8)]", 336};
  const std::string header = "Model: \"model\"\n" + std::string(65, '_') + "\n" +
                             " Layer (type)                Output Shape              Param #   \n" +
                             std::string(65, '=') + "\n";
  const std::string footer = std::string(65, '=') + "\n" +
                             "Total params: 336\n"
                             "Trainable params: 336\n"
                             "Non-trainable params: 0\n" +
                             std::string(65, '_') + "\n";
  const std::string blank = std::string(65, ' ') + "\n";
  const std::string first_line = " gru (GRU)" + std::string(19, ' ') + "[(None, 8)," + std::string(15, ' ') +
                                 "336" + std::string(7, ' ') + "\n";
  const std::string last_line =
      std::string(29, ' ') + " (None, 8)]" + std::string(15, ' ') + std::string(10, ' ') + "\n";
  EXPECT_EQ(format_summary({"model", {two}, 336, 0}, SummaryStyle::keras2_12),
            header + first_line + last_line + blank + footer);

  const SummaryRow three = {"gru", "GRU", "[(None, 8), (None, 8), (None, 8)]", 336};
  const std::string middle_line =
      std::string(29, ' ') + " (None, 8)," + std::string(15, ' ') + std::string(10, ' ') + "\n";
  EXPECT_EQ(format_summary({"model", {three}, 336, 0}, SummaryStyle::keras2_12),
            header + first_line + middle_line + last_line + blank + footer);
  // Keras 2.6 truncates instead: the line is cut at column 55, and its last character becomes the space
  // before the next field ("(No" -> "(N ").
  EXPECT_NE(format_summary({"model", {three}, 336, 0}, SummaryStyle::keras2_6)
                .find("gru (GRU)                    [(None, 8), (None, 8), (N 336       \n"),
            std::string::npos);
}

TEST(Summary, LargeTotalsUseThousandsSeparators) {
  const SummaryTable table = {"big",
                              {{"embedding", "Embedding", "(None, None, 128)", 1233567},
                               {"batch_normalization", "BatchNormalization", "(None, None, 128)", 1000}},
                              1233567,
                              1000};
  const std::string totals =
      "Total params: 1,234,567\nTrainable params: 1,233,567\nNon-trainable params: 1,000\n";
  EXPECT_NE(format_summary(table, SummaryStyle::keras2_12).find(totals), std::string::npos);
  EXPECT_NE(format_summary(table, SummaryStyle::keras2_6).find(totals), std::string::npos);
  // Rows print the bare count in every Keras 2 era.
  EXPECT_NE(format_summary(table, SummaryStyle::keras2_12).find(" 1233567   \n"), std::string::npos);
  // 2.13-2.15: no separators, memory sizes (4,938,268 bytes = 4.71 MB; 4,000 bytes = 3.91 KB).
  EXPECT_NE(format_summary(table, SummaryStyle::keras2_15)
                .find("Total params: 1234567 (4.71 MB)\nTrainable params: 1233567 (4.71 MB)\n"
                      "Non-trainable params: 1000 (3.91 KB)\n"),
            std::string::npos);
  // Keras 3: separators in the rows and the totals, "B" for bytes.
  const std::string keras3 = format_summary(table, SummaryStyle::keras3);
  EXPECT_NE(keras3.find("     1,233,567 \u2502\n"), std::string::npos) << keras3;
  EXPECT_NE(keras3.find(" Total params: 1,234,567 (4.71 MB)\n Trainable params: 1,233,567 (4.71 MB)\n"
                        " Non-trainable params: 1,000 (3.91 KB)\n"),
            std::string::npos)
      << keras3;
}

// Keras 3 (keras/src/utils/summary_utils.py), DERIVED FROM THE SOURCE, NOT CAPTURED from a Keras 3 run:
// line_length = min(88, terminal columns - 4) = 76 when stdout is not a terminal; column widths
// int(p * 76) - previous for p in [.45, .80, 1.] = 34, 26, 16; rich.table.Table(width=76, show_lines=True)
// measures each fixed column as width + 2 padding = 36, 28, 18, which is 10 more than 76 - 4 borders, and
// its ratio_reduce takes round(10/3) = 3, round(7/2) = 4, round(3/1) = 3 away: 33, 24, 15 characters between
// the borders, 31, 22, 13 of text. Box HEAVY_HEAD; names left-, counts right-justified, with separators;
// " Total params: 1,892 (7.39 KB)" with 1892 * 4 bytes = 7.39 KB and "0.00 B".
TEST(Summary, Keras3BoxTable) {
  const std::string expected =
      "Model: \"sequential\"\n"
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
      "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
      "│ embedding (Embedding)           │ (None, 5, 10)          │           120 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ simple_rnn (SimpleRNN)          │ (None, 32)             │         1,376 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ dense (Dense)                   │ (None, 12)             │           396 │\n"
      "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
      " Total params: 1,892 (7.39 KB)\n"
      " Trainable params: 1,892 (7.39 KB)\n"
      " Non-trainable params: 0 (0.00 B)\n";
  EXPECT_EQ(format_summary(sequential({{"embedding", "Embedding", "(None, 5, 10)", 120},
                                       {"simple_rnn", "SimpleRNN", "(None, 32)", 1376},
                                       {"dense", "Dense", "(None, 12)", 396}}),
                           SummaryStyle::keras3),
            expected);
}

// Also derived from the source: a cell longer than its 31 characters wraps at word boundaries (rich's
// divide_line), the other cells of the row are padded with blank lines; 860,216 * 4 bytes = 3.28 MB.
TEST(Summary, Keras3WrapsLongCellsOntoMoreLines) {
  const std::string expected =
      "Model: \"sequential\"\n"
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
      "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
      "│ lstm (LSTM)                     │ (None, None, 256)      │       320,512 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ lstm_1 (LSTM)                   │ (None, None, 256)      │       525,312 │\n"
      "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
      "│ time_distributed                │ (None, None, 56)       │        14,392 │\n"
      "│ (TimeDistributed)               │                        │               │\n"
      "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
      " Total params: 860,216 (3.28 MB)\n"
      " Trainable params: 860,216 (3.28 MB)\n"
      " Non-trainable params: 0 (0.00 B)\n";
  EXPECT_EQ(format_summary(acceptance_tables()[1].second, SummaryStyle::keras3), expected);
}

// With line_length 88 (what Keras 3 uses in a terminal of 92 or more columns): columns 39, 31, 18 -> 41, 33,
// 20 with padding -> 38, 29, 17 after ratio_reduce. This one is checked against a real Keras 3 capture: a
// public example (Dense(5) then Dense(1) on one input feature) printed exactly these lines.
TEST(Summary, Keras3LineLength88MatchesACapturedSummary) {
  const std::string expected =
      "Model: \"sequential\"\n"
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓\n"
      "┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩\n"
      "│ dense (Dense)                        │ (None, 5)                   │              10 │\n"
      "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
      "│ dense_1 (Dense)                      │ (None, 1)                   │               6 │\n"
      "└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘\n"
      " Total params: 16 (64.00 B)\n"
      " Trainable params: 16 (64.00 B)\n"
      " Non-trainable params: 0 (0.00 B)\n";
  EXPECT_EQ(
      format_summary(sequential({{"dense", "Dense", "(None, 5)", 10}, {"dense_1", "Dense", "(None, 1)", 6}}),
                     SummaryStyle::keras3, 88),
      expected);
}

TEST(Summary, RejectsNegativeCountsAndTooShortLines) {
  SummaryTable table = sequential({{"dense", "Dense", "(None, 1)", 2}});
  EXPECT_THROW(format_summary(table, SummaryStyle::keras2_12, 10), Error);
  EXPECT_THROW(format_summary(table, SummaryStyle::keras2_12, -1), Error);
  table.rows[0].params = -2;
  EXPECT_THROW(format_summary(table), Error);
  table.rows[0].params = 2;
  table.non_trainable_params = -1;
  EXPECT_THROW(format_summary(table, SummaryStyle::keras3), Error);
}

}  // namespace
}  // namespace rnnkit
