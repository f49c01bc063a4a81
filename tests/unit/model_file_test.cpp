// Keras model files (.h5, .keras): the fixtures of tests/model_files, written by make_fixtures.py with h5py
// in the layouts of Keras 1.2.2, 2.2.4, tf.keras 1.x/2.11 and Keras 3, must load with the summary Keras
// prints and the oracle's predictions; what rnnkit writes must load back bit for bit and have Keras's layout;
// broken files must give an error that names the file and the place inside it.
#include "rnnkit/model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "io/keras_h5.h"
#include "io/keras_zip.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::all_close;
using testing::tensor_from_json;

fs::path model_files(const std::string& relative) {
  return testing::test_data("model_files/" + relative);
}

const json& fixtures() {
  static const json manifest = testing::read_json(model_files("fixtures.json"));
  return manifest;
}

using testing::TempFolder;
using testing::weight_bytes;

// The model a fixture file describes: a whole model file, or the architecture JSON plus a weights file.
Sequential load_fixture(const json& entry) {
  const fs::path file = model_files("files/" + entry.at("file").get<std::string>());
  if (!entry.contains("weights_only")) return load_model(file);
  Sequential model = load_model(model_files("files/" + entry.at("weights_only").get<std::string>()));
  load_weights(model, file);
  return model;
}

std::string fixture_name(const ::testing::TestParamInfo<json>& info) {
  std::string name = info.param.at("file").get<std::string>();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

std::vector<json> fixture_entries() {
  const json& files = fixtures().at("files");
  return {files.begin(), files.end()};
}

// Runs a command; its output goes to a file whose text is returned with the exit status.
std::pair<int, std::string> run(const std::string& command, const TempFolder& folder) {
  const fs::path output = folder / "command-output.txt";
  const int status = std::system((command + " > '" + output.string() + "' 2>&1").c_str());
  return {status, testing::read_text(output)};
}

bool have_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0;
}

class ModelFileFixture : public ::testing::TestWithParam<json> {
 protected:
  void SetUp() override { clear_session(); }  // Keras 1 files name no model: it takes the first free name
};

TEST_P(ModelFileFixture, LoadsWithKerasSummaryAndOraclePredictions) {
  const json& entry = GetParam();
  RecordProperty("writer", entry.at("writer").get<std::string>());
  Sequential model = load_fixture(entry);
  // Keras prints an InputLayer row for a Functional model, which rnnkit loads as a Sequential: no summary.
  if (entry.contains("summary_keras2.12")) {
    EXPECT_EQ(model.summary_text(SummaryStyle::keras2_12), entry.at("summary_keras2.12").get<std::string>());
  }
  const json& oracle = fixtures().at("models").at(entry.at("model").get<std::string>());
  EXPECT_TRUE(
      all_close(model.predict(tensor_from_json(oracle.at("input"))), tensor_from_json(oracle.at("output"))));
}

TEST_P(ModelFileFixture, RoundTripsBitForBitThroughBothFormats) {
  const TempFolder folder;
  const Sequential original = load_fixture(GetParam());
  const json config = original.config();
  const std::string weights = weight_bytes(original);
  for (const char* first : {"a.h5", "a.keras"}) {
    for (const char* second : {"b.h5", "b.keras"}) {
      SCOPED_TRACE(std::string(first) + " -> " + second);
      save_model(original, folder / first);
      const Sequential once = load_model(folder / first);
      save_model(once, folder / second);
      const Sequential twice = load_model(folder / second);
      EXPECT_EQ(once.config(), config) << json::diff(once.config(), config).dump();
      EXPECT_EQ(twice.config(), config);
      EXPECT_EQ(weight_bytes(once), weights);
      EXPECT_EQ(weight_bytes(twice), weights);
    }
  }
  for (const char* name : {"w.h5", "w.weights.h5", "w.npz"}) {
    SCOPED_TRACE(name);
    save_weights(original, folder / name);
    Sequential fresh = model_from_config(config, "config");
    if (!fresh.built()) fresh.build(original.input_shape());
    load_weights(fresh, folder / name);
    EXPECT_EQ(weight_bytes(fresh), weights);
  }
}

INSTANTIATE_TEST_SUITE_P(ModelFileFixtures, ModelFileFixture, ::testing::ValuesIn(fixture_entries()),
                         fixture_name);

// The files written the way the Keras that rnnkit writes (tf.keras 2.11, Keras 3) writes them.
std::vector<json> layout_references() {
  std::vector<json> entries;
  for (const json& entry : fixture_entries())
    if (entry.contains("layout_reference")) entries.push_back(entry);
  return entries;
}

class ModelFileLayout : public ModelFileFixture {};

TEST_P(ModelFileLayout, WrittenFileHasTheLayoutKerasWrites) {
  const json& entry = GetParam();
  ASSERT_TRUE(have_h5py()) << "the layout check needs /usr/bin/python3 with h5py (scripts/setup installs it)";
  const TempFolder folder;
  const fs::path reference = model_files("files/" + entry.at("file").get<std::string>());
  const fs::path ours = folder / (entry.at("layout_reference") == "h5" ? "ours.h5" : "ours.keras");
  save_model(load_fixture(entry), ours);
  const auto [status, output] = run("/usr/bin/python3 '" + model_files("inspect_layout.py").string() +
                                        "' --compare '" + ours.string() + "' '" + reference.string() + "'",
                                    folder);
  EXPECT_EQ(status, 0) << output;
}

INSTANTIATE_TEST_SUITE_P(ModelFileLayouts, ModelFileLayout, ::testing::ValuesIn(layout_references()),
                         fixture_name);

// ---- Malformed files

std::vector<json> malformed_cases() {
  const json manifest = testing::read_json(model_files("malformed/manifest.json"));
  return {manifest.at("cases").begin(), manifest.at("cases").end()};
}

class ModelFileMalformed : public ::testing::TestWithParam<json> {};

TEST_P(ModelFileMalformed, FailsWithAnErrorNamingFileAndPlace) {
  const json& spec = GetParam();
  const fs::path file = model_files("malformed/" + spec.at("file").get<std::string>());
  if (spec.at("function") == "loads") {
    const Sequential model = load_model(file);
    bool has_nan = false;
    for (const Tensor& weight : model.get_weights())
      for (const float value : weight.values()) has_nan = has_nan || std::isnan(value);
    EXPECT_TRUE(has_nan);
    return;
  }
  try {
    load_model(file);
    ADD_FAILURE() << "loaded without an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const json& part : spec.at("expect"))
      EXPECT_NE(message.find(part.get<std::string>()), std::string::npos)
          << "expected '" << part.get<std::string>() << "' in: " << message;
  }
  // The same bytes from memory (the fuzzers' way in) fail the same way, without the file name.
  const std::string bytes = testing::read_text(file);
  EXPECT_THROW(load_model_from_memory(bytes, "bytes"), Error);
}

INSTANTIATE_TEST_SUITE_P(ModelFileCorpus, ModelFileMalformed, ::testing::ValuesIn(malformed_cases()),
                         fixture_name);

// ---- Writing

// A model with every layer and the options that change its maths or its file layout.
Sequential every_layer_model(const std::string& hard_sigmoid = "sigmoid") {
  Sequential model;
  model.add(Embedding(20, 4, {.input_length = 5, .mask_zero = true, .batch_input_shape = Shape{kNone, 5}}));
  model.add(SimpleRNN(
      3, {.activation = "relu", .use_bias = false, .return_sequences = true, .go_backwards = true}));
  model.add(
      LSTM(3, {.recurrent_activation = hard_sigmoid, .return_sequences = true, .unit_forget_bias = false}));
  model.add(GRU(2, {.return_sequences = true, .reset_after = false}));
  model.add(Bidirectional(GRU(2, {.return_sequences = true}), {.merge_mode = "ave"}));
  model.add(Dropout(0.25f));
  model.add(Bidirectional(LSTM(2, {.return_sequences = true}), {.merge_mode = "mul"}));
  model.add(TimeDistributed(Dense(3, {.activation = "softmax"})));
  model.add(Bidirectional(SimpleRNN(2), {.merge_mode = "sum"}));
  model.add(Dense(2, {.activation = "tanh", .use_bias = false}));
  return model;
}

Tensor token_ids() {
  return Tensor({3, 5}, {0, 0, 3, 7, 19, 1, 2, 3, 4, 5, 0, 11, 0, 12, 13});
}

TEST(ModelFileWrite, EveryLayerRoundTripsWithTheSamePredictions) {
  const TempFolder folder;
  for (const std::string activation : {"sigmoid", "hard_sigmoid", "hard_sigmoid_keras3"}) {
    Sequential model = every_layer_model(activation);
    const Tensor expected = model.predict(token_ids());
    for (const std::string extension : {".h5", ".keras"}) {
      const bool expressible =
          activation == "sigmoid" || (activation == "hard_sigmoid") == (extension == ".h5");
      SCOPED_TRACE(activation + extension);
      const fs::path file = folder / (activation + extension);
      if (!expressible) {
        EXPECT_THROW(save_model(model, file), Error);
        EXPECT_FALSE(fs::exists(file));
        continue;
      }
      save_model(model, file);
      Sequential loaded = load_model(file);
      EXPECT_EQ(loaded.config(), model.config());
      EXPECT_EQ(weight_bytes(loaded), weight_bytes(model));
      EXPECT_TRUE(all_close(loaded.predict(token_ids()), expected, 0, 0));
    }
  }
}

TEST(ModelFileWrite, Keras3ConfigSpeaksKeras3) {
  const TempFolder folder;
  Sequential model = every_layer_model("hard_sigmoid_keras3");
  const json config = keras3::model_config(model);
  EXPECT_EQ(config.at("module"), "keras");
  const json& layers = config.at("config").at("layers");
  EXPECT_EQ(layers.at(0).at("class_name"), "InputLayer");
  EXPECT_EQ(layers.at(0).at("config").at("batch_shape"), json::parse("[null, 5]"));
  const json& lstm = layers.at(3).at("config");
  EXPECT_EQ(lstm.at("recurrent_activation"), "hard_sigmoid");
  EXPECT_EQ(lstm.at("dtype").at("class_name"), "DTypePolicy");
  EXPECT_FALSE(lstm.contains("time_major"));
  const json& bidirectional = layers.at(5).at("config");
  EXPECT_EQ(bidirectional.at("layer").at("config").at("name"),
            "forward_" + model.layer(4).config().at("layer").at("config").at("name").get<std::string>());
  EXPECT_EQ(bidirectional.at("backward_layer").at("config").at("go_backwards"), true);
  EXPECT_EQ(bidirectional.at("layer").at("config").at("zero_output_for_mask"), true);
  EXPECT_EQ(layers.at(1).at("build_config").at("input_shape"), json::parse("[null, 5]"));
}

TEST(ModelFileWrite, UnbuiltModelsAndBadNamesAreClearErrors) {
  const TempFolder folder;
  Sequential model;
  model.add(Dense(3));
  EXPECT_THROW(save_weights(model, folder / "w.h5"), Error);
  model.build({kNone, 4});
  try {
    save_model(model, folder / "model.onnx");
    ADD_FAILURE() << "saved to .onnx";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(".keras"), std::string::npos) << error.what();
  }
  EXPECT_THROW(save_weights(model, folder / "w.bin"), Error);
  EXPECT_THROW(save_model(model, folder / "no-such-folder" / "m.h5"), Error);
}

TEST(ModelFileWrite, FailedSaveLeavesTheOldFile) {
  const TempFolder folder;
  const fs::path target = folder / "model.h5";
  save_model(every_layer_model(), target);
  const std::string before = testing::read_text(target);
  EXPECT_THROW(save_model(every_layer_model("hard_sigmoid_keras3"), target), Error);
  EXPECT_EQ(testing::read_text(target), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(folder / ""), fs::directory_iterator{}), 1);
}

TEST(ModelFileWrite, LongLayerListsAreChunkedAsKerasChunksThem) {
  // Keras splits layer_names into layer_names0, layer_names1, ... once np.asarray(names) exceeds 64512 bytes.
  const TempFolder folder;
  Sequential model({.name = "deep"});
  model.add(InputLayer({.input_shape = Shape{2}}));
  for (int i = 0; i < 700; ++i)
    model.add(Dense(2, {.name = "dense_layer_with_a_rather_long_name_to_fill_the_header_" +
                                std::string(40, 'x') + std::to_string(i)}));
  save_model(model, folder / "deep.h5");
  {
    const h5::Reader file = h5::Reader::open_file(folder / "deep.h5");
    EXPECT_FALSE(file.has_attribute("/model_weights", "layer_names"));
    EXPECT_TRUE(file.has_attribute("/model_weights", "layer_names0"));
    EXPECT_TRUE(file.has_attribute("/model_weights", "layer_names1"));
  }
  const Sequential loaded = load_model(folder / "deep.h5");
  EXPECT_EQ(loaded.size(), 700u);
  EXPECT_EQ(weight_bytes(loaded), weight_bytes(model));
}

// ---- Reading details

TEST(ModelFileRead, DetectsTheFormatFromTheBytesNotTheName) {
  EXPECT_EQ(detect_model_file_format_from_bytes(std::string("\x89HDF\r\n\x1a\n", 8)), ModelFileFormat::kHdf5);
  std::string user_block(512, '\0');
  user_block += std::string("\x89HDF\r\n\x1a\n", 8);
  EXPECT_EQ(detect_model_file_format_from_bytes(user_block), ModelFileFormat::kHdf5);
  EXPECT_EQ(detect_model_file_format_from_bytes("PK\x03\x04rest"), ModelFileFormat::kZip);
  EXPECT_EQ(detect_model_file_format_from_bytes(" \n{\"class_name\""), ModelFileFormat::kJson);
  EXPECT_EQ(detect_model_file_format_from_bytes("GIF89a"), ModelFileFormat::kUnknown);
  EXPECT_EQ(detect_model_file_format_from_bytes(""), ModelFileFormat::kUnknown);
  // A Keras 2 .h5 named .keras still loads as HDF5.
  const TempFolder folder;
  fs::copy_file(model_files("files/simple_rnn.tf2.11.h5"), folder / "actually_h5.keras");
  EXPECT_EQ(load_model_file(folder / "actually_h5.keras").format, ModelFileFormat::kHdf5);
}

TEST(ModelFileRead, ReportsTheKerasVersionAndItsSummaryStyle) {
  EXPECT_EQ(load_model_file(model_files("files/simple_rnn.tf2.11.h5")).keras_version, "2.11.0");
  EXPECT_EQ(load_model_file(model_files("files/simple_rnn.keras3.keras")).keras_version, "3.6.0");
  EXPECT_EQ(load_model_file(model_files("files/char_rnn_td.keras1.2.2.h5")).keras_version, "1.2.2");
  EXPECT_EQ(summary_style_for_keras_version("2.2.4-tf", SummaryStyle::keras2_12), SummaryStyle::keras2_6);
  EXPECT_EQ(summary_style_for_keras_version("2.11.0", SummaryStyle::keras3), SummaryStyle::keras2_12);
  EXPECT_EQ(summary_style_for_keras_version("2.15.1", SummaryStyle::keras2_12), SummaryStyle::keras2_15);
  EXPECT_EQ(summary_style_for_keras_version("3.6.0", SummaryStyle::keras2_12), SummaryStyle::keras3);
  EXPECT_EQ(summary_style_for_keras_version("tfjs-layers 4.22.0", SummaryStyle::keras2_12),
            SummaryStyle::keras2_12);
}

TEST(ModelFileRead, FromMemoryEqualsFromFile) {
  for (const char* name :
       {"stacked_gru.tf2.11.h5", "stacked_gru.keras3.keras", "embedding_lstm_dense.json"}) {
    SCOPED_TRACE(name);
    const fs::path file = model_files(std::string("files/") + name);
    const Sequential from_file = load_model(file);
    const Sequential from_memory = load_model_from_memory(testing::read_text(file), name);
    EXPECT_EQ(from_memory.config(), from_file.config());
    EXPECT_EQ(weight_bytes(from_memory), weight_bytes(from_file));
  }
}

TEST(ModelFileRead, Keras3ConfigsReadAsTheirKeras2Equivalents) {
  // The same model from tf.keras 2.11's .h5 and Keras 3's .keras: one model, one config.
  for (const char* model : {"embedding_bilstm_dense", "char_rnn_td", "stacked_gru", "lstm_dropout_td"}) {
    SCOPED_TRACE(model);
    const Sequential keras2 = load_model(model_files(std::string("files/") + model + ".tf2.11.h5"));
    const Sequential keras3 = load_model(model_files(std::string("files/") + model + ".keras3.keras"));
    EXPECT_EQ(weight_bytes(keras3), weight_bytes(keras2));
    EXPECT_EQ(keras3.summary_text(), keras2.summary_text());
  }
}

TEST(ModelFileRead, LoadWeightsRejectsAModelOfAnotherShape) {
  Sequential model;
  model.add(Embedding(100, 3, {.batch_input_shape = Shape{kNone, 6}}));
  model.add(LSTM(5));
  model.add(Dense(1));
  try {
    load_weights(model, model_files("files/embedding_lstm_dense.tf2.11.weights.h5py"));
    ADD_FAILURE() << "loaded";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("embedding_lstm_dense.tf2.11.weights.h5py"), std::string::npos) << message;
    EXPECT_NE(message.find("/lstm/lstm/lstm_cell/kernel:0"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace rnnkit

namespace rnnkit {
namespace {

// A tokenizer rides along with the model: assets/<name> in a .keras archive, the rnnkit_assets group of a
// .h5.
TEST(ModelFileAssets, RoundTripThroughBothFormatsAndAreWhereTheLayoutSays) {
  const TempFolder folder;
  const Sequential model = every_layer_model();
  const std::string tokenizer = R"({"word_index": {"말이": 1, "경마장에": 2, "있는": 3}, "oov_token": null})";
  const ModelAssets assets{
      {"tokenizer.json", tokenizer}, {"empty.txt", ""}, {"bytes.bin", std::string("a\0b\xff", 4)}};
  for (const char* name : {"m.keras", "m.h5"}) {
    SCOPED_TRACE(name);
    save_model(model, folder / name, assets);
    const LoadedModel loaded = load_model_file(folder / name);
    EXPECT_EQ(loaded.assets, assets);
    EXPECT_EQ(weight_bytes(loaded.model), weight_bytes(model));
  }
  {
    const h5::Reader file = h5::Reader::open_file(folder / "m.h5");
    EXPECT_EQ(file.kind("/rnnkit_assets/tokenizer.json"), h5::ObjectKind::kDataset);
  }
  // Without assets, nothing is added.
  save_model(model, folder / "plain.h5");
  save_model(model, folder / "plain.keras");
  EXPECT_TRUE(load_model_file(folder / "plain.h5").assets.empty());
  EXPECT_TRUE(load_model_file(folder / "plain.keras").assets.empty());
  {
    const h5::Reader file = h5::Reader::open_file(folder / "plain.h5");
    EXPECT_EQ(file.kind("/rnnkit_assets"), h5::ObjectKind::kMissing);
  }
  if (!have_h5py()) GTEST_SKIP() << "no h5py: the layout check with Python's zipfile and h5py is skipped";
  // An independent reader: Python's zipfile lists the members in Keras's order, h5py reads the bytes back.
  const fs::path script = folder / "check.py";
  std::ofstream(script)
      << "import sys, zipfile, h5py, json\n"
         "names = zipfile.ZipFile(sys.argv[1]).namelist()\n"
         "print(names[:3] == ['metadata.json', 'config.json', 'model.weights.h5'], sorted(names[3:]))\n"
         "with h5py.File(sys.argv[2], 'r') as f:\n"
         "    "
         "print(json.loads(f['rnnkit_assets/tokenizer.json'][()].tobytes().decode())['word_index']['말이'])\n"
         "    print(f['rnnkit_assets/tokenizer.json'].dtype, sorted(f.keys()))\n";
  const auto [status, output] = run("/usr/bin/python3 " + script.string() + " " +
                                        (folder / "m.keras").string() + " " + (folder / "m.h5").string(),
                                    folder);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output,
            "True ['assets/bytes.bin', 'assets/empty.txt', 'assets/tokenizer.json']\n1\n"
            "uint8 ['model_weights', 'rnnkit_assets']\n");
}

TEST(ModelFileAssets, NamesThatAreNotPlainFileNamesAreRejected) {
  const TempFolder folder;
  const Sequential model = every_layer_model();
  for (const std::string name : {"vocab/words.txt", "", "..", "a\\b"}) {
    for (const char* file : {"m.keras", "m.h5"}) {
      try {
        save_model(model, folder / file, {{name, "x"}});
        ADD_FAILURE() << "saved asset '" << name << "' to " << file;
      } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("asset name '" + name + "'"), std::string::npos) << message;
        EXPECT_NE(message.find(file), std::string::npos) << message;
      }
      EXPECT_FALSE(fs::exists(folder / file));
    }
  }
}

}  // namespace
}  // namespace rnnkit
