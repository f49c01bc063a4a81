// rnnkit: the command line. One function per subcommand; errors print one line and exit with status 1.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include "classify_commands.h"
#include "model_arrays.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "text_commands.h"
#include "train_commands.h"

namespace {

struct SummaryArgs {
  std::string model;
  std::string style = "keras2.12";
};

struct ConvertArgs {
  std::string input;
  std::string output;
};

struct PredictArgs {
  std::string model;
  std::string weights;
  std::vector<std::string> inputs;  // FILE.npy or NAME=FILE.npy per model input, or one .npz
  std::string output;
  std::int64_t batch_size = 32;
  // A text classifier's inputs instead of arrays.
  std::vector<std::string> texts;
  std::string data;
  bool json = false;
  rnnkit::cli::ClassifierFlags classify;
};

// NaN or infinite weights load (Keras loads them too) but make every prediction meaningless: say so.
void warn_about_weights(const rnnkit::Model& model, const std::string& file) {
  for (std::size_t i = 0; i < model.size(); ++i) {
    const rnnkit::Layer& layer = model.layer(i);
    for (const rnnkit::Param* param : layer.params()) {
      std::int64_t nan = 0, infinite = 0;
      for (const float value : param->value.values()) {
        nan += std::isnan(value) ? 1 : 0;
        infinite += std::isinf(value) ? 1 : 0;
      }
      if (nan + infinite > 0)
        std::cerr << "rnnkit: warning: " << file << ": weight '" << param->name << "' of layer '"
                  << layer.name() << "' holds " << nan << " NaN and " << infinite << " infinite values\n";
    }
  }
}

// Without --style, a .h5 or .keras file gets the summary of the Keras that wrote it; JSON the default.
void run_summary(const SummaryArgs& args, bool style_given) {
  rnnkit::LoadedModel loaded = rnnkit::load_model_file(args.model);
  rnnkit::SummaryStyle style = rnnkit::parse_summary_style(args.style);
  if (!style_given && loaded.format != rnnkit::ModelFileFormat::kJson)
    style = rnnkit::summary_style_for_keras_version(loaded.keras_version, style);
  warn_about_weights(loaded.model, args.model);
  loaded.model.summary(style);
}

void run_convert(const ConvertArgs& args) {
  const rnnkit::Model model = rnnkit::load_model(args.input);
  rnnkit::save_model(model, args.output);
}

// The model's input arrays in inputs() order (see read_model_arrays).
std::vector<rnnkit::Tensor> read_inputs(const std::vector<std::string>& given, const rnnkit::Model& model) {
  return rnnkit::cli::read_model_arrays(
      given, model.built() ? model.input_names() : std::vector<std::string>{"input"}, "--input", "input");
}

void run_predict(const PredictArgs& args) {
  if (!args.texts.empty() || !args.data.empty()) {
    rnnkit::check(args.inputs.empty() && args.output.empty() && args.weights.empty(),
                  "--input, --output and --weights are for arrays; --text and --data for a text classifier");
    rnnkit::cli::ClassifierFlags flags = args.classify;
    flags.batch_size = args.batch_size;
    return rnnkit::cli::predict_classifier(args.model, args.texts, args.data, args.json, flags);
  }
  rnnkit::check(args.classify.tokenizer.empty() && args.classify.padding.empty() &&
                    args.classify.text_column.empty() && !args.json,
                "--tokenizer, --padding, --text-column and --json go with --text or --data");
  rnnkit::check(!args.inputs.empty() && !args.output.empty(),
                "predict needs --input and --output (arrays), or --text / --data (a text classifier)");
  rnnkit::Model model = rnnkit::load_model(args.model);
  const std::vector<rnnkit::Tensor> x = read_inputs(args.inputs, model);
  if (!model.built()) {
    rnnkit::Shape shape = x[0].shape();
    rnnkit::check(!shape.empty(), "input '", args.inputs[0], "' is a scalar; it needs a batch dimension");
    shape[0] = rnnkit::kNone;
    rnnkit::Sequential sequential(std::move(model));
    sequential.build(shape);
    model = std::move(sequential);
  }
  if (!args.weights.empty()) rnnkit::load_weights(model, args.weights);
  const std::vector<rnnkit::Tensor> y = model.predict(x, args.batch_size);
  if (rnnkit::cli::ends_with_npz(args.output)) {
    rnnkit::NamedTensors arrays;
    const std::vector<std::string> names = model.output_names();
    for (std::size_t i = 0; i < y.size(); ++i) arrays.emplace_back(names[i], y[i]);
    return rnnkit::save_npz(args.output, arrays);
  }
  rnnkit::check(y.size() == 1, "the model has ", y.size(), " outputs: give --output a .npz file (one array ",
                "per output, named by output layer)");
  rnnkit::save_npy(args.output, y[0]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rnnkit: Keras-faithful recurrent neural networks for text, in C++"};
  app.require_subcommand(1);

  SummaryArgs summary;
  CLI::App* summary_command = app.add_subcommand("summary", "Print model.summary() of a Keras model file");
  summary_command
      ->add_option("model", summary.model, "Keras model: .h5, .keras or model JSON (model.to_json())")
      ->required();
  CLI::Option* style_option =
      summary_command
          ->add_option(
              "--style", summary.style,
              "Which Keras prints it: keras2.6, keras2.12, keras2.15, keras3 (default: the Keras that wrote "
              "a .h5/.keras file, keras2.12 for JSON)")
          ->capture_default_str();
  summary_command->callback([&] { run_summary(summary, style_option->count() > 0); });

  ConvertArgs convert;
  CLI::App* convert_command =
      app.add_subcommand("convert", "Convert a Keras model between .h5 (Keras 2) and .keras (Keras 3)");
  convert_command->add_option("input", convert.input, "Keras model: .h5, .keras or model JSON")->required();
  convert_command->add_option("output", convert.output, "Written as .keras (Keras 3) or .h5/.hdf5 (Keras 2)")
      ->required();
  convert_command->callback([&] { run_convert(convert); });

  PredictArgs predict;
  CLI::App* predict_command =
      app.add_subcommand("predict", "Run a model on inputs from a .npy file, or label texts");
  predict_command
      ->add_option("model", predict.model, "Keras model: .h5, .keras or model JSON (model.to_json())")
      ->required();
  predict_command->add_option(
      "--weights", predict.weights,
      "Weights: Keras .h5 (save_weights), .weights.h5, .keras, or .npz named by Keras weight "
      "names");
  predict_command->add_option(
      "--input", predict.inputs,
      ".npy input, batch first: one per model input (FILE in order, or NAME=FILE by input layer), "
      "or one .npz with an array per input");
  predict_command->add_option(
      "--output", predict.output,
      ".npy file to write the output to, or .npz (one array per output, named by output layer)");
  predict_command->add_option("--text", predict.texts,
                              "A text for a text classifier (repeatable): prints its label and probability");
  predict_command->add_option("--data", predict.data,
                              "Texts for a text classifier: one per line, or a TSV/CSV with a header");
  predict_command->add_flag("--json", predict.json, "With --text or --data: one JSON object per line");
  predict_command->add_option("--text-column", predict.classify.text_column,
                              "With --data as TSV/CSV: the text column's header");
  predict_command->add_option("--tokenizer", predict.classify.tokenizer,
                              "For a classifier trained in Keras: its Tokenizer as tokenizer.to_json() wrote "
                              "it (labels are class ids)");
  predict_command->add_option("--padding", predict.classify.padding,
                              "With --tokenizer: pre (Keras's default) or post, for padding and truncating");
  predict_command->add_option("--batch-size", predict.batch_size, "Samples per forward pass")
      ->capture_default_str();
  predict_command->callback([&] { run_predict(predict); });

  rnnkit::cli::add_training_commands(app);
  rnnkit::cli::add_text_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const rnnkit::Error& error) {
    std::cerr << "rnnkit: error: " << error.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr
        << "rnnkit: error: out of memory (a size in the model or input is larger than this machine holds)\n";
    return 1;
  } catch (const std::exception& error) {
    // A library bug rather than bad input: say so instead of aborting.
    std::cerr << "rnnkit: error: internal error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
