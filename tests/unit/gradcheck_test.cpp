// Every layer's backward() against central finite differences of its own forward pass.
//
// The layers compute in float32, so the differences are taken in float32 too, with the loss summed in
// double. With step h = 1e-2 and values of order one, the truncation error of the central difference is
// O(h²) ≈ 1e-4 and the rounding error about ε·|L|/h ≈ 6e-8·10/1e-2 ≈ 6e-5; a tolerance of
// 2e-3 + 1e-2·|g| is well above both and far below the size of a wrong gradient (a dropped term or a
// transposed product is off by O(|g|)). Activations with kinks (relu, hard_sigmoid) are checked with
// inputs kept away from the kinks by the seed; the oracle fixtures check them exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

struct GradCase {
  std::string name;
  std::function<std::unique_ptr<Layer>()> make;
  Shape input_shape;            // (B,T,F) or (B,T) for token ids
  std::int64_t vocabulary = 0;  // > 0: the input is token ids below this
  bool masked = false;          // pass a mask with padding at the start of row 0 and the end of row 1
  int initial_states = 0;       // number of (B,U) initial states to pass
  std::int64_t state_units = 0;
};

Tensor random_tensor(const Shape& shape, Rng& rng, double scale = 1.0) {
  Tensor t(shape);
  for (float& v : t.values()) v = static_cast<float>(rng.uniform(-scale, scale));
  return t;
}

class GradCheck : public ::testing::TestWithParam<GradCase> {
 protected:
  // The table of the training issue's note: one line per case.
  void TearDown() override {
    std::cout << "gradcheck " << GetParam().name << ": max relative error " << worst_relative_error_ << "\n";
  }
  double worst_relative_error_ = 0.0;

  // L = Σ_k Σ output_k ⊙ weights_k, evaluated as a training call with a fixed dropout seed.
  double loss(Layer& layer, const Tensor& x, CallArgs args, const std::vector<Tensor>& loss_weights) {
    Rng dropout_rng(99);
    args.training = true;
    args.rng = &dropout_rng;
    const std::vector<Tensor> outputs = layer.call(x, args);
    double total = 0.0;
    for (std::size_t k = 0; k < outputs.size(); ++k)
      for (std::int64_t i = 0; i < outputs[k].size(); ++i) total += double(outputs[k][i]) * loss_weights[k][i];
    return total;
  }

  // Compares one analytic gradient with central differences at up to `samples` positions of `value`.
  void check_against_differences(const std::string& what, Tensor& value, const Tensor& analytic,
                                 const std::function<double()>& evaluate) {
    constexpr float kStep = 1e-2f;
    const std::int64_t stride = std::max<std::int64_t>(1, value.size() / 40);
    for (std::int64_t i = 0; i < value.size(); i += stride) {
      const double numeric = rnnkit::testing::central_difference(value[i], kStep, evaluate);
      EXPECT_NEAR(analytic[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << what << " element " << i;
      // Relative to the larger of the two, with gradients under 1e-2 counted against 1e-2.
      const double scale = std::max({std::abs(numeric), double(std::abs(analytic[i])), 1e-2});
      worst_relative_error_ = std::max(worst_relative_error_, std::abs(analytic[i] - numeric) / scale);
    }
  }
};

TEST_P(GradCheck, BackwardMatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  clear_session();
  std::unique_ptr<Layer> layer = c.make();
  Rng rng(5);
  Shape build_shape = c.input_shape;
  build_shape[0] = kNone;
  layer->build(build_shape, rng);
  // Weights of order one make every term of the gradient matter.
  for (Param* param : layer->params()) param->value = random_tensor(param->value.shape(), rng, 0.8);

  Tensor x(c.input_shape);
  for (float& v : x.values())
    v = c.vocabulary ? static_cast<float>(1 + rng.next() % std::uint64_t(c.vocabulary - 1)) : float(rng.uniform(-1, 1));
  const std::int64_t batch = c.input_shape[0], timesteps = c.input_shape.size() > 1 ? c.input_shape[1] : 1;
  Tensor mask({batch, timesteps}, 1.0f);
  if (c.masked) {
    mask.at({0, 0}) = 0.0f;                  // padding before the sequence
    mask.at({1 % batch, timesteps - 1}) = 0.0f;  // and after it
  }
  CallArgs args;
  args.mask = c.masked ? &mask : nullptr;
  for (int k = 0; k < c.initial_states; ++k) args.initial_state.push_back(random_tensor({batch, c.state_units}, rng));

  Rng dropout_rng(99);
  CallArgs training_args = args;
  training_args.training = true;
  training_args.rng = &dropout_rng;
  const std::vector<Tensor> outputs = layer->call(x, training_args);
  std::vector<Tensor> loss_weights;
  for (const Tensor& output : outputs) loss_weights.push_back(random_tensor(output.shape(), rng));
  layer->zero_grads();
  InputGrads grads = layer->backward(loss_weights);

  const auto evaluate = [&] { return loss(*layer, x, args, loss_weights); };
  for (Param* param : layer->params()) {
    const Tensor analytic = param->grad;
    check_against_differences(param->name, param->value, analytic, evaluate);
  }
  if (!c.vocabulary) check_against_differences("input", x, grads.input, evaluate);
  ASSERT_EQ(grads.initial_state.size(), args.initial_state.size());
  for (std::size_t k = 0; k < args.initial_state.size(); ++k)
    check_against_differences("initial_state " + std::to_string(k), args.initial_state[k], grads.initial_state[k],
                              evaluate);
}

template <class Cell>
std::function<std::unique_ptr<Layer>()> recurrent(std::int64_t units, RecurrentOptions options) {
  return [=] { return std::make_unique<Cell>(units, options); };
}

std::function<std::unique_ptr<Layer>()> bidirectional(RecurrentOptions options, std::optional<std::string> merge) {
  return [=] { return std::make_unique<Bidirectional>(LSTM(3, options), BidirectionalOptions{.merge_mode = merge}); };
}

std::vector<GradCase> grad_cases() {
  const RecurrentOptions sequences{.return_sequences = true};
  const RecurrentOptions everything{.return_sequences = true, .return_state = true, .go_backwards = true};
  std::vector<GradCase> cases = {
      {"dense_tanh", [] { return std::make_unique<Dense>(3, DenseOptions{.activation = "tanh"}); }, {2, 4}},
      {"dense_softmax_3d", [] { return std::make_unique<Dense>(4, DenseOptions{.activation = "softmax"}); }, {2, 3, 2}},
      {"dense_sigmoid_nobias",
       [] { return std::make_unique<Dense>(2, DenseOptions{.activation = "sigmoid", .use_bias = false}); }, {3, 2}},
      {"dense_gelu", [] { return std::make_unique<Dense>(3, DenseOptions{.activation = "gelu"}); }, {2, 4}},
      {"dense_log_softmax_3d",
       [] { return std::make_unique<Dense>(4, DenseOptions{.activation = "log_softmax"}); }, {2, 3, 2}},
      {"activation_softmax_3d", [] { return std::make_unique<Activation>("softmax"); }, {2, 3, 4}},
      {"activation_mish", [] { return std::make_unique<Activation>("mish"); }, {2, 5}},
      {"activation_log_sigmoid", [] { return std::make_unique<Activation>("log_sigmoid"); }, {2, 5}},
      {"simple_rnn_softmax", recurrent<SimpleRNN>(3, {.activation = "softmax", .return_sequences = true}), {2, 4, 2}},
      {"lstm_elu_recurrent_softmax", recurrent<LSTM>(3, {.activation = "elu", .recurrent_activation = "softmax"}),
       {2, 4, 2}},
      {"gru_softsign_recurrent_hard_sigmoid",
       recurrent<GRU>(3, {.activation = "softsign", .recurrent_activation = "hard_sigmoid"}), {2, 4, 2}},
      {"embedding", [] { return std::make_unique<Embedding>(7, 3); }, {2, 4}, 7},
      {"time_distributed", [] { return std::make_unique<TimeDistributed>(Dense(3, {.activation = "tanh"})); }, {2, 3, 2}},
      {"dropout_training", [] { return std::make_unique<Dropout>(0.4f); }, {2, 5}},
      {"simple_rnn_last", recurrent<SimpleRNN>(3, {}), {2, 4, 2}},
      {"simple_rnn_everything", recurrent<SimpleRNN>(3, everything), {2, 4, 2}, 0, false, 1, 3},
      {"simple_rnn_masked", recurrent<SimpleRNN>(3, sequences), {2, 4, 2}, 0, true},
      {"simple_rnn_sigmoid_nobias", recurrent<SimpleRNN>(2, {.activation = "sigmoid", .use_bias = false}), {1, 3, 2}},
      {"lstm_last", recurrent<LSTM>(3, {}), {2, 4, 2}},
      {"lstm_everything", recurrent<LSTM>(3, everything), {2, 4, 2}, 0, false, 2, 3},
      {"lstm_masked_state", recurrent<LSTM>(3, {.return_state = true}), {2, 4, 2}, 0, true, 2, 3},
      {"lstm_dropout", recurrent<LSTM>(3, {.return_sequences = true, .dropout = 0.3f, .recurrent_dropout = 0.3f}),
       {2, 4, 2}},
      {"lstm_linear_t1", recurrent<LSTM>(2, {.activation = "linear"}), {3, 1, 2}},
      {"gru_after_last", recurrent<GRU>(3, {}), {2, 4, 2}},
      {"gru_after_everything", recurrent<GRU>(3, everything), {2, 4, 2}, 0, false, 1, 3},
      {"gru_after_masked", recurrent<GRU>(3, sequences), {2, 4, 2}, 0, true},
      {"gru_after_nobias", recurrent<GRU>(2, {.use_bias = false, .return_sequences = true}), {2, 3, 2}},
      {"gru_before_last", recurrent<GRU>(3, {.reset_after = false}), {2, 4, 2}},
      {"gru_before_everything",
       recurrent<GRU>(3, {.return_sequences = true, .return_state = true, .go_backwards = true, .reset_after = false}),
       {2, 4, 2}, 0, false, 1, 3},
      {"gru_before_masked", recurrent<GRU>(3, {.return_sequences = true, .reset_after = false}), {2, 4, 2}, 0, true},
      {"gru_before_dropout",
       recurrent<GRU>(3, {.return_sequences = true, .reset_after = false, .dropout = 0.3f, .recurrent_dropout = 0.3f}),
       {2, 4, 2}},
      {"gru_after_dropout", recurrent<GRU>(3, {.dropout = 0.3f, .recurrent_dropout = 0.3f}), {2, 4, 2}},
      {"bidirectional_concat", bidirectional(sequences, "concat"), {2, 4, 2}, 0, true},
      {"bidirectional_sum_last", bidirectional({}, "sum"), {2, 4, 2}},
      {"bidirectional_mul", bidirectional(sequences, "mul"), {2, 3, 2}},
      {"bidirectional_ave_masked", bidirectional(sequences, "ave"), {2, 4, 2}, 0, true},
      {"bidirectional_none_states", bidirectional({.return_state = true}, std::nullopt), {2, 3, 2}, 0, false, 4, 3},
      // Convolution and pooling over time (smooth activations: relu's kink is left to the oracle fixtures).
      {"conv1d_valid_tanh", [] { return std::make_unique<Conv1D>(4, 3, Conv1DOptions{.activation = "tanh"}); }, {2, 6, 3}},
      {"conv1d_same_strided_sigmoid",
       [] { return std::make_unique<Conv1D>(3, 4, Conv1DOptions{.strides = 2, .padding = "same", .activation = "sigmoid"}); },
       {2, 7, 2}},
      {"conv1d_causal_dilated_nobias",
       [] { return std::make_unique<Conv1D>(2, 3, Conv1DOptions{.padding = "causal", .dilation_rate = 2, .use_bias = false}); },
       {2, 7, 2}},
      {"conv1d_pointwise_softmax",
       [] { return std::make_unique<Conv1D>(3, 1, Conv1DOptions{.activation = "softmax"}); }, {2, 4, 3}},
      {"max_pooling1d_same", [] { return std::make_unique<MaxPooling1D>(3, Pooling1DOptions{.strides = 2, .padding = "same"}); },
       {2, 5, 3}},
      {"average_pooling1d_same",
       [] { return std::make_unique<AveragePooling1D>(3, Pooling1DOptions{.strides = 1, .padding = "same"}); }, {2, 5, 2}},
      {"global_max_pooling1d", [] { return std::make_unique<GlobalMaxPooling1D>(); }, {2, 5, 3}},
      {"global_average_pooling1d_masked", [] { return std::make_unique<GlobalAveragePooling1D>(); }, {2, 5, 3}, 0, true},
      {"global_average_pooling1d_keepdims",
       [] { return std::make_unique<GlobalAveragePooling1D>(GlobalPooling1DOptions{.keepdims = true}); }, {2, 4, 2}},
  };
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<GradCase>& param_info) { return param_info.param.name; }

INSTANTIATE_TEST_SUITE_P(Layers, GradCheck, ::testing::ValuesIn(grad_cases()), case_name);

}  // namespace
}  // namespace rnnkit
