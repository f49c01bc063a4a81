#include "train_commands.h"

#include <unistd.h>
#include <iostream>
#include <memory>

#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "text_commands.h"

namespace rnnkit::cli {
namespace {

struct DataArgs {
  std::string model;
  std::string weights;
  std::string x;
  std::string y;
  std::string loss;
  std::int64_t batch_size = 32;
};

struct FitArgs {
  DataArgs data;
  std::optional<std::string> optimizer;  // adam when the model is compiled afresh
  std::optional<double> learning_rate;
  int epochs = 1;
  bool no_shuffle = false;
  double validation_split = 0.0;
  int verbose = -1;  // -1: 1 on a terminal, 2 when piped, as Keras's progress suits each
  std::uint64_t seed = 1;
  std::string output;
};

Sequential load_with_weights(const DataArgs& args, std::uint64_t seed, const Tensor& x) {
  LoadedModel loaded = load_model_file(args.model, {.name = "", .seed = seed});
  for (const std::string& metric : loaded.dropped_metrics)
    std::cerr << "rnnkit: warning: " << args.model << ": metric " << metric
              << " is not computed by rnnkit; the model is compiled without it\n";
  for (const std::string& dropped : loaded.dropped_training_state)
    std::cerr << "rnnkit: warning: " << args.model << ": dropped " << dropped << "\n";
  Sequential model = std::move(loaded.model);
  if (!model.built()) {
    Shape shape = x.shape();
    check(!shape.empty(), "input '", args.x, "' is a scalar; it needs a batch dimension");
    shape[0] = kNone;
    model.build(shape);
  }
  if (!args.weights.empty()) load_weights(model, args.weights);
  return model;
}

// `required`: false for evaluate, which takes either these or --text.
void add_data_options(CLI::App& command, DataArgs& args, bool required = true) {
  command.add_option("model", args.model, "Keras model (.h5, .keras or model JSON)")->required();
  command.add_option("--weights", args.weights,
                     "Weights to start from (.h5, .keras, .npz) when the model has none");
  command.add_option("--x", args.x, "Inputs, .npy, batch first")->required(required);
  command.add_option("--y", args.y, "Targets, .npy, batch first")->required(required);
  command
      .add_option("--loss", args.loss,
                  "categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy or "
                  "mean_squared_error")
      ->required(required);
  command.add_option("--batch-size", args.batch_size, "Samples per step")->capture_default_str();
}

void run_fit(const FitArgs& args) {
  const Tensor x = load_npy(args.data.x), y = load_npy(args.data.y);
  Sequential model = load_with_weights(args.data, args.seed, x);
  // A file saved with its training state goes on from it (optimizer slots and step count), as Keras's
  // load_model + fit does; any of --loss, --optimizer or --learning-rate compiles afresh, as compile() would.
  const bool fresh_compile = !args.data.loss.empty() || args.optimizer || args.learning_rate;
  if (fresh_compile || !model.compiled()) {
    check(!args.data.loss.empty(), "model '", args.data.model,
          "' has no training configuration to resume from: give --loss (and --optimizer)");
    model.compile({.loss = args.data.loss,
                   .optimizer = make_optimizer(args.optimizer.value_or("adam"), args.learning_rate),
                   .metrics = {"accuracy"}});
  }
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
  const Tensor x = load_npy(args.x), y = load_npy(args.y);
  Sequential model = load_with_weights(args, 1, x);
  model.compile({.loss = args.loss, .optimizer = nullptr, .metrics = {"accuracy"}});
  const Logs logs = model.evaluate(x, y, {.batch_size = args.batch_size, .verbose = 0});
  for (const auto& [name, value] : logs) std::cout << name << ": " << value << "\n";
}

}  // namespace

void add_training_commands(CLI::App& app) {
  auto fit = std::make_shared<FitArgs>();
  CLI::App* fit_command = app.add_subcommand("fit", "Train a Keras model on .npy data, as model.fit");
  add_data_options(*fit_command, fit->data, false);
  fit_command->get_option("--x")->required();
  fit_command->get_option("--y")->required();
  fit_command->get_option("--loss")->description(
      "As for evaluate; leave --loss, --optimizer and --learning-rate out to go on with the training state "
      "saved in MODEL");
  fit_command->add_option("--optimizer", fit->optimizer, "adam (default), rmsprop, sgd or adagrad");
  fit_command->add_option("--learning-rate", fit->learning_rate, "Default: the optimizer's Keras default");
  fit_command->add_option("--epochs", fit->epochs, "Passes over the data")->capture_default_str();
  fit_command->add_flag("--no-shuffle", fit->no_shuffle, "Keep the sample order in every epoch");
  fit_command->add_option("--validation-split", fit->validation_split, "Fraction held out, from the end")
      ->capture_default_str();
  fit_command->add_option("--verbose", fit->verbose,
                          "0 silent, 1 progress bar, 2 a line per epoch (default: 1 on "
                          "a terminal, 2 otherwise)");
  fit_command->add_option("--seed", fit->seed, "Seed of shuffling and dropout")->capture_default_str();
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
      "Loss and accuracy of a Keras model on .npy data, or cross-entropy and perplexity of a text");
  add_data_options(*evaluate_command, *evaluate, false);
  CLI::Option* text_option = evaluate_command->add_option(
      "--text", *text, "UTF-8 text for a language model: cross-entropy per token and perplexity");
  for (const char* data_flag : {"--x", "--y", "--loss", "--weights"})
    text_option->excludes(evaluate_command->get_option(data_flag));
  evaluate_command->add_flag("--replace-invalid", *replace_invalid,
                             "With --text: replace invalid UTF-8 with U+FFFD instead of failing");
  auto text_flags = std::make_shared<TextModelFlags>();
  add_text_model_options(*evaluate_command, *text_flags);
  evaluate_command->callback([evaluate, text, replace_invalid, text_flags] {
    if (!text->empty()) return evaluate_text(evaluate->model, *text, *replace_invalid, *text_flags);
    check(!text_flags->any(), "--tokenizer, --vocabulary-from, --lower, --level, --seq-length and --padding ",
          "go with --text");
    check(!evaluate->x.empty() && !evaluate->y.empty() && !evaluate->loss.empty(),
          "evaluate needs --x, --y and --loss (.npy data), or --text (a text file)");
    run_evaluate(*evaluate);
  });
}

}  // namespace rnnkit::cli
