// Forward outputs against the oracle fixtures in tests/parity/fixtures (TF.js 4.22 and PyTorch/numpy),
// written by the generator scripts beside them.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

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

// Prints the sweep's largest difference once all tests have run.
class WorstDifferenceReport : public ::testing::Environment {
 public:
  void TearDown() override { std::cout << "parity: max |rnnkit - oracle| = " << worst_difference() << "\n"; }
};
[[maybe_unused]] ::testing::Environment* const kWorstDifferenceReport =
    ::testing::AddGlobalTestEnvironment(new WorstDifferenceReport);

class Parity : public ::testing::TestWithParam<ParityCase> {};

std::vector<Tensor> tensors_from_json(const json& list) {
  std::vector<Tensor> tensors;
  for (const json& item : list) tensors.push_back(tensor_from_json(item));
  return tensors;
}

void expect_all_close(const std::vector<Tensor>& actual, const json& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i)
    expect_close(actual[i], tensor_from_json(expected[i]), what + " " + std::to_string(i));
}

// The gradients of L = Σ output ⊙ output_grads, as the oracle computed them.
void expect_oracle_gradients(const json& spec, const InputGrads& grads, const std::function<std::vector<Tensor>(
                                                                            const std::string&)>& weight_grads) {
  const json& expected = spec.at("grads");
  if (!expected.at("input").is_null()) expect_close(grads.input, tensor_from_json(expected.at("input")), "dL/dx");
  if (spec.at("kind") == "model") {
    for (const auto& [layer_name, layer_grads] : expected.at("weights").items())
      expect_all_close(weight_grads(layer_name), layer_grads, "dL/dw of " + layer_name);
  } else {
    expect_all_close(weight_grads(""), expected.at("weights"), "dL/dw");
  }
  if (expected.contains("initial_state"))
    expect_all_close(grads.initial_state, expected.at("initial_state"), "dL/d initial_state");
}

std::vector<Tensor> grads_of(Layer& layer) {
  std::vector<Tensor> grads;
  for (const Param* param : layer.params()) grads.push_back(param->grad);
  return grads;
}

TEST_P(Parity, MatchesOracle) {
  const json& spec = GetParam().spec;
  if (spec.contains("note") && !spec.at("note").is_null()) RecordProperty("note", spec.at("note").get<std::string>());
  if (spec.at("kind") == "model") {
    Sequential model = model_from_config(spec.at("model"), spec.at("name").get<std::string>());
    for (const auto& [layer_name, weights] : spec.at("weights").items())
      model.layer(layer_name).set_weights(tensors_from_json(weights));
    const Tensor input = tensor_from_json(spec.at("input"));
    expect_close(model.predict(input), tensor_from_json(spec.at("output")), "output");
    // The oracle differentiates at inference, where Dropout and SpatialDropout1D are the identity; a training
    // call here drops units, so those models' gradients are left to the finite-difference checks.
    const std::string model_text = spec.at("model").dump();
    const bool has_dropout = model_text.find("\"Dropout\"") != std::string::npos ||
                             model_text.find("\"SpatialDropout1D\"") != std::string::npos;
    if (!spec.contains("grads") || has_dropout) return;
    expect_close(model(input, true), tensor_from_json(spec.at("output")), "training output");
    model.zero_grads();
    const Tensor input_grad = model.backward(tensor_from_json(spec.at("output_grads").at(0)));
    expect_oracle_gradients(spec, {input_grad, {}}, [&](const std::string& name) { return grads_of(model.layer(name)); });
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
  const Tensor x = tensor_from_json(inputs[0]);
  expect_all_close(layer->call(x, args), spec.at("outputs"), "output");
  if (!spec.contains("grads")) return;
  args.training = true;
  expect_all_close(layer->call(x, args), spec.at("outputs"), "training output");
  layer->zero_grads();
  const InputGrads grads = layer->backward(tensors_from_json(spec.at("output_grads")));
  expect_oracle_gradients(spec, grads, [&](const std::string&) { return grads_of(*layer); });
}

std::string case_name(const ::testing::TestParamInfo<ParityCase>& info) {
  std::string name = info.param.group + "_" + info.param.spec.at("name").get<std::string>();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name + "_" + std::to_string(info.index);
}

// gtest prints the case by name instead of its bytes.
void PrintTo(const ParityCase& parity_case, std::ostream* out) {
  *out << parity_case.group << "/" << parity_case.spec.at("name").get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Parity, ::testing::ValuesIn(load_cases()), case_name);

TEST(ParitySweep, CoversTheOptionSpace) {
  const std::vector<ParityCase> cases = load_cases();
  EXPECT_GE(cases.size(), 150u);
  std::cout << "parity cases: " << cases.size() << "\n";
}

}  // namespace
}  // namespace rnnkit
