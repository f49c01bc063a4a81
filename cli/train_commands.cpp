#include "train_commands.h"

#include <unistd.h>
#include <cctype>
#include <iostream>
#include <memory>
#include <sstream>

#include "classify_commands.h"
#include "model_arrays.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "text_commands.h"

namespace rnnkit::cli {
namespace {

struct DataArgs {
  std::string model;
  std::string weights;
  std::vector<std::string> x;  // one FILE.npy (or NAME=FILE.npy) per model input, or one .npz
  std::vector<std::string> y;  // the same per model output
  std::string loss;
  std::int64_t batch_size = 32;
  std::vector<std::string> metrics{"accuracy"};  // Keras's names: accuracy, auc, precision, recall, ...
};

struct FitArgs {
  DataArgs data;
  OptimizerFlags optimizer;  // adam with Keras's defaults when the model is compiled afresh
  int epochs = 1;
  bool no_shuffle = false;
  double validation_split = 0.0;
  int verbose = -1;  // -1: 1 on a terminal, 2 when piped, as Keras's progress suits each
  std::uint64_t seed = 1;
  std::string output;
};

// The model of `args` with its data: x and y in the model's inputs() and outputs() order.
struct ModelAndData {
  Model model;
  std::vector<Tensor> x, y;
};

ModelAndData load_with_data(const DataArgs& args, std::uint64_t seed) {
  LoadedModel loaded = load_model_file(args.model, {.name = "", .seed = seed});
  for (const std::string& metric : loaded.dropped_metrics)
    std::cerr << "rnnkit: warning: " << args.model << ": metric " << metric
              << " is not computed by rnnkit; the model is compiled without it\n";
  for (const std::string& dropped : loaded.dropped_training_state)
    std::cerr << "rnnkit: warning: " << args.model << ": dropped " << dropped << "\n";
  Model model = std::move(loaded.model);
  std::vector<Tensor> x = read_model_arrays(
      args.x, model.built() ? model.input_names() : std::vector<std::string>{"input"}, "--x", "input");
  if (!model.built()) {
    Shape shape = x[0].shape();
    check(!shape.empty(), "--x '", args.x[0], "' is a scalar; it needs a batch dimension");
    shape[0] = kNone;
    Sequential sequential(std::move(model));
    sequential.build(shape);
    model = std::move(sequential);
  }
  if (!args.weights.empty()) load_weights(model, args.weights);
  std::vector<Tensor> y = read_model_arrays(args.y, model.output_names(), "--y", "output");
  return {std::move(model), std::move(x), std::move(y)};
}

// `required`: false for evaluate, which takes either these or --text.
void add_data_options(CLI::App& command, DataArgs& args, bool required = true) {
  command.add_option("model", args.model, "Keras model (.h5, .keras or model JSON)")->required();
  command.add_option("--weights", args.weights,
                     "Weights to start from (.h5, .keras, .npz) when the model has none");
  command
      .add_option(
          "--x", args.x,
          "Inputs, batch first: FILE.npy (or NAME=FILE.npy) once per model input, or one .npz with an "
          "array per input layer")
      ->required(required);
  command
      .add_option(
          "--y", args.y,
          "Targets, batch first: FILE.npy (or NAME=FILE.npy) once per model output, or one .npz with an "
          "array per output layer")
      ->required(required);
  command
      .add_option("--loss", args.loss,
                  "categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy or "
                  "mean_squared_error")
      ->required(required);
  command.add_option("--batch-size", args.batch_size, "Samples per step")->capture_default_str();
  command
      .add_option("--metrics", args.metrics,
                  "Keras metrics by name, comma-separated: accuracy, binary_accuracy, "
                  "categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy, auc, "
                  "precision, recall, ... (when compiling afresh)")
      ->delimiter(',')
      ->capture_default_str();
}

const OptimizerFlags kFitOptimizerDefaults{.optimizer = "adam", .learning_rate = {}, .clipnorm = {}};

std::string text_of(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// An optimizer by its command-line name, with Keras's defaults for what is not given.
std::unique_ptr<Optimizer> command_line_optimizer(const std::string& name,
                                                  std::optional<double> learning_rate,
                                                  std::optional<double> clipnorm) {
  OptimizerCommon common;
  if (clipnorm && *clipnorm > 0) common.clipnorm = *clipnorm;
  const auto with = [&](auto options) {
    if (learning_rate) options.learning_rate = *learning_rate;
    options.common = common;
    return options;
  };
  if (name == "adam") return Adam(with(AdamOptions{}));
  if (name == "rmsprop") return RMSprop(with(RMSpropOptions{}));
  if (name == "sgd") return SGD(with(SGDOptions{}));
  if (name == "adagrad") return Adagrad(with(AdagradOptions{}));
  fail("--optimizer '", name, "' is not one of adam, rmsprop, sgd, adagrad");
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The model's optimizer with --learning-rate and --clipnorm applied, its slots and step count carried over;
// the model keeps its loss and metrics. Returns what changed.
// The loss, loss weights and metrics the model was compiled with, for compiling it again.
CompileOptions same_compile(const Model& model) {
  CompileOptions options;
  const std::vector<std::string> outputs = model.output_names();
  for (std::size_t k = 0; k < model.losses().size(); ++k) {
    options.losses.push_back(model.losses()[k].name());
    options.metrics_by_output[outputs[k]] = model.metric_specs_of(k);
    options.weighted_metrics_by_output[outputs[k]] = model.metric_specs_of(k, true);
  }
  options.loss_weights = model.loss_weights();
  options.from_logits = model.losses()[0].from_logits();
  return options;
}

std::string change_optimizer_settings(Model& model, const TrainingSetup& setup) {
  Optimizer& saved = model.optimizer();
  nlohmann::json config = saved.config();
  std::string changes = saved.name();
  if (setup.flags.learning_rate) {
    const nlohmann::json& before = config["learning_rate"];
    changes += ", learning rate " + text_of(*setup.flags.learning_rate) + " (saved: " +
               (before.is_number() ? text_of(before.get<double>()) : "a schedule, now replaced") + ")";
    config["learning_rate"] = *setup.flags.learning_rate;
  }
  if (setup.flags.clipnorm) {
    const nlohmann::json& before = config["clipnorm"];
    changes += ", clipnorm " + (*setup.flags.clipnorm > 0 ? text_of(*setup.flags.clipnorm) : "off") +
               " (saved: " + (before.is_number() ? text_of(before.get<double>()) : "off") + ")";
    config["clipnorm"] = *setup.flags.clipnorm > 0 ? nlohmann::json(*setup.flags.clipnorm) : nlohmann::json();
  }
  std::unique_ptr<Optimizer> changed = optimizer_from_config(
      saved.name(), config, "model '" + setup.model_path + "', its optimizer with " + changes);
  changed->set_iterations(saved.iterations());
  const auto from = saved.slots();
  const auto to = changed->slots();
  check(from.size() == to.size(), "model '", setup.model_path, "': the optimizer's slots changed with ",
        changes);
  if (!from.empty() && !from[0].second->empty()) {
    std::vector<Shape> shapes;
    for (const Tensor& slot : *from[0].second) shapes.push_back(slot.shape());
    changed->build(shapes);  // every slot list made, then the saved values put in
  }
  for (std::size_t i = 0; i < from.size(); ++i) *to[i].second = *from[i].second;
  CompileOptions options = same_compile(model);
  options.optimizer = std::move(changed);
  model.compile(std::move(options));
  return changes + ", its state kept";
}

void run_fit(const FitArgs& args) {
  auto [model, x, y] = load_with_data(args.data, args.seed);
  // A file saved with its training state goes on from it, as Keras's load_model + fit does; --loss compiles
  // afresh, as compile() would.
  const std::string changed = prepare_training(model, {.model_path = args.data.model,
                                                       .loss = args.data.loss,
                                                       .recompile = !args.data.loss.empty(),
                                                       .metrics = args.data.metrics,
                                                       .flags = args.optimizer,
                                                       .defaults = kFitOptimizerDefaults});
  if (!changed.empty()) std::cout << "going on from " << args.data.model << " with " << changed << "\n";
  const int verbose = args.verbose >= 0 ? args.verbose : (isatty(STDOUT_FILENO) ? 1 : 2);
  model.fit(x, y,
            {.epochs = args.epochs,
             .batch_size = args.data.batch_size,
             .verbose = verbose,
             .shuffle = !args.no_shuffle,
             .validation_split = args.validation_split});
  save_model(model, args.output);
  std::cout << "saved " << args.output << "\n";
}

void run_evaluate(const DataArgs& args) {
  auto [model, x, y] = load_with_data(args, 1);
  model.compile({.loss = args.loss,
                 .optimizer = nullptr,
                 .metrics = std::vector<MetricSpec>(args.metrics.begin(), args.metrics.end())});
  const Logs logs = model.evaluate(x, y, {.batch_size = args.batch_size, .verbose = 0});
  for (const auto& [name, value] : logs) std::cout << name << ": " << value << "\n";
}

}  // namespace

void add_optimizer_options(CLI::App& command, OptimizerFlags& flags, const OptimizerFlags& defaults) {
  const auto shown = [](const std::optional<double>& value, const std::string& otherwise) {
    return value ? text_of(*value) : otherwise;
  };
  command.add_option("--optimizer", flags.optimizer,
                     "adam, rmsprop, sgd or adagrad (default: " + defaults.optimizer.value_or("adam") +
                         "; with a saved training state: the saved one, kept unless this names another)");
  command.add_option(
      "--learning-rate", flags.learning_rate,
      "Learning rate (default: " + shown(defaults.learning_rate, "the optimizer's Keras default") +
          "; with a saved training state: the saved one, changed if given)");
  command.add_option(
      "--clipnorm", flags.clipnorm,
      "Clip each gradient's norm to this, 0: off (default: " + shown(defaults.clipnorm, "off") +
          "; with a saved training state: the saved one, changed if given)");
}

std::string prepare_training(Model& model, const TrainingSetup& setup) {
  const OptimizerFlags& flags = setup.flags;
  check(!flags.learning_rate || *flags.learning_rate > 0, "--learning-rate must be positive, received ",
        *flags.learning_rate);
  check(!flags.clipnorm || *flags.clipnorm >= 0, "--clipnorm must be >= 0 (0: off), received ",
        *flags.clipnorm);
  const bool other_optimizer =
      model.compiled() && flags.optimizer && lower(*flags.optimizer) != lower(model.optimizer().name());
  if (!model.compiled() || setup.recompile || other_optimizer) {
    // Another optimizer alone keeps the saved loss.
    const bool saved_loss = setup.loss.empty() && model.compiled();
    check(saved_loss || !setup.loss.empty(), "model '", setup.model_path,
          "' has no training configuration to resume from: give --loss (and --optimizer)");
    const auto pick = [](const auto& given, const auto& fallback) { return given ? given : fallback; };
    CompileOptions options;
    if (saved_loss) {
      options = same_compile(model);
      options.metrics_by_output.clear();
    } else {
      options.loss = setup.loss;
    }
    options.optimizer =
        command_line_optimizer(pick(flags.optimizer, setup.defaults.optimizer).value_or("adam"),
                               pick(flags.learning_rate, setup.defaults.learning_rate),
                               pick(flags.clipnorm, setup.defaults.clipnorm));
    options.metrics.assign(setup.metrics.begin(), setup.metrics.end());
    model.compile(std::move(options));
    return "";
  }
  if (!flags.learning_rate && !flags.clipnorm) return "";
  return change_optimizer_settings(model, setup);
}

void add_training_commands(CLI::App& app) {
  auto fit = std::make_shared<FitArgs>();
  CLI::App* fit_command = app.add_subcommand("fit", "Train a Keras model on .npy data, as model.fit");
  add_data_options(*fit_command, fit->data, false);
  fit_command->get_option("--x")->required();
  fit_command->get_option("--y")->required();
  fit_command->get_option("--loss")->description(
      "As for evaluate; leave it out to go on with the training state saved in MODEL (--loss compiles "
      "afresh)");
  add_optimizer_options(*fit_command, fit->optimizer, kFitOptimizerDefaults);
  fit_command->add_option("--epochs", fit->epochs, "Passes over the data")->capture_default_str();
  fit_command->add_flag("--no-shuffle", fit->no_shuffle, "Keep the sample order in every epoch");
  fit_command->add_option("--validation-split", fit->validation_split, "Fraction held out, from the end")
      ->capture_default_str();
  fit_command->add_option("--verbose", fit->verbose,
                          "0 silent, 1 progress bar, 2 a line per epoch (default: 1 on "
                          "a terminal, 2 otherwise)");
  fit_command
      ->add_option("--seed", fit->seed,
                   "Seed of shuffling and dropout (a model file saved with its training state goes on with "
                   "its own generator)")
      ->capture_default_str();
  fit_command->add_option("-o,--output", fit->output, "Where to save the trained model (.keras or .h5)")
      ->required();
  fit_command->callback([fit] { run_fit(*fit); });

  // Two forms, chosen by the flags: .npy data (--x --y --loss), or a text file (--text) for a language
  // model (trained by `rnnkit train`, or in Keras with --tokenizer or --vocabulary-from).
  auto evaluate = std::make_shared<DataArgs>();
  auto text = std::make_shared<std::string>();
  auto replace_invalid = std::make_shared<bool>(false);
  CLI::App* evaluate_command = app.add_subcommand(
      "evaluate",
      "Loss and accuracy of a Keras model on .npy data, cross-entropy and perplexity of a text, or a text "
      "classifier's report on a labelled file");
  add_data_options(*evaluate_command, *evaluate, false);
  CLI::Option* text_option = evaluate_command->add_option(
      "--text", *text, "UTF-8 text for a language model: cross-entropy per token and perplexity");
  for (const char* data_flag : {"--x", "--y", "--loss", "--weights"})
    text_option->excludes(evaluate_command->get_option(data_flag));
  evaluate_command->add_flag("--replace-invalid", *replace_invalid,
                             "With --text: replace invalid UTF-8 with U+FFFD instead of failing");
  auto text_flags = std::make_shared<TextModelFlags>();
  add_text_model_options(*evaluate_command, *text_flags);
  auto classify = std::make_shared<ClassifierFlags>();
  auto data = std::make_shared<std::string>();
  auto predictions = std::make_shared<std::string>();
  CLI::Option* data_option = evaluate_command->add_option(
      "--data", *data,
      "A labelled TSV/CSV for a text classifier: loss, accuracy, precision, recall, F1, ROC AUC, confusion "
      "matrix");
  data_option->excludes(text_option);
  for (const char* data_flag : {"--x", "--y", "--loss", "--weights"})
    data_option->excludes(evaluate_command->get_option(data_flag));
  evaluate_command->add_option("--text-column", classify->text_column,
                               "With --data: the text column's header");
  evaluate_command->add_option("--label-column", classify->label_column,
                               "With --data: the label column's header");
  evaluate_command->add_option("--output", *predictions,
                               "With --data: write each row's prediction and probabilities as TSV");
  evaluate_command->callback([evaluate, text, replace_invalid, text_flags, classify, data, predictions] {
    if (!data->empty()) {
      check(!text_flags->lower && text_flags->vocabulary_from.empty() && text_flags->level.empty() &&
                !text_flags->seq_length,
            "--vocabulary-from, --lower, --level and --seq-length go with --text");
      classify->tokenizer = text_flags->tokenizer;
      classify->padding = text_flags->padding;
      classify->batch_size = evaluate->batch_size;
      return evaluate_classifier(evaluate->model, *data, *predictions, *classify);
    }
    check(predictions->empty() && classify->text_column.empty() && classify->label_column.empty(),
          "--output, --text-column and --label-column go with --data");
    if (!text->empty()) return evaluate_text(evaluate->model, *text, *replace_invalid, *text_flags);
    check(!text_flags->any(), "--tokenizer, --vocabulary-from, --lower, --level, --seq-length and --padding ",
          "go with --text");
    check(!evaluate->x.empty() && !evaluate->y.empty() && !evaluate->loss.empty(),
          "evaluate needs --x, --y and --loss (.npy data), --text (a text file) or --data (a labelled "
          "TSV/CSV)");
    run_evaluate(*evaluate);
  });
}

}  // namespace rnnkit::cli
