// Forward outputs against the oracle fixtures in tests/parity/fixtures (TF.js 4.22 and PyTorch/numpy),
// written by the generator scripts beside them.
#include <gtest/gtest.h>

#include <algorithm>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;
using testing::tensor_from_json;

struct ParityCase {
  std::string group;
  json spec;
};

std::vector<ParityCase> load_cases() {
  std::vector<ParityCase> cases;
  const auto folder = testing::test_data("parity/fixtures");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const json fixture = testing::read_json(file);
    for (const json& spec : fixture.at("cases")) cases.push_back({file.stem().string(), spec});
  }
  return cases;
}

// The largest |actual - expected| over every parity case, reported once at the end.
double& worst_difference() {
  static double worst = 0.0;
  return worst;
}

void expect_close(const Tensor& actual, const Tensor& expected, const std::string& what) {
  const auto result = all_close(actual, expected);
  EXPECT_TRUE(result) << what;
  for (std::int64_t i = 0; result && i < actual.size(); ++i)
    worst_difference() = std::max(worst_difference(), double(std::abs(actual[i] - expected[i])));
}

class Parity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(Parity, MatchesOracle) {
  const json& spec = GetParam().spec;
  if (spec.contains("note") && !spec.at("note").is_null()) RecordProperty("note", spec.at("note").get<std::string>());
  if (spec.at("kind") == "model") {
    Sequential model = model_from_config(spec.at("model"), spec.at("name").get<std::string>());
    for (const auto& [layer_name, weights] : spec.at("weights").items()) {
      std::vector<Tensor> tensors;
      for (const json& weight : weights) tensors.push_back(tensor_from_json(weight));
      model.layer(layer_name).set_weights(tensors);
    }
    expect_close(model.predict(tensor_from_json(spec.at("input"))), tensor_from_json(spec.at("output")), "output");
    return;
  }
  std::unique_ptr<Layer> layer = layer_from_config(spec.at("layer"), spec.at("name").get<std::string>());
  Shape input_shape;
  for (const json& extent : spec.at("input_shape")) input_shape.push_back(extent.is_null() ? kNone : extent.get<std::int64_t>());
  Rng rng;
  layer->build(input_shape, rng);
  std::vector<Tensor> weights;
  for (const json& weight : spec.at("weights")) weights.push_back(tensor_from_json(weight));
  layer->set_weights(weights);
  const json& inputs = spec.at("inputs");
  CallArgs args;
  for (std::size_t i = 1; i < inputs.size(); ++i) args.initial_state.push_back(tensor_from_json(inputs[i]));
  std::optional<Tensor> mask;
  if (spec.contains("mask") && !spec.at("mask").is_null()) mask = tensor_from_json(spec.at("mask"));
  args.mask = mask ? &*mask : nullptr;
  const std::vector<Tensor> outputs = layer->call(tensor_from_json(inputs[0]), args);
  const json& expected = spec.at("outputs");
  ASSERT_EQ(outputs.size(), expected.size());
  for (std::size_t i = 0; i < outputs.size(); ++i)
    expect_close(outputs[i], tensor_from_json(expected[i]), "output " + std::to_string(i));
}

std::string case_name(const ::testing::TestParamInfo<ParityCase>& info) {
  std::string name = info.param.group + "_" + info.param.spec.at("name").get<std::string>();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Parity, ::testing::ValuesIn(load_cases()), case_name);

TEST(ParitySweep, CoversTheOptionSpace) {
  const std::vector<ParityCase> cases = load_cases();
  EXPECT_GE(cases.size(), 150u);
  std::cout << "parity cases: " << cases.size() << "\n";
}

}  // namespace
}  // namespace rnnkit
