// The oneDNN scan of training calls against rnnkit's general scan: the same outputs, states and gradients.
// The general scan is checked against the oracles and finite differences elsewhere; GradCheck also runs
// through the oneDNN scan, since its calls are training calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

struct ScanCase {
  std::string name;
  std::function<std::unique_ptr<Recurrent>()> make;
  int initial_states = 0;
};

template <class Cell>
std::function<std::unique_ptr<Recurrent>()> cell(RecurrentOptions options) {
  return [=] { return std::make_unique<Cell>(6, options); };
}

using testing::expect_close;
using testing::random_tensor;

class OnednnScan : public ::testing::TestWithParam<ScanCase> {};

TEST_P(OnednnScan, TrainingCallsMatchTheGeneralScan) {
  const ScanCase& c = GetParam();
  const std::int64_t batch = 3, timesteps = 5, features = 4, units = 6;
  std::unique_ptr<Recurrent> general = c.make(), onednn = c.make();
  general->use_fast_scans(false);
  Rng rng(11);
  general->build({batch, timesteps, features}, rng);
  onednn->build({batch, timesteps, features}, rng);
  for (std::size_t k = 0; k < general->params().size(); ++k) {
    general->params()[k]->value = random_tensor(general->params()[k]->value.shape(), rng, 0.7);
    onednn->params()[k]->value = general->params()[k]->value;
  }
  const bool lstm = general->state_count() == 2;
  // Two calls: a stateful layer carries the first call's states into the second.
  for (int call = 0; call < 2; ++call) {
    const Tensor x = random_tensor({batch, timesteps, features}, rng, 1.0);
    CallArgs args{.training = true};
    for (int k = 0; k < c.initial_states * (lstm ? 2 : 1); ++k)
      args.initial_state.push_back(random_tensor({batch, units}, rng, 0.5));
    Rng general_dropout(5), onednn_dropout(5);
    CallArgs general_args = args, onednn_args = args;
    general_args.rng = &general_dropout;
    onednn_args.rng = &onednn_dropout;
    const std::vector<Tensor> expected = general->call(x, general_args);
    const std::vector<Tensor> actual = onednn->call(x, onednn_args);
    ASSERT_EQ(general->trained_scan(), TrainingScan::general);
    ASSERT_EQ(onednn->trained_scan(), TrainingScan::onednn) << "the case does not reach oneDNN's scan";
    ASSERT_EQ(expected.size(), actual.size());
    std::vector<Tensor> output_grads;
    for (std::size_t k = 0; k < expected.size(); ++k) {
      expect_close("output " + std::to_string(k), expected[k], actual[k]);
      output_grads.push_back(random_tensor(expected[k].shape(), rng, 1.0));
    }
    general->zero_grads();
    onednn->zero_grads();
    const InputGrads expected_grads = general->backward(output_grads);
    const InputGrads actual_grads = onednn->backward(output_grads);
    expect_close("input gradient", expected_grads.input, actual_grads.input);
    ASSERT_EQ(expected_grads.initial_state.size(), actual_grads.initial_state.size());
    for (std::size_t k = 0; k < expected_grads.initial_state.size(); ++k)
      expect_close("initial state gradient " + std::to_string(k), expected_grads.initial_state[k],
                   actual_grads.initial_state[k]);
    for (std::size_t k = 0; k < general->params().size(); ++k)
      expect_close(general->params()[k]->name + " gradient", general->params()[k]->grad,
                   onednn->params()[k]->grad);
  }
}

std::vector<ScanCase> scan_cases() {
  const RecurrentOptions sequences{.return_sequences = true};
  const RecurrentOptions everything{.return_sequences = true, .return_state = true, .go_backwards = true};
  const RecurrentOptions last_state{.return_state = true};
  const RecurrentOptions backwards_last{.go_backwards = true};
  RecurrentOptions stateful{.return_sequences = true, .stateful = true, .batch_input_shape = Shape{3, 5, 4}};
  RecurrentOptions input_dropout{.return_sequences = true, .dropout = 0.3f};
  RecurrentOptions no_bias{.use_bias = false, .return_sequences = true};
  RecurrentOptions relu{.activation = "relu", .return_sequences = true};
  RecurrentOptions gru_before{.return_sequences = true, .reset_after = false};
  RecurrentOptions gru_before_everything = everything;
  gru_before_everything.reset_after = false;
  return {
      {"simple_rnn_sequences", cell<SimpleRNN>(sequences)},
      {"simple_rnn_everything", cell<SimpleRNN>(everything), 1},
      {"simple_rnn_relu", cell<SimpleRNN>(relu)},
      {"simple_rnn_last_state", cell<SimpleRNN>(last_state)},
      {"lstm_sequences", cell<LSTM>(sequences)},
      {"lstm_everything", cell<LSTM>(everything), 1},
      {"lstm_last_state", cell<LSTM>(last_state), 1},
      {"lstm_backwards_last", cell<LSTM>(backwards_last)},
      {"lstm_no_bias", cell<LSTM>(no_bias)},
      {"lstm_input_dropout", cell<LSTM>(input_dropout)},
      {"lstm_stateful", cell<LSTM>(stateful)},
      {"gru_reset_after_sequences", cell<GRU>(sequences)},
      {"gru_reset_after_everything", cell<GRU>(everything), 1},
      {"gru_reset_after_no_bias", cell<GRU>(no_bias)},
      {"gru_reset_before_sequences", cell<GRU>(gru_before)},
      {"gru_reset_before_everything", cell<GRU>(gru_before_everything), 1},
      {"gru_stateful", cell<GRU>(stateful)},
  };
}

INSTANTIATE_TEST_SUITE_P(Cells, OnednnScan, ::testing::ValuesIn(scan_cases()),
                         [](const ::testing::TestParamInfo<ScanCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace rnnkit
