#include "text_commands.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "classify_commands.h"
#include "core/atomic_file.h"
#include "loss_plot.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "rnnkit/text/datasets.h"
#include "rnnkit/text/generation.h"
#include "rnnkit/text/sampling.h"
#include "rnnkit/text/tokenizer.h"
#include "rnnkit/text/utf8.h"
#include "rnnkit/threads.h"
#include "text_model.h"
#include "train_commands.h"

namespace rnnkit::cli {
namespace {

constexpr const char* kDemoCorpus = "ko_short_stories_default.txt";

// Character level keeps every character (spaces, newlines, punctuation, case); word level is Keras's
// default Tokenizer (punctuation and newlines filtered, lowercase, split on spaces).
TokenizerOptions tokenizer_options(const std::string& level, std::optional<int> max_vocab) {
  TokenizerOptions options;
  if (level == "char") {
    options.char_level = true;
    options.filters = "";
    options.lower = false;
  }
  if (max_vocab) options.num_words = *max_vocab + 1;  // index 0 is padding: N tokens are ids 1..N
  return options;
}

std::string token_text(const Tokenizer& tokenizer, std::int64_t id) {
  const std::string* token = tokenizer.index_word().find(static_cast<int>(id));
  return token ? *token : std::string();
}

// Tokens joined as they were cut: characters directly, words with a space.
std::string join_tokens(const Tokenizer& tokenizer, const std::vector<std::int64_t>& ids,
                        const std::string& level) {
  std::string text;
  for (const std::int64_t id : ids) {
    if (level == "word" && !text.empty()) text += ' ';
    text += token_text(tokenizer, id);
  }
  return text;
}

// The seed's ids; tokens outside the vocabulary are dropped with a warning, and a seed with none known
// is an error.
std::vector<std::int64_t> encode_seed(const TextVocabulary& vocabulary, const std::string& seed_text) {
  const TextVocabulary::Encoded seed = vocabulary.encode(seed_text, "the seed text");
  check(!seed.ids.empty(), "the seed text \"", seed_text, "\" has no token the model knows (", seed.tokens,
        " token(s), all outside the vocabulary of ", vocabulary.source(), ")");
  if (seed.ids.size() < seed.tokens)
    std::cerr << "rnnkit: warning: " << seed.tokens - seed.ids.size() << " of the " << seed.tokens
              << " seed tokens are not in the vocabulary and are skipped\n";
  return seed.ids;
}

// Without a seed text: a newline (start of a line) when it is a token, else a Tokenizer's most frequent
// token (id 1, or 2 after an oov_token).
std::vector<std::int64_t> default_seed(const TextVocabulary& vocabulary) {
  if (const auto newline = vocabulary.find("\n")) return {*newline};
  check(vocabulary.zero_is_padding(), "the vocabulary (", vocabulary.source(),
        ") has no newline to start from: give --seed-text");
  const auto& oov = vocabulary.tokenizer()->options().oov_token;
  const std::int64_t first = oov && vocabulary.find(*oov) == 1 ? 2 : 1;
  check(first < vocabulary.id_count(), "the vocabulary (", vocabulary.source(),
        ") has no token to start from: give --seed-text");
  return {first};
}

}  // namespace

std::chrono::duration<double> parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    fail("--max-time '", text, "' is not a duration like 90s, 10m or 1.5h");
  }
  const std::string unit = text.substr(used);
  double seconds_per_unit = 0;
  if (unit.empty() || unit == "s")
    seconds_per_unit = 1;
  else if (unit == "m" || unit == "min")
    seconds_per_unit = 60;
  else if (unit == "h")
    seconds_per_unit = 3600;
  check(seconds_per_unit > 0 && std::isfinite(value) && value > 0, "--max-time '", text,
        "' is not a positive duration like 90s, 10m or 1.5h");
  return std::chrono::duration<double>(value * seconds_per_unit);
}

void add_recurrent_stack(Sequential& model, const RecurrentStack& stack) {
  for (int i = 0; i < stack.layers; ++i) {
    const RecurrentOptions options{.return_sequences = stack.sequences_out || i + 1 < stack.layers,
                                   .dropout = static_cast<float>(stack.dropout),
                                   .recurrent_dropout = static_cast<float>(stack.recurrent_dropout)};
    std::unique_ptr<Recurrent> layer;
    if (stack.cell == "lstm")
      layer = std::make_unique<LSTM>(stack.units, options);
    else if (stack.cell == "gru")
      layer = std::make_unique<GRU>(stack.units, options);
    else if (stack.cell == "simple_rnn")
      layer = std::make_unique<SimpleRNN>(stack.units, options);
    else
      fail("--cell '", stack.cell, "' is not one of lstm, gru, simple_rnn");
    if (stack.bidirectional)
      model.add(Bidirectional(*layer));
    else
      model.add(std::move(layer));
  }
}

namespace {

// `train`'s optimizer unless the flags say otherwise: Adam at 0.001 with each gradient's norm clipped to 5.
const OptimizerFlags kTrainOptimizerDefaults{.optimizer = "adam", .learning_rate = 0.001, .clipnorm = 5.0};

struct TrainArgs {
  std::string corpus;
  std::string output;
  std::string level = "char";
  std::string samples = "windows";
  std::string cell = "lstm";
  std::int64_t units = 256;
  int layers = 2;
  bool bidirectional = false;
  std::int64_t embedding_dim = 64;
  std::int64_t seq_length = 100;
  std::int64_t batch_size = 64;
  int epochs = 20;
  double dropout = 0.2;
  double recurrent_dropout = 0.0;
  OptimizerFlags optimizer;  // kTrainOptimizerDefaults for those not given; with --resume, the saved ones
  double validation_split = 0.1;
  std::optional<int> max_vocab;
  std::uint64_t seed = 1;
  int verbose = -1;  // 1 on a terminal, 2 when piped
  std::string resume;
  bool batch_size_given = false, validation_split_given = false;  // on the command line
  std::string history;
  std::optional<int> threads;
  std::string max_time;
  bool replace_invalid = false;
  std::int64_t sample_length = 200;
};

// Windows: Embedding + RNNs returning sequences + Dense(V, softmax) at every step. Line prefixes (the
// tutorial): Embedding(input_length = T) + RNNs, the last returning only its final output, + Dense(V,
// softmax).
Sequential build_language_model(const TrainArgs& args, std::int64_t vocabulary, const TextInfo& info) {
  const bool prefixes = info.samples == "line-prefixes";
  Sequential model({.name = "", .seed = args.seed});
  model.add(Embedding(vocabulary, args.embedding_dim,
                      {.input_length = prefixes ? std::optional(info.seq_length) : std::nullopt}));
  add_recurrent_stack(model, {.cell = args.cell,
                              .units = args.units,
                              .layers = args.layers,
                              .bidirectional = args.bidirectional,
                              .dropout = args.dropout,
                              .recurrent_dropout = args.recurrent_dropout,
                              .sequences_out = !prefixes});
  model.add(Dense(vocabulary, {.activation = "softmax"}));
  model.build({kNone, prefixes ? info.seq_length : kNone});
  return model;
}

// One row per epoch: (epoch number from 1, its values by name).
using HistoryRows = std::vector<std::pair<int, Logs>>;

std::string history_csv(const HistoryRows& rows) {
  std::set<std::string> names;
  for (const auto& [epoch, values] : rows)
    for (const auto& [name, value] : values) names.insert(name);
  std::ostringstream csv;
  csv << "epoch";
  for (const std::string& name : names) csv << "," << name;
  csv << "\n";
  csv.precision(8);
  for (const auto& [epoch, values] : rows) {
    csv << epoch;
    for (const std::string& name : names) {
      csv << ",";
      if (values.contains(name) && std::isfinite(values.at(name))) csv << values.at(name);
    }
    csv << "\n";
  }
  return csv.str();
}

// The rows of a history CSV written by history_csv up to `last_epoch`; none when the file is missing or
// is not such a file (the history is a convenience: resuming never fails for it).
HistoryRows read_history(const std::filesystem::path& path, int last_epoch) {
  std::ifstream file(path);
  std::string line;
  if (!std::getline(file, line)) return {};
  std::vector<std::string> names;
  std::istringstream header(line);
  for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  if (names.empty() || names[0] != "epoch") return {};
  HistoryRows rows;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string field;
    Logs values;
    int epoch = 0;
    for (std::size_t column = 0; std::getline(fields, field, ',') && column < names.size(); ++column) {
      if (field.empty()) continue;
      char* end = nullptr;
      const double value = std::strtod(field.c_str(), &end);
      if (end == field.c_str()) return {};
      if (column == 0)
        epoch = static_cast<int>(value);
      else
        values[names[column]] = value;
    }
    if (epoch >= 1 && epoch <= last_epoch) rows.emplace_back(epoch, values);
  }
  return rows;
}

// What `train` does after each epoch, as the Keras char-RNN example: perplexities, a generated sample, the
// best checkpoint (with the tokenizer) saved atomically, and the history as CSV and an SVG plot.
class TextTrainingReport : public Callback {
 public:
  TextTrainingReport(const TrainArgs& args, const Tokenizer& tokenizer, TextInfo info, TokenIds ids,
                     std::filesystem::path history_path, std::filesystem::path plot_path)
      : args_(args),
        tokenizer_(tokenizer),
        info_(std::move(info)),
        ids_(std::move(ids)),
        history_path_(std::move(history_path)),
        plot_path_(std::move(plot_path)) {}

  void on_epoch_end(int epoch, const Logs& logs) override {
    const bool validated = logs.contains("val_loss");
    Logs row = logs;
    row["perplexity"] = std::exp(logs.at("loss"));
    if (validated) row["val_perplexity"] = std::exp(logs.at("val_loss"));
    rows_.emplace_back(epoch + 1, row);

    const bool talk = args_.verbose != 0;
    if (talk) {
      std::cout << "perplexity " << std::exp(logs.at("loss"));
      if (validated)
        std::cout << " - val_loss " << logs.at("val_loss") << " nats/token ("
                  << logs.at("val_loss") / std::log(2.0) << " bits) - val_perplexity "
                  << std::exp(logs.at("val_loss"));
      std::cout << "\n";
    }
    const std::string monitor = validated ? "val_loss" : "loss";
    const double current = logs.at(monitor);
    if (std::isfinite(current) && (current < info_.best || info_.monitor != monitor)) {
      if (talk)
        std::cout << "Epoch " << epoch + 1 << ": " << monitor << " improved from " << info_.best << " to "
                  << current << ", saving model to " << args_.output << "\n";
      info_.best = current;
      info_.monitor = monitor;
      info_.epochs_done = epoch + 1;
      save_model(model(), args_.output,
                 {{kTokenizerAsset, tokenizer_.to_json()}, {kTextInfoAsset, info_.to_json()}});
    } else if (talk) {
      std::cout << "Epoch " << epoch + 1 << ": " << monitor << " did not improve from " << info_.best << "\n";
    }
    write_bytes_atomically(history_path_, history_csv(rows_));
    std::map<std::string, std::vector<double>> losses;
    for (const auto& [row_epoch, values] : rows_)
      for (const char* name : {"loss", "val_loss"})
        if (values.contains(name)) losses[name].push_back(values.at(name));
    write_bytes_atomically(plot_path_, loss_curve_svg(losses, "rnnkit train: " + args_.corpus));
    if (talk && args_.sample_length > 0) print_sample(epoch);
  }

  // The epochs before a resumed run, so the history and the plot go on from them.
  void set_earlier_history(HistoryRows rows) { rows_ = std::move(rows); }
  const TextInfo& info() const { return info_; }

 private:
  // A seed taken from a random place in the corpus, then sampled text, as the Keras char-RNN example.
  // Its generator comes from the seed and the epoch, so that a resumed run prints what the whole one does.
  void print_sample(int epoch) {
    Rng rng(args_.seed + 7919 + static_cast<std::uint64_t>(epoch) * 0x9e3779b97f4a7c15ULL);
    const auto seed_length = std::min<std::int64_t>(info_.level == "char" ? 20 : 5, std::ssize(*ids_));
    const auto start = static_cast<std::int64_t>(
        rng.next() % static_cast<std::uint64_t>(std::ssize(*ids_) - seed_length + 1));
    const std::vector<std::int64_t> seed(ids_->begin() + start, ids_->begin() + start + seed_length);
    Generator generator(model());
    const std::int64_t count = info_.level == "char" ? args_.sample_length : args_.sample_length / 5;
    const auto drawn = generate(generator, seed, count, {.temperature = 0.8}, rng);
    std::cout << "----- sample (temperature 0.8), after " << seed_length << " " << info_.level
              << " tokens of the corpus:\n"
              << join_tokens(tokenizer_, seed, info_.level) << (info_.level == "word" ? " " : "")
              << join_tokens(tokenizer_, drawn, info_.level) << "\n-----\n"
              << std::flush;
  }

  const TrainArgs& args_;
  const Tokenizer& tokenizer_;
  TextInfo info_;
  TokenIds ids_;
  std::filesystem::path history_path_, plot_path_;
  HistoryRows rows_;
};

// The batches of one run, made on demand, and what the model needs to learn from them.
struct TrainingData {
  std::unique_ptr<Dataset> training;
  std::unique_ptr<Dataset> validation;  // null without a split
  std::string loss;
  std::int64_t seq_length = 0;
  std::string description;
};

TrainingData window_data(const TokenIds& ids, const TrainArgs& args) {
  WindowDatasets windows = make_window_datasets(
      ids, {.seq_length = args.seq_length, .batch_size = args.batch_size}, args.validation_split);
  std::string description = std::to_string(windows.training->window_count()) + " training windows of " +
                            std::to_string(args.seq_length) + " tokens";
  if (windows.validation)
    description += ", " + std::to_string(windows.validation->window_count()) + " validation windows";
  return {std::move(windows.training), std::move(windows.validation), "sparse_categorical_crossentropy",
          args.seq_length, description};
}

// The tutorial's samples: each line's prefixes, padded 'pre' to the longest; validation from the last lines.
// `input_length`: 0 for the longest prefix, or the resumed model's.
TrainingData line_prefix_data(const Tokenizer& tokenizer, const std::string& text, std::int64_t batch_size,
                              double validation_split, std::int64_t vocabulary, std::int64_t input_length) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  std::vector<std::vector<std::int32_t>> sequences;
  for (const std::vector<int>& sequence : tokenizer.texts_to_sequences(lines))
    if (sequence.size() >= 2) sequences.emplace_back(sequence.begin(), sequence.end());
  check(validation_split >= 0 && validation_split < 1, "--validation-split must be in [0, 1)");
  const auto held_out =
      static_cast<std::size_t>(std::floor(static_cast<double>(sequences.size()) * validation_split));
  check(validation_split == 0 || held_out > 0, "--validation-split ", validation_split, " of ",
        sequences.size(), " lines holds out no line: use a larger split, or 0");
  std::vector<std::vector<std::int32_t>> validation_lines(
      sequences.end() - static_cast<std::ptrdiff_t>(held_out), sequences.end());
  sequences.resize(sequences.size() - held_out);
  PrefixNgramOptions options{
      .batch_size = batch_size, .one_hot = true, .num_classes = vocabulary, .input_length = input_length};
  auto training = std::make_unique<PrefixNgramDataset>(std::move(sequences), options);
  options.input_length = training->input_length();
  TrainingData data{nullptr, nullptr, "categorical_crossentropy", training->input_length(),
                    std::to_string(training->sample_count()) + " line prefixes padded to " +
                        std::to_string(training->input_length())};
  if (held_out > 0) {
    data.validation = std::make_unique<PrefixNgramDataset>(std::move(validation_lines), options);
  }
  data.training = std::move(training);
  return data;
}

// `model.keras` -> `model.history.csv` / `model.loss.svg` beside it.
std::filesystem::path beside(const std::filesystem::path& model, const std::string& suffix) {
  std::filesystem::path path = model;
  path.replace_filename(model.stem().string() + suffix);
  return path;
}

// With --resume: the saved run's value of a flag not given, so that the run goes on as it would have; one
// given that differs is taken, with a note that the run no longer repeats the saved one.
template <class Value>
void take_saved(Value& value, const std::optional<Value>& saved, bool given, const char* flag,
                const std::string& checkpoint) {
  if (!saved) return;
  if (!given) {
    value = *saved;
  } else if (value != *saved) {
    std::cout << "note: " << flag << " " << value << " differs from the " << *saved << " " << checkpoint
              << " was trained with: training goes on, but not as that run would have\n";
  }
}

// Trains and returns the path of the best checkpoint's model (args.output).
void train_text_model(TrainArgs args) {
  if (args.threads) set_num_threads(*args.threads);
  if (args.verbose < 0) args.verbose = isatty(STDOUT_FILENO) ? 1 : 2;
  check(args.level == "char" || args.level == "word", "--level '", args.level, "' is not char or word");
  check(!args.max_vocab || *args.max_vocab > 0, "--max-vocab must be positive");
  check(args.units > 0 && args.layers > 0 && args.embedding_dim > 0 && args.batch_size > 0 && args.epochs > 0,
        "--units, --layers, --embedding-dim, --batch-size and --epochs must be positive");
  std::optional<std::chrono::duration<double>> max_duration;
  if (!args.max_time.empty()) max_duration = parse_duration(args.max_time);
  const std::filesystem::path output = args.output;
  check(output.extension() == ".keras" || output.extension() == ".h5", "-o '", args.output,
        "': the model is saved as .keras (Keras 3) or .h5 (Keras 2)");

  const std::string text = read_text_file(args.corpus, {.replace_invalid = args.replace_invalid});
  check(!text.empty(), "corpus '", args.corpus, "' is empty");

  std::optional<TextModel> resumed;
  Tokenizer tokenizer(tokenizer_options(args.level, args.max_vocab));
  check(args.samples == "windows" || args.samples == "line-prefixes", "--samples '", args.samples,
        "' is not windows or line-prefixes");
  TextInfo info{.level = args.level, .samples = args.samples, .seq_length = args.seq_length};
  if (!args.resume.empty()) {
    resumed.emplace(load_text_model(args.resume));
    tokenizer = resumed->tokenizer;
    info = resumed->info;
    args.level = info.level;
    args.seq_length = info.seq_length;
    take_saved(args.batch_size, info.batch_size > 0 ? std::optional(info.batch_size) : std::nullopt,
               args.batch_size_given, "--batch-size", args.resume);
    take_saved(args.validation_split, info.validation_split, args.validation_split_given,
               "--validation-split", args.resume);
  } else {
    tokenizer.fit_on_texts({text});
  }
  const std::vector<int> sequence = tokenizer.text_to_sequence(text);
  check(!sequence.empty(), "corpus '", args.corpus, "' has no tokens",
        args.resume.empty() ? "" : " the resumed model knows");
  auto ids = std::make_shared<const std::vector<std::int32_t>>(sequence.begin(), sequence.end());
  const std::int64_t vocabulary = tokenizer.vocabulary_size();
  TrainingData data = info.samples == "windows"
                          ? window_data(ids, args)
                          : line_prefix_data(tokenizer, text, args.batch_size, args.validation_split,
                                             vocabulary, resumed ? info.seq_length : 0);
  if (!resumed) info.seq_length = data.seq_length;
  info.batch_size = args.batch_size;
  info.validation_split = args.validation_split;

  Sequential model = resumed ? std::move(resumed->model) : build_language_model(args, vocabulary, info);
  // A resumed model comes compiled, with its optimizer's state and its generator, so that it goes on as the
  // run it came from would have; the optimizer flags given change it as they would `fit`'s.
  const std::string changed =
      prepare_training(model, {.model_path = args.resume.empty() ? args.output : args.resume,
                               .loss = data.loss,
                               .recompile = false,
                               .metrics = {},
                               .flags = args.optimizer,
                               .defaults = kTrainOptimizerDefaults});
  if (args.verbose) {
    std::cout << "corpus " << args.corpus << ": " << ids->size() << " " << args.level
              << " tokens, vocabulary " << vocabulary - 1 << "; " << data.description << "\n";
    model.summary();
    if (resumed) {
      std::cout << "resuming from " << args.resume << " after epoch " << info.epochs_done;
      if (!changed.empty()) std::cout << " with " << changed;
      std::cout << "\n";
    }
  }
  const std::filesystem::path history =
      args.history.empty() ? beside(output, ".history.csv") : std::filesystem::path(args.history);
  auto report =
      std::make_shared<TextTrainingReport>(args, tokenizer, info, ids, history, beside(output, ".loss.svg"));
  if (resumed)
    report->set_earlier_history(read_history(beside(args.resume, ".history.csv"), info.epochs_done));
  FitOptions options{.epochs = args.epochs,
                     .verbose = args.verbose,
                     .shuffle = true,
                     .validation_dataset = data.validation.get(),
                     .initial_epoch = info.epochs_done,
                     .callbacks = {report}};
  options.max_duration = max_duration;
  check(info.epochs_done < args.epochs, "the checkpoint has ", info.epochs_done, " epochs already; --epochs ",
        args.epochs, " is the total to reach, so there is nothing left to train");
  const History result = model.fit(*data.training, options);
  if (result.stop_reason == StopReason::max_duration)
    std::cout << "stopped after --max-time " << args.max_time << "\n";
  else if (result.stop_reason == StopReason::interrupt)
    std::cout << "stopped by Ctrl-C\n";
  if (report->info().epochs_done > 0)
    std::cout << "best model (" << report->info().monitor << " " << report->info().best << ", epoch "
              << report->info().epochs_done << ") saved to " << args.output << "; history in "
              << history.string() << ", loss curve in " << beside(output, ".loss.svg").string() << "\n";
}

struct GenerateArgs {
  std::string model;
  std::string seed_text;
  std::int64_t count = 200;
  bool greedy = false;
  double temperature = 0.8;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  std::uint64_t seed = 1;
  TextModelFlags text;
};

// Prints the seed, then each token as it comes.
void generate_text(const GenerateArgs& args) {
  const SamplingOptions sampling{
      .greedy = args.greedy, .temperature = args.temperature, .top_k = args.top_k, .top_p = args.top_p};
  check_sampling_options(sampling);
  check(args.count >= 0, "-n must be >= 0, received ", args.count);
  LanguageModel language_model = load_language_model(args.model, args.text);
  const TextVocabulary& vocabulary = language_model.vocabulary;
  const std::vector<std::int64_t> seed =
      args.seed_text.empty() ? default_seed(vocabulary) : encode_seed(vocabulary, args.seed_text);
  Generator& generator = language_model.generator;
  Rng rng(args.seed);
  const std::string separator = language_model.level == "word" ? " " : "";
  for (std::size_t i = 0; i < seed.size(); ++i)
    std::cout << (i ? separator : "") << vocabulary.token(seed[i]);
  std::cout << std::flush;
  generate(generator, seed, args.count, sampling, rng,
           [&](std::int64_t id) { std::cout << separator << vocabulary.token(id) << std::flush; });
  std::cout << "\n";
}

struct DemoArgs {
  std::string corpus;
  std::string max_time = "3m";
  int epochs = 1000;
  std::int64_t count = 400;
  std::optional<int> threads = 2;
  std::uint64_t seed = 1;
  std::string output;
  std::int64_t units = 256;
};

// The demo corpus: $RNNKIT_DATA_DIR, then ../share/rnnkit beside the executable (installed), then the
// source tree's data/ (a build folder inside the checkout, or the path compiled in).
std::filesystem::path find_demo_corpus() {
  std::vector<std::filesystem::path> candidates;
  if (const char* folder = std::getenv("RNNKIT_DATA_DIR"))
    candidates.emplace_back(std::filesystem::path(folder) / kDemoCorpus);
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back(executable.parent_path().parent_path() / "share" / "rnnkit" / kDemoCorpus);
    candidates.push_back(executable.parent_path().parent_path() / "data" / kDemoCorpus);
  }
#ifdef RNNKIT_SOURCE_DATA_DIR
  candidates.push_back(std::filesystem::path(RNNKIT_SOURCE_DATA_DIR) / kDemoCorpus);
#endif
  for (const auto& candidate : candidates)
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  std::string searched;
  for (const auto& candidate : candidates) searched += "\n  " + candidate.string();
  fail("the demo corpus ", kDemoCorpus,
       " is in none of these places (set RNNKIT_DATA_DIR to its folder):", searched);
}

// A folder under the system's temporary folder, removed with its contents at the end.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rnnkit_demo_XXXXXX").string();
    check(mkdtemp(pattern.data()) != nullptr, "cannot create a temporary folder ", pattern);
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void run_demo(const DemoArgs& args) {
  const std::filesystem::path corpus =
      args.corpus.empty() ? find_demo_corpus() : std::filesystem::path(args.corpus);
  std::optional<TemporaryFolder> folder;
  if (args.output.empty()) folder.emplace();
  TrainArgs train;
  train.corpus = corpus.string();
  train.output = args.output.empty() ? (folder->path() / "demo.keras").string() : args.output;
  train.units = args.units;
  // Tuned for a few minutes on 2 cores: one layer, no dropout, small batches and a high learning rate give
  // many quick updates (Karpathy's char-rnn uses 2e-3 with Adam).
  train.layers = 1;
  train.dropout = 0.0;
  train.batch_size = 32;
  train.seq_length = 64;
  train.optimizer.learning_rate = 0.003;
  train.validation_split = 0.05;
  train.epochs = args.epochs;
  train.seed = args.seed;
  train.threads = args.threads;
  train.max_time = args.max_time;
  std::cout << "rnnkit demo: a character-level LSTM(" << train.units << ") learns " << corpus.string()
            << " for " << args.max_time << ", then writes " << args.count << " characters.\n\n";
  train_text_model(train);
  check(std::filesystem::exists(train.output),
        "training stopped before its first epoch ended: give more --max-time");
  std::cout << "\n===== generated by the best model (temperature 0.8) =====\n";
  GenerateArgs generate_args;
  generate_args.model = train.output;
  generate_args.count = args.count;
  generate_args.seed = args.seed;
  generate_text(generate_args);
}

}  // namespace

void evaluate_text(const std::string& model_path, const std::string& text_path, bool replace_invalid,
                   const TextModelFlags& flags) {
  LanguageModel language_model = load_language_model(model_path, flags);
  const std::string text = read_text_file(text_path, {.replace_invalid = replace_invalid});
  const TextVocabulary::Encoded encoded = language_model.vocabulary.encode(text, text_path);
  const std::vector<std::int64_t>& ids = encoded.ids;
  check(
      ids.size() >= 2, "text '", text_path, "' has ", ids.size(),
      " token(s) the model knows; the cross-entropy needs at least 2 (one to predict from, one to predict)");
  Generator& generator = language_model.generator;
  generator.start(std::span(ids).first(1));
  double total_nats = 0;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    const auto scores = generator.next_scores();
    const auto id = static_cast<std::size_t>(ids[i]);
    if (generator.score_kind() == ScoreKind::probabilities) {
      // Keras's sparse cross-entropy clips probabilities to [1e-7, 1 - 1e-7].
      total_nats -= std::log(std::clamp(static_cast<double>(scores[id]), 1e-7, 1.0 - 1e-7));
    } else {
      double top = -std::numeric_limits<double>::infinity(), sum = 0;
      for (const float score : scores) top = std::max(top, static_cast<double>(score));
      for (const float score : scores) sum += std::exp(score - top);
      total_nats -= scores[id] - top - std::log(sum);
    }
    if (i + 1 < ids.size()) generator.push(ids[i]);
  }
  const double predicted = static_cast<double>(ids.size() - 1);
  const double nats = total_nats / predicted;
  std::cout << "tokens: " << ids.size() << " (" << ids.size() - 1 << " predicted";
  if (encoded.tokens > ids.size())
    std::cout << ", " << encoded.tokens - ids.size() << " outside the vocabulary skipped";
  std::cout << ")\ncross_entropy_nats: " << nats << "\ncross_entropy_bits: " << nats / std::log(2.0)
            << "\nperplexity: " << std::exp(nats) << "\n";
}

void add_text_commands(CLI::App& app) {
  auto train = std::make_shared<TrainArgs>();
  CLI::App* train_command =
      app.add_subcommand("train",
                         "Train a character- or word-level language model on a UTF-8 text file, or "
                         "(--task classify) a text classifier on a labelled TSV/CSV");
  train_command
      ->add_option("corpus", train->corpus, "UTF-8 text file (--task classify: a TSV or CSV with a header)")
      ->required();
  train_command
      ->add_option("-o,--output", train->output,
                   "Where the best model is saved (.keras or .h5), with its tokenizer")
      ->required();
  train_command
      ->add_option("--level", train->level,
                   "Tokens: char (Unicode code points) or word; a classifier also subword (SentencePiece), "
                   "its default")
      ->capture_default_str();
  train_command
      ->add_option("--samples", train->samples,
                   "windows: sliding windows over the whole text (targets: the next token at every step); "
                   "line-prefixes: every prefix of every line, padded 'pre', as the Korean RNN tutorial")
      ->capture_default_str();
  train_command->add_option("--cell", train->cell, "lstm, gru or simple_rnn")->capture_default_str();
  train_command->add_option("--units", train->units, "Units per recurrent layer")->capture_default_str();
  train_command->add_option("--layers", train->layers, "Stacked recurrent layers")->capture_default_str();
  train_command->add_flag("--bidirectional", train->bidirectional,
                          "Bidirectional layers (they see the future: generation re-runs a window)");
  train_command->add_option("--embedding-dim", train->embedding_dim, "Embedding size")->capture_default_str();
  train_command->add_option("--seq-length", train->seq_length, "Tokens per training window")
      ->capture_default_str();
  train_command
      ->add_option("--batch-size", train->batch_size, "Windows per step (with --resume: the checkpoint's)")
      ->capture_default_str();
  train_command->add_option("--epochs", train->epochs, "Epochs in all (with --resume, the total to reach)")
      ->capture_default_str();
  train_command->add_option("--dropout", train->dropout, "Input dropout of each recurrent layer")
      ->capture_default_str();
  train_command->add_option("--recurrent-dropout", train->recurrent_dropout, "Recurrent dropout")
      ->capture_default_str();
  add_optimizer_options(*train_command, train->optimizer, kTrainOptimizerDefaults);
  train_command
      ->add_option("--validation-split", train->validation_split,
                   "Fraction of the corpus, from its end, for validation (with --resume: the checkpoint's)")
      ->capture_default_str();
  train_command->add_option("--max-vocab", train->max_vocab,
                            "Keep the N most frequent tokens (default: all)");
  train_command
      ->add_option("--seed", train->seed, "Seed of the initial weights, shuffling, dropout and samples")
      ->capture_default_str();
  train_command->add_option(
      "--verbose", train->verbose,
      "0 silent, 1 progress bar, 2 a line per epoch (default: 1 on a terminal, 2 otherwise)");
  train_command->add_option(
      "--resume", train->resume,
      "Continue from a checkpoint written by rnnkit train (weights, optimizer, tokenizer, random generator) "
      "exactly as that run would have gone on");
  train_command->add_option("--history", train->history,
                            "History CSV (default: MODEL.history.csv beside the model)");
  train_command->add_option("--threads", train->threads, "BLAS threads (default: all cores)");
  train_command->add_option("--max-time", train->max_time,
                            "Stop cleanly after this long, e.g. 90s, 10m, 1h (default: no limit)");
  train_command->add_flag("--replace-invalid", train->replace_invalid,
                          "Replace invalid UTF-8 with U+FFFD instead of failing");
  train_command
      ->add_option("--sample-length", train->sample_length,
                   "Characters of sample text after each epoch (0: none)")
      ->capture_default_str();
  auto task = std::make_shared<std::string>("language-model");
  train_command
      ->add_option("--task", *task,
                   "language-model: learn to continue text; classify: learn the labels of a TSV/CSV's texts "
                   "(its defaults differ: subword level, one LSTM(128), dropout 0.3, EarlyStopping)")
      ->capture_default_str();
  auto classify = std::make_shared<ClassifyTrainArgs>();
  const std::vector<std::string> classify_only = add_classify_train_options(*train_command, *classify);
  train_command->callback([train, train_command, task, classify, classify_only] {
    const auto given = [&](const std::string& flag) { return train_command->count(flag) > 0; };
    check(*task == "language-model" || *task == "classify", "--task '", *task,
          "' is not language-model or classify");
    if (*task == "classify") {
      for (const char* flag :
           {"--samples", "--seq-length", "--resume", "--sample-length", "--replace-invalid"})
        check(!given(flag), flag, " is for language models; a classifier takes --max-length, --padding, ...");
      ClassifyTrainArgs args = *classify;
      const auto take = [&](const char* flag, auto& to, const auto& from) {
        if (given(flag)) to = from;
      };
      args.data = train->corpus;
      args.output = train->output;
      take("--level", args.level, train->level);
      take("--cell", args.cell, train->cell);
      take("--units", args.units, train->units);
      take("--layers", args.layers, train->layers);
      take("--bidirectional", args.bidirectional, train->bidirectional);
      take("--embedding-dim", args.embedding_dim, train->embedding_dim);
      take("--batch-size", args.batch_size, train->batch_size);
      take("--epochs", args.epochs, train->epochs);
      take("--dropout", args.dropout, train->dropout);
      take("--recurrent-dropout", args.recurrent_dropout, train->recurrent_dropout);
      take("--validation-split", args.validation_split, train->validation_split);
      check(!given("--validation-split") || !given("--validation-data"),
            "give --validation-split or --validation-data, not both");
      if (given("--validation-data")) args.validation_split = 0;
      args.optimizer = train->optimizer;
      args.max_vocab = train->max_vocab;
      take("--seed", args.seed, train->seed);
      args.verbose = train->verbose;
      args.history = train->history;
      args.threads = train->threads;
      args.max_time = train->max_time;
      return train_classifier(args);
    }
    for (const std::string& flag : classify_only) check(!given(flag), flag, " is for --task classify");
    train->batch_size_given = train_command->count("--batch-size") > 0;
    train->validation_split_given = train_command->count("--validation-split") > 0;
    train_text_model(*train);
  });

  auto generate_args = std::make_shared<GenerateArgs>();
  CLI::App* generate_command =
      app.add_subcommand("generate", "Generate text from a language model, streaming it");
  generate_command
      ->add_option(
          "model", generate_args->model,
          "Model file written by rnnkit train, or a Keras model with --tokenizer or --vocabulary-from")
      ->required();
  generate_command->add_option("--seed-text", generate_args->seed_text,
                               "Text to continue (default: a new line, or the most frequent token)");
  generate_command->add_option("-n", generate_args->count, "Tokens to generate")->capture_default_str();
  CLI::Option* greedy = generate_command->add_flag("--greedy", generate_args->greedy,
                                                   "Always the most likely token (deterministic)");
  generate_command->add_option("--temperature", generate_args->temperature, "Sampling temperature (> 0)")
      ->capture_default_str()
      ->excludes(greedy);
  generate_command
      ->add_option("--top-k", generate_args->top_k, "Sample from the k most likely tokens only (0: all)")
      ->capture_default_str()
      ->excludes(greedy);
  generate_command
      ->add_option("--top-p", generate_args->top_p,
                   "Sample from the smallest set with this much probability (1: all)")
      ->capture_default_str()
      ->excludes(greedy);
  generate_command->add_option("--seed", generate_args->seed, "Seed of the sampling")->capture_default_str();
  add_text_model_options(*generate_command, generate_args->text);
  generate_command->callback([generate_args] { generate_text(*generate_args); });

  auto demo = std::make_shared<DemoArgs>();
  CLI::App* demo_command = app.add_subcommand("demo",
                                              "Train a character-level LSTM on the embedded Korean stories "
                                              "for a few minutes and print generated text");
  demo_command->add_option("--max-time", demo->max_time, "Training time")->capture_default_str();
  demo_command->add_option("--epochs", demo->epochs, "At most this many epochs")->capture_default_str();
  demo_command->add_option("-n", demo->count, "Characters to generate at the end")->capture_default_str();
  demo_command->add_option("--units", demo->units, "LSTM units")->capture_default_str();
  demo_command->add_option("--threads", demo->threads, "BLAS threads")->capture_default_str();
  demo_command->add_option("--seed", demo->seed, "Seed of training and sampling")->capture_default_str();
  demo_command->add_option("--corpus", demo->corpus, "Another UTF-8 text instead of the embedded corpus");
  demo_command->add_option("-o,--output", demo->output,
                           "Keep the model here (default: a temporary folder, removed)");
  demo_command->callback([demo] { run_demo(*demo); });
}

}  // namespace rnnkit::cli
