// Keras's Attention and AdditiveAttention: values by hand, PyTorch's outputs and gradients
// (parity/fixtures/layers/attention.json from gen_attention_torch.py), central finite differences, dropout,
// shapes and their errors, configs of every era (call options in the nodes' kwargs), files, summaries, the
// wild Keras 3 self-attention graph, and a Luong attention seq2seq that learns to reverse digit strings.
#include <gtest/gtest.h>

#include <cmath>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::expect_error;
using testing::random_tensor;
using testing::TempFolder;
using testing::tensor_from_json;

std::vector<Tensor> tensors(const json& list) {
  std::vector<Tensor> result;
  for (const json& item : list) result.push_back(tensor_from_json(item));
  return result;
}

TEST(AttentionLayers, ValuesByHand) {
  // One query (1, 0) against keys (1, 0) and (0, 1): scores 1 and 0, weights e/(1+e) and 1/(1+e).
  const Tensor query({1, 1, 2}, {1, 0}), value({1, 2, 2}, {1, 0, 0, 1});
  const double w = std::exp(1.0) / (1.0 + std::exp(1.0));
  Attention dot;
  EXPECT_TRUE(all_close(dot.call_list({query, value})[0],
                        Tensor({1, 1, 2}, {static_cast<float>(w), static_cast<float>(1 - w)}), 1e-7));
  // A value mask that removes the first key leaves all the weight on the second.
  const Tensor value_mask({1, 2}, {0, 1});
  EXPECT_TRUE(
      all_close(dot.call_list({query, value}, {nullptr, &value_mask})[0], Tensor({1, 1, 2}, {0, 1}), 0));
  // AdditiveAttention without scale: scores Σ tanh(q + k) = tanh 2 + tanh 0 and tanh 1 + tanh 1.
  AdditiveAttention additive({.use_scale = false});
  const double s0 = std::tanh(2.0), s1 = 2 * std::tanh(1.0);
  const double a = std::exp(s0) / (std::exp(s0) + std::exp(s1));
  EXPECT_TRUE(all_close(additive.call_list({query, value})[0],
                        Tensor({1, 1, 2}, {static_cast<float>(a), static_cast<float>(1 - a)}), 1e-7));
  // Causal: query step 0 sees key step 0 only.
  Attention causal({.use_causal_mask = true});
  const Tensor two_queries({1, 2, 2}, {0, 1, 0, 1});
  const Tensor out = causal.call_list({two_queries, value})[0];
  EXPECT_TRUE(
      all_close(out, Tensor({1, 2, 2}, {1, 0, static_cast<float>(1 - w), static_cast<float>(w)}), 1e-7));
}

TEST(AttentionLayers, MatchTorch) {
  const json fixture = testing::read_json(testing::test_data("parity/fixtures/layers/attention.json"));
  ASSERT_EQ(fixture.at("cases").size(), 14u);
  for (const json& c : fixture.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::unique_ptr<Layer> made = layer_from_config(c.at("layer"), "attention.json");
    auto& layer = dynamic_cast<DenseAttention&>(*made);
    layer.set_call_options(c.at("call").at("use_causal_mask"), c.at("call").at("return_attention_scores"));
    const std::vector<Tensor> inputs = tensors(c.at("inputs"));
    std::vector<Tensor> masks;
    std::vector<const Tensor*> mask_pointers;
    for (const json& mask : c.at("masks"))
      masks.push_back(mask.is_null() ? Tensor() : tensor_from_json(mask));
    for (const Tensor& mask : masks) mask_pointers.push_back(mask.empty() ? nullptr : &mask);
    mask_pointers.resize(inputs.size(), nullptr);
    std::vector<Shape> shapes;
    for (const Tensor& input : inputs) shapes.push_back(input.shape());
    Rng rng;
    layer.build_list(shapes, rng);
    layer.set_weights(tensors(c.at("weights")));
    const std::vector<Tensor> outputs = layer.call_list(inputs, mask_pointers, true, &rng);
    const std::vector<Tensor> expected = tensors(c.at("outputs"));
    ASSERT_EQ(outputs.size(), expected.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) EXPECT_TRUE(all_close(outputs[i], expected[i], 1e-6));
    layer.zero_grads();
    const InputGrads grads = layer.backward(tensors(c.at("output_grads")));
    const std::vector<Tensor> input_grads = tensors(c.at("grads").at("inputs"));
    EXPECT_TRUE(all_close(grads.input, input_grads[0], 1e-5));
    ASSERT_EQ(grads.more_inputs.size(), input_grads.size() - 1);
    for (std::size_t i = 1; i < input_grads.size(); ++i)
      EXPECT_TRUE(all_close(grads.more_inputs[i - 1], input_grads[i], 1e-5)) << "input " << i;
    const std::vector<Tensor> weight_grads = tensors(c.at("grads").at("weights"));
    ASSERT_EQ(layer.params().size(), weight_grads.size());
    for (std::size_t i = 0; i < weight_grads.size(); ++i)
      EXPECT_TRUE(all_close(layer.params()[i]->grad, weight_grads[i], 1e-5)) << layer.params()[i]->name;
  }
}

// L = Σ_k Σ output_k ⊙ g_k, its gradient from backward() against central differences in every input and
// weight.
void expect_gradients_match_differences(DenseAttention& layer, std::vector<Tensor> inputs,
                                        const std::vector<const Tensor*>& masks, float dropout_seed = 0) {
  Rng rng(5);
  const auto outputs_of = [&](bool training) {
    Rng call_rng(static_cast<std::uint64_t>(dropout_seed) + 9);  // the same dropout mask at every call
    return layer.call_list(inputs, masks, training, &call_rng);
  };
  std::vector<Tensor> output_grads;
  for (const Tensor& output : outputs_of(true))
    output_grads.push_back(random_tensor(output.shape(), rng, 1.0));
  const auto loss = [&] {
    double total = 0.0;
    const std::vector<Tensor> outputs = outputs_of(true);
    for (std::size_t k = 0; k < outputs.size(); ++k)
      for (std::int64_t i = 0; i < outputs[k].size(); ++i)
        total += double(outputs[k][i]) * output_grads[k][i];
    return total;
  };
  outputs_of(true);
  layer.zero_grads();
  const InputGrads grads = layer.backward(output_grads);
  const auto compare = [](double analytic, double numeric, const std::string& what) {
    EXPECT_NEAR(analytic, numeric, 2e-3 * (1.0 + std::abs(numeric))) << what;
  };
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& analytic = k == 0 ? grads.input : grads.more_inputs[k - 1];
    for (std::int64_t i = 0; i < inputs[k].size(); ++i)
      compare(analytic[i], testing::central_difference(inputs[k][i], 1e-2f, loss),
              "input " + std::to_string(k) + " value " + std::to_string(i));
  }
  for (Param* param : layer.params())
    for (std::int64_t i = 0; i < param->value.size(); ++i)
      compare(param->grad[i], testing::central_difference(param->value[i], 1e-2f, loss),
              param->name + " value " + std::to_string(i));
}

TEST(AttentionLayers, GradientsMatchFiniteDifferences) {
  Rng rng(3);
  const Tensor q = random_tensor({2, 3, 4}, rng, 1.0), v = random_tensor({2, 5, 4}, rng, 1.0);
  const Tensor k = random_tensor({2, 5, 4}, rng, 1.0), narrow_v = random_tensor({2, 5, 2}, rng, 1.0);
  const Tensor q_mask({2, 3}, {1, 0, 1, 1, 1, 0}),
      v_mask({2, 5},
             {1, 1, 0, 1, 0, 1, 0, 1, 1, 1});  // no row without keys: see the fixture's fully masked case
  const auto random_weights = [&](Layer& layer) {
    for (Param* param : layer.params())
      for (float& value : param->value.values()) value = 0.5f + static_cast<float>(rng.uniform());
  };
  {
    Attention layer({.use_scale = true, .return_attention_scores = true});
    layer.call_list({q, v});
    random_weights(layer);
    expect_gradients_match_differences(layer, {q, v}, {&q_mask, &v_mask});
  }
  {
    Attention layer({.use_scale = true, .score_mode = "concat", .use_causal_mask = true});
    layer.call_list({q, narrow_v, k});
    random_weights(layer);
    expect_gradients_match_differences(layer, {q, narrow_v, k}, {nullptr, &v_mask, nullptr});
  }
  {
    AdditiveAttention layer({.dropout = 0.4f, .return_attention_scores = true});
    layer.call_list({q, v, k});
    expect_gradients_match_differences(layer, {q, v, k}, {&q_mask, &v_mask, nullptr}, 4);
  }
}

TEST(AttentionLayers, DropoutScalesKeptWeightsWhileTraining) {
  Rng rng(8);
  const Tensor q = random_tensor({2, 3, 4}, rng, 1.0), v = random_tensor({2, 6, 4}, rng, 1.0);
  Attention layer({.dropout = 0.5f, .return_attention_scores = true});
  const std::vector<Tensor> inference = layer.call_list({q, v});
  EXPECT_TRUE(all_close(layer.call_list({q, v})[1], inference[1], 0, 0)) << "no dropout at inference";
  Rng call_rng(1);
  const std::vector<Tensor> trained = layer.call_list({q, v}, {}, true, &call_rng);
  int dropped = 0;
  for (std::int64_t i = 0; i < inference[1].size(); ++i) {
    if (trained[1][i] == 0.0f) {
      ++dropped;
      continue;
    }
    EXPECT_NEAR(trained[1][i], 2.0f * inference[1][i], 1e-6);
  }
  EXPECT_GT(dropped, 6);
  EXPECT_LT(dropped, 30);
}

TEST(AttentionLayers, MaskIsTheQueryMask) {
  const Tensor q({1, 2, 1}, {1, 2}), v({1, 3, 1}, {1, 2, 3});
  const Tensor q_mask({1, 2}, {1, 0}), v_mask({1, 3}, {1, 1, 0});
  Attention layer;
  layer.call_list({q, v});
  EXPECT_FALSE(layer.compute_call_mask(q, nullptr, {.more_inputs = {&v}, .more_masks = {&v_mask}}));
  const std::optional<Tensor> mask =
      layer.compute_call_mask(q, &q_mask, {.more_inputs = {&v}, .more_masks = {&v_mask}});
  ASSERT_TRUE(mask);
  EXPECT_TRUE(all_close(*mask, q_mask, 0, 0));
}

TEST(AttentionLayers, ShapeErrorsNameTheLayer) {
  const SymbolicTensor q = Input({3, 4}), v = Input({5, 4}), wide = Input({5, 6}), flat = Input({4});
  expect_error([&] { return Attention({.name = "att"})(q); }, {"'att' (Attention)", "list of tensors"});
  expect_error([&] { return Attention({.name = "att1"})(std::vector<SymbolicTensor>{q}); },
               {"'att1' (Attention)", "list of 2 to 3", "one tensor"});
  expect_error([&] { return Attention({.name = "att4"})({q, v, v, v}); }, {"'att4'", "4"});
  expect_error([&] { return Attention({.name = "wide"})({q, wide}); }, {"'wide'", "same number of features"});
  expect_error(
      [&] {
        return AdditiveAttention({.name = "flat"})({q, flat});
      },
      {"'flat'", "value", "(None, 4)"});
  expect_error(
      [&] {
        return Attention({.name = "steps"})({q, v, Input({6, 4})});
      },
      {"'steps'", "number of steps"});
  expect_error([] { return Attention({.score_mode = "general", .name = "mode"}); },
               {"'mode'", "score_mode", "general"});
  expect_error([] { return Attention({.dropout = 1.0f, .name = "drop"}); }, {"'drop'", "dropout"});
  Attention layer({.name = "masked"});
  const Tensor x({2, 3, 4}), y({2, 5, 4}), bad_mask({2, 4});
  expect_error(
      [&] {
        return layer.call_list({x, y}, {nullptr, &bad_mask});
      },
      {"'masked'", "value's mask", "(2, 5)"});
}

// A model of every kind of call: Luong self-attention over an LSTM (the wild file's pattern), Attention with
// a key and scores, AdditiveAttention under Embedding masks.
Model attention_model(bool causal) {
  const SymbolicTensor ids = Input({5}, {.name = "ids"}), x = Input({4, 3}, {.name = "x"});
  const SymbolicTensor embedded =
      Embedding(7, 3, {.input_length = 5, .mask_zero = true, .name = "embedding"})(ids);
  const SymbolicTensor h = LSTM(3, {.return_sequences = true, .name = "lstm"})(x);
  const SymbolicTensor self =
      Attention({.use_scale = true, .use_causal_mask = causal, .name = "self"})({h, h});
  const LayerOutputs keyed =
      Attention({.score_mode = "concat", .return_attention_scores = true, .name = "keyed"})({embedded, h, x});
  const SymbolicTensor additive = AdditiveAttention({.name = "additive"})({self, embedded});
  return Model({ids, x}, {additive, keyed[0], keyed[1]}, {.name = "attention_model"});
}

TEST(AttentionLayers, ConfigsAndFilesRoundTrip) {
  clear_session();
  Model model = attention_model(true);
  Rng rng(4);
  for (const auto& layer : model.layers())
    for (Param* param : layer->params())
      for (float& value : param->value.values()) value = static_cast<float>(rng.uniform()) - 0.5f;
  const json config = model.config();
  const json& layers = config.at("config").at("layers");
  const auto entry = [&](const std::string& name) {
    for (const json& layer : layers)
      if (layer.at("name") == name) return layer;
    throw std::runtime_error(name);
  };
  // tf.keras 2.11: the call arguments are the nodes' kwargs, on each tensor of the list.
  EXPECT_EQ(entry("self").at("config").at("use_scale"), true);
  EXPECT_EQ(entry("self").at("config").at("score_mode"), "dot");
  EXPECT_EQ(
      entry("self").at("inbound_nodes"),
      json::parse(
          R"([[["lstm", 0, 0, {"use_causal_mask": true}], ["lstm", 0, 0, {"use_causal_mask": true}]]])"));
  EXPECT_EQ(entry("keyed").at("inbound_nodes")[0][0][3], json::parse(R"({"return_attention_scores": true})"));
  EXPECT_EQ(entry("additive").at("config"),
            json::parse(R"({"name": "additive", "trainable": true, "dtype": "float32", "use_scale": true,
                            "dropout": 0.0})"));
  Rng data(6);
  const Tensor ids({2, 5}, {1, 2, 3, 0, 0, 4, 5, 6, 1, 0});
  const std::vector<Tensor> x{ids, random_tensor({2, 4, 3}, data, 1.0)};
  const std::vector<Tensor> expected = model.predict(x);
  const TempFolder folder;
  for (const char* name : {"a.h5", "a.keras"}) {
    SCOPED_TRACE(name);
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_EQ(loaded.config(), config);
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model));
    const std::vector<Tensor> outputs = loaded.predict(x);
    ASSERT_EQ(outputs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(all_close(outputs[i], expected[i], 0, 0));
  }
  // Keras 3 names the variables by position under the layer's path; the .keras config holds the kwargs.
  save_model(model, folder / "b.keras");
  const auto [status, printed] = testing::python(R"(
import json, sys, zipfile, io, h5py
z = zipfile.ZipFile(sys.argv[1])
config = json.loads(z.read("config.json"))
for layer in config["config"]["layers"]:
    if layer["class_name"] in ("Attention", "AdditiveAttention"):
        print(layer["name"], json.dumps(layer["inbound_nodes"][0]["kwargs"], sort_keys=True),
              json.dumps(layer["build_config"]["input_shape"]))
f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
f.visititems(lambda name, item: print(name, item.shape) if isinstance(item, h5py.Dataset) else None)
)",
                                                 (folder / "b.keras").string(), folder.path());
  if (testing::have_h5py()) {
    ASSERT_EQ(status, 0) << printed;
    EXPECT_NE(printed.find("self {\"use_causal_mask\": true} [[null, 4, 3], [null, 4, 3]]"),
              std::string::npos)
        << printed;
    EXPECT_NE(printed.find("keyed {\"return_attention_scores\": true}"), std::string::npos) << printed;
    EXPECT_NE(printed.find("layers/attention/vars/0 ()"), std::string::npos) << printed;
    EXPECT_NE(printed.find("layers/attention_1/vars/0 ()"), std::string::npos)
        << printed;  // concat_score_weight
    EXPECT_NE(printed.find("layers/additive_attention/vars/0 (3,)"), std::string::npos) << printed;
  }
}

TEST(AttentionLayers, ReadsEveryEra) {
  // tf.keras 2.6-2.9: `causal` in the layer's config; tf.keras 2.10+ and Keras 3: use_causal_mask in the
  // call.
  const auto read = [](const json& layer) { return layer_from_config(layer, "m.json"); };
  auto old = read(json::parse(
      R"({"class_name": "Attention", "config": {"name": "a", "use_scale": false, "causal": true, "dropout": 0.0}})"));
  EXPECT_TRUE(dynamic_cast<Attention&>(*old).call_options().use_causal_mask);
  auto additive = read(json::parse(R"({"class_name": "AdditiveAttention", "config": {"name": "b"}})"));
  EXPECT_TRUE(dynamic_cast<AdditiveAttention&>(*additive).use_scale()) << "Keras's default";
  auto keras3 =
      read(json::parse(R"({"module": "keras.layers", "class_name": "Attention", "config": {"name": "c",
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
      "use_scale": true, "score_mode": "concat", "dropout": 0.1, "seed": 3}})"));
  EXPECT_EQ(dynamic_cast<Attention&>(*keras3).score_mode(), "concat");
  expect_error(
      [&] { return read(json::parse(R"({"class_name": "MultiHeadAttention", "config": {"name": "mha"}})")); },
      {"'MultiHeadAttention'"});
  // A Keras 3 Functional config whose call asks for the scores and a causal mask.
  const json model = json::parse(R"({"module": "keras.src.models.functional", "class_name": "Functional",
    "config": {"name": "f", "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "name": "in",
       "config": {"batch_shape": [null, 3, 2], "dtype": "float32", "name": "in"}, "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "Attention", "name": "att",
       "config": {"name": "att", "use_scale": false, "score_mode": "dot", "dropout": 0.0},
       "inbound_nodes": [{"args": [[
         {"class_name": "__keras_tensor__", "config": {"shape": [null, 3, 2], "dtype": "float32", "keras_history": ["in", 0, 0]}},
         {"class_name": "__keras_tensor__", "config": {"shape": [null, 3, 2], "dtype": "float32", "keras_history": ["in", 0, 0]}}]],
         "kwargs": {"use_causal_mask": true, "return_attention_scores": true}}]}],
      "input_layers": ["in", 0, 0], "output_layers": [["att", 0, 0], ["att", 0, 1]]}})");
  Model loaded = model_from_config(model, "f.json");
  const Tensor x({1, 3, 2}, {1, 0, 0, 1, 1, 1});
  const std::vector<Tensor> outputs = loaded.predict(std::vector<Tensor>{x});
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_FLOAT_EQ(outputs[1][1], 0.0f) << "causal: step 0 sees step 0 only";
  EXPECT_FLOAT_EQ(outputs[1][0], 1.0f);
  // Two calls of one layer that differ in the call arguments: refused by name.
  json twice = model;
  json& nodes = twice["config"]["layers"][1]["inbound_nodes"];
  nodes.push_back(nodes[0]);
  nodes[1]["kwargs"] = json::object();
  expect_error([&] { return model_from_config(twice, "f.json"); }, {"f.json", "'att'", "use_causal_mask"});
  // A kwarg rnnkit does not know stays refused.
  json other = model;
  other["config"]["layers"][1]["inbound_nodes"][0]["kwargs"] = {{"training", true}, {"something", true}};
  expect_error([&] { return model_from_config(other, "f.json"); }, {"'att'", "something"});
}

TEST(AttentionLayers, SummaryCountsTheScales) {
  clear_session();
  const Model model = attention_model(false);
  const SummaryTable table = model.summary_table();
  const auto params = [&](const std::string& name) {
    for (const SummaryRow& row : table.rows)
      if (row.name == name) return std::make_pair(row.params, row.output_shape);
    throw std::runtime_error(name);
  };
  EXPECT_EQ(params("self"), std::make_pair(std::int64_t{1}, std::string("(None, 4, 3)")));
  EXPECT_EQ(params("keyed"), std::make_pair(std::int64_t{1}, std::string("[(None, 5, 3), (None, 5, 4)]")));
  EXPECT_EQ(params("additive"), std::make_pair(std::int64_t{3}, std::string("(None, 4, 3)")));
}

// The wild Keras 3.12.1 file's graph (LSTM(50, return_sequences) -> Attention()([lstm, lstm]) -> Flatten ->
// Dense), cut before the Flatten: the attention output is softmax(h hᵀ) h of the LSTM's sequence h.
TEST(AttentionLayers, WildKeras3SelfAttentionConfig) {
  json file = testing::read_json(
      testing::test_data("model_files/functional/wild_k3.12.1_wassima_lstm_attention_flatten.json"));
  json model = file.at("model_config");
  json& layers = model["config"]["layers"];
  layers.erase(layers.begin() + 3, layers.end());  // Flatten, Dense
  model["config"]["output_layers"] = json::array({"attention", 0, 0});
  Model cut = model_from_config(model, "wild.json", {.seed = 5});
  ASSERT_EQ(cut.layers().size(), 3u);
  Rng rng(2);
  const Tensor x = random_tensor({2, 60, 1}, rng, 1.0);
  const Tensor out = cut.predict(x);
  ASSERT_EQ(out.shape(), Shape({2, 60, 50}));
  const Tensor h = cut.layers()[1]->call(x)[0];
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t i = 0; i < 60; i += 17) {
      std::vector<double> scores(60);
      double largest = -1e30, total = 0.0;
      for (std::int64_t j = 0; j < 60; ++j) {
        for (std::int64_t d = 0; d < 50; ++d) scores[j] += double(h.at({b, i, d})) * h.at({b, j, d});
        largest = std::max(largest, scores[j]);
      }
      for (double& s : scores) total += (s = std::exp(s - largest));
      for (std::int64_t d = 0; d < 50; d += 7) {
        double expected = 0.0;
        for (std::int64_t j = 0; j < 60; ++j) expected += scores[j] / total * h.at({b, j, d});
        EXPECT_NEAR(out.at({b, i, d}), expected, 1e-5);
      }
    }
}

// Keras's Luong attention seq2seq: encoder LSTM over the embedded source, decoder LSTM from the encoder's
// states over the shifted target, Attention()([decoder, encoder]), Concatenate()([decoder, context]),
// Dense(softmax). The task: reverse strings of 6 digits.
TEST(AttentionLayers, Seq2seqLearnsToReverseDigits) {
  clear_session();
  constexpr std::int64_t kLength = 6, kDigits = 10, kStart = 10, kSamples = 1500;
  const SymbolicTensor source = Input({kLength}, {.name = "source"}),
                       target_in = Input({kLength}, {.name = "target_in"});
  const SymbolicTensor source_embedded = Embedding(kDigits, 16)(source);
  const SymbolicTensor target_embedded = Embedding(kDigits + 1, 16)(target_in);
  const LayerOutputs encoder = LSTM(32, {.return_sequences = true, .return_state = true})(source_embedded);
  const SymbolicTensor decoder =
      LSTM(32, {.return_sequences = true})(target_embedded, {.initial_state = encoder.states()});
  const SymbolicTensor context = Attention()({decoder, encoder[0]});
  const SymbolicTensor joined = Concatenate()({decoder, context});
  const SymbolicTensor probabilities = Dense(kDigits, {.activation = "softmax"})(joined);
  Model model({source, target_in}, {probabilities}, {.name = "reverser"});
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = make_optimizer("adam", 0.01),
                 .metrics = {"accuracy"}});
  Rng rng(21);
  const auto make = [&](std::int64_t count) {
    Tensor src({count, kLength}), tin({count, kLength}), tout({count, kLength});
    for (std::int64_t n = 0; n < count; ++n) {
      for (std::int64_t t = 0; t < kLength; ++t)
        src[n * kLength + t] =
            static_cast<float>(std::min<std::int64_t>(9, static_cast<std::int64_t>(rng.uniform() * 10)));
      for (std::int64_t t = 0; t < kLength; ++t) {
        tout[n * kLength + t] = src[n * kLength + kLength - 1 - t];
        tin[n * kLength + t] = t == 0 ? static_cast<float>(kStart) : tout[n * kLength + t - 1];
      }
    }
    return std::make_tuple(src, tin, tout);
  };
  const auto [src, tin, tout] = make(kSamples);
  model.fit({src, tin}, {tout}, {.epochs = 8, .batch_size = 32, .verbose = 0});
  const auto [test_src, test_tin, test_tout] = make(500);
  const Logs logs = model.evaluate({test_src, test_tin}, {test_tout}, {.verbose = 0});
  const double accuracy = logs.at("accuracy");
  std::cout << "attention seq2seq: held-out per-digit accuracy " << accuracy << " (teacher forcing)\n";
  EXPECT_GT(accuracy, 0.95);
}

}  // namespace
}  // namespace rnnkit
