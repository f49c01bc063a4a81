// Functional models against the TF.js 4.22 oracle (tests/parity/fixtures/functional, written by
// gen_functional.mjs and checked in float64 by gen_functional_torch.py): every model is built here with the
// symbolic API, every option written out as the fixture's config gives it, then given the fixture's weights.
// Checked: every output of every layer call, the model's outputs, the loss and its terms, the gradient of the
// loss with respect to every weight and every float input (through model.backward with the loss computed
// outside the model, and through train_on_batch, where the logits-head and Embedding-table fusions run), and
// fit (per-epoch history per key, each batch's loss, final weights).
//
// Tolerances (tests/parity/README.md): outputs, losses and history 1e-5; gradients 1e-5 + 1e-4 |g| (TF.js
// computes in float32); final weights 1e-5.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <utility>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::tensor_from_json;

constexpr double kValueTolerance = 1e-5;
constexpr double kGradAbsolute = 1e-5, kGradRelative = 1e-4;
constexpr double kWeightTolerance = 1e-5;

json fixture_case(const std::string& file, const std::string& name) {
  const json fixture = testing::read_json(testing::test_data("parity/fixtures/functional/" + file));
  for (const json& spec : fixture.at("cases"))
    if (spec.at("name") == name) return spec;
  throw std::runtime_error(file + " has no case " + name);
}

std::vector<Tensor> tensors_of(const json& list) {
  std::vector<Tensor> tensors;
  for (const json& item : list) tensors.push_back(tensor_from_json(item));
  return tensors;
}

// The largest |actual - expected| of each kind, printed once at the end (the report's "tolerance reached").
std::map<std::string, double>& worst() {
  static std::map<std::string, double> values;
  return values;
}

class WorstReport : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [what, value] : worst())
      std::cout << "functional oracle: max |diff| " << what << " " << value << "\n";
  }
};
[[maybe_unused]] ::testing::Environment* const kWorstReport =
    ::testing::AddGlobalTestEnvironment(new WorstReport);

void expect_close(const std::string& kind, const Tensor& actual, const Tensor& expected, double atol,
                  double rtol, const std::string& what) {
  const auto result = all_close(actual, expected, atol, rtol);
  EXPECT_TRUE(result) << what;
  if (!result) return;
  for (std::int64_t i = 0; i < actual.size(); ++i)
    worst()[kind] = std::max(worst()[kind], double(std::abs(actual[i] - expected[i])));
}

void expect_value(const std::string& kind, double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, kValueTolerance) << what;
  worst()[kind] = std::max(worst()[kind], std::abs(actual - expected));
}

// A model built with the symbolic API, and the tensors of every layer call by "layer/node_index".
struct Built {
  std::vector<SymbolicTensor> inputs, outputs;
  std::map<std::string, LayerOutputs> calls;
};

void record(Built& built, const std::string& key, const LayerOutputs& outputs) {
  built.calls.emplace(key, outputs);
}

// keras.io's seq2seq: encoder RNN(return_state) whose states start the decoder RNN(return_sequences,
// return_state), then Dense(softmax); T unknown on both inputs. TF.js writes LSTM's unit_forget_bias and
// GRU's reset_after (False, the only GRU it has).
Built seq2seq(const std::string& cell) {
  Built b;
  b.inputs = {Input({kNone, 3}, {.name = "encoder_inputs"}), Input({kNone, 5}, {.name = "decoder_inputs"})};
  const auto make = [&](RecurrentOptions options) -> std::shared_ptr<Layer> {
    options.activation = "tanh";
    options.recurrent_activation = "sigmoid";
    options.use_bias = true;
    options.go_backwards = false;
    if (cell == "lstm") {
      options.unit_forget_bias = true;
      return std::make_shared<LSTM>(4, options);
    }
    if (cell == "gru") {
      options.reset_after = false;
      return std::make_shared<GRU>(4, options);
    }
    return std::make_shared<SimpleRNN>(4, options);
  };
  const auto encoder = make({.return_sequences = false, .return_state = true, .name = "encoder"});
  const auto decoder = make({.return_sequences = true, .return_state = true, .name = "decoder"});
  const LayerOutputs enc = (*encoder)(b.inputs[0]);
  const LayerOutputs dec = (*decoder)(b.inputs[1], {.initial_state = enc.states()});
  const LayerOutputs out =
      Dense(5, {.activation = "softmax", .use_bias = true, .name = "decoder_dense"})(dec[0]);
  record(b, "encoder/0", enc);
  record(b, "decoder/0", dec);
  record(b, "decoder_dense/0", out);
  b.outputs = {out[0]};
  return b;
}

// One LSTM called on two inputs, a Dense on each call.
Built shared_lstm() {
  Built b;
  b.inputs = {Input({4, 3}, {.name = "input_a"}), Input({4, 3}, {.name = "input_b"})};
  const auto lstm = std::make_shared<LSTM>(3, RecurrentOptions{.activation = "tanh",
                                                               .recurrent_activation = "sigmoid",
                                                               .use_bias = true,
                                                               .unit_forget_bias = true,
                                                               .name = "shared_lstm"});
  const LayerOutputs a = (*lstm)(b.inputs[0]);
  const LayerOutputs bb = (*lstm)(b.inputs[1]);
  const LayerOutputs out_a = Dense(2, {.activation = "linear", .name = "dense_a"})(a[0]);
  const LayerOutputs out_b = Dense(4, {.activation = "softmax", .name = "dense_b"})(bb[0]);
  record(b, "shared_lstm/0", a);
  record(b, "shared_lstm/1", bb);
  record(b, "dense_a/0", out_a);
  record(b, "dense_b/0", out_b);
  b.outputs = {out_a[0], out_b[0]};
  return b;
}

// Embedding(mask_zero) -> LSTM(return_sequences, return_state) -> LSTM -> Dense(sigmoid); the second LSTM
// starts from the first one's states where `states_into_last`.
Built masked(bool states_into_last) {
  Built b;
  b.inputs = {Input({6}, {.name = "token_ids"})};
  const LayerOutputs embedded = Embedding(7, 3, {.mask_zero = true, .name = "embedding"})(b.inputs[0]);
  const LayerOutputs seq =
      LSTM(4, {.return_sequences = true, .return_state = true, .name = "lstm_seq"})(embedded[0]);
  LayerOutputs last = states_into_last
                          ? LSTM(4, {.name = "lstm_last"})(seq[0], {.initial_state = seq.states()})
                          : LSTM(3, {.name = "lstm_last"})(seq[0]);
  const LayerOutputs out = Dense(1, {.activation = "sigmoid", .name = "dense"})(last[0]);
  record(b, "embedding/0", embedded);
  record(b, "lstm_seq/0", seq);
  record(b, "lstm_last/0", last);
  record(b, "dense/0", out);
  b.outputs = {out[0]};
  return b;
}

// Every merge layer on three float inputs, Concatenate on both axes, Dot in 3D and 2D; three outputs.
Built merges() {
  Built b;
  b.inputs = {Input({4, 3}, {.name = "input_a"}), Input({4, 3}, {.name = "input_b"}),
              Input({4, 3}, {.name = "input_c"})};
  const auto& [a, bb, c] = std::tie(b.inputs[0], b.inputs[1], b.inputs[2]);
  const auto call = [&](Layer&& layer, const std::vector<SymbolicTensor>& inputs) {
    const LayerOutputs out = inputs.size() == 1 && !layer.takes_input_list() ? std::move(layer)(inputs[0])
                                                                             : std::move(layer)(inputs);
    record(b, out[0].layer().name() + "/0", out);
    return out[0];
  };
  const RecurrentOptions lstm{.activation = "tanh", .recurrent_activation = "sigmoid", .use_bias = true,
                              .unit_forget_bias = true};
  const auto named = [](RecurrentOptions options, std::string name) {
    options.name = std::move(name);
    return options;
  };
  const SymbolicTensor sum = call(Add({.name = "add"}), {a, bb});
  const SymbolicTensor product = call(Multiply({.name = "multiply"}), {a, bb, c});
  const SymbolicTensor high = call(Maximum({.name = "maximum"}), {sum, c});
  const SymbolicTensor low = call(Minimum({.name = "minimum"}), {a, product});
  const SymbolicTensor mean = call(Average({.name = "average"}), {high, low, bb});
  const SymbolicTensor features = call(Concatenate({.axis = -1, .name = "concat_features"}), {mean, a});
  const SymbolicTensor widened = call(Concatenate({.axis = -1, .name = "concat_widen"}), {sum, c});
  const SymbolicTensor steps = call(Concatenate({.axis = 1, .name = "concat_steps"}), {features, widened});
  const SymbolicTensor h_a = call(LSTM(4, named(lstm, "lstm_a")), {steps});
  const SymbolicTensor out_a = call(Dense(3, {.activation = "softmax", .name = "dense_a"}), {h_a});
  const SymbolicTensor scores = call(Dot({.axes = 2, .name = "dot"}), {a, bb});
  const SymbolicTensor h_b = call(LSTM(2, named(lstm, "lstm_b")), {scores});
  const SymbolicTensor cosines =
      call(Dot({.axes = std::array{1, 1}, .normalize = true, .name = "dot_cosine"}), {a, c});
  const SymbolicTensor h_c = call(LSTM(2, named(lstm, "lstm_c")), {cosines});
  const SymbolicTensor out_d = call(Dot({.axes = 1, .name = "dot_rows"}), {h_b, h_c});
  b.outputs = {out_a, h_b, out_d};
  return b;
}

// Two Embedding(mask_zero) branches joined along time and along features, each read by an RNN.
Built merge_masks() {
  Built b;
  b.inputs = {Input({5}, {.name = "ids_1"}), Input({5}, {.name = "ids_2"})};
  const auto keep = [&](const LayerOutputs& out) {
    record(b, out[0].layer().name() + "/0", out);
    return out[0];
  };
  const RecurrentOptions rnn{.activation = "tanh", .recurrent_activation = "sigmoid", .use_bias = true};
  RecurrentOptions lstm = rnn, gru = rnn;
  lstm.unit_forget_bias = true;
  lstm.name = "lstm_joined";
  gru.reset_after = false;
  gru.name = "gru_features";
  const SymbolicTensor e1 = keep(Embedding(7, 3, {.mask_zero = true, .name = "embedding_1"})(b.inputs[0]));
  const SymbolicTensor e2 = keep(Embedding(7, 3, {.mask_zero = true, .name = "embedding_2"})(b.inputs[1]));
  const SymbolicTensor joined = keep(Concatenate({.axis = 1, .name = "concat_steps"})({e1, e2}));
  const SymbolicTensor features = keep(Concatenate({.axis = -1, .name = "concat_features"})({e1, e2}));
  const SymbolicTensor h2 = keep(LSTM(3, lstm)(joined));
  const SymbolicTensor h3 = keep(GRU(3, gru)(features));
  const SymbolicTensor all = keep(Concatenate({.axis = -1, .name = "concat_states"})({h2, h3}));
  b.outputs = {keep(Dense(1, {.activation = "sigmoid", .name = "dense"})(all))};
  return b;
}

Built build(const std::string& name) {
  clear_session();
  if (name.starts_with("seq2seq_lstm") || name.starts_with("fit_seq2seq_lstm")) return seq2seq("lstm");
  if (name == "seq2seq_gru_reset_before") return seq2seq("gru");
  if (name == "seq2seq_simple_rnn") return seq2seq("simple_rnn");
  if (name.find("shared_lstm") != std::string::npos) return shared_lstm();
  if (name == "embedding_mask_lstm_seq_into_lstm_dense_sigmoid") return masked(false);
  if (name == "embedding_mask_lstm_seq_states_into_lstm_initial_state_dense_sigmoid") return masked(true);
  if (name == "elementwise_concatenate_dot") return merges();
  if (name == "embedding_masks_through_concatenate") return merge_masks();
  throw std::runtime_error("no builder for fixture case " + name);
}

// The model of a case with the fixture's weights, after checking that it is the fixture's graph: Keras's
// layer order, input and output names, each layer's class, inbound nodes and weight names.
Model model_of(const json& spec, const Built& built) {
  Model model(built.inputs, built.outputs,
              {.name = spec.at("model").at("config").at("name").get<std::string>()});
  const json& layers = spec.at("model").at("config").at("layers");
  EXPECT_EQ(model.size(), layers.size());
  for (std::size_t i = 0; i < layers.size() && i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    EXPECT_EQ(layer.name(), layers[i].at("name")) << "layer " << i;
    EXPECT_EQ(layer.class_name(), layers[i].at("class_name")) << "layer " << i;
  }
  for (const json& layer_spec : layers) {
    // [[["decoder_inputs", 0, 0, {}], ["encoder", 0, 1, {}], ...], ...]: per call, the tensors it reads.
    std::vector<std::vector<std::string>> expected, actual;
    for (const json& call : layer_spec.at("inbound_nodes")) {
      expected.emplace_back();
      for (const json& tensor : call)
        expected.back().push_back(tensor[0].get<std::string>() + "[" + std::to_string(tensor[1].get<int>()) +
                                  "][" + std::to_string(tensor[2].get<int>()) + "]");
    }
    for (const auto& node : model.nodes()) {
      if (node->layer->name() != layer_spec.at("name") || node->is_input()) continue;
      actual.emplace_back();
      for (const SymbolicTensor& input : node->inputs) actual.back().push_back(input.description());
    }
    EXPECT_EQ(actual, expected) << "inbound nodes of " << layer_spec.at("name");
  }
  EXPECT_EQ(model.input_names(), spec.at("input_names").get<std::vector<std::string>>());
  EXPECT_EQ(model.output_names(), spec.at("output_names").get<std::vector<std::string>>());
  for (const auto& [layer_name, names] : spec.at("weight_names").items()) {
    std::vector<std::string> actual;
    for (const Param* param : std::as_const(model).layer(layer_name).params()) actual.push_back(param->name);
    EXPECT_EQ(actual, names.get<std::vector<std::string>>()) << layer_name;
  }
  for (const auto& [layer_name, weights] : spec.at("weights").items())
    model.layer(layer_name).set_weights(tensors_of(weights));
  return model;
}

std::vector<double> loss_weights_of(const json& spec) {
  std::vector<double> weights;
  for (const json& term : spec.at("loss").at("terms")) weights.push_back(term.at("weight").get<double>());
  return weights;
}

std::vector<std::string> loss_names_of(const json& spec) {
  std::vector<std::string> names;
  for (const json& term : spec.at("loss").at("terms")) names.push_back(term.at("loss").get<std::string>());
  return names;
}

void expect_weight_grads(Model& model, const json& spec, const std::string& path) {
  for (const auto& [layer_name, grads] : spec.at("grads").at("weights").items()) {
    const std::vector<Param*> params = model.layer(layer_name).params();
    ASSERT_EQ(params.size(), grads.size()) << layer_name;
    for (std::size_t w = 0; w < params.size(); ++w)
      expect_close("weight gradient", params[w]->grad, tensor_from_json(grads[w]), kGradAbsolute,
                   kGradRelative, path + ": dL/d " + layer_name + "/" + params[w]->name);
  }
}

class FunctionalOracle : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(FunctionalOracle, OutputsLossAndGradients) {
  const json spec = fixture_case(GetParam().first, GetParam().second);
  RecordProperty("note", spec.at("note").is_null() ? "" : spec.at("note").get<std::string>());
  const Built built = build(spec.at("name"));
  Model model = model_of(spec, built);
  const std::vector<Tensor> x = tensors_of(spec.at("inputs"));

  // Every layer call's outputs, read through a model that shares the layers and outputs them all.
  std::vector<SymbolicTensor> probes;
  std::vector<std::pair<std::string, Tensor>> expected_probes;
  for (const json& call : spec.at("node_outputs")) {
    const std::string key =
        call.at("layer").get<std::string>() + "/" + std::to_string(call.at("node_index").get<int>());
    const LayerOutputs& tensors = built.calls.at(key);
    ASSERT_EQ(tensors.size(), call.at("outputs").size()) << key;
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      probes.push_back(tensors[k]);
      expected_probes.emplace_back(key + " output " + std::to_string(k),
                                   tensor_from_json(call.at("outputs")[k]));
    }
  }
  Model probe(built.inputs, probes, {.name = "probe"});
  const std::vector<Tensor> probed = probe(x);
  for (std::size_t k = 0; k < probed.size(); ++k)
    expect_close("layer call output", probed[k], expected_probes[k].second, kValueTolerance, 0,
                 expected_probes[k].first);

  const std::vector<Tensor> expected_outputs = tensors_of(spec.at("outputs"));
  const std::vector<Tensor> predicted = model.predict(x);
  ASSERT_EQ(predicted.size(), expected_outputs.size());
  for (std::size_t k = 0; k < predicted.size(); ++k)
    expect_close("model output", predicted[k], expected_outputs[k], kValueTolerance, 0,
                 "output " + std::to_string(k));

  // The loss from the probabilities, outside the model, and its gradient through model.backward.
  const std::vector<Tensor> targets = tensors_of(spec.at("loss").at("targets"));
  const std::vector<double> loss_weights = loss_weights_of(spec);
  const std::vector<std::string> loss_names = loss_names_of(spec);
  const std::vector<Tensor> trained = model(x, true);
  double total = 0.0;
  std::vector<Tensor> output_grads;
  for (std::size_t k = 0; k < trained.size(); ++k) {
    expect_close("model output", trained[k], expected_outputs[k], kValueTolerance, 0, "training output");
    LossResult term = Loss(loss_names[k]).compute(trained[k], targets[k]);
    expect_value("loss", term.value, spec.at("loss").at("term_values")[k].get<double>(),
                 "loss term " + std::to_string(k));
    total += loss_weights[k] * term.value;
    for (float& g : term.gradient.values()) g = static_cast<float>(g * loss_weights[k]);
    output_grads.push_back(std::move(term.gradient));
  }
  expect_value("loss", total, spec.at("loss").at("value").get<double>(), "loss");
  model.zero_grads();
  const std::vector<Tensor> input_grads = model.backward(output_grads);
  ASSERT_EQ(input_grads.size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const json& expected = spec.at("grads").at("inputs")[i];
    if (expected.is_null()) {
      EXPECT_TRUE(input_grads[i].empty()) << "token ids get no gradient";
    } else {
      expect_close("input gradient", input_grads[i], tensor_from_json(expected), kGradAbsolute, kGradRelative,
                   "dL/d input " + std::to_string(i));
    }
  }
  expect_weight_grads(model, spec, "model.backward");

  // The same through train_on_batch, with the fusions: a zero learning rate keeps the weights and the grads.
  const std::vector<Tensor> before = model.get_weights();
  model.compile(
      {.optimizer = SGD({.learning_rate = 0.0}), .losses = loss_names, .loss_weights = loss_weights});
  const Logs logs = model.train_on_batch(x, targets);
  expect_value("loss", logs.at("loss"), spec.at("loss").at("value").get<double>(), "train_on_batch loss");
  if (targets.size() > 1)
    for (std::size_t k = 0; k < targets.size(); ++k)
      expect_value("loss", logs.at(model.output_names()[k] + "_loss"),
                   spec.at("loss").at("term_values")[k].get<double>(), "train_on_batch output loss");
  expect_weight_grads(model, spec, "train_on_batch");
  const std::vector<Tensor> after = model.get_weights();
  for (std::size_t w = 0; w < before.size(); ++w)
    EXPECT_TRUE(std::ranges::equal(before[w].values(), after[w].values()));

  // evaluate reads the logits too, as tf.keras does.
  std::ostringstream silent;
  const Logs evaluated = model.evaluate(x, targets, {.verbose = 0, .out = &silent});
  expect_value("loss", evaluated.at("loss"), spec.at("loss").at("value").get<double>(), "evaluate loss");
}

// The fixture's own config (TF.js's toJSON, Keras 2's "Model" form) builds the same model.
TEST_P(FunctionalOracle, TheFixturesConfigGivesTheSameModel) {
  const json spec = fixture_case(GetParam().first, GetParam().second);
  Model model = model_from_keras_config(spec.at("model"), GetParam().second);
  for (const auto& [layer_name, weights] : spec.at("weights").items())
    model.layer(layer_name).set_weights(tensors_of(weights));
  EXPECT_EQ(model.input_names(), spec.at("input_names").get<std::vector<std::string>>());
  EXPECT_EQ(model.output_names(), spec.at("output_names").get<std::vector<std::string>>());
  const std::vector<Tensor> predicted = model.predict(tensors_of(spec.at("inputs")));
  const std::vector<Tensor> expected = tensors_of(spec.at("outputs"));
  ASSERT_EQ(predicted.size(), expected.size());
  for (std::size_t k = 0; k < predicted.size(); ++k)
    expect_close("model output", predicted[k], expected[k], kValueTolerance, 0, "from config, output " + std::to_string(k));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FunctionalOracle,
    ::testing::Values(std::pair{"functional_seq2seq.json", "seq2seq_lstm"},
                      std::pair{"functional_seq2seq.json", "seq2seq_gru_reset_before"},
                      std::pair{"functional_seq2seq.json", "seq2seq_simple_rnn"},
                      std::pair{"functional_shared.json", "shared_lstm_two_inputs_two_outputs"},
                      std::pair{"functional_masking.json", "embedding_mask_lstm_seq_into_lstm_dense_sigmoid"},
                      std::pair{"functional_masking.json",
                                "embedding_mask_lstm_seq_states_into_lstm_initial_state_dense_sigmoid"},
                      std::pair{"functional_merge.json", "elementwise_concatenate_dot"},
                      std::pair{"functional_merge.json", "embedding_masks_through_concatenate"}),
    [](const auto& param_info) { return std::string(param_info.param.second); });

// Every case of the fixtures is one of those above: a case added to a fixture must get a test.
TEST(FunctionalOracleSweep, EveryFixtureCaseIsTested) {
  std::size_t cases = 0;
  for (const std::string file :
       {"functional_seq2seq.json", "functional_shared.json", "functional_masking.json", "functional_merge.json"})
    cases += testing::read_json(testing::test_data("parity/fixtures/functional/" + file)).at("cases").size();
  EXPECT_EQ(cases, 8u);
  EXPECT_EQ(testing::read_json(testing::test_data("parity/fixtures/functional/functional_fit.json"))
                .at("cases")
                .size(),
            3u);
}

std::unique_ptr<Optimizer> optimizer_of(const json& keras) {
  const json& config = keras.at("config");
  if (keras.at("class_name") == "SGD")
    return SGD({.learning_rate = config.at("learning_rate").get<double>(),
                .momentum = config.at("momentum").get<double>(),
                .nesterov = config.at("nesterov").get<bool>()});
  if (keras.at("class_name") == "Adam")
    return Adam({.learning_rate = config.at("learning_rate").get<double>(),
                 .beta_1 = config.at("beta_1").get<double>(),
                 .beta_2 = config.at("beta_2").get<double>(),
                 .epsilon = config.at("epsilon").get<double>(),
                 .amsgrad = config.at("amsgrad").get<bool>()});
  throw std::runtime_error("functional_fit.json: unknown optimizer " +
                           keras.at("class_name").get<std::string>());
}

void compile_as(Model& model, const json& spec) {
  const json& compile = spec.at("compile");
  model.compile({.optimizer = optimizer_of(compile.at("optimizer")),
                 .losses = compile.at("loss").get<std::vector<std::string>>(),
                 .loss_weights = compile.at("loss_weights").get<std::vector<double>>()});
}

void expect_final_weights(Model& model, const json& spec) {
  for (const auto& [layer_name, weights] : spec.at("final_weights").items()) {
    const std::vector<Tensor> actual = model.layer(layer_name).get_weights();
    ASSERT_EQ(actual.size(), weights.size()) << layer_name;
    for (std::size_t w = 0; w < actual.size(); ++w)
      expect_close("final weight", actual[w], tensor_from_json(weights[w]), kWeightTolerance, 0,
                   "final weight " + std::to_string(w) + " of " + layer_name);
  }
}

// Rows [begin, end) of every array.
std::vector<Tensor> rows_of(const std::vector<Tensor>& arrays, std::int64_t begin, std::int64_t end) {
  std::vector<Tensor> rows;
  for (const Tensor& x : arrays) {
    Shape shape = x.shape();
    const std::int64_t row = x.size() / shape[0];
    shape[0] = end - begin;
    rows.emplace_back(shape, std::vector<float>(x.data() + begin * row, x.data() + end * row));
  }
  return rows;
}

class FunctionalFitOracle : public ::testing::TestWithParam<std::string> {};

// fit's per-epoch history (every key) and the final weights.
TEST_P(FunctionalFitOracle, HistoryAndFinalWeights) {
  const json spec = fixture_case("functional_fit.json", GetParam());
  Model model = model_of(spec, build(spec.at("name")));
  compile_as(model, spec);
  ASSERT_FALSE(spec.at("fit").at("shuffle").get<bool>());
  std::ostringstream silent;
  const History history = model.fit(tensors_of(spec.at("inputs")), tensors_of(spec.at("targets")),
                                    {.epochs = spec.at("fit").at("epochs").get<int>(),
                                     .batch_size = spec.at("fit").at("batch_size").get<std::int64_t>(),
                                     .verbose = 0,
                                     .shuffle = false,
                                     .out = &silent});
  ASSERT_EQ(history.history.size(), spec.at("history").size());
  for (const auto& [key, values] : spec.at("history").items()) {
    ASSERT_TRUE(history.history.contains(key)) << key;
    const std::vector<double>& actual = history.history.at(key);
    ASSERT_EQ(actual.size(), values.size()) << key;
    for (std::size_t epoch = 0; epoch < actual.size(); ++epoch)
      expect_value("history", actual[epoch], values[epoch].get<double>(),
                   key + " epoch " + std::to_string(epoch));
  }
  expect_final_weights(model, spec);
}

// The same steps one batch at a time: each batch's own loss (per key) before its update.
TEST_P(FunctionalFitOracle, SameLossEveryStep) {
  const json spec = fixture_case("functional_fit.json", GetParam());
  Model model = model_of(spec, build(spec.at("name")));
  compile_as(model, spec);
  const std::vector<Tensor> x = tensors_of(spec.at("inputs")), y = tensors_of(spec.at("targets"));
  const std::int64_t batch_size = spec.at("fit").at("batch_size").get<std::int64_t>();
  const std::int64_t samples = x[0].dim(0);
  for (int epoch = 0; epoch < spec.at("fit").at("epochs").get<int>(); ++epoch) {
    std::int64_t batch = 0;
    for (std::int64_t begin = 0; begin < samples; begin += batch_size, ++batch) {
      const std::int64_t end = std::min(samples, begin + batch_size);
      const Logs logs = model.train_on_batch(rows_of(x, begin, end), rows_of(y, begin, end));
      for (const auto& [key, per_epoch] : spec.at("batch_losses").items())
        expect_value("batch loss", logs.at(key), per_epoch[epoch][batch].get<double>(),
                     key + " epoch " + std::to_string(epoch) + " batch " + std::to_string(batch));
    }
  }
  expect_final_weights(model, spec);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FunctionalFitOracle,
                         ::testing::Values("fit_seq2seq_lstm_sgd_lr0.1_batch4_epochs3",
                                           "fit_shared_lstm_two_outputs_adam_batch2_epochs3",
                                           "fit_shared_lstm_two_outputs_sgd_lr0.1_batch2_epochs3"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

}  // namespace
}  // namespace rnnkit
