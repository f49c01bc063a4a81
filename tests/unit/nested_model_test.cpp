// Models used as layers of other models (Keras's nested models): the TF.js 4.22 oracle
// (tests/parity/fixtures/nested, written by gen_nested.mjs) for outputs and gradients, models built with the
// C++ API and read from the oracle's configs alike; central finite differences; files of tf.keras 2.11 and
// Keras 3 written by tests/model_files/make_nested_fixtures.py; round trips; summaries; fit; errors.
//
// Tolerances: outputs 1e-5; gradients 1e-5 + 1e-4 |g| (TF.js computes in float32).
#include <gtest/gtest.h>

#include <functional>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::tensor_from_json;

json oracle_case(const std::string& name) {
  const json fixture = testing::read_json(testing::test_data("parity/fixtures/nested/nested.json"));
  for (const json& spec : fixture.at("cases"))
    if (spec.at("name") == name) return spec;
  throw std::runtime_error("nested.json has no case " + name);
}

std::vector<Tensor> tensors_of(const json& list) {
  std::vector<Tensor> tensors;
  for (const json& item : list) tensors.push_back(tensor_from_json(item));
  return tensors;
}

// The layer named `name` that holds weights, looked for inside the nested models too.
Layer* leaf_layer(Model& model, const std::string& name) {
  for (const auto& layer : model.layers()) {
    if (auto* nested = dynamic_cast<ModelLayer*>(layer.get())) {
      if (Layer* found = leaf_layer(nested->model(), name)) return found;
    } else if (layer->name() == name) {
      return layer.get();
    }
  }
  return nullptr;
}

// loss = Σ_k mean((y_k - t_k)^2), as gen_nested.mjs computes it, and its gradient with respect to each y_k.
double mse(const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets,
           std::vector<Tensor>* grads = nullptr) {
  double loss = 0.0;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    Tensor grad(outputs[k].shape());
    double sum = 0.0;
    const auto n = static_cast<double>(outputs[k].size());
    for (std::int64_t i = 0; i < outputs[k].size(); ++i) {
      const double d = static_cast<double>(outputs[k][i]) - targets[k][i];
      sum += d * d;
      grad[i] = static_cast<float>(2.0 * d / n);
    }
    loss += sum / n;
    if (grads) grads->push_back(std::move(grad));
  }
  return loss;
}

// Sets the case's weights, then checks the outputs, and the gradients of the loss with respect to every float
// input and every weight, through model.backward.
void check_against_oracle(Model& model, const json& spec) {
  for (const auto& [name, weights] : spec.at("weights").items()) {
    Layer* layer = leaf_layer(model, name);
    ASSERT_NE(layer, nullptr) << name;
    layer->set_weights(tensors_of(weights));
  }
  const std::vector<Tensor> inputs = tensors_of(spec.at("inputs"));
  const std::vector<Tensor> expected = tensors_of(spec.at("outputs"));
  const std::vector<Tensor> predicted = model.predict(inputs);
  ASSERT_EQ(predicted.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_TRUE(all_close(predicted[k], expected[k])) << k;

  model.zero_grads();
  const std::vector<Tensor> outputs = model(inputs, /*training=*/true);
  std::vector<Tensor> output_grads;
  const double loss = mse(outputs, tensors_of(spec.at("targets")), &output_grads);
  EXPECT_NEAR(loss, spec.at("loss").get<double>(), 1e-5);
  const std::vector<Tensor> input_grads = model.backward(output_grads);
  const json& expected_inputs = spec.at("grads").at("inputs");
  for (std::size_t k = 0; k < expected_inputs.size(); ++k) {
    if (expected_inputs[k].is_null()) continue;
    EXPECT_TRUE(all_close(input_grads[k], tensor_from_json(expected_inputs[k]), 1e-5, 1e-4)) << "input " << k;
  }
  for (const auto& [name, grads] : spec.at("grads").at("weights").items()) {
    const std::vector<Param*> params = leaf_layer(model, name)->params();
    ASSERT_EQ(params.size(), grads.size()) << name;
    for (std::size_t i = 0; i < params.size(); ++i)
      EXPECT_TRUE(all_close(params[i]->grad, tensor_from_json(grads[i]), 1e-5, 1e-4))
          << name << " " << params[i]->name;
  }
}

Model from_oracle_config(const json& spec) {
  return model_from_keras_config(spec.at("model"), "nested.json " + spec.at("name").get<std::string>());
}

Sequential encoder_block() {
  Sequential encoder({.name = "encoder"});
  encoder.add(LSTM(4, {.input_shape = Shape{4, 3}, .name = "enc_lstm"}));
  encoder.add(Dense(3, {.activation = "tanh", .name = "enc_dense"}));
  return encoder;
}

TEST(NestedOracle, SequentialInFunctional) {
  clear_session();
  const json spec = oracle_case("sequential_in_functional");
  Sequential encoder = encoder_block();
  auto x = Input({4, 3}, {.name = "x"});
  Model model(x, Dense(2, {.name = "head"})(encoder(x)), {.name = "outer"});
  check_against_oracle(model, spec);
  // The inner model shares the layers: its own predict sees the weights set through the outer one.
  const Tensor inputs = tensor_from_json(spec.at("inputs")[0]);
  EXPECT_EQ(testing::weight_bytes(encoder),
            testing::weight_bytes(dynamic_cast<ModelLayer&>(model.layer("encoder")).model()));
  Model from_config = from_oracle_config(spec);
  check_against_oracle(from_config, spec);
}

TEST(NestedOracle, SharedFunctionalCalledTwice) {
  clear_session();
  const json spec = oracle_case("shared_functional_twice");
  auto xi = Input({4, 3}, {.name = "xi"});
  auto h = GRU(3, {.reset_after = false, .name = "sia_gru"})(xi);
  Model siamese(xi, Dense(2, {.activation = "tanh", .name = "sia_dense"})(h), {.name = "siamese"});
  auto a = Input({4, 3}, {.name = "a"}), b = Input({4, 3}, {.name = "b"});
  auto joined = Concatenate({.name = "cat"})({siamese(a), siamese(b)});
  Model model({a, b}, {Dense(1, {.name = "head"})(joined)}, {.name = "outer"});
  ASSERT_EQ(model.size(), 5u);  // a, b, siamese (one layer, two calls), cat, head
  check_against_oracle(model, spec);
  Model from_config = from_oracle_config(spec);
  check_against_oracle(from_config, spec);
}

TEST(NestedOracle, MaskFlowsIntoNestedModel) {
  clear_session();
  const json spec = oracle_case("mask_into_nested");
  Sequential tagger({.name = "tagger"});
  tagger.add(LSTM(3, {.return_sequences = true, .input_shape = Shape{5, 3}, .name = "tag_lstm"}));
  tagger.add(LSTM(2, {.name = "tag_lstm_2"}));
  auto ids = Input({5}, {.name = "ids"});
  auto e = Embedding(6, 3, {.mask_zero = true, .name = "emb"})(ids);
  Model model(ids, tagger(e), {.name = "outer"});
  check_against_oracle(model, spec);
  Model from_config = from_oracle_config(spec);
  check_against_oracle(from_config, spec);
}

TEST(NestedOracle, SequentialInSequential) {
  clear_session();
  const json spec = oracle_case("sequential_in_sequential");
  Sequential block({.name = "block"});
  block.add(Dense(4, {.activation = "relu", .input_shape = Shape{5}, .name = "blk_a"}));
  block.add(Dense(3, {.activation = "tanh", .name = "blk_b"}));
  Sequential model({.name = "outer"});
  model.add(Dense(5, {.activation = "tanh", .input_shape = Shape{3}, .name = "first"}));
  model.add(block);
  model.add(Dense(2, {.name = "last"}));
  check_against_oracle(model, spec);
  Model from_config = from_oracle_config(spec);
  check_against_oracle(from_config, spec);
}

// A nested Functional model with two inputs and two outputs, called on a mix of outer tensors; every gradient
// against central differences of the loss computed in double.
TEST(NestedGradcheck, TwoInputsTwoOutputsAgainstFiniteDifferences) {
  clear_session();
  auto p = Input({3, 2}, {.name = "p"}), q = Input({4}, {.name = "q"});
  auto hp = SimpleRNN(3, {.name = "inner_rnn"})(p);
  auto joined = Concatenate({.name = "inner_cat"})({hp, q});
  auto out1 = Dense(2, {.activation = "tanh", .name = "inner_a"})(joined);
  auto out2 = Dense(3, {.activation = "sigmoid", .name = "inner_b"})(hp);
  Model inner({p, q}, {out1, out2}, {.name = "inner"});
  auto x = Input({3, 2}, {.name = "x"}), z = Input({5}, {.name = "z"});
  auto zq = Dense(4, {.activation = "tanh", .name = "to_q"})(z);
  auto both = inner({x, zq});
  auto head = Dense(1, {.name = "head"})(Concatenate({.name = "cat"})({both[0], both[1]}));
  Model model({x, z}, {head, both[1]}, {.name = "outer"});
  Rng rng(7);
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      param->value = testing::random_tensor(param->value.shape(), rng, 0.6);
  std::vector<Tensor> inputs{testing::random_tensor({2, 3, 2}, rng, 1.0),
                             testing::random_tensor({2, 5}, rng, 1.0)};
  const std::vector<Tensor> targets{testing::random_tensor({2, 1}, rng, 1.0),
                                    testing::random_tensor({2, 3}, rng, 1.0)};
  const auto loss = [&] { return mse(model(inputs), targets); };
  model.zero_grads();
  std::vector<Tensor> output_grads;
  mse(model(inputs, true), targets, &output_grads);
  const std::vector<Tensor> input_grads = model.backward(output_grads);
  constexpr float kStep = 1e-2f;
  const auto expect_gradient = [&](float& value, float analytic, const std::string& what) {
    const double numeric = testing::central_difference(value, kStep, loss);
    EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-3 * std::abs(numeric)) << what;
  };
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      for (std::int64_t i = 0; i < param->value.size(); ++i)
        expect_gradient(param->value[i], param->grad[i],
                        layer->name() + "/" + param->name + "[" + std::to_string(i) + "]");
  for (std::size_t k = 0; k < inputs.size(); ++k)
    for (std::int64_t i = 0; i < inputs[k].size(); ++i)
      expect_gradient(inputs[k][i], input_grads[k][i],
                      "input " + std::to_string(k) + "[" + std::to_string(i) + "]");
}

// Dropout inside a nested model draws from the outer model's generator (so that the outer model's
// TrainingState covers it), never from the inner model's; a nested model called twice is run again in
// backward with the draws of its first call: every gradient against central differences of the loss of a
// training call made from the same generator state.
TEST(NestedDropout, DrawsFromTheOuterGeneratorAndBackwardRepeatsTheDraws) {
  clear_session();
  Sequential noisy({.name = "noisy"});
  noisy.add(Dense(5, {.activation = "tanh", .input_shape = Shape{3}, .name = "noisy_dense"}));
  noisy.add(Dropout(0.4f, {.name = "noisy_dropout"}));
  auto a = Input({3}, {.name = "a"}), b = Input({3}, {.name = "b"});
  auto joined = Concatenate({.name = "cat"})({noisy(a), noisy(b)});
  Model model({a, b}, {Dense(2, {.name = "head"})(joined)}, {.name = "outer", .seed = 5});
  Rng rng(9);
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      param->value = testing::random_tensor(param->value.shape(), rng, 0.8);
  std::vector<Tensor> inputs{testing::random_tensor({4, 3}, rng, 1.0),
                             testing::random_tensor({4, 3}, rng, 1.0)};
  const std::vector<Tensor> targets{testing::random_tensor({4, 2}, rng, 1.0)};

  const TrainingState start = model.training_state();
  const auto inner_state = noisy.training_state().generator.state();
  const auto& nested = dynamic_cast<const ModelLayer&>(model.layer("noisy"));
  const auto nested_state = nested.model().training_state().generator.state();
  const std::vector<Tensor> first = model(inputs, true);
  EXPECT_NE(model.training_state().generator.state(), start.generator.state());
  EXPECT_EQ(noisy.training_state().generator.state(), inner_state);
  EXPECT_EQ(nested.model().training_state().generator.state(), nested_state);
  EXPECT_FALSE(all_close(first[0], model(inputs)[0], 1e-6, 0.0)) << "no unit was dropped";
  model.set_training_state(start);
  EXPECT_TRUE(all_close(model(inputs, true)[0], first[0], 0.0, 0.0));  // the same draws again

  const auto loss = [&] {
    model.set_training_state(start);
    return mse(model(inputs, true), targets);
  };
  model.zero_grads();
  model.set_training_state(start);
  std::vector<Tensor> output_grads;
  mse(model(inputs, true), targets, &output_grads);
  const std::vector<Tensor> input_grads = model.backward(output_grads);
  constexpr float kStep = 1e-2f;
  const auto expect_gradient = [&](float& value, float analytic, const std::string& what) {
    const double numeric = testing::central_difference(value, kStep, loss);
    EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-3 * std::abs(numeric)) << what;
  };
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      for (std::int64_t i = 0; i < param->value.size(); ++i)
        expect_gradient(param->value[i], param->grad[i], layer->name() + "/" + param->name);
  for (std::size_t k = 0; k < inputs.size(); ++k)
    for (std::int64_t i = 0; i < inputs[k].size(); ++i)
      expect_gradient(inputs[k][i], input_grads[k][i], "input " + std::to_string(k));
}

// A layer of the nested model also called directly by the outer model: its calls inside the nested model
// count as calls of a shared layer, so backward runs again the call whose cache a later one replaced.
TEST(NestedGradcheck, InnerLayerAlsoCalledOutside) {
  clear_session();
  auto shared = std::make_shared<Dense>(3, DenseOptions{.activation = "tanh", .name = "shared_dense"});
  auto p = Input({3}, {.name = "p"});
  Model inner(p, Dense(3, {.activation = "sigmoid", .name = "inner_out"})((*shared)(p)), {.name = "inner"});
  auto x = Input({3}, {.name = "x"});
  auto direct = (*shared)(x);  // called before the nested model: its cache is then the nested call's
  auto through = inner(Dense(3, {.name = "pre"})(x));
  Model model(x, Add({.name = "sum"})({direct, through}), {.name = "outer"});
  Rng rng(21);
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      param->value = testing::random_tensor(param->value.shape(), rng, 0.8);
  std::vector<Tensor> inputs{testing::random_tensor({3, 3}, rng, 1.0)};
  const std::vector<Tensor> targets{testing::random_tensor({3, 3}, rng, 1.0)};
  model.zero_grads();
  std::vector<Tensor> output_grads;
  mse(model(inputs, true), targets, &output_grads);
  const std::vector<Tensor> input_grads = model.backward(output_grads);
  const auto loss = [&] { return mse(model(inputs), targets); };
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      for (std::int64_t i = 0; i < param->value.size(); ++i) {
        const double numeric = testing::central_difference(param->value[i], 1e-2f, loss);
        EXPECT_NEAR(param->grad[i], numeric, 1e-3 + 1e-3 * std::abs(numeric))
            << layer->name() << "/" << param->name;
      }
  for (std::int64_t i = 0; i < inputs[0].size(); ++i) {
    const double numeric = testing::central_difference(inputs[0][i], 1e-2f, loss);
    EXPECT_NEAR(input_grads[0][i], numeric, 1e-3 + 1e-3 * std::abs(numeric)) << "input " << i;
  }
}

// Files Keras writes (tf.keras 2.11 .h5, Keras 3 .keras), made by make_nested_fixtures.py with h5py.
TEST(NestedFiles, KerasFilesLoadAndPredict) {
  const json fixture = testing::read_json(testing::test_data("model_files/nested/nested.json"));
  const Tensor x = tensor_from_json(fixture.at("input")), expected = tensor_from_json(fixture.at("output"));
  for (const std::string file : fixture.at("files")) {
    Model model = load_model(testing::test_data("model_files/nested/" + file));
    ASSERT_EQ(model.size(), 3u) << file;
    EXPECT_EQ(model.layer(1).class_name(), "Sequential") << file;
    EXPECT_EQ(model.layer(1).name(), "block") << file;
    EXPECT_EQ(model.layer(1).count_params(), 4 * 5 + 5 + 5 * 3 + 3) << file;
    EXPECT_TRUE(all_close(model.predict(x), expected)) << file;
  }
}

TEST(NestedFiles, RoundTripsBitForBit) {
  clear_session();
  testing::TempFolder folder;
  Sequential encoder = encoder_block();
  auto xi = Input({4, 3}, {.name = "xi"});
  Model siamese(xi, Dense(2, {.name = "sia_dense"})(GRU(3, {.name = "sia_gru"})(xi)), {.name = "siamese"});
  auto a = Input({4, 3}, {.name = "a"}), b = Input({4, 3}, {.name = "b"});
  auto joined = Concatenate({.name = "cat"})({encoder(a), siamese(a), siamese(b)});
  Model model({a, b}, {Dense(2, {.name = "head"})(joined)}, {.name = "outer"});
  Rng rng(3);
  const std::vector<Tensor> x{testing::random_tensor({2, 4, 3}, rng, 1.0),
                              testing::random_tensor({2, 4, 3}, rng, 1.0)};
  const Tensor y = model.predict(x)[0];
  const std::string weights = testing::weight_bytes(model);
  // Model JSON (model.to_json()): the architecture.
  const json config = model.config();
  Model from_json = model_from_keras_config(json::parse(config.dump()), "model JSON");
  EXPECT_EQ(from_json.config().dump(), config.dump());
  EXPECT_EQ(from_json.layer("siamese").class_name(), "Functional");
  EXPECT_EQ(from_json.layer("encoder").class_name(), "Sequential");
  for (const char* name : {"m.h5", "m.keras"}) {
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_EQ(loaded.config().dump(), config.dump()) << name;
    ASSERT_EQ(loaded.layer("siamese").class_name(), "Functional") << name;
    ASSERT_EQ(loaded.layer("encoder").class_name(), "Sequential") << name;
    EXPECT_EQ(testing::weight_bytes(loaded), weights) << name;
    const Tensor again = loaded.predict(x)[0];
    EXPECT_EQ(std::vector<float>(again.values().begin(), again.values().end()),
              std::vector<float>(y.values().begin(), y.values().end()))
        << name;
    save_model(loaded, folder / (std::string("again_") + name));
    if (std::string(name) != "m.keras") {  // a .keras archive is stamped with the time it was saved
      EXPECT_EQ(testing::read_text(folder / name),
                testing::read_text(folder / (std::string("again_") + name)))
          << name;
    }
  }
}

// The weight groups Keras reads: tf.keras 2's one group per nested model, Keras 3's layers/<class>/layers/...
TEST(NestedFiles, WeightLayouts) {
  if (!testing::have_h5py()) GTEST_SKIP() << "no h5py";
  clear_session();
  testing::TempFolder folder;
  Sequential block({.name = "block"});
  block.add(Dense(5, {.input_shape = Shape{4}, .name = "dense_a"}));
  block.add(Dense(3, {.name = "dense_b"}));
  auto x = Input({4}, {.name = "x"});
  Model model(x, Dense(2, {.name = "head"})(block(x)), {.name = "outer"});
  save_model(model, folder / "m.h5");
  save_weights(model, folder / "m.weights.h5");
  const auto [status, printed] =
      testing::python(R"(
import sys, h5py
text = lambda names: [n.decode() if isinstance(n, bytes) else n for n in names]
with h5py.File(sys.argv[1]) as f:
    g = f["model_weights"]
    print(text(g.attrs["layer_names"]))
    print(text(g["block"].attrs["weight_names"]))
    print(g["block/dense_b/bias:0"].shape)
with h5py.File(sys.argv[2]) as f:
    names = []
    f.visit(names.append)
    print(sorted(names))
)",
                      (folder / "m.h5").string() + " " + (folder / "m.weights.h5").string(), folder.path());
  ASSERT_EQ(status, 0) << printed;
  EXPECT_EQ(
      printed,
      "['x', 'block', 'head']\n"
      "['dense_a/kernel:0', 'dense_a/bias:0', 'dense_b/kernel:0', 'dense_b/bias:0']\n"
      "(3,)\n"
      "['layers', 'layers/dense', 'layers/dense/vars', 'layers/dense/vars/0', 'layers/dense/vars/1', "
      "'layers/input_layer', 'layers/input_layer/vars', 'layers/sequential', 'layers/sequential/layers', "
      "'layers/sequential/layers/dense', 'layers/sequential/layers/dense/vars', "
      "'layers/sequential/layers/dense/vars/0', 'layers/sequential/layers/dense/vars/1', "
      "'layers/sequential/layers/dense_1', 'layers/sequential/layers/dense_1/vars', "
      "'layers/sequential/layers/dense_1/vars/0', 'layers/sequential/layers/dense_1/vars/1', "
      "'layers/sequential/vars', 'vars']\n");
}

// tf.keras's .h5 keeps a nested model's trainable weights first (_legacy_weights), its moving statistics
// last, while model.weights (get_weights) goes layer by layer; both read back into the right weights.
TEST(NestedFiles, H5KeepsKerasWeightOrder) {
  if (!testing::have_h5py()) GTEST_SKIP() << "no h5py";
  clear_session();
  testing::TempFolder folder;
  Sequential block({.name = "block"});
  block.add(BatchNormalization({.input_shape = Shape{4}, .name = "bn"}));
  block.add(Dense(3, {.name = "dense"}));
  auto x = Input({4}, {.name = "x"});
  Model model(x, Dense(2, {.name = "head"})(block(x)), {.name = "outer"});
  Rng rng(5);
  for (auto& layer : model.layers())
    for (Param* param : layer->params())
      param->value = testing::random_tensor(param->value.shape(), rng, 1.0);
  save_model(model, folder / "m.h5");
  const auto [status, printed] = testing::python(R"(
import sys, h5py
with h5py.File(sys.argv[1]) as f:
    g = f["model_weights/block"]
    print([n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]])
)",
                                                 (folder / "m.h5").string(), folder.path());
  ASSERT_EQ(status, 0) << printed;
  EXPECT_EQ(printed,
            "['bn/gamma:0', 'bn/beta:0', 'dense/kernel:0', 'dense/bias:0', 'bn/moving_mean:0', "
            "'bn/moving_variance:0']\n");
  Model loaded = load_model(folder / "m.h5");
  EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model));
}

// Keras prints a nested model as one row, its parameters counted with the outer model's.
TEST(NestedSummary, OneRowPerNestedModel) {
  clear_session();
  Sequential block({.name = "block"});
  block.add(Dense(5, {.input_shape = Shape{4}, .name = "dense_a"}));
  block.add(Dense(3, {.name = "dense_b"}));
  block.layer("dense_b").set_trainable(false);
  auto x = Input({4}, {.name = "x"});
  Model model(x, Dense(2, {.name = "head"})(block(x)), {.name = "outer"});
  const SummaryTable table = model.summary_table();
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[1].name, "block");
  EXPECT_EQ(table.rows[1].class_name, "Sequential");
  EXPECT_EQ(table.rows[1].output_shape, "(None, 3)");
  EXPECT_EQ(table.rows[1].params, 4 * 5 + 5 + 5 * 3 + 3);
  EXPECT_EQ(table.trainable_params, 25 + 8);  // dense_a and head; dense_b is frozen
  EXPECT_EQ(table.non_trainable_params, 18);
  const std::string text = model.summary_text(SummaryStyle::keras2_12);
  EXPECT_NE(text.find(" block (Sequential)          (None, 3)                 43        \n"),
            std::string::npos)
      << text;
  Sequential outer({.name = "outer_seq"});
  outer.add(block);
  outer.add(Dense(2, {.name = "last"}));
  const std::string sequential_text = outer.summary_text(SummaryStyle::keras2_12);
  EXPECT_NE(sequential_text.find(" block (Sequential)          (None, 3)                 43        \n"),
            std::string::npos)
      << sequential_text;
  EXPECT_NE(sequential_text.find("Total params: 51\n"), std::string::npos) << sequential_text;
  // Called twice: the Functional layout, whose "Connected to" counts the nested model's calls from 1 (its own
  // graph is its node 0, as tf.keras numbers a model's nodes).
  Sequential fresh({.name = "block"});  // called nowhere else: its calls are its nodes 1 and 2
  fresh.add(Dense(5, {.input_shape = Shape{4}, .name = "dense_a"}));
  fresh.add(Dense(3, {.name = "dense_b"}));
  auto a = Input({4}, {.name = "a"}), b = Input({4}, {.name = "b"});
  Model twice({a, b}, {Concatenate({.name = "cat"})({fresh(a), fresh(b)})}, {.name = "twice"});
  const std::string functional_text = twice.summary_text(SummaryStyle::keras2_12);
  EXPECT_NE(
      functional_text.find(" block (Sequential)             (None, 3)            43          ['a[0][0]',"),
      std::string::npos)
      << functional_text;
  EXPECT_NE(functional_text.find("['block[1][0]',"), std::string::npos) << functional_text;
  EXPECT_NE(functional_text.find("'block[2][0]']"), std::string::npos) << functional_text;
}

// fit on the outer model trains the nested model's layers, which the nested model itself sees.
TEST(NestedFit, TrainsTheInnerModel) {
  clear_session();
  Sequential encoder = encoder_block();
  auto x = Input({4, 3}, {.name = "x"});
  Model model(x, Dense(1, {.name = "head"})(encoder(x)), {.name = "outer"});
  Rng rng(11);
  const Tensor inputs = testing::random_tensor({16, 4, 3}, rng, 1.0);
  const Tensor targets = testing::random_tensor({16, 1}, rng, 1.0);
  const Tensor before = encoder.predict(inputs);
  const std::vector<Tensor> weights_before = encoder.get_weights();
  model.compile({.loss = "mean_squared_error", .optimizer = SGD({.learning_rate = 0.5})});
  const History history = model.fit(inputs, targets, {.epochs = 5, .batch_size = 8, .verbose = 0});
  EXPECT_LT(history.history.at("loss").back(), history.history.at("loss").front());
  const std::vector<Tensor> weights_after = encoder.get_weights();
  for (std::size_t i = 0; i < weights_after.size(); ++i)
    EXPECT_FALSE(all_close(weights_after[i], weights_before[i], 0.0, 0.0)) << "weight " << i << " unchanged";
  EXPECT_FALSE(all_close(encoder.predict(inputs), before, 0.0, 0.0));
}

// A compiled model holding a nested model with dropout, saved after one epoch and fit on from the file, ends
// where two epochs straight end: weights, optimizer state and the generator the nested dropout draws from.
TEST(NestedFit, GoesOnFromAFileBitForBit) {
  testing::TempFolder folder;
  Rng rng(13);
  const Tensor inputs = testing::random_tensor({12, 4, 3}, rng, 1.0);
  const Tensor targets = testing::random_tensor({12, 1}, rng, 1.0);
  const auto make = [] {
    clear_session();
    Sequential encoder({.name = "encoder"});
    encoder.add(LSTM(4, {.input_shape = Shape{4, 3}, .name = "enc_lstm"}));
    encoder.add(Dropout(0.3f, {.name = "enc_dropout"}));
    auto x = Input({4, 3}, {.name = "x"});
    Model model(x, Dense(1, {.name = "head"})(encoder(x)), {.name = "outer", .seed = 3});
    model.compile({.loss = "mean_squared_error", .optimizer = Adam()});
    return model;
  };
  Model straight = make();
  straight.fit(inputs, targets, {.epochs = 2, .batch_size = 5, .verbose = 0});
  for (const char* name : {"m.h5", "m.keras"}) {
    Model first = make();
    first.fit(inputs, targets, {.epochs = 1, .batch_size = 5, .verbose = 0});
    save_model(first, folder / name);
    LoadedModel loaded = load_model_file(folder / name);
    ASSERT_TRUE(loaded.training_state.has_value()) << name;
    EXPECT_TRUE(loaded.dropped_training_state.empty()) << name;
    loaded.model.fit(inputs, targets, {.epochs = 2, .batch_size = 5, .verbose = 0, .initial_epoch = 1});
    EXPECT_EQ(testing::weight_bytes(loaded.model), testing::weight_bytes(straight)) << name;
  }
}

TEST(NestedErrors, UnbuiltModelAndShapeMismatch) {
  clear_session();
  Sequential unbuilt({.name = "unbuilt"});
  unbuilt.add(Dense(3));
  auto x = Input({4}, {.name = "x"});
  testing::expect_error([&] { return unbuilt(x); }, {"model 'unbuilt'", "not built", "input shape"});
  Sequential outer({.name = "outer"});
  testing::expect_error(
      [&] {
        outer.add(unbuilt);
        return 0;
      },
      {"model 'unbuilt'", "not built"});

  Sequential block({.name = "block"});
  block.add(Dense(5, {.input_shape = Shape{4}}));
  auto wrong = Input({6}, {.name = "wrong"});
  testing::expect_error([&] { return block(wrong); },
                        {"layer 'block' (Sequential)", "(None, 4)", "(None, 6)"});
  auto a = Input({4}, {.name = "a"});
  testing::expect_error(
      [&] {
        return block(std::vector<SymbolicTensor>{a, a});
      },
      {"layer 'block' (Sequential)", "list of 1", "received 2"});
}

}  // namespace
}  // namespace rnnkit
