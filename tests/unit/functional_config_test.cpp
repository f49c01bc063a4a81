// Functional model configs of each Keras era read into a FunctionalSpec, written back, and refused with
// errors.
//
// The configs below are written by hand in the exact form each era's Keras writes (the source is named at
// each), and the wild_*.json fixtures are the model_config of real files by other people (see
// tests/model_files/make_functional_fixtures.py and ../shared/keras-wild/MANIFEST.md).
#include <gtest/gtest.h>

#include <string>

#include "io/keras_h5.h"
#include "model/functional_config.h"
#include "rnnkit/error.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::read_json;
using testing::test_data;

TensorReference ref(std::string layer, int node, int tensor) {
  return {std::move(layer), node, tensor};
}

json wild(const std::string& stem) {
  return read_json(test_data("model_files/functional/wild_" + stem + ".json")).at("model_config");
}

const LayerSpec& layer_named(const FunctionalSpec& spec, const std::string& name) {
  for (const LayerSpec& layer : spec.layers)
    if (layer.layer.at("config").at("name") == name) return layer;
  throw Error("no layer " + name);
}

std::string error_of(const json& model) {
  try {
    parse_functional_config(model, "m.h5");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Keras 1.1.1, keras/engine/topology.py Container.get_config: node_data entries are
// [inbound_layer.name, new_node_index, tensor_index]; a layer called on a list (Merge) has one entry each.
const char* kKeras1 = R"({"class_name": "Model", "config": {"name": "model_1",
  "layers": [
    {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "input_dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
    {"name": "input_2", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "input_dtype": "float32", "sparse": false, "name": "input_2"}, "inbound_nodes": []},
    {"name": "dense_1", "class_name": "Dense", "config": {"name": "dense_1", "output_dim": 2}, "inbound_nodes": [[["input_1", 0, 0]], [["input_2", 0, 0]]]},
    {"name": "merge_1", "class_name": "Merge", "config": {"name": "merge_1", "mode": "concat"}, "inbound_nodes": [[["dense_1", 0, 0], ["dense_1", 1, 0]]]}],
  "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]],
  "output_layers": [["merge_1", 0, 0]]}})";

TEST(FunctionalConfig, Keras1SharedLayerAndListCall) {
  const json model = json::parse(kKeras1);
  EXPECT_EQ(functional_dialect(model, "m"), FunctionalDialect::keras1);
  const FunctionalSpec spec = parse_functional_config(model, "m.h5");
  EXPECT_EQ(spec.name, "model_1");
  ASSERT_EQ(spec.layers.size(), 4u);
  EXPECT_TRUE(spec.layers[0].nodes.empty());
  EXPECT_EQ(spec.layers[0].layer,
            json({{"class_name", "InputLayer"}, {"config", model["config"]["layers"][0]["config"]}}));
  const LayerSpec& dense = layer_named(spec, "dense_1");
  ASSERT_EQ(dense.nodes.size(), 2u);
  EXPECT_EQ(dense.nodes[0], (NodeSpec{ref("input_1", 0, 0), {}, {}}));
  EXPECT_EQ(dense.nodes[1], (NodeSpec{ref("input_2", 0, 0), {}, {}}));
  EXPECT_EQ(layer_named(spec, "merge_1").nodes.at(0),
            (NodeSpec{ref("dense_1", 0, 0), {ref("dense_1", 1, 0)}, {}}));
  EXPECT_EQ(spec.inputs, (std::vector{ref("input_1", 0, 0), ref("input_2", 0, 0)}));
  EXPECT_EQ(spec.outputs, std::vector{ref("merge_1", 0, 0)});
}

// Keras 2.1.5, keras/engine/topology.py Network.get_config: entries [name, node, tensor, kwargs], kwargs {}
// when the call's arguments were not JSON (RNN.__call__ put the initial_state tensors there); RNN.__call__
// (keras/layers/recurrent.py) calls the layer on [inputs] + initial_state.
const char* kKeras2 = R"({"class_name": "Model", "config": {"name": "model_1",
  "layers": [
    {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, null, 5], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
    {"name": "input_2", "class_name": "InputLayer", "config": {"batch_input_shape": [null, null, 6], "dtype": "float32", "sparse": false, "name": "input_2"}, "inbound_nodes": []},
    {"name": "gru_1", "class_name": "GRU", "config": {"name": "gru_1", "units": 4, "return_state": true}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
    {"name": "gru_2", "class_name": "GRU", "config": {"name": "gru_2", "units": 4, "return_sequences": true}, "inbound_nodes": [[["input_2", 0, 0, {}], ["gru_1", 0, 1, {}]]]},
    {"name": "dense_1", "class_name": "Dense", "config": {"name": "dense_1", "units": 6}, "inbound_nodes": [[["gru_2", 0, 0, {"training": true}]]]}],
  "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]],
  "output_layers": [["dense_1", 0, 0]]}})";

TEST(FunctionalConfig, Keras2AppendedInitialState) {
  const json model = json::parse(kKeras2);
  EXPECT_EQ(functional_dialect(model, "m"), FunctionalDialect::keras2);
  const FunctionalSpec spec = parse_functional_config(model, "m.h5");
  EXPECT_EQ(layer_named(spec, "gru_1").nodes.at(0), (NodeSpec{ref("input_1", 0, 0), {}, {}}));
  EXPECT_EQ(layer_named(spec, "gru_2").nodes.at(0),
            (NodeSpec{ref("input_2", 0, 0), {}, {ref("gru_1", 0, 1)}}));
  // training is the model's phase, not the config's.
  EXPECT_EQ(layer_named(spec, "dense_1").nodes.at(0), (NodeSpec{ref("gru_2", 0, 0), {}, {}}));
  EXPECT_EQ(layer_named(spec, "gru_2").layer,
            json({{"class_name", "GRU"}, {"config", model["config"]["layers"][3]["config"]}}));
}

// tf.keras 2.11, keras/engine/node.py Node.serialize: every call argument but the first becomes a kwarg whose
// Keras tensors are [name, node, tensor]; the first argument is mapped with tf.nest (so it may nest), and a
// layer with _preserve_input_structure_in_config writes a lone tensor unwrapped. Functional.process_node
// reads kwargs["initial_state"] back as tensors.
const char* kTfKerasKwargs = R"({"class_name": "Functional", "config": {"name": "model",
  "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 7, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "x"}, "name": "x", "inbound_nodes": []},
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "h"}, "name": "h", "inbound_nodes": []},
    {"class_name": "SimpleRNN", "config": {"name": "simple_rnn", "units": 3}, "name": "simple_rnn", "inbound_nodes": [[["x", 0, 0, {"initial_state": [["h", 0, 0]], "training": false}]]]},
    {"class_name": "Dense", "config": {"name": "dense", "units": 1}, "name": "dense", "inbound_nodes": [["simple_rnn", 0, 0, {}]]},
    {"class_name": "Concatenate", "config": {"name": "concatenate", "axis": -1}, "name": "concatenate", "inbound_nodes": [[[["dense", 0, 0, {}], ["h", 0, 0, {}]]]]}],
  "input_layers": [["x", 0, 0], ["h", 0, 0]],
  "output_layers": [["concatenate", 0, 0]]}})";

TEST(FunctionalConfig, TfKerasKwargInitialStateAndNesting) {
  const json model = json::parse(kTfKerasKwargs);
  EXPECT_EQ(functional_dialect(model, "m"), FunctionalDialect::tf_keras2);
  const FunctionalSpec spec = parse_functional_config(model, "m.h5");
  EXPECT_EQ(layer_named(spec, "simple_rnn").nodes.at(0), (NodeSpec{ref("x", 0, 0), {}, {ref("h", 0, 0)}}));
  EXPECT_EQ(layer_named(spec, "dense").nodes.at(0), (NodeSpec{ref("simple_rnn", 0, 0), {}, {}}));
  EXPECT_EQ(layer_named(spec, "concatenate").nodes.at(0),
            (NodeSpec{ref("dense", 0, 0), {ref("h", 0, 0)}, {}}));
}

// Keras 3.6, keras/src/models/functional.py serialize_node and serialization_lib.serialize_keras_object:
// {"args": [...], "kwargs": {...}} with tensors as __keras_tensor__; an RNN records training (its default)
// and the mask it filled in; initial_state a list (or one tensor); input_layers/output_layers flat for one.
json keras_tensor(const std::string& layer, int node, int tensor, const json& shape) {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", shape}, {"dtype", "float32"}, {"keras_history", {layer, node, tensor}}}}};
}

json keras3_model() {
  const json seq = json::parse("[null, 4, 2]"), state = json::parse("[null, 3]");
  const auto layer = [](const std::string& cls, const std::string& name, json nodes) {
    return json{
        {"module", "keras.layers"},   {"class_name", cls}, {"config", {{"name", name}, {"trainable", true}}},
        {"registered_name", nullptr}, {"name", name},      {"inbound_nodes", std::move(nodes)}};
  };
  json layers = json::array();
  layers.push_back(layer("InputLayer", "input_layer", json::array()));
  layers.push_back(layer("InputLayer", "input_layer_1", json::array()));
  layers.push_back(layer("GRU", "gru",
                         {{{"args", {keras_tensor("input_layer_1", 0, 0, seq)}},
                           {"kwargs", {{"training", false}, {"mask", nullptr}}}}}));
  layers.push_back(
      layer("LSTM", "lstm",
            {{{"args", {keras_tensor("input_layer", 0, 0, seq)}},
              {"kwargs",
               {{"initial_state", {keras_tensor("gru", 0, 0, state), keras_tensor("gru", 0, 0, state)}},
                {"training", false}}}},
             {{"args", {keras_tensor("input_layer_1", 0, 0, seq)}},
              {"kwargs", {{"initial_state", {keras_tensor("gru", 0, 0, state)}}, {"training", false}}}}}));
  layers.push_back(
      layer("Dense", "dense", {{{"args", {keras_tensor("lstm", 1, 0, state)}}, {"kwargs", json::object()}}}));
  return {{"module", "keras.src.models.functional"},
          {"class_name", "Functional"},
          {"config",
           {{"name", "functional"},
            {"trainable", true},
            {"layers", layers},
            {"input_layers", {{"input_layer", 0, 0}, {"input_layer_1", 0, 0}}},
            {"output_layers", {"dense", 0, 0}}}},
          {"registered_name", "Functional"},
          {"build_config", {{"input_shape", nullptr}}}};
}

TEST(FunctionalConfig, Keras3ArgsKwargs) {
  const json model = keras3_model();
  EXPECT_EQ(functional_dialect(model, "m"), FunctionalDialect::keras3);
  KerasTensorTypes types;
  const FunctionalSpec spec = parse_functional_config(model, "m.keras", &types);
  EXPECT_EQ(spec.name, "functional");
  const LayerSpec& lstm = layer_named(spec, "lstm");
  ASSERT_EQ(lstm.nodes.size(), 2u);
  EXPECT_EQ(lstm.nodes[0], (NodeSpec{ref("input_layer", 0, 0), {}, {ref("gru", 0, 0), ref("gru", 0, 0)}}));
  EXPECT_EQ(lstm.nodes[1], (NodeSpec{ref("input_layer_1", 0, 0), {}, {ref("gru", 0, 0)}}));
  // Keras 3 wrappers stay as they are.
  EXPECT_EQ(lstm.layer.at("module"), "keras.layers");
  EXPECT_FALSE(lstm.layer.contains("inbound_nodes"));
  EXPECT_EQ(spec.inputs, (std::vector{ref("input_layer", 0, 0), ref("input_layer_1", 0, 0)}));
  EXPECT_EQ(spec.outputs, std::vector{ref("dense", 0, 0)});
  EXPECT_EQ(types.at(ref("gru", 0, 0)), (KerasTensorType{{kNone, 3}, "float32"}));
  EXPECT_EQ(types.at(ref("input_layer", 0, 0)), (KerasTensorType{{kNone, 4, 2}, "float32"}));

  // Written back as Keras 3 writes it: the same config.
  EXPECT_EQ(functional_config_json(spec, FunctionalDialect::keras3, types), model);
  EXPECT_EQ(parse_functional_config(functional_config_json(spec, FunctionalDialect::keras3, types), "again"),
            spec);

  // One state may be given as a lone tensor (RNN.call takes a tensor or a list).
  json lone = model;
  lone["config"]["layers"][3]["inbound_nodes"][1]["kwargs"]["initial_state"] =
      keras_tensor("gru", 0, 0, json::parse("[null, 3]"));
  EXPECT_EQ(parse_functional_config(lone, "m.keras"), spec);
}

TEST(FunctionalConfig, WildKeras215Seq2seq) {
  const json model = wild("k2.1.5_kashdog_s2s_lstm");
  const FunctionalSpec spec = parse_functional_config(model, "kashdog");
  ASSERT_EQ(spec.layers.size(), 5u);
  EXPECT_EQ(layer_named(spec, "lstm_1").nodes.at(0), (NodeSpec{ref("input_1", 0, 0), {}, {}}));
  EXPECT_EQ(layer_named(spec, "lstm_2").nodes.at(0),
            (NodeSpec{ref("input_2", 0, 0), {}, {ref("lstm_1", 0, 1), ref("lstm_1", 0, 2)}}));
  EXPECT_EQ(spec.inputs, (std::vector{ref("input_1", 0, 0), ref("input_2", 0, 0)}));
  EXPECT_EQ(spec.outputs, std::vector{ref("dense_1", 0, 0)});
  // tf.keras 2.11 writes this graph in the same spelling as Keras 2.1.5: the same config, under "Functional".
  const json written = functional_config_json(spec, FunctionalDialect::tf_keras2);
  EXPECT_EQ(written.at("class_name"), "Functional");
  EXPECT_EQ(written.at("config"), model.at("config"));
  EXPECT_EQ(parse_functional_config(written, "again"), spec);
}

TEST(FunctionalConfig, WildKeras224SameStateTwice) {
  const json model = wild("k2.2.4_15louafi_katakana_seq2seq_mask");
  const FunctionalSpec spec = parse_functional_config(model, "katakana");
  EXPECT_EQ(layer_named(spec, "lstm_2").nodes.at(0),
            (NodeSpec{ref("embedding_2", 0, 0), {}, {ref("lstm_1", 0, 0), ref("lstm_1", 0, 0)}}));
  EXPECT_EQ(layer_named(spec, "time_distributed_1").nodes.at(0), (NodeSpec{ref("lstm_2", 0, 0), {}, {}}));
  EXPECT_EQ(spec.outputs, std::vector{ref("time_distributed_1", 0, 0)});
  const json written = functional_config_json(spec, FunctionalDialect::tf_keras2);
  EXPECT_EQ(written.at("config"), model.at("config"));
  EXPECT_EQ(parse_functional_config(written, "again"), spec);
}

TEST(FunctionalConfig, WildTfKeras215ThreeOutputs) {
  const json model = wild("k2.15.0_mina_conv1d_bn_pool_3xlstm_3out");
  EXPECT_EQ(functional_dialect(model, "m"), FunctionalDialect::tf_keras2);
  const FunctionalSpec spec = parse_functional_config(model, "mina");
  ASSERT_EQ(spec.layers.size(), 14u);
  EXPECT_EQ(spec.inputs, std::vector{ref("input_2", 0, 0)});
  EXPECT_EQ(spec.outputs, (std::vector{ref("pitch", 0, 0), ref("st_time", 0, 0), ref("duration", 0, 0)}));
  for (const char* head : {"pitch", "st_time", "duration"})
    EXPECT_EQ(layer_named(spec, head).nodes.at(0), (NodeSpec{ref("dropout_8", 0, 0), {}, {}}));
  const json written = functional_config_json(spec, FunctionalDialect::tf_keras2);
  // tf.keras 2.15 added "trainable" to the model's config; the rest is as 2.11 writes it.
  json expected = model.at("config");
  expected.erase("trainable");
  EXPECT_EQ(written.at("config"), expected);
  EXPECT_EQ(parse_functional_config(written, "again"), spec);
}

TEST(FunctionalConfig, WildKeras3AttentionListInput) {
  const json model = wild("k3.12.1_wassima_lstm_attention_flatten");
  KerasTensorTypes types;
  const FunctionalSpec spec = parse_functional_config(model, "wassima", &types);
  // Attention()([lstm, lstm]): one positional argument, a list; the second tensor is an extra input.
  EXPECT_EQ(layer_named(spec, "attention").nodes.at(0),
            (NodeSpec{ref("lstm", 0, 0), {ref("lstm", 0, 0)}, {}}));
  EXPECT_EQ(layer_named(spec, "lstm").nodes.at(0), (NodeSpec{ref("input_layer", 0, 0), {}, {}}));
  EXPECT_EQ(spec.inputs, std::vector{ref("input_layer", 0, 0)});
  EXPECT_EQ(spec.outputs, std::vector{ref("dense", 0, 0)});
  EXPECT_EQ(types.at(ref("flatten", 0, 0)), (KerasTensorType{{kNone, 3000}, "float32"}));
  // Keras 3's writer gives back the file's own config (the model's compile_config aside).
  const json written = functional_config_json(spec, FunctionalDialect::keras3, types);
  EXPECT_EQ(written.at("config"), model.at("config"));
  json top = model;
  top.erase("compile_config");
  EXPECT_EQ(written, top);
  EXPECT_EQ(parse_functional_config(written, "again"), spec);
}

TEST(FunctionalConfig, GeneratedTf211FixtureFiles) {
  // The model_config the fixture generator wrote into its tf.keras 2.11 files.
  const json seq2seq =
      json::parse(h5::Reader::open_file(test_data("model_files/functional/seq2seq.tf2.11.h5"))
                      .string_attribute("/", "model_config"));
  const FunctionalSpec spec = parse_functional_config(seq2seq, "seq2seq");
  EXPECT_EQ(
      layer_named(spec, "decoder_lstm").nodes.at(0),
      (NodeSpec{ref("decoder_inputs", 0, 0), {}, {ref("encoder_lstm", 0, 1), ref("encoder_lstm", 0, 2)}}));
  EXPECT_EQ(functional_config_json(spec, FunctionalDialect::tf_keras2), seq2seq);

  const json shared =
      json::parse(h5::Reader::open_file(test_data("model_files/functional/shared_two_in_two_out.tf2.11.h5"))
                      .string_attribute("/", "model_config"));
  const FunctionalSpec two = parse_functional_config(shared, "shared");
  const LayerSpec& lstm = layer_named(two, "shared_lstm");
  EXPECT_EQ(lstm.nodes,
            (std::vector{NodeSpec{ref("input_a", 0, 0), {}, {}}, NodeSpec{ref("input_b", 0, 0), {}, {}}}));
  EXPECT_EQ(layer_named(two, "head_b").nodes.at(0), (NodeSpec{ref("shared_lstm", 1, 0), {}, {}}));
  EXPECT_EQ(two.outputs, (std::vector{ref("head_a", 0, 0), ref("head_b", 0, 0)}));
  EXPECT_EQ(functional_config_json(two, FunctionalDialect::tf_keras2), shared);
}

TEST(FunctionalConfig, Keras3WriterWrapsKeras2Layers) {
  // A layer given in the tf.keras dialect gets Keras 3's module, registered_name and build_config; an RNN
  // called with initial_state its shapes_dict.
  const FunctionalSpec spec = parse_functional_config(json::parse(kKeras2), "m.h5");
  KerasTensorTypes types{{ref("input_1", 0, 0), {{kNone, kNone, 5}}},
                         {ref("input_2", 0, 0), {{kNone, kNone, 6}}},
                         {ref("gru_1", 0, 1), {{kNone, 4}}},
                         {ref("gru_2", 0, 0), {{kNone, kNone, 4}}}};
  const json written = functional_config_json(spec, FunctionalDialect::keras3, types);
  const json& gru2 = written["config"]["layers"][3];
  EXPECT_EQ(gru2["module"], "keras.layers");
  EXPECT_TRUE(gru2["registered_name"].is_null());
  EXPECT_EQ(gru2["build_config"], json::parse(R"({"shapes_dict": {"sequences_shape": [null, null, 6],
                                                   "initial_state_shape": [[null, 4]]}})"));
  EXPECT_EQ(gru2["inbound_nodes"][0]["kwargs"],
            json({{"initial_state", {keras_tensor("gru_1", 0, 1, json::parse("[null, 4]"))}},
                  {"training", false}}));
  EXPECT_EQ(written["config"]["layers"][4]["build_config"],
            json::parse(R"({"input_shape": [null, null, 4]})"));
  EXPECT_EQ(written["config"]["output_layers"], json::parse(R"(["dense_1", 0, 0])"));
  // Shapes are needed for every tensor a layer reads.
  types.erase(ref("gru_1", 0, 1));
  try {
    functional_config_json(spec, FunctionalDialect::keras3, types);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("['gru_1', 0, 1]"), std::string::npos) << e.what();
  }
}

void expect_error(const json& model, const std::vector<std::string>& parts) {
  const std::string message = error_of(model);
  for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
}

TEST(FunctionalConfig, Errors) {
  json nested = json::parse(kKeras2);
  nested["config"]["layers"][4]["class_name"] = "Functional";
  expect_error(nested, {"m.h5", "'dense_1'", "nested model"});  // a Dense config read as a model

  json merge3 = keras3_model();
  auto& dense_args = merge3["config"]["layers"][4]["inbound_nodes"][0]["args"];
  dense_args.push_back(keras_tensor("gru", 0, 0, json::parse("[null, 3]")));
  expect_error(merge3, {"'dense' (Dense)", "2 positional arguments"});

  json keyword = keras3_model();
  keyword["config"]["layers"][4]["inbound_nodes"][0]["kwargs"]["query"] =
      keras_tensor("gru", 0, 0, json::parse("[null, 3]"));
  expect_error(keyword, {"'dense' (Dense)", "keyword tensor 'query'"});

  json flag = keras3_model();
  flag["config"]["layers"][4]["inbound_nodes"][0]["kwargs"]["return_attention_scores"] = true;
  expect_error(flag, {"'dense'", "return_attention_scores=true"});

  json mask = json::parse(kKeras2);
  mask["config"]["layers"][4]["inbound_nodes"][0][0][3] = {{"mask", {"input_1", 0, 0}}};
  expect_error(mask, {"'dense_1'", "explicit mask"});

  json constants = json::parse(kKeras2);
  constants["config"]["layers"][3]["config"]["num_constants"] = 1;
  expect_error(constants, {"'gru_2'", "constants"});

  json missing = json::parse(kKeras2);
  missing["config"]["layers"][4]["inbound_nodes"][0][0][0] = "gru_9";
  expect_error(missing, {"'dense_1'", "no layer 'gru_9'"});

  json node = json::parse(kKeras2);
  node["config"]["layers"][4]["inbound_nodes"][0][0][1] = 1;
  expect_error(node, {"'dense_1'", "['gru_2', 1, 0]", "1 node(s)"});

  json twice = json::parse(kKeras2);
  twice["config"]["layers"][4]["name"] = "gru_2";
  twice["config"]["layers"][4]["config"]["name"] = "gru_2";
  expect_error(twice, {"two layers are named 'gru_2'"});

  json dict = keras3_model();
  dict["config"]["input_layers"] = {{"a", {"input_layer", 0, 0}}};
  expect_error(dict, {"input_layers", "dict"});

  json not_input = json::parse(kKeras2);
  not_input["config"]["input_layers"][0] = {"gru_1", 0, 0};
  expect_error(not_input, {"'gru_1' is not an InputLayer"});

  json bad_entry = json::parse(kKeras2);
  bad_entry["config"]["layers"][2]["inbound_nodes"][0][0] = {"input_1", 0};
  expect_error(bad_entry, {"'gru_1'", "3 or 4 elements"});

  json state_on_dense = keras3_model();
  state_on_dense["config"]["layers"][4]["inbound_nodes"][0]["kwargs"]["initial_state"] =
      json::array({keras_tensor("gru", 0, 0, json::parse("[null, 3]"))});
  expect_error(state_on_dense, {"'dense'", "not an RNN"});

  expect_error(json::parse(R"({"class_name": "Sequential", "config": {"layers": []}})"),
               {"m.h5", "Sequential"});

  const FunctionalSpec spec = parse_functional_config(json::parse(kKeras2), "m.h5");
  EXPECT_THROW(functional_config_json(spec, FunctionalDialect::keras1), Error);
}

}  // namespace
}  // namespace rnnkit
