// rnnkit: the command line. One function per subcommand; errors print one line and exit with status 1.
#include <CLI/CLI.hpp>
#include <iostream>

#include "rnnkit/rnnkit.h"

namespace {

struct SummaryArgs {
  std::string model;
  std::string style = "keras2.12";
};

struct PredictArgs {
  std::string model;
  std::string weights;
  std::string input;
  std::string output;
  std::int64_t batch_size = 32;
};

void run_summary(const SummaryArgs& args) {
  rnnkit::Sequential model = rnnkit::load_model_json(args.model);
  model.summary(rnnkit::parse_summary_style(args.style));
}

void run_predict(const PredictArgs& args) {
  rnnkit::Sequential model = rnnkit::load_model_json(args.model);
  const rnnkit::Tensor x = rnnkit::load_npy(args.input);
  if (!model.built()) {
    rnnkit::Shape shape = x.shape();
    rnnkit::check(!shape.empty(), "input '", args.input, "' is a scalar; it needs a batch dimension");
    shape[0] = rnnkit::kNone;
    model.build(shape);
  }
  if (!args.weights.empty()) rnnkit::load_weights_npz(model, args.weights);
  rnnkit::save_npy(args.output, model.predict(x, args.batch_size));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rnnkit: Keras-faithful recurrent neural networks for text, in C++"};
  app.require_subcommand(1);

  SummaryArgs summary;
  CLI::App* summary_command = app.add_subcommand("summary", "Print model.summary() of a Keras model JSON file");
  summary_command->add_option("model", summary.model, "Keras model JSON (model.to_json())")->required();
  summary_command->add_option("--style", summary.style, "Which Keras prints it: keras2.6, keras2.12, keras2.15, keras3")
      ->capture_default_str();
  summary_command->callback([&] { run_summary(summary); });

  PredictArgs predict;
  CLI::App* predict_command = app.add_subcommand("predict", "Run a model on inputs from a .npy file");
  predict_command->add_option("model", predict.model, "Keras model JSON (model.to_json())")->required();
  predict_command->add_option("--weights", predict.weights, ".npz of the weights, named by Keras weight names");
  predict_command->add_option("--input", predict.input, ".npy input, batch first")->required();
  predict_command->add_option("--output", predict.output, ".npy file to write the output to")->required();
  predict_command->add_option("--batch-size", predict.batch_size, "Samples per forward pass")->capture_default_str();
  predict_command->callback([&] { run_predict(predict); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const rnnkit::Error& error) {
    std::cerr << "rnnkit: error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
