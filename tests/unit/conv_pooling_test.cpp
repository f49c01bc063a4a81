// Conv1D and the 1-D pooling layers: values worked out by hand, masks as Keras passes them, configs of every
// era, files, the summary of IMDB's CNN-LSTM, errors, and a CNN-LSTM that learns. The oracle sweeps are in
// parity_test.cpp (tests/parity/fixtures/conv_*.json); finite differences in gradcheck_test.cpp.
#include <gtest/gtest.h>

#include <sstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::expect_error;

std::vector<float> values(const Tensor& t) {
  return {t.values().begin(), t.values().end()};
}

// x = [1, 2, 3, 4] as one sample of one channel.
Tensor ramp() {
  return Tensor({1, 4, 1}, {1, 2, 3, 4});
}

// A one-filter Conv1D on one channel with the kernel [1, 10, 100] (and the given bias) read off by hand.
std::vector<float> convolve(Conv1DOptions options, float bias = 0.0f) {
  Conv1D conv(1, 3, options);
  Rng rng;
  conv.build({kNone, 4, 1}, rng);
  conv.set_weights({Tensor({3, 1, 1}, {1, 10, 100}), Tensor({1}, {bias})});
  return values(conv.call(ramp())[0]);
}

TEST(Conv1D, PaddingsByHand) {
  // valid: y[t] = x[t] + 10 x[t+1] + 100 x[t+2].
  EXPECT_EQ(convolve({}, 0.5f), (std::vector<float>{321.5f, 432.5f}));
  // same: one zero on each side.
  EXPECT_EQ(convolve({.padding = "same"}), (std::vector<float>{210, 321, 432, 43}));
  // causal: two zeros on the left.
  EXPECT_EQ(convolve({.padding = "causal"}), (std::vector<float>{100, 210, 321, 432}));
  // causal, dilation 2: y[t] = x[t-4] + 10 x[t-2] + 100 x[t].
  EXPECT_EQ(convolve({.padding = "causal", .dilation_rate = 2}), (std::vector<float>{100, 200, 310, 420}));
  // same, stride 2: T_out = 2, total padding (2-1)·2 + 3 - 4 = 1, on the right: windows [1,2,3], [3,4,0].
  EXPECT_EQ(convolve({.strides = 2, .padding = "same"}), (std::vector<float>{321, 43}));
  // valid, stride 2 on 4 steps: only the window at 0 fits.
  EXPECT_EQ(convolve({.strides = 2}), (std::vector<float>{321}));
}

TEST(Conv1D, KernelLayoutIsKernelSizeChannelsFilters) {
  // Two channels, two filters: kernel[k][c][f]; y[f] = Σ_k Σ_c x[k][c] kernel[k][c][f].
  Conv1D conv(2, 2, {.use_bias = false});
  Rng rng;
  conv.build({kNone, 2, 2}, rng);
  ASSERT_EQ(conv.get_weights()[0].shape(), (Shape{2, 2, 2}));
  conv.set_weights({Tensor({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})});
  const Tensor y = conv.call(Tensor({1, 2, 2}, {1, 10, 100, 1000}))[0];
  // f=0: 1·1 + 10·3 + 100·5 + 1000·7 = 7531; f=1: 1·2 + 10·4 + 100·6 + 1000·8 = 8642.
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2}));
  EXPECT_EQ(y[0], 7531.0f);
  EXPECT_EQ(y[1], 8642.0f);
}

TEST(Pooling1D, WindowsByHand) {
  const auto values = [](Layer&& layer) { return rnnkit::values(layer.call(ramp())[0]); };
  EXPECT_EQ(values(MaxPooling1D(2)), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(MaxPooling1D(3, {.strides = 1})), (std::vector<float>{3, 4}));
  EXPECT_EQ(values(AveragePooling1D(3)), (std::vector<float>{2}));
  // "same", pool 3, stride 1: one padding step each side, never counted: [1,2], [1,2,3], [2,3,4], [3,4].
  EXPECT_EQ(values(AveragePooling1D(3, {.strides = 1, .padding = "same"})),
            (std::vector<float>{1.5, 2, 3, 3.5}));
  // "same", pool 2, stride 1: the one padding step goes on the right.
  EXPECT_EQ(values(AveragePooling1D(2, {.strides = 1, .padding = "same"})),
            (std::vector<float>{1.5, 2.5, 3.5, 4}));
  EXPECT_EQ(values(MaxPooling1D(2, {.strides = 3, .padding = "same"})), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(GlobalMaxPooling1D()), (std::vector<float>{4}));
  EXPECT_EQ(values(GlobalAveragePooling1D()), (std::vector<float>{2.5}));
  EXPECT_EQ(GlobalAveragePooling1D({.keepdims = true}).call(ramp())[0].shape(), (Shape{1, 1, 1}));
}

TEST(Pooling1D, StridesDefaultToThePoolSize) {
  MaxPooling1D pool(3);
  EXPECT_EQ(pool.strides(), 3);
  EXPECT_EQ(pool.config().at("strides"), json::array({3}));
  EXPECT_EQ(pool.config().at("pool_size"), json::array({3}));
}

TEST(Pooling1D, TiedMaximaTakeTensorFlowsGradients) {
  // MaxPooling1D: the first of equal maxima in a window takes the gradient (TensorFlow's MaxPoolGrad).
  MaxPooling1D pool(3);
  const Tensor x({1, 3, 1}, {5, 5, 1});
  pool.call(x, {.training = true});
  EXPECT_EQ(pool.backward({Tensor({1, 1, 1}, {6})}).input.values()[0], 6.0f);
  EXPECT_EQ(pool.backward({Tensor({1, 1, 1}, {6})}).input.values()[1], 0.0f);
  // GlobalMaxPooling1D: reduce_max's gradient is split among equal maxima.
  GlobalMaxPooling1D global;
  global.call(x, {.training = true});
  const Tensor grad = global.backward({Tensor({1, 1}, {6})}).input;
  EXPECT_EQ(values(grad), (std::vector<float>{3, 3, 0}));
}

TEST(GlobalAveragePooling1D, AveragesTheUnmaskedStepsOnly) {
  GlobalAveragePooling1D pool;
  const Tensor x({2, 3, 1}, {1, 2, 6, 4, 5, 6});
  const Tensor mask({2, 3}, {1, 0, 1, 0, 0, 0});
  const Tensor y = pool.call(x, {.mask = &mask, .training = true})[0];
  EXPECT_EQ(y[0], 3.5f);          // (1 + 6) / 2
  EXPECT_TRUE(std::isnan(y[1]));  // 0 / 0, as Keras gives for a fully masked row
  const Tensor grad = pool.backward({Tensor({2, 1}, {2, 0})}).input;
  EXPECT_EQ(grad[0], 1.0f);
  EXPECT_EQ(grad[1], 0.0f);
  EXPECT_EQ(grad[2], 1.0f);
  EXPECT_FALSE(pool.compute_mask(x, &mask).has_value());
}

TEST(Conv1D, MaskStopsAtConvolutionsAndPoolings) {
  // Embedding(mask_zero) + Conv1D + LSTM: Keras's Conv1D does not support masking, so the LSTM reads every
  // step.
  Sequential masked({.seed = 3});
  masked.add(Embedding(5, 2, {.mask_zero = true}));
  masked.add(Conv1D(2, 2, {.padding = "causal"}));
  masked.add(LSTM(2));
  Sequential unmasked({.seed = 3});
  unmasked.add(Embedding(5, 2));
  unmasked.add(Conv1D(2, 2, {.padding = "causal"}));
  unmasked.add(LSTM(2));
  const Tensor ids({1, 4}, {0, 0, 3, 4});
  masked.predict(ids);
  unmasked.set_weights(masked.get_weights());
  EXPECT_EQ(values(masked.predict(ids)), values(unmasked.predict(ids)));
  Conv1D conv(2, 2);
  const Tensor mask({1, 4}, {0, 1, 1, 1});
  EXPECT_FALSE(conv.compute_mask(Tensor({1, 4, 2}), &mask).has_value());
  EXPECT_FALSE(MaxPooling1D().compute_mask(Tensor({1, 4, 2}), &mask).has_value());
  EXPECT_FALSE(GlobalMaxPooling1D().compute_mask(Tensor({1, 4, 2}), &mask).has_value());
}

TEST(GlobalAveragePooling1D, ReadsTheEmbeddingMask) {
  // Embedding(mask_zero) + GlobalAveragePooling1D: the mean of the embeddings of the non-zero ids.
  Sequential model;
  model.add(Embedding(4, 2, {.input_length = 4, .mask_zero = true}));
  model.add(GlobalAveragePooling1D());
  model.set_weights({Tensor({4, 2}, {9, 9, 1, 2, 3, 4, 5, 6})});
  const Tensor y = model.predict(Tensor({1, 4}, {1, 0, 3, 0}));
  EXPECT_EQ(values(y), (std::vector<float>{3, 4}));  // (row 1 + row 3) / 2
}

// The config round trip: config() read back gives the same config.
void expect_round_trip(const Layer& layer) {
  const json config = {{"class_name", layer.class_name()}, {"config", layer.config()}};
  const std::unique_ptr<Layer> back = layer_from_config(config, "test");
  EXPECT_EQ(back->config(), layer.config()) << config.dump();
  EXPECT_EQ(back->class_name(), layer.class_name());
}

TEST(Conv1D, ConfigRoundTripsInTfKerasFields) {
  const Conv1D conv(8, 5,
                    {.strides = 2,
                     .padding = "same",
                     .activation = "relu",
                     .use_bias = false,
                     .kernel_regularizer = L2(0.01),
                     .activity_regularizer = L1(0.001),
                     .kernel_constraint = MaxNorm(2),
                     .name = "conv"});
  const json config = conv.config();
  EXPECT_EQ(config.at("filters"), 8);
  EXPECT_EQ(config.at("kernel_size"), json::array({5}));
  EXPECT_EQ(config.at("strides"), json::array({2}));
  EXPECT_EQ(config.at("dilation_rate"), json::array({1}));
  EXPECT_EQ(config.at("padding"), "same");
  EXPECT_EQ(config.at("data_format"), "channels_last");
  EXPECT_EQ(config.at("groups"), 1);
  EXPECT_EQ(config.at("kernel_initializer").at("class_name"), "GlorotUniform");
  expect_round_trip(conv);
  expect_round_trip(Conv1D(3, 2, {.padding = "causal", .dilation_rate = 4, .activation = "tanh"}));
  expect_round_trip(MaxPooling1D(4, {.strides = 1, .padding = "same"}));
  expect_round_trip(AveragePooling1D(2));
  expect_round_trip(GlobalMaxPooling1D({.keepdims = true}));
  expect_round_trip(GlobalAveragePooling1D());
}

TEST(Conv1D, ReadsTfJsAndKeras3AndIntegerSizes) {
  // Integers where Keras writes tuples (hand-written configs, TF.js's dilation_rate).
  const auto conv = layer_from_config({{"class_name", "Conv1D"},
                                       {"config",
                                        {{"name", "c"},
                                         {"filters", 4},
                                         {"kernel_size", 3},
                                         {"strides", 1},
                                         {"dilation_rate", 2},
                                         {"padding", "causal"}}}},
                                      "test");
  EXPECT_EQ(conv->config().at("dilation_rate"), json::array({2}));
  // Keras 3: the module/registered_name wrappers and a DTypePolicy.
  const json keras3 =
      json::parse(R"({"class_name": "Sequential", "keras_version": "3.6.0", "config": {"name": "s",
    "layers": [{"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
                "config": {"batch_shape": [null, 7, 3], "dtype": "float32", "name": "input_layer"}},
               {"module": "keras.layers", "class_name": "Conv1D", "registered_name": null,
                "config": {"name": "conv1d", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
                  "filters": 4, "kernel_size": [3], "strides": [1], "padding": "valid", "data_format": "channels_last",
                  "dilation_rate": [1], "groups": 1, "activation": "relu", "use_bias": true,
                  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
                  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
                  "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
                  "kernel_constraint": null, "bias_constraint": null}},
               {"module": "keras.layers", "class_name": "GlobalMaxPooling1D", "registered_name": null,
                "config": {"name": "global_max_pooling1d", "trainable": true, "dtype": "float32", "data_format": "channels_last", "keepdims": false}}]}})");
  Model model = model_from_keras_config(keras3, "keras3");
  EXPECT_EQ(model.output_shape(), (Shape{kNone, 4}));
  EXPECT_EQ(model.count_params(), 3 * 3 * 4 + 4);
}

TEST(Conv1D, ReadsKeras1Convolution1DAndPooling) {
  // Keras 1.2's get_config of Convolution1D and MaxPooling1D, as a bare layer list.
  const json keras1 = json::parse(R"({"class_name": "Sequential", "keras_version": "1.2.2", "config": [
    {"class_name": "Convolution1D", "config": {"name": "convolution1d_1", "trainable": true,
      "batch_input_shape": [null, 10, 3], "input_dtype": "float32", "nb_filter": 6, "filter_length": 3,
      "init": "uniform", "activation": "relu", "border_mode": "same", "subsample_length": 1,
      "W_regularizer": {"l1": 0.0, "l2": 0.01, "name": "L1L2Regularizer"}, "b_regularizer": null,
      "activity_regularizer": null, "W_constraint": null, "b_constraint": null, "bias": false,
      "input_dim": 3, "input_length": 10}},
    {"class_name": "MaxPooling1D", "config": {"name": "maxpooling1d_1", "trainable": true, "pool_length": 2,
      "stride": null, "border_mode": "valid"}},
    {"class_name": "AveragePooling1D", "config": {"name": "averagepooling1d_1", "trainable": true,
      "pool_length": 2, "stride": 1, "border_mode": "same"}},
    {"class_name": "GlobalMaxPooling1D", "config": {"name": "globalmaxpooling1d_1", "trainable": true}}]})");
  Model model = model_from_keras_config(keras1, "keras1");
  const json conv = model.layer(0).config();
  EXPECT_EQ(model.layer(0).class_name(), "Conv1D");
  EXPECT_EQ(conv.at("filters"), 6);
  EXPECT_EQ(conv.at("kernel_size"), json::array({3}));
  EXPECT_EQ(conv.at("padding"), "same");
  EXPECT_EQ(conv.at("use_bias"), false);
  EXPECT_EQ(conv.at("kernel_initializer").at("class_name"), "RandomUniform");
  EXPECT_FALSE(conv.at("kernel_regularizer").is_null());
  EXPECT_EQ(model.layer(1).config().at("strides"), json::array({2}));
  EXPECT_EQ(model.layer(2).config().at("strides"), json::array({1}));
  EXPECT_EQ(model.layer(2).config().at("padding"), "same");
  EXPECT_EQ(model.output_shape(), (Shape{kNone, 6}));
  EXPECT_EQ(model.count_params(), 3 * 3 * 6);
}

// IMDB's CNN-LSTM (keras/examples/imdb_cnn_lstm.py's layer stack with the sizes of the TF tutorials).
Sequential imdb_cnn_lstm() {
  Sequential model;
  model.add(Embedding(5000, 32, {.input_length = 500}));
  model.add(Conv1D(32, 3, {.padding = "same", .activation = "relu"}));
  model.add(MaxPooling1D(2));
  model.add(LSTM(100));
  model.add(Dense(1, {.activation = "sigmoid"}));
  return model;
}

TEST(Conv1D, ImdbCnnLstmSummaryIsKeras) {
  clear_session();
  const Sequential model = imdb_cnn_lstm();
  // Param counts by hand: 5000·32; 3·32·32 + 32; 4·100·(32 + 100 + 1); 100 + 1. The max_pooling1d row is
  // wider than its column, so tf.keras 2.7-2.12 wraps it onto a second line.
  const std::string expected =
      "Model: \"sequential\"\n"
      "_________________________________________________________________\n"
      " Layer (type)                Output Shape              Param #   \n"
      "=================================================================\n"
      " embedding (Embedding)       (None, 500, 32)           160000    \n"
      "                                                                 \n"
      " conv1d (Conv1D)             (None, 500, 32)           3104      \n"
      "                                                                 \n"
      " max_pooling1d (MaxPooling1D  (None, 250, 32)          0         \n"
      " )                                                               \n"
      "                                                                 \n"
      " lstm (LSTM)                 (None, 100)               53200     \n"
      "                                                                 \n"
      " dense (Dense)               (None, 1)                 101       \n"
      "                                                                 \n"
      "=================================================================\n"
      "Total params: 216,405\n"
      "Trainable params: 216,405\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  std::ostringstream out;
  model.summary(out, SummaryStyle::keras2_12);
  EXPECT_EQ(out.str(), expected);
  // Global pooling drops the time axis; keepdims keeps it as 1; valid and strided convolutions shorten it.
  Sequential head;
  head.add(Embedding(100, 8, {.input_length = 20}));
  head.add(Conv1D(4, 5, {.strides = 2}));
  head.add(AveragePooling1D(3, {.strides = 1, .padding = "same"}));
  head.add(GlobalMaxPooling1D({.keepdims = true}));
  const std::vector<SummaryRow> rows = head.summary_table().rows;
  EXPECT_EQ(rows[1].output_shape, "(None, 8, 4)");  // (20 - 5) / 2 + 1
  EXPECT_EQ(rows[1].params, 5 * 8 * 4 + 4);
  EXPECT_EQ(rows[2].output_shape, "(None, 8, 4)");
  EXPECT_EQ(rows[3].output_shape, "(None, 1, 4)");
}

TEST(Conv1D, FilesRoundTripBitForBit) {
  const testing::TempFolder folder;
  Sequential model({.seed = 11});
  model.add(Embedding(30, 6, {.input_length = 12}));
  model.add(Conv1D(5, 3, {.padding = "causal", .dilation_rate = 2, .activation = "relu"}));
  model.add(AveragePooling1D(2, {.padding = "same"}));
  model.add(Conv1D(4, 2, {.strides = 2, .kernel_regularizer = L2(0.01)}));
  model.add(MaxPooling1D(2, {.strides = 1}));
  model.add(LSTM(3, {.return_sequences = true}));
  model.add(GlobalAveragePooling1D());
  model.add(Dense(1, {.activation = "sigmoid"}));
  Tensor ids({2, 12});
  for (std::int64_t i = 0; i < ids.size(); ++i) ids[i] = float((i * 7) % 30);
  const Tensor expected = model.predict(ids);
  for (const char* name : {"m.h5", "m.keras"}) {
    save_model(model, folder / name);
    Model loaded = load_model(folder / name);
    EXPECT_EQ(testing::weight_bytes(loaded), testing::weight_bytes(model)) << name;
    EXPECT_EQ(loaded.config().at("config").at("layers"), model.config().at("config").at("layers")) << name;
    EXPECT_EQ(values(loaded.predict(ids)), values(expected)) << name;
  }
}

TEST(Conv1D, LoadsKeras1FilesWithConvolution1D) {
  // Keras 1.1 and 1.0 files of a CNN-LSTM (tests/model_files/make_conv_fixtures.py) predict the oracle's
  // output.
  const json fixture = testing::read_json(testing::test_data("model_files/conv/conv.json"));
  const Tensor input = testing::tensor_from_json(fixture.at("input"));
  const Tensor expected = testing::tensor_from_json(fixture.at("output"));
  for (const json& entry : fixture.at("files")) {
    const std::string file = entry.at("file");
    Model model = load_model(testing::test_data("model_files/conv/" + file));
    EXPECT_EQ(model.layer(1).class_name(), "Conv1D") << file;
    EXPECT_EQ(model.layer(1).get_weights()[0].shape(), (Shape{3, 4, 3})) << file;
    EXPECT_EQ(model.count_params(), fixture.at("total_params").get<std::int64_t>()) << file;
    EXPECT_TRUE(testing::all_close(model.predict(input), expected)) << file;
  }
}

TEST(Conv1D, BadInputGetsClearErrors) {
  expect_error([] { return Conv1D(4, 3, {.data_format = "channels_first"}); },
               {"conv1d", "Conv1D", "channels_first", "channels_last"});
  expect_error([] { return Conv1D(4, 3, {.padding = "full"}); }, {"padding", "'full'", "causal"});
  expect_error([] { return Conv1D(4, 3, {.strides = 2, .dilation_rate = 2}); }, {"strides", "dilation_rate"});
  expect_error([] { return Conv1D(0, 3); }, {"filters"});
  expect_error([] { return Conv1D(4, 3, {.groups = 2}); }, {"groups"});
  expect_error([] { return MaxPooling1D(2, {.padding = "causal"}); },
               {"MaxPooling1D", "padding", "'causal'"});
  expect_error([] { return AveragePooling1D(0); }, {"pool_size"});
  expect_error([] { return GlobalMaxPooling1D({.data_format = "channels_first"}); }, {"channels_first"});
  Conv1D conv(2, 5, {.name = "short"});
  expect_error([&] { return conv.call(Tensor({1, 4, 3})); }, {"'short'", "4 steps", "5 steps"});
  Conv1D dilated(2, 3, {.dilation_rate = 3, .name = "dilated"});
  Rng rng;
  expect_error([&] { dilated.build({kNone, 6, 2}, rng); }, {"'dilated'", "6 steps", "7 steps"});
  expect_error([&] { MaxPooling1D(3).call(Tensor({1, 2, 1})); }, {"MaxPooling1D", "2 steps", "pool_size 3"});
  expect_error([] { return Conv1D(2, 2).call(Tensor({3, 4})); }, {"Conv1D", "(batch, steps, channels)"});
  expect_error(
      [] {
        return GlobalAveragePooling1D().call(Tensor({3, 4}));
      },
      {"GlobalAveragePooling1D", "(batch, steps, channels)"});
  expect_error(
      [] {
        return layer_from_config(
            {{"class_name", "Conv1D"}, {"config", {{"name", "c"}, {"filters", 2}, {"kernel_size", {3, 3}}}}},
            "file.json");
      },
      {"file.json", "'c'", "kernel_size", "[3,3]"});
  expect_error(
      [] {
        return layer_from_config(
            {{"class_name", "Conv1D"},
             {"config", {{"name", "c"}, {"filters", 2}, {"kernel_size", 3}, {"lora_rank", 4}}}},
            "file.json");
      },
      {"'c'", "lora_rank"});
}

// Sequences of 16 token ids from 2..19 (0 and 1 unused); the label is whether the bigram (3, 7) occurs.
struct NgramData {
  Tensor x, y;
};

NgramData ngram_data(std::int64_t samples, std::uint64_t seed) {
  Rng rng(seed);
  constexpr std::int64_t kSteps = 16;
  NgramData data{Tensor({samples, kSteps}), Tensor({samples, 1})};
  for (std::int64_t i = 0; i < samples; ++i) {
    for (std::int64_t t = 0; t < kSteps; ++t) {
      float id = float(2 + rng.next() % 18);
      if (id == 3.0f && t + 1 < kSteps && rng.next() % 2 == 0) id = 4.0f;  // fewer accidental bigrams
      data.x.at({i, t}) = id;
    }
    if (i % 2 == 0) {  // half the samples get the bigram at a random place
      const auto t = std::int64_t(rng.next() % (kSteps - 1));
      data.x.at({i, t}) = 3.0f;
      data.x.at({i, t + 1}) = 7.0f;
    }
    bool found = false;
    for (std::int64_t t = 0; t + 1 < kSteps; ++t)
      found = found || (data.x.at({i, t}) == 3.0f && data.x.at({i, t + 1}) == 7.0f);
    data.y.at({i, 0}) = found ? 1.0f : 0.0f;
  }
  return data;
}

TEST(Conv1D, CnnLstmLearnsALocalBigram) {
  const NgramData train = ngram_data(512, 1), test = ngram_data(256, 2);
  Sequential model({.seed = 7});
  model.add(Embedding(20, 8, {.input_length = 16}));
  model.add(Conv1D(16, 2, {.padding = "same", .activation = "relu"}));
  model.add(MaxPooling1D(2));
  model.add(LSTM(8));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile(
      {.loss = "binary_crossentropy", .optimizer = Adam({.learning_rate = 0.01}), .metrics = {"accuracy"}});
  model.fit(train.x, train.y, {.epochs = 15, .batch_size = 32, .verbose = 0});
  const double accuracy = model.evaluate(test.x, test.y, {.verbose = 0}).at("accuracy");
  std::cout << "CNN-LSTM on the bigram task, held-out accuracy " << accuracy << "\n";
  EXPECT_GE(accuracy, 0.95);
}

}  // namespace
}  // namespace rnnkit
