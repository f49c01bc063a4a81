// Text classification from the command line: `train --task classify`, `evaluate --data` and `predict --text`
// / `predict --data` on a model that labels texts.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train_commands.h"

namespace rnnkit::cli {

// `train --task classify`: the shared `train` flags (taken when given, else these defaults) and the
// classifier's own.
struct ClassifyTrainArgs {
  std::string data, output;
  std::string validation_data;
  std::string text_column, label_column;
  // Subword by measurement: on Korean reviews (NSMC) it beat word and char level at the same training time
  // (README); words carry particles (영화가, 영화는, 영화를) that split a word level's vocabulary.
  std::string level = "subword";
  std::string cell = "lstm";
  std::int64_t units = 128;
  int layers = 1;
  bool bidirectional = false;
  std::int64_t embedding_dim = 128;
  std::optional<std::int64_t> max_length;
  std::string padding = "pre", truncating = "pre";
  double dropout = 0.3, recurrent_dropout = 0.0;  // 0.3: a little better held-out accuracy on NSMC (README)
  std::int64_t batch_size = 64;
  int epochs = 20;
  int patience = 2;
  double validation_split = 0.1;
  std::string class_weight;  // "" or "balanced"
  OptimizerFlags optimizer;
  std::optional<int> max_vocab;
  int vocab_size = 8000;
  std::optional<std::string> oov_token;
  std::optional<std::string> filters;
  bool lower = true;
  std::uint64_t seed = 1;
  int verbose = -1;
  std::optional<int> threads;
  std::string max_time;
  std::string history;
};

// Adds the flags only a classifier takes to `train`; returns their names, so that a language model run can
// refuse them.
std::vector<std::string> add_classify_train_options(CLI::App& train, ClassifyTrainArgs& args);
void train_classifier(ClassifyTrainArgs args);

// How `evaluate --data` and `predict` read a classifier and its data.
struct ClassifierFlags {
  std::string text_column, label_column;
  std::string tokenizer;  // a Keras model's Tokenizer (to_json()); its labels are the class ids
  std::string padding;    // a Keras model's: pre (default) or post, also for truncating
  std::int64_t batch_size = 32;
};

void evaluate_classifier(const std::string& model_path, const std::string& data_path,
                         const std::string& output_path, const ClassifierFlags& flags);
// `texts` given on the command line, else the texts of `data_path` (one per line, or a TSV/CSV's text
// column).
void predict_classifier(const std::string& model_path, const std::vector<std::string>& texts,
                        const std::string& data_path, bool json, const ClassifierFlags& flags);

}  // namespace rnnkit::cli
