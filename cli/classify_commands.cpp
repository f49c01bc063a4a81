#include "classify_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "rnnkit/text/classification.h"
#include "rnnkit/text/utf8.h"
#include "rnnkit/threads.h"
#include "text_commands.h"
#include "text_model.h"

namespace rnnkit::cli {
namespace {

// Adam at Keras's 0.001, without clipping.
const OptimizerFlags kClassifyOptimizerDefaults{.optimizer = "adam", .learning_rate = 0.001, .clipnorm = {}};

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// A text on one output line: tabs and line breaks become spaces.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

// The padded length that holds 95% of the training texts whole: a few very long texts would otherwise make
// every batch long.
std::int64_t covering_length(const std::vector<std::vector<int>>& sequences) {
  std::vector<std::size_t> lengths;
  for (const auto& sequence : sequences) lengths.push_back(sequence.size());
  std::sort(lengths.begin(), lengths.end());
  const std::size_t at =
      std::min(lengths.size() - 1, static_cast<std::size_t>(0.95 * static_cast<double>(lengths.size())));
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(lengths[at]));
}

Sequential build_classifier(const ClassifyTrainArgs& args, std::int64_t vocabulary, std::int64_t max_length,
                            const LabelMap& labels) {
  Sequential model({.name = "", .seed = args.seed});
  model.add(Embedding(vocabulary, args.embedding_dim, {.input_length = max_length}));
  add_recurrent_stack(model, {.cell = args.cell,
                              .units = args.units,
                              .layers = args.layers,
                              .bidirectional = args.bidirectional,
                              .dropout = args.dropout,
                              .recurrent_dropout = args.recurrent_dropout});
  if (labels.binary())
    model.add(Dense(1, {.activation = "sigmoid"}));
  else
    model.add(Dense(labels.size(), {.activation = "softmax"}));
  model.build({kNone, max_length});
  return model;
}

std::string class_counts(const std::vector<std::int64_t>& ids, const LabelMap& labels) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(labels.size()), 0);
  for (const std::int64_t id : ids) ++counts[static_cast<std::size_t>(id)];
  std::string text;
  for (std::int64_t c = 0; c < labels.size(); ++c)
    text += (c ? ", " : "") + labels.name(c) + ": " + std::to_string(counts[static_cast<std::size_t>(c)]);
  return text;
}

// A classifier and how text becomes its input.
struct Classifier {
  Model model;
  TextEncoder encoder;
  LabelMap labels;
  PadSequencesOptions padding;
  std::string source;
};

Classifier load_classifier(const std::string& path, const ClassifierFlags& flags) {
  check(flags.padding.empty() || flags.padding == "pre" || flags.padding == "post", "--padding '",
        flags.padding, "' is not pre or post");
  LoadedModel loaded = load_model_file(path);
  check(loaded.model.built(), "model ", quoted(path), " is not built: its file records no input shape");
  const Shape input = loaded.model.input_shape();
  const Shape output = loaded.model.output_shape();
  check(input.size() == 2, "model ", quoted(path), " takes inputs of shape ", shape_string(input),
        "; a text classifier takes (batch, tokens)");
  check(output.size() == 2, "model ", quoted(path), " gives outputs of shape ", shape_string(output),
        "; a text classifier gives (batch, 1) or (batch, classes)");
  if (!flags.tokenizer.empty()) {
    // A Keras model: its classes are 0 (and 1 for a sigmoid output) or 0..K-1.
    std::vector<std::string> names;
    for (std::int64_t c = 0; c < std::max<std::int64_t>(2, output[1]); ++c)
      names.push_back(std::to_string(c));
    PadSequencesOptions padding;
    if (input[1] != kNone) padding.maxlen = input[1];
    if (!flags.padding.empty()) padding.padding = padding.truncating = flags.padding;
    return {std::move(loaded.model), TextEncoder::from_tokenizer(read_tokenizer_file(flags.tokenizer)),
            LabelMap(std::move(names)), padding, "model " + quoted(path)};
  }
  const auto info_asset = loaded.assets.find(kTextInfoAsset);
  check(info_asset != loaded.assets.end(), "model file ", quoted(path), " has no ", kTextInfoAsset,
        " asset: it was not written by `rnnkit train --task classify`; for a model trained in Keras give its "
        "tokenizer (--tokenizer tokenizer.json, from tokenizer.to_json())");
  const TextInfo info =
      TextInfo::from_json(info_asset->second, "model file " + quoted(path) + " asset " + kTextInfoAsset);
  check(info.task == "classify", "model file ", quoted(path),
        " is a language model, not a text classifier: use `rnnkit generate` or `rnnkit evaluate --text`");
  check(flags.padding.empty(), "--padding goes with --tokenizer: ", quoted(path), " pads as it was trained (",
        info.padding, ")");
  std::optional<TextEncoder> encoder;
  if (info.level == "subword") {
    const auto model = loaded.assets.find(kSubwordAsset);
    check(model != loaded.assets.end(), "model file ", quoted(path), " has no ", kSubwordAsset, " asset");
    encoder = TextEncoder::from_subword(SubwordTokenizer::from_model(
        model->second, info.lower, "model file " + quoted(path) + " asset " + kSubwordAsset));
  } else {
    const auto tokenizer = loaded.assets.find(kTokenizerAsset);
    check(tokenizer != loaded.assets.end(), "model file ", quoted(path), " has no ", kTokenizerAsset,
          " asset");
    encoder = TextEncoder::from_tokenizer(Tokenizer::from_json(tokenizer->second));
  }
  LabelMap labels(info.labels);
  const std::int64_t width = labels.binary() ? 1 : labels.size();
  check(output[1] == width, "model ", quoted(path), " gives ", output[1], " outputs for ", labels.size(),
        " classes");
  return {std::move(loaded.model),
          std::move(*encoder),
          std::move(labels),
          {.maxlen = info.seq_length, .padding = info.padding, .truncating = info.truncating},
          "model " + quoted(path)};
}

// Class probabilities of each text, padded one at a time when the model takes any length.
std::vector<std::vector<double>> classify(Classifier& classifier, const std::vector<std::string>& texts,
                                          std::int64_t batch_size) {
  const std::vector<std::vector<int>> sequences = classifier.encoder.encode(texts);
  if (classifier.padding.maxlen) {
    const Tensor x = pad_sequences(sequences, classifier.padding);
    return class_probabilities(classifier.model.predict(x, batch_size));
  }
  std::vector<std::vector<double>> probabilities;
  for (const auto& sequence : sequences) {
    const std::vector<int> ids = sequence.empty() ? std::vector<int>{0} : sequence;
    auto row = class_probabilities(classifier.model.predict(pad_sequences({ids}, classifier.padding), 1));
    probabilities.push_back(std::move(row[0]));
  }
  return probabilities;
}

std::int64_t most_probable(const std::vector<double>& row) {
  if (row.size() == 2) return row[1] > 0.5 ? 1 : 0;  // as the report and Keras's binary accuracy
  return std::max_element(row.begin(), row.end()) - row.begin();
}

void print_scores(const std::string& name, const ClassScores& scores) {
  std::cout << std::left << std::setw(16) << name << std::right << std::setw(10) << scores.precision
            << std::setw(10) << scores.recall << std::setw(10) << scores.f1 << std::setw(10) << scores.support
            << "\n";
}

}  // namespace

std::vector<std::string> add_classify_train_options(CLI::App& train, ClassifyTrainArgs& args) {
  std::vector<std::string> names;
  const auto note = [&](CLI::Option* option) {
    names.push_back(option->get_name());
    return option;
  };
  note(train.add_option("--text-column", args.text_column,
                        "Classify: the text column's header (default: text, document, sentence, review or "
                        "content)"));
  note(train.add_option("--label-column", args.label_column,
                        "Classify: the label column's header (default: label, sentiment, class or target)"));
  note(train.add_option("--validation-data", args.validation_data,
                        "Classify: a labelled file to validate on instead of --validation-split"));
  note(train
           .add_option("--patience", args.patience,
                       "Classify: epochs without a better val_loss before stopping (EarlyStopping, the best "
                       "weights kept)")
           ->capture_default_str());
  note(
      train.add_option("--class-weight", args.class_weight,
                       "Classify: balanced weighs each class by n / (classes * its count), as scikit-learn"));
  note(
      train.add_option("--max-length", args.max_length,
                       "Classify: tokens per text, padded or cut (default: the length of 95% of the training "
                       "texts)"));
  note(train.add_option("--padding", args.padding, "Classify: pre or post, as pad_sequences")
           ->capture_default_str());
  note(train
           .add_option("--truncating", args.truncating,
                       "Classify: pre (keep the end) or post (keep the start), as pad_sequences")
           ->capture_default_str());
  note(train.add_option("--vocab-size", args.vocab_size, "Classify, --level subword: SentencePiece pieces")
           ->capture_default_str());
  note(train.add_option("--oov-token", args.oov_token,
                        "Classify: the Tokenizer's oov_token for words outside the vocabulary"));
  note(train.add_option("--filters", args.filters,
                        "Classify: characters the Tokenizer removes (default: Keras's punctuation; none at "
                        "char level)"));
  note(train.add_flag("--lower,!--no-lower", args.lower, "Classify: lowercase the texts (default: yes)"));
  return names;
}

void train_classifier(ClassifyTrainArgs args) {
  if (args.threads) set_num_threads(*args.threads);
  if (args.verbose < 0) args.verbose = isatty(STDOUT_FILENO) ? 1 : 2;
  check(args.level == "word" || args.level == "char" || args.level == "subword", "--level '", args.level,
        "' is not word, char or subword");
  check(args.units > 0 && args.layers > 0 && args.embedding_dim > 0 && args.batch_size > 0 && args.epochs > 0,
        "--units, --layers, --embedding-dim, --batch-size and --epochs must be positive");
  check(!args.max_vocab || *args.max_vocab > 0, "--max-vocab must be positive");
  check(!args.max_length || *args.max_length > 0, "--max-length must be positive");
  check(args.patience >= 0, "--patience must be >= 0");
  check(args.padding == "pre" || args.padding == "post", "--padding '", args.padding, "' is not pre or post");
  check(args.truncating == "pre" || args.truncating == "post", "--truncating '", args.truncating,
        "' is not pre or post");
  check(args.class_weight.empty() || args.class_weight == "balanced", "--class-weight '", args.class_weight,
        "' is not balanced");
  check(args.level == "subword" || (args.vocab_size == 8000), "--vocab-size goes with --level subword ",
        "(word and char levels take --max-vocab)");
  check(args.level != "subword" || (!args.max_vocab && !args.oov_token && !args.filters),
        "--max-vocab, --oov-token and --filters are the word and char levels' Tokenizer options; ",
        "--level subword takes --vocab-size");
  check(args.validation_split >= 0 && args.validation_split < 1, "--validation-split must be in [0, 1)");
  std::optional<std::chrono::duration<double>> max_duration;
  if (!args.max_time.empty()) max_duration = parse_duration(args.max_time);
  const std::filesystem::path output = args.output;
  check(output.extension() == ".keras" || output.extension() == ".h5", "-o '", args.output,
        "': the model is saved as .keras (Keras 3) or .h5 (Keras 2)");

  const LabelledFileOptions columns{.text_column = args.text_column, .label_column = args.label_column};
  LabelledTexts training = read_labelled_file(args.data, columns);
  LabelledTexts validation;
  if (!args.validation_data.empty()) {
    validation = read_labelled_file(args.validation_data, columns);
  } else if (args.validation_split > 0) {
    // The last rows, as Keras's validation_split takes the last samples.
    const auto held_out = static_cast<std::size_t>(
        std::floor(static_cast<double>(training.texts.size()) * args.validation_split));
    check(held_out > 0 && held_out < training.texts.size(), "--validation-split ", args.validation_split,
          " of ", training.texts.size(), " rows leaves no validation or no training row");
    const auto cut = static_cast<std::ptrdiff_t>(training.texts.size() - held_out);
    validation.source = training.source;
    validation.label_column = training.label_column;
    validation.label_column_number = training.label_column_number;
    validation.texts.assign(training.texts.begin() + cut, training.texts.end());
    validation.labels.assign(training.labels.begin() + cut, training.labels.end());
    validation.lines.assign(training.lines.begin() + cut, training.lines.end());
    training.texts.resize(training.texts.size() - held_out);
    training.labels.resize(training.texts.size());
    training.lines.resize(training.texts.size());
  }
  const LabelMap labels = LabelMap::from_labels(training.labels);
  const std::vector<std::int64_t> training_ids = labels.ids(training);
  const std::vector<std::int64_t> validation_ids =
      validation.texts.empty() ? std::vector<std::int64_t>{} : labels.ids(validation);

  TextEncoderOptions encoding{.level = args.level};
  encoding.tokenizer.lower = args.lower;
  encoding.tokenizer.oov_token = args.oov_token;
  if (args.level == "char") encoding.tokenizer.filters = "";
  if (args.filters) encoding.tokenizer.filters = *args.filters;
  if (args.max_vocab) encoding.tokenizer.num_words = *args.max_vocab + 1;  // ids 1..N; 0 is padding
  encoding.subword.vocab_size = args.vocab_size;
  encoding.subword.seed = args.seed;
  const TextEncoder encoder = TextEncoder::fit(training.texts, encoding);
  std::vector<std::vector<int>> training_sequences = encoder.encode(training.texts);
  const std::int64_t max_length = args.max_length.value_or(covering_length(training_sequences));
  const ClassificationBatchOptions batching{
      .padding = {.maxlen = max_length, .padding = args.padding, .truncating = args.truncating},
      .batch_size = args.batch_size};
  ClassificationDataset training_data(std::move(training_sequences), training_ids, labels.binary(), batching);
  std::optional<ClassificationDataset> validation_data;
  if (!validation.texts.empty())
    validation_data.emplace(encoder.encode(validation.texts), validation_ids, labels.binary(), batching);

  const std::int64_t vocabulary = encoder.vocabulary_size();
  Sequential model = build_classifier(args, vocabulary, max_length, labels);
  prepare_training(model,
                   {.model_path = args.output,
                    .loss = labels.binary() ? "binary_crossentropy" : "sparse_categorical_crossentropy",
                    .recompile = false,
                    .metrics = {"accuracy"},
                    .flags = args.optimizer,
                    .defaults = kClassifyOptimizerDefaults});

  TextInfo info{.task = "classify", .level = args.level, .samples = "texts", .seq_length = max_length};
  info.labels = labels.names();
  info.padding = args.padding;
  info.truncating = args.truncating;
  info.lower = args.lower;
  info.batch_size = args.batch_size;
  if (args.validation_data.empty() && args.validation_split > 0)
    info.validation_split = args.validation_split;
  ModelAssets assets{{kTextInfoAsset, info.to_json()}};
  if (encoder.subword())
    assets[kSubwordAsset] = encoder.subword()->model_bytes();
  else
    assets[kTokenizerAsset] = encoder.tokenizer()->to_json();

  if (args.verbose) {
    std::cout << "data " << args.data << ": " << training.texts.size() << " training texts ("
              << class_counts(training_ids, labels) << ")";
    if (validation_data)
      std::cout << ", " << validation.texts.size() << " validation texts ("
                << class_counts(validation_ids, labels) << ")";
    std::cout << "\n"
              << args.level << " level, vocabulary " << vocabulary - 1 << ", texts padded ('" << args.padding
              << "') or cut ('" << args.truncating << "') to " << max_length << " tokens; "
              << (labels.binary()
                      ? "binary (sigmoid, binary_crossentropy)"
                      : std::to_string(labels.size()) + " classes (softmax, sparse_categorical_crossentropy)")
              << "\n";
    model.summary();
  }
  const std::string monitor = validation_data ? "val_loss" : "loss";
  FitOptions options{.epochs = args.epochs,
                     .verbose = args.verbose,
                     .shuffle = true,
                     .validation_dataset = validation_data ? &*validation_data : nullptr};
  options.max_duration = max_duration;
  if (args.class_weight == "balanced")
    options.class_weight = balanced_class_weights(training_ids, labels.size());
  const std::filesystem::path history = args.history.empty()
                                            ? output.parent_path() / (output.stem().string() + ".history.csv")
                                            : std::filesystem::path(args.history);
  options.callbacks = {
      EarlyStopping({.monitor = monitor, .patience = args.patience, .restore_best_weights = true}),
      ModelCheckpoint(output, {.monitor = monitor, .save_best_only = true, .mode = "min", .assets = assets}),
      CSVLogger(history)};
  const History result = model.fit(training_data, options);
  if (result.stop_reason == StopReason::max_duration)
    std::cout << "stopped after --max-time " << args.max_time << "\n";
  else if (result.stop_reason == StopReason::interrupt)
    std::cout << "stopped by Ctrl-C\n";
  else if (result.stop_reason == StopReason::callback)
    std::cout << "stopped early: " << monitor << " did not improve (--patience " << args.patience << ")\n";
  const auto& values = result.history.at(monitor);
  const auto best = std::min_element(values.begin(), values.end()) - values.begin();
  if (!std::filesystem::exists(output)) save_model(model, output, assets);
  std::cout << "best model (" << monitor << " " << values[static_cast<std::size_t>(best)];
  if (result.history.contains("val_accuracy"))
    std::cout << ", val_accuracy " << result.history.at("val_accuracy")[static_cast<std::size_t>(best)];
  std::cout << ", epoch " << result.epoch[static_cast<std::size_t>(best)] + 1 << ") saved to " << args.output
            << "; history in " << history.string() << "\n";
}

void evaluate_classifier(const std::string& model_path, const std::string& data_path,
                         const std::string& output_path, const ClassifierFlags& flags) {
  Classifier classifier = load_classifier(model_path, flags);
  const LabelledTexts data =
      read_labelled_file(data_path, {.text_column = flags.text_column, .label_column = flags.label_column});
  const std::vector<std::int64_t> truth = classifier.labels.ids(data);
  const auto probabilities = classify(classifier, data.texts, flags.batch_size);
  const ClassificationReport report = classification_report(truth, probabilities, classifier.labels.size());
  const LabelMap& labels = classifier.labels;

  std::cout << "samples: " << report.samples << "\nloss: " << report.loss << "\naccuracy: " << report.accuracy
            << "\n";
  if (labels.binary()) {
    const ClassScores& positive = report.per_class[1];
    std::cout << "precision: " << positive.precision << "\nrecall: " << positive.recall
              << "\nf1: " << positive.f1 << "\n";
    if (report.roc_auc) std::cout << "roc_auc: " << *report.roc_auc << "\n";
    std::cout << "(precision, recall and f1 of class '" << labels.name(1) << "'; roc_auc over P('"
              << labels.name(1) << "'))\n";
  }
  std::cout << "\nconfusion matrix (rows: true class, columns: predicted class):\n" << std::setw(16) << "";
  for (const std::string& name : labels.names()) std::cout << std::setw(10) << name;
  std::cout << "\n";
  for (std::int64_t c = 0; c < labels.size(); ++c) {
    std::cout << std::left << std::setw(16) << labels.name(c) << std::right;
    for (const std::int64_t count : report.confusion[static_cast<std::size_t>(c)])
      std::cout << std::setw(10) << count;
    std::cout << "\n";
  }
  std::cout << "\n"
            << std::left << std::setw(16) << "class" << std::right << std::setw(10) << "precision"
            << std::setw(10) << "recall" << std::setw(10) << "f1" << std::setw(10) << "support"
            << "\n";
  std::cout << std::fixed << std::setprecision(4);
  for (std::int64_t c = 0; c < labels.size(); ++c)
    print_scores(labels.name(c), report.per_class[static_cast<std::size_t>(c)]);
  print_scores("macro avg", report.macro);
  print_scores("weighted avg", report.weighted);
  std::cout << std::defaultfloat;

  if (!output_path.empty()) {
    std::ostringstream rows;
    rows.precision(9);
    rows << "line\tlabel\tpredicted\tprobability";
    for (const std::string& name : labels.names()) rows << "\tp_" << name;
    rows << "\ttext\n";
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const auto predicted = static_cast<std::size_t>(report.predicted[i]);
      rows << data.lines[i] << "\t" << data.labels[i] << "\t" << labels.name(report.predicted[i]) << "\t"
           << probabilities[i][predicted];
      for (const double p : probabilities[i]) rows << "\t" << p;
      rows << "\t" << one_line(data.texts[i]) << "\n";
    }
    write_bytes_atomically(output_path, rows.str());
    std::cout << "predictions written to " << output_path << "\n";
  }
}

void predict_classifier(const std::string& model_path, const std::vector<std::string>& given,
                        const std::string& data_path, bool json, const ClassifierFlags& flags) {
  check(given.empty() || data_path.empty(), "give --text or --data, not both");
  Classifier classifier = load_classifier(model_path, flags);
  std::vector<std::string> texts = given;
  if (!data_path.empty()) {
    const std::string content = read_text_file(data_path);
    const std::string first_line = content.substr(0, content.find('\n'));
    const bool delimited =
        first_line.find('\t') != std::string::npos || std::filesystem::path(data_path).extension() == ".csv";
    if (delimited) {
      texts = parse_labelled_text(
                  content, data_path,
                  {.text_column = flags.text_column, .label_column = "", .labels_required = false})
                  .texts;
    } else {
      std::istringstream lines(content);
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) texts.push_back(line);
    }
    check(!texts.empty(), "file ", quoted(data_path), " has no text");
  }
  for (const std::string& text : texts) check_utf8(text, "a text to classify");
  const auto probabilities = classify(classifier, texts, flags.batch_size);
  const LabelMap& labels = classifier.labels;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::int64_t label = most_probable(probabilities[i]);
    const double probability = probabilities[i][static_cast<std::size_t>(label)];
    if (json) {
      nlohmann::json row{{"text", texts[i]}, {"label", labels.name(label)}, {"probability", probability}};
      nlohmann::json all = nlohmann::json::object();
      for (std::int64_t c = 0; c < labels.size(); ++c)
        all[labels.name(c)] = probabilities[i][static_cast<std::size_t>(c)];
      row["probabilities"] = all;
      std::cout << row.dump() << "\n";
    } else {
      std::ostringstream value;
      value.precision(9);
      value << probability;
      std::cout << labels.name(label) << "\t" << value.str() << "\t" << one_line(texts[i]) << "\n";
    }
  }
}

}  // namespace rnnkit::cli
