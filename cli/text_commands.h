// The text subcommands: `train` a language model on a text file, `generate` text from it, `evaluate --text`
// (per-token cross-entropy and perplexity), and `demo`.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "text_model.h"

namespace rnnkit::cli {

void add_text_commands(CLI::App& app);

// A --max-time such as 90s, 10m or 1.5h (a bare number is seconds).
std::chrono::duration<double> parse_duration(const std::string& text);

// The recurrent layers of the text models `train` builds: `layers` of `cell` (lstm, gru or simple_rnn), each
// wrapped in Bidirectional when asked; each returns sequences but the last, which does when `sequences_out`.
struct RecurrentStack {
  std::string cell;
  std::int64_t units = 0;
  int layers = 1;
  bool bidirectional = false;
  double dropout = 0;
  double recurrent_dropout = 0;
  bool sequences_out = false;
};
void add_recurrent_stack(Sequential& model, const RecurrentStack& stack);

// `rnnkit evaluate MODEL --text FILE`: cross-entropy per token (nats and bits) and perplexity of the text
// under a language model, each token predicted from the ones before it as `generate` would (statefully over
// the whole file, or from each padded window).
void evaluate_text(const std::string& model_path, const std::string& text_path, bool replace_invalid,
                   const TextModelFlags& flags);

}  // namespace rnnkit::cli
