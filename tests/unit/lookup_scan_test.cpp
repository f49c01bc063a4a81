// The lookup scan (an LSTM trained on an Embedding's table instead of its rows) against rnnkit's general
// scan, which the oracles and finite differences check elsewhere, and its table gradient against central
// differences. The TensorFlow.js training fixtures of Embedding + LSTM models (TfjsFit) run through it too.
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

constexpr std::int64_t kBatch = 3, kTimesteps = 5, kRows = 4, kFeatures = 3, kUnits = 6;

using testing::expect_close;
using testing::random_tensor;

Tensor random_ids(const Shape& shape, std::int64_t rows, Rng& rng) {
  Tensor ids(shape);
  for (float& id : ids.values())
    id = static_cast<float>(
        std::min<std::int64_t>(rows - 1, static_cast<std::int64_t>(rng.uniform(0.0, double(rows)))));
  return ids;
}

// x[b,t] = table[ids[b,t]], as an Embedding computes it.
Tensor look_up(const Tensor& ids, const Tensor& table) {
  const std::int64_t features = table.dim(1);
  Tensor x({ids.dim(0), ids.dim(1), features});
  for (std::int64_t i = 0; i < ids.size(); ++i)
    std::copy_n(table.data() + static_cast<std::int64_t>(ids[i]) * features, features,
                x.data() + i * features);
  return x;
}

struct LookupCase {
  std::string name;
  std::function<std::unique_ptr<Recurrent>()> make;
  bool initial_state = false;
  std::int64_t batch = kBatch, units = kUnits;
};

template <class Cell>
std::function<std::unique_ptr<Recurrent>()> cell(RecurrentOptions options, std::int64_t units = kUnits) {
  return [=] { return std::make_unique<Cell>(units, options); };
}

class LookupScan : public ::testing::TestWithParam<LookupCase> {};

TEST_P(LookupScan, TrainingCallsMatchTheGeneralScan) {
  const LookupCase& c = GetParam();
  std::unique_ptr<Recurrent> general_layer = c.make(), lookup_layer = c.make();
  Recurrent &general = *general_layer, &lookup = *lookup_layer;
  general.use_fast_scans(false);
  Rng rng(21);
  general.build({c.batch, kTimesteps, kFeatures}, rng);
  lookup.build({c.batch, kTimesteps, kFeatures}, rng);
  for (std::size_t k = 0; k < general.params().size(); ++k) {
    general.params()[k]->value = random_tensor(general.params()[k]->value.shape(), rng, 0.7);
    lookup.params()[k]->value = general.params()[k]->value;
  }
  const Tensor table = random_tensor({kRows, kFeatures}, rng, 1.0);
  // Two calls: a stateful layer carries the first call's states into the second.
  for (int call = 0; call < 2; ++call) {
    const Tensor ids = random_ids({c.batch, kTimesteps}, kRows, rng);
    const Tensor x = look_up(ids, table);
    const TableLookup table_lookup{ids, table};
    CallArgs args{.training = true};
    if (c.initial_state)
      for (int k = 0; k < general.state_count(); ++k)
        args.initial_state.push_back(random_tensor({c.batch, c.units}, rng, 0.5));
    CallArgs lookup_args = args;
    lookup_args.lookup = &table_lookup;
    args.lookup = &table_lookup;  // ignored: the fast scans are off
    const std::vector<Tensor> expected = general.call(x, args);
    const std::vector<Tensor> actual = lookup.call(x, lookup_args);
    ASSERT_EQ(general.trained_scan(), TrainingScan::general);
    ASSERT_EQ(lookup.trained_scan(), TrainingScan::lookup) << "the case does not reach the lookup scan";
    ASSERT_EQ(expected.size(), actual.size());
    std::vector<Tensor> output_grads;
    for (std::size_t k = 0; k < expected.size(); ++k) {
      expect_close("output " + std::to_string(k), expected[k], actual[k]);
      output_grads.push_back(random_tensor(expected[k].shape(), rng, 1.0));
    }
    general.zero_grads();
    lookup.zero_grads();
    const InputGrads expected_grads = general.backward(output_grads);
    const InputGrads actual_grads = lookup.backward(output_grads);
    EXPECT_TRUE(actual_grads.input.empty());
    // dL/d(table row v) is the sum of dL/dx over the steps that looked v up.
    Tensor expected_table_grad({kRows, kFeatures});
    for (std::int64_t i = 0; i < ids.size(); ++i)
      for (std::int64_t f = 0; f < kFeatures; ++f)
        expected_table_grad[static_cast<std::int64_t>(ids[i]) * kFeatures + f] +=
            expected_grads.input[i * kFeatures + f];
    expect_close("table gradient", expected_table_grad, actual_grads.table);
    ASSERT_EQ(expected_grads.initial_state.size(), actual_grads.initial_state.size());
    for (std::size_t k = 0; k < expected_grads.initial_state.size(); ++k)
      expect_close("initial state gradient " + std::to_string(k), expected_grads.initial_state[k],
                   actual_grads.initial_state[k]);
    for (std::size_t k = 0; k < general.params().size(); ++k)
      expect_close(general.params()[k]->name + " gradient", general.params()[k]->grad,
                   lookup.params()[k]->grad);
  }
}

std::vector<LookupCase> lookup_cases() {
  const RecurrentOptions sequences{.return_sequences = true},
      everything{.return_sequences = true, .return_state = true}, last_state{.return_state = true},
      no_bias{.use_bias = false, .return_sequences = true};
  const RecurrentOptions stateful{
      .return_sequences = true, .stateful = true, .batch_input_shape = Shape{kBatch, kTimesteps, kFeatures}};
  return {
      {"lstm_last_output", cell<LSTM>({})},
      {"lstm_sequences", cell<LSTM>(sequences)},
      {"lstm_everything", cell<LSTM>(everything), true},
      {"lstm_last_state", cell<LSTM>(last_state), true},
      {"lstm_no_bias", cell<LSTM>(no_bias)},
      {"lstm_no_forget_bias", cell<LSTM>({.return_sequences = true, .unit_forget_bias = false})},
      {"lstm_stateful", cell<LSTM>(stateful)},
      {"gru_last_output", cell<GRU>({})},
      {"gru_sequences", cell<GRU>(sequences)},
      {"gru_everything", cell<GRU>(everything), true},
      {"gru_last_state", cell<GRU>(last_state), true},
      {"gru_no_bias", cell<GRU>(no_bias)},
      {"gru_stateful", cell<GRU>(stateful)},
      // Steps large enough (batch · units · gate units >= 2^20) that the cells of a step split across
      // threads, where the machine has two or more.
      {"lstm_rows_across_threads", cell<LSTM>(everything, 128), true, 16, 128},
      {"gru_rows_across_threads", cell<GRU>(everything, 160), true, 16, 160},
  };
}

INSTANTIATE_TEST_SUITE_P(Cells, LookupScan, ::testing::ValuesIn(lookup_cases()),
                         [](const ::testing::TestParamInfo<LookupCase>& param_info) {
                           return param_info.param.name;
                         });

// L = Σ sequence ⊙ weights; the table gradient against central differences in float32, with the step and
// tolerance GradCheck justifies (gradcheck_test.cpp): 2e-3 + 1e-2·|g| with h = 1e-2.
class LookupScanGradient : public ::testing::TestWithParam<std::string> {};

TEST_P(LookupScanGradient, TableGradientMatchesFiniteDifferences) {
  std::unique_ptr<Recurrent> layer = GetParam() == "gru" ? cell<GRU>({.return_sequences = true})()
                                                         : cell<LSTM>({.return_sequences = true})();
  Recurrent& rnn = *layer;
  Rng rng(8);
  rnn.build({kBatch, kTimesteps, kFeatures}, rng);
  Tensor table = random_tensor({kRows, kFeatures}, rng, 1.0);
  const Tensor ids = random_ids({kBatch, kTimesteps}, kRows, rng);
  const Tensor weights = random_tensor({kBatch, kTimesteps, kUnits}, rng, 1.0);
  auto loss = [&] {
    const TableLookup table_lookup{ids, table};
    const Tensor output = rnn.call(look_up(ids, table), {.training = true, .lookup = &table_lookup})[0];
    double total = 0.0;
    for (std::int64_t i = 0; i < output.size(); ++i) total += double(output[i]) * weights[i];
    return total;
  };
  loss();
  ASSERT_EQ(rnn.trained_scan(), TrainingScan::lookup);
  rnn.zero_grads();
  const Tensor analytic = rnn.backward({weights}).table;
  constexpr float kStep = 1e-2f;
  for (std::int64_t i = 0; i < table.size(); ++i) {
    const float saved = table[i];
    table[i] = saved + kStep;
    const double up = loss();
    table[i] = saved - kStep;
    const double down = loss();
    table[i] = saved;
    const double numeric = (up - down) / (2.0 * kStep);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "table element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, LookupScanGradient, ::testing::Values("lstm", "gru"));

// A direct call with a lookup that does not give x, or ids outside the table, is refused, never read.
TEST(LookupScanErrors, IdsOutsideTheTableOrNotGivingTheInputAreRefused) {
  LSTM lstm(kUnits);
  Rng rng(9);
  lstm.build({kBatch, kTimesteps, kFeatures}, rng);
  const Tensor table = random_tensor({kRows, kFeatures}, rng, 1.0);
  Tensor ids = random_ids({kBatch, kTimesteps}, kRows, rng);
  const Tensor x = look_up(ids, table);
  auto message = [&](const Tensor& lookup_ids, const Tensor& lookup_table) {
    const TableLookup lookup{lookup_ids, lookup_table};
    try {
      lstm.call(x, {.training = true, .lookup = &lookup});
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  Tensor outside = ids;
  outside[7] = static_cast<float>(kRows);
  EXPECT_NE(message(outside, table)
                .find("id 4 at flat position 7 of a table lookup is not a row of the table (4, 3)"),
            std::string::npos)
      << message(outside, table);
  outside[7] = -1.0f;
  EXPECT_NE(message(outside, table).find("id -1 at flat position 7"), std::string::npos);
  EXPECT_NE(message(Tensor({kBatch, kTimesteps - 1}), table)
                .find("ids (3, 4) looked up in a table (4, 3) do not give the input (3, 5, 3)"),
            std::string::npos)
      << message(Tensor({kBatch, kTimesteps - 1}), table);
  EXPECT_NE(message(ids, Tensor({kRows, kFeatures + 1})).find("do not give the input"), std::string::npos);
}

Sequential embedding_rnn_model(const std::string& cell_name, std::int64_t rows, bool fast_scans,
                               std::optional<Regularizer> embedding_activity) {
  Sequential model({.seed = 3});
  model.add(Embedding(rows, kFeatures, {.activity_regularizer = embedding_activity}));
  std::unique_ptr<Recurrent> rnn =
      cell_name == "gru" ? cell<GRU>({.return_sequences = true})() : cell<LSTM>({.return_sequences = true})();
  rnn->use_fast_scans(fast_scans);
  model.add(std::move(rnn));
  model.add(Dense(rows, {.activation = "softmax"}));
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = Adam({.learning_rate = 0.05})});
  return model;
}

// Sequential hands an LSTM or GRU after an Embedding the table, and the Embedding gets dL/d(table) back:
// three Adam steps give the weights of the general scan.
TEST(LookupScanInSequential, TrainsAsTheGeneralScan) {
  for (const std::string cell_name : {"lstm", "gru"}) {
    Sequential general = embedding_rnn_model(cell_name, kRows, false, std::nullopt);
    Sequential lookup = embedding_rnn_model(cell_name, kRows, true, std::nullopt);
    Rng rng(4);
    for (int step = 0; step < 3; ++step) {
      const Tensor x = random_ids({kBatch, kTimesteps}, kRows, rng),
                   y = random_ids({kBatch, kTimesteps}, kRows, rng);
      const double expected = general.train_on_batch(x, y).at("loss"),
                   actual = lookup.train_on_batch(x, y).at("loss");
      EXPECT_NEAR(expected, actual, 1e-5 * std::abs(expected)) << cell_name << " step " << step;
      EXPECT_EQ(static_cast<Recurrent&>(general.layer(1)).trained_scan(), TrainingScan::general);
      ASSERT_EQ(static_cast<Recurrent&>(lookup.layer(1)).trained_scan(), TrainingScan::lookup) << cell_name;
    }
    for (std::size_t index = 0; index < general.size(); ++index)
      for (std::size_t k = 0; k < general.layer(index).params().size(); ++k)
        expect_close(cell_name + " " + general.layer(index).params()[k]->name,
                     general.layer(index).params()[k]->value, lookup.layer(index).params()[k]->value);
  }
}

// The lookup scan stays out where it would not pay (as many table rows as steps) and where the Embedding
// needs dL/d(its output) itself (an activity regularizer).
TEST(LookupScanInSequential, OnlyWhereItPaysAndTheEmbeddingAllows) {
  Rng rng(6);
  const std::int64_t many_rows = kBatch * kTimesteps;
  Sequential wide = embedding_rnn_model("lstm", many_rows, true, std::nullopt);
  wide.train_on_batch(random_ids({kBatch, kTimesteps}, many_rows, rng),
                      random_ids({kBatch, kTimesteps}, many_rows, rng));
  EXPECT_EQ(static_cast<Recurrent&>(wide.layer(1)).trained_scan(), TrainingScan::onednn);
  Sequential penalised = embedding_rnn_model("lstm", kRows, true, L2(0.01));
  penalised.train_on_batch(random_ids({kBatch, kTimesteps}, kRows, rng),
                           random_ids({kBatch, kTimesteps}, kRows, rng));
  EXPECT_EQ(static_cast<Recurrent&>(penalised.layer(1)).trained_scan(), TrainingScan::onednn);
}

}  // namespace
}  // namespace rnnkit
