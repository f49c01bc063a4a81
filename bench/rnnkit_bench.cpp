// rnnkit's side of bench/compare: times training steps, one recurrent layer, and generation; prints JSON.
//
//   rnnkit_bench train    CONFIG [--threads N] [--reps R] [--warmup W] [--steps S]
//   rnnkit_bench layer    CONFIG [--threads N] [--reps R] [--warmup W] [--steps S]
//   rnnkit_bench generate [--threads N] [--reps R] [--warmup W] [--tokens K]
//
// `train` runs Sequential::train_on_batch (Embedding + RNN + Dense + cross-entropy + Adam), S steps per
// repetition, and reports seconds per step. `layer` times the recurrent layer's forward + backward alone (S
// per repetition) and, for the same shapes, the plain sgemm calls that layer needs (the reference for its
// GFLOP/s).
// `generate` runs greedy stateful generation, one token per model call, and the plain sgemv calls of one
// token for reference. Every mode does W warm-up repetitions first, which are not reported.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"

namespace {

// One benchmark configuration of issue 7.
struct Config {
  std::string cell;  // "lstm", "gru", "rnn"
  std::int64_t vocabulary, embedding, units, batch, timesteps;
  bool bidirectional = false;
  bool return_sequences = true;  // a language model: one prediction per timestep
  // A CNN-LSTM classifier when filters > 0: Conv1D(filters, kernel_size, relu) + MaxPooling1D(pool) between
  // the Embedding and the recurrent layer, and Dense(1, sigmoid) last.
  std::int64_t filters = 0, kernel_size = 0, pool = 0;
};

const std::map<std::string, Config>& configs() {
  static const std::map<std::string, Config> known{
      {"char", {"lstm", 65, 64, 256, 64, 100}},
      {"char-gru", {"gru", 65, 64, 256, 64, 100}},
      {"word", {"lstm", 10000, 128, 512, 32, 35}},
      {"word-gru", {"gru", 10000, 128, 512, 32, 35}},
      {"word-rnn", {"rnn", 10000, 128, 512, 32, 35}},
      {"tiny", {"rnn", 12, 10, 32, 32, 5, false, false}},
      {"bilstm", {"lstm", 20000, 128, 64, 64, 100, true, false}},
      {"cnn-lstm", {"lstm", 20000, 128, 64, 64, 100, false, false, 64, 5, 4}},
      {"generate", {"lstm", 10000, 128, 512, 1, 1}},
  };
  return known;
}

struct Arguments {
  std::string mode, config = "generate";
  int threads = 1, reps = 5, warmup = 1, steps = 1, tokens = 100;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "rnnkit_bench: " << problem << "\n"
            << "usage: rnnkit_bench train|layer CONFIG | generate  [--threads N] [--reps R] [--warmup W]"
            << " [--steps S] [--tokens K]\n";
  std::exit(2);
}

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) usage("no mode given");
  arguments.mode = words[0];
  std::size_t next = 1;
  if (arguments.mode != "generate") {
    if (words.size() < 2) usage("no config given");
    arguments.config = words[1];
    next = 2;
  }
  if (!configs().contains(arguments.config)) usage("unknown config '" + arguments.config + "'");
  for (; next < words.size(); next += 2) {
    if (next + 1 >= words.size()) usage("option " + words[next] + " needs a value");
    const int value = std::stoi(words[next + 1]);
    if (value < (words[next] == "--warmup" ? 0 : 1)) usage("option " + words[next] + " is too small");
    if (words[next] == "--threads")
      arguments.threads = value;
    else if (words[next] == "--reps")
      arguments.reps = value;
    else if (words[next] == "--warmup")
      arguments.warmup = value;
    else if (words[next] == "--steps")
      arguments.steps = value;
    else if (words[next] == "--tokens")
      arguments.tokens = value;
    else
      usage("unknown option " + words[next]);
  }
  return arguments;
}

// Seconds of each of `reps` calls of `work`, after `warmup` calls that are not kept.
std::vector<double> time_repetitions(int warmup, int reps, const std::function<void()>& work) {
  for (int i = 0; i < warmup; ++i) work();
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return seconds;
}

std::string json_list(const std::vector<double>& values, double scale = 1.0) {
  std::ostringstream out;
  out.precision(9);
  out << "[";
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i] * scale;
  return out.str() + "]";
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// Token ids uniform over the vocabulary, the same on every run.
rnnkit::Tensor random_ids(rnnkit::Shape shape, std::int64_t vocabulary, std::mt19937& random) {
  rnnkit::Tensor ids(std::move(shape));
  std::uniform_int_distribution<std::int64_t> pick(0, vocabulary - 1);
  for (float& id : ids.values()) id = static_cast<float>(pick(random));
  return ids;
}

rnnkit::Tensor random_values(rnnkit::Shape shape, std::mt19937& random) {
  rnnkit::Tensor values(std::move(shape));
  std::uniform_real_distribution<float> pick(-1.0f, 1.0f);
  for (float& value : values.values()) value = pick(random);
  return values;
}

std::unique_ptr<rnnkit::Recurrent> make_cell(const Config& config, rnnkit::RecurrentOptions options) {
  if (config.cell == "lstm") return std::make_unique<rnnkit::LSTM>(config.units, options);
  if (config.cell == "gru") return std::make_unique<rnnkit::GRU>(config.units, options);
  return std::make_unique<rnnkit::SimpleRNN>(config.units, options);
}

std::unique_ptr<rnnkit::Layer> make_recurrent(const Config& config, rnnkit::RecurrentOptions options) {
  options.return_sequences = config.return_sequences;
  std::unique_ptr<rnnkit::Recurrent> cell = make_cell(config, options);
  if (!config.bidirectional) return cell;
  return std::make_unique<rnnkit::Bidirectional>(*cell);
}

int gate_count(const Config& config) {
  return config.cell == "lstm" ? 4 : config.cell == "gru" ? 3 : 1;
}

// Matrix-product flops of the recurrent layer's forward + backward, as issue 7 counts them: forward
// 2·B·(F+U)·G·U per step, backward twice that.
double recurrent_flops(const Config& config) {
  const double per_step = 2.0 * static_cast<double>(config.batch) *
                          static_cast<double>(config.embedding + config.units) * gate_count(config) *
                          static_cast<double>(config.units);
  return 3.0 * per_step * static_cast<double>(config.timesteps) * (config.bidirectional ? 2 : 1);
}

// The fields every report starts with.
std::string report_start(const std::string& mode) {
  return "{\"mode\": " + json_string(mode) + ", \"threads\": " + std::to_string(rnnkit::num_threads()) +
         ", \"blas\": " + json_string(rnnkit::blas_description()) + ", ";
}

void train(const Arguments& arguments, const Config& config) {
  std::mt19937 random(7);
  rnnkit::Sequential model({.name = "bench", .seed = 1});
  model.add(rnnkit::Embedding(config.vocabulary, config.embedding,
                              {.batch_input_shape = rnnkit::Shape{config.batch, config.timesteps}}));
  if (config.filters > 0) {
    model.add(rnnkit::Conv1D(config.filters, config.kernel_size, {.activation = "relu"}));
    model.add(rnnkit::MaxPooling1D(config.pool));
  }
  model.add(make_recurrent(config, {}));
  const bool language_model = config.filters == 0 && (config.return_sequences || !config.bidirectional);
  if (language_model)
    model.add(rnnkit::Dense(config.vocabulary, {.activation = "softmax"}));
  else
    model.add(rnnkit::Dense(1, {.activation = "sigmoid"}));
  model.compile({.loss = language_model ? "sparse_categorical_crossentropy" : "binary_crossentropy",
                 .optimizer = rnnkit::Adam()});
  const rnnkit::Tensor x = random_ids({config.batch, config.timesteps}, config.vocabulary, random);
  const rnnkit::Tensor y =
      language_model ? random_ids(config.return_sequences ? rnnkit::Shape{config.batch, config.timesteps}
                                                          : rnnkit::Shape{config.batch},
                                  config.vocabulary, random)
                     : random_ids({config.batch, 1}, 2, random);
  const std::vector<double> seconds = time_repetitions(arguments.warmup, arguments.reps, [&] {
    for (int step = 0; step < arguments.steps; ++step) model.train_on_batch(x, y);
  });
  std::cout << report_start("train") << "\"step_seconds\": " << json_list(seconds, 1.0 / arguments.steps)
            << ", \"tokens_per_step\": " << config.batch * config.timesteps << "}\n";
}

// The sgemm calls a recurrent layer's forward + backward make, with the layer's shapes, as one plain
// sequence: the input projection, one product per step, the per-step dh products, then dW, dU and dX.
void reference_products(const Config& config, std::vector<float>& scratch) {
  const auto blas = [](std::int64_t n) { return static_cast<blasint>(n); };
  const std::int64_t rows = config.batch * config.timesteps, gates = gate_count(config) * config.units;
  const std::int64_t features = config.embedding, units = config.units, batch = config.batch;
  float* inputs = scratch.data();                // (B·T, F)
  float* kernel = inputs + rows * features;      // (F, G·U)
  float* recurrent = kernel + features * gates;  // (U, G·U)
  float* projected = recurrent + units * gates;  // (B·T, G·U)
  float* hidden = projected + rows * gates;      // (B·T, U)
  float* input_grads = hidden + rows * units;    // (B·T, F)
  for (int direction = 0; direction < (config.bidirectional ? 2 : 1); ++direction) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas(rows), blas(gates), blas(features), 1.0f,
                inputs, blas(features), kernel, blas(gates), 0.0f, projected, blas(gates));
    for (std::int64_t t = 0; t < config.timesteps; ++t)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas(batch), blas(gates), blas(units), 1.0f,
                  hidden + t * batch * units, blas(units), recurrent, blas(gates), 1.0f,
                  projected + t * batch * gates, blas(gates));
    for (std::int64_t t = config.timesteps - 1; t >= 0; --t)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas(batch), blas(units), blas(gates), 1.0f,
                  projected + t * batch * gates, blas(gates), recurrent, blas(gates), 0.0f,
                  hidden + t * batch * units, blas(units));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas(features), blas(gates), blas(rows), 1.0f,
                inputs, blas(features), projected, blas(gates), 1.0f, kernel, blas(gates));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas(units), blas(gates), blas(rows), 1.0f, hidden,
                blas(units), projected, blas(gates), 1.0f, recurrent, blas(gates));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas(rows), blas(features), blas(gates), 1.0f,
                projected, blas(gates), kernel, blas(gates), 0.0f, input_grads, blas(features));
  }
}

// The recurrent layer as training calls it: on an Embedding's rows, which the layer may take as a table
// lookup.
void layer(const Arguments& arguments, const Config& config) {
  std::mt19937 random(7);
  std::unique_ptr<rnnkit::Layer> recurrent = make_recurrent(config, {});
  const rnnkit::Tensor table = random_values({config.vocabulary, config.embedding}, random);
  const rnnkit::Tensor ids = random_ids({config.batch, config.timesteps}, config.vocabulary, random);
  rnnkit::Tensor x({config.batch, config.timesteps, config.embedding});
  for (std::int64_t i = 0; i < ids.size(); ++i)
    std::copy_n(table.data() + static_cast<std::int64_t>(ids[i]) * config.embedding, config.embedding,
                x.data() + i * config.embedding);
  const rnnkit::TableLookup lookup{ids, table};
  const rnnkit::Shape output_shape =
      config.return_sequences
          ? rnnkit::Shape{config.batch, config.timesteps, config.units * (config.bidirectional ? 2 : 1)}
          : rnnkit::Shape{config.batch, config.units * (config.bidirectional ? 2 : 1)};
  const rnnkit::Tensor output_grad = random_values(output_shape, random);
  const std::vector<double> layer_seconds = time_repetitions(arguments.warmup, arguments.reps, [&] {
    for (int step = 0; step < arguments.steps; ++step) {
      recurrent->call(x, {.training = true, .lookup = &lookup});
      recurrent->backward({output_grad});
    }
  });

  const std::int64_t rows = config.batch * config.timesteps, gates = gate_count(config) * config.units;
  std::vector<float> scratch(
      static_cast<std::size_t>(rows * config.embedding * 2 + config.embedding * gates + config.units * gates +
                               rows * gates + rows * config.units),
      0.01f);
  const std::vector<double> gemm_seconds = time_repetitions(arguments.warmup, arguments.reps, [&] {
    for (int step = 0; step < arguments.steps; ++step) reference_products(config, scratch);
  });
  std::cout << report_start("layer")
            << "\"layer_seconds\": " << json_list(layer_seconds, 1.0 / arguments.steps)
            << ", \"gemm_seconds\": " << json_list(gemm_seconds, 1.0 / arguments.steps)
            << ", \"flops\": " << recurrent_flops(config) << "}\n";
}

std::int64_t argmax(const rnnkit::Tensor& row) {
  return std::max_element(row.values().begin(), row.values().end()) - row.values().begin();
}

void generate(const Arguments& arguments, const Config& config) {
  rnnkit::Sequential model({.name = "bench", .seed = 1});
  model.add(
      rnnkit::Embedding(config.vocabulary, config.embedding, {.batch_input_shape = rnnkit::Shape{1, 1}}));
  model.add(rnnkit::LSTM(config.units, {.stateful = true}));
  model.add(rnnkit::Dense(config.vocabulary, {.activation = "softmax"}));
  std::int64_t token = 1;
  const std::vector<double> seconds = time_repetitions(arguments.warmup, arguments.reps, [&] {
    model.reset_states();
    for (int i = 0; i < arguments.tokens; ++i)
      token = argmax(model(rnnkit::Tensor({1, 1}, std::vector<float>{static_cast<float>(token)})));
  });

  // One token's weights read once each, as matrix-vector products: the floor of this step on this machine.
  const std::int64_t gates = 4 * config.units;
  std::vector<float> kernel(static_cast<std::size_t>(config.embedding * gates), 0.01f);
  std::vector<float> recurrent(static_cast<std::size_t>(config.units * gates), 0.01f);
  std::vector<float> dense(static_cast<std::size_t>(config.units * config.vocabulary), 0.01f);
  std::vector<float> input(static_cast<std::size_t>(std::max(config.embedding, config.units)), 0.5f);
  std::vector<float> gate_values(static_cast<std::size_t>(gates)),
      logits(static_cast<std::size_t>(config.vocabulary));
  const auto blas = [](std::int64_t n) { return static_cast<blasint>(n); };
  const std::vector<double> gemv_seconds = time_repetitions(arguments.warmup, arguments.reps, [&] {
    for (int i = 0; i < arguments.tokens; ++i) {
      cblas_sgemv(CblasRowMajor, CblasTrans, blas(config.embedding), blas(gates), 1.0f, kernel.data(),
                  blas(gates), input.data(), 1, 0.0f, gate_values.data(), 1);
      cblas_sgemv(CblasRowMajor, CblasTrans, blas(config.units), blas(gates), 1.0f, recurrent.data(),
                  blas(gates), input.data(), 1, 1.0f, gate_values.data(), 1);
      cblas_sgemv(CblasRowMajor, CblasTrans, blas(config.units), blas(config.vocabulary), 1.0f, dense.data(),
                  blas(config.vocabulary), input.data(), 1, 0.0f, logits.data(), 1);
    }
  });
  std::cout << report_start("generate") << "\"token_seconds\": " << json_list(seconds, 1.0 / arguments.tokens)
            << ", \"gemv_token_seconds\": " << json_list(gemv_seconds, 1.0 / arguments.tokens)
            << ", \"last_token\": " << token << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  const Arguments arguments = parse(argc, argv);
  rnnkit::set_num_threads(arguments.threads);
  std::cerr << "rnnkit_bench: " << rnnkit::blas_description() << ", " << rnnkit::num_threads()
            << " thread(s)\n";
  const Config& config = configs().at(arguments.config);
  try {
    if (arguments.mode == "train")
      train(arguments, config);
    else if (arguments.mode == "layer" && config.filters > 0)
      usage("no layer mode for '" + arguments.config + "': its recurrent layer reads the pooled convolution");
    else if (arguments.mode == "layer")
      layer(arguments, config);
    else if (arguments.mode == "generate")
      generate(arguments, config);
    else
      usage("unknown mode '" + arguments.mode + "'");
  } catch (const std::exception& error) {
    std::cerr << "rnnkit_bench: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
