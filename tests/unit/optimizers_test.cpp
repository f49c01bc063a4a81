// Optimizers against oracles: tests/train_fixtures/optimizers.json holds five steps of every optimizer and
// option from torch.optim where PyTorch has Keras's rule and a numpy float64 transcription of the tf.keras
// 2.11 source otherwise (make_optimizer_fixtures.py beside it says which, and cross-checks the two). The rest
// are hand values: clipping, schedules, the step count, slots, configs and the options rnnkit rejects.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "rnnkit/error.h"
#include "rnnkit/optimizers.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using testing::all_close;

const json& fixtures() {
  static const json data = testing::read_json(testing::test_data("train_fixtures/optimizers.json"));
  return data;
}

// Keras's options for a fixture case: rnnkit's defaults with the case's overrides on top.
std::unique_ptr<Optimizer> optimizer_for(const json& fixture) {
  const json& options = fixture.at("options");
  std::set<std::string> unused;
  for (const auto& [key, value] : options.items()) unused.insert(key);
  const auto take = [&](const char* key, auto& field) {
    if (!options.contains(key)) return;
    field = options.at(key).get<std::remove_reference_t<decltype(field)>>();
    unused.erase(key);
  };
  OptimizerCommon common;
  if (fixture.contains("clipnorm")) common.clipnorm = fixture.at("clipnorm").get<double>();
  if (fixture.contains("clipvalue")) common.clipvalue = fixture.at("clipvalue").get<double>();
  if (fixture.contains("global_clipnorm"))
    common.global_clipnorm = fixture.at("global_clipnorm").get<double>();
  if (fixture.contains("schedule")) {
    const json& schedule = fixture.at("schedule");
    common.schedule =
        ExponentialDecay{.initial_learning_rate = schedule.at("initial_learning_rate").get<double>(),
                         .decay_steps = schedule.at("decay_steps").get<std::int64_t>(),
                         .decay_rate = schedule.at("decay_rate").get<double>(),
                         .staircase = schedule.at("staircase").get<bool>()};
  }
  std::unique_ptr<Optimizer> optimizer;
  const std::string kind = fixture.at("optimizer");
  if (kind == "adam") {
    AdamOptions o{.common = common};
    take("learning_rate", o.learning_rate), take("beta_1", o.beta_1), take("beta_2", o.beta_2);
    take("epsilon", o.epsilon), take("amsgrad", o.amsgrad);
    optimizer = Adam(o);
  } else if (kind == "rmsprop") {
    RMSpropOptions o{.common = common};
    take("learning_rate", o.learning_rate), take("rho", o.rho), take("momentum", o.momentum);
    take("epsilon", o.epsilon), take("centered", o.centered);
    optimizer = RMSprop(o);
  } else if (kind == "sgd") {
    SGDOptions o{.common = common};
    take("learning_rate", o.learning_rate), take("momentum", o.momentum), take("nesterov", o.nesterov);
    optimizer = SGD(o);
  } else if (kind == "adagrad") {
    AdagradOptions o{.common = common};
    take("learning_rate", o.learning_rate), take("initial_accumulator_value", o.initial_accumulator_value);
    take("epsilon", o.epsilon);
    optimizer = Adagrad(o);
  }
  EXPECT_TRUE(optimizer != nullptr) << "unknown optimizer " << kind;
  EXPECT_TRUE(unused.empty()) << "options the test does not know: " << *unused.begin();
  return optimizer;
}

std::vector<Param> initial_params() {
  std::vector<Param> params;
  for (const json& weight : fixtures().at("initial_weights")) {
    Tensor value = testing::tensor_from_json(weight);
    params.push_back({value.rank() == 2 ? "kernel" : "bias", value, Tensor(value.shape())});
  }
  return params;
}

std::vector<Param*> pointers(std::vector<Param>& params) {
  std::vector<Param*> result;
  for (Param& param : params) result.push_back(&param);
  return result;
}

void set_grads(std::vector<Param>& params, std::size_t step) {
  const json& grads = fixtures().at("gradients").at(step);
  for (std::size_t i = 0; i < params.size(); ++i) params[i].grad = testing::tensor_from_json(grads.at(i));
}

TEST(OptimizerFixtures, CoverEveryOptimizerAndOption) {
  std::set<std::string> names;
  for (const json& fixture : fixtures().at("cases")) names.insert(fixture.at("name").get<std::string>());
  for (const char* name : {"adam_defaults",
                           "adam_amsgrad",
                           "adam_betas_epsilon",
                           "adam_clipnorm",
                           "adam_clipvalue",
                           "adam_global_clipnorm",
                           "adam_exponential_decay",
                           "adam_exponential_decay_staircase",
                           "rmsprop_defaults",
                           "rmsprop_momentum",
                           "rmsprop_centered",
                           "rmsprop_centered_momentum",
                           "rmsprop_rho_epsilon",
                           "rmsprop_clipnorm",
                           "rmsprop_clipvalue",
                           "rmsprop_global_clipnorm",
                           "rmsprop_exponential_decay",
                           "rmsprop_exponential_decay_staircase",
                           "sgd_defaults",
                           "sgd_momentum",
                           "sgd_nesterov",
                           "sgd_clipnorm",
                           "sgd_clipvalue",
                           "sgd_global_clipnorm",
                           "sgd_exponential_decay",
                           "sgd_exponential_decay_staircase",
                           "adagrad_defaults",
                           "adagrad_accumulator_epsilon",
                           "adagrad_epsilon0",
                           "adagrad_clipnorm",
                           "adagrad_clipvalue",
                           "adagrad_global_clipnorm",
                           "adagrad_exponential_decay",
                           "adagrad_exponential_decay_staircase"})
    EXPECT_TRUE(names.count(name)) << name;
}

// rnnkit's defaults are Keras's: the fixture's hyperparameters are Keras's defaults plus the case's
// overrides, and the optimizer built from rnnkit's defaults plus the same overrides must report them.
TEST(OptimizerFixtures, DefaultsAreKeras) {
  for (const json& fixture : fixtures().at("cases")) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const json config = optimizer_for(fixture)->config();
    for (const auto& [key, value] : fixture.at("hyperparameters").items()) {
      if (key == "learning_rate") {
        if (!fixture.contains("schedule")) {
          EXPECT_EQ(config.at(key).get<double>(), double(float(value.get<double>())));
        }
      } else {
        EXPECT_EQ(config.at(key), value) << key;
      }
    }
  }
}

TEST(OptimizerFixtures, MatchOraclesStepByStep) {
  for (const json& fixture : fixtures().at("cases")) {
    SCOPED_TRACE(fixture.at("name").get<std::string>() +
                 " (oracle: " + fixture.at("oracle").get<std::string>() + ")");
    std::unique_ptr<Optimizer> optimizer = optimizer_for(fixture);
    std::vector<Param> params = initial_params();
    const json& expected = fixture.at("weights_after_step");
    for (std::size_t step = 0; step < expected.size(); ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const double learning_rate = fixture.at("learning_rates").at(step);
      // A plain learning rate is held as the float32 Keras's learning_rate variable holds (within 2^-24).
      EXPECT_NEAR(optimizer->current_learning_rate(), learning_rate, 6e-8 * learning_rate);
      set_grads(params, step);
      optimizer->apply(pointers(params));
      EXPECT_EQ(optimizer->iterations(), std::int64_t(step + 1));
      for (std::size_t i = 0; i < params.size(); ++i)
        EXPECT_TRUE(
            all_close(params[i].value, testing::tensor_from_json(expected.at(step).at(i)), 1e-7, 1e-6))
            << "weight " << i;
    }
    // The slots after the last step, under Keras 3's names and in its order. A slot sums terms of both
    // signs (a centered RMSprop's average gradient ends near 2e-4 from terms near 1), so float32 rounding
    // is relative to the slot's largest element rather than to each element.
    const json& expected_slots = fixture.at("final_slots");
    const auto slots = optimizer->slots();
    ASSERT_EQ(slots.size(), expected_slots.size());
    for (const auto& [name, tensors] : slots) {
      SCOPED_TRACE("slot " + name);
      ASSERT_TRUE(expected_slots.contains(name));
      ASSERT_EQ(tensors->size(), params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor expected_slot = testing::tensor_from_json(expected_slots.at(name).at(i));
        double largest = 0.0;
        for (const float value : expected_slot.values()) largest = std::max(largest, double(std::abs(value)));
        EXPECT_TRUE(all_close((*tensors)[i], expected_slot, 1e-6 * largest, 1e-6)) << "param " << i;
      }
    }
  }
}

TEST(OptimizerSlots, KerasNamesAndOrder) {
  const auto names = [](Optimizer& optimizer) {
    std::vector<std::string> result;
    for (const auto& [name, tensors] : optimizer.slots()) result.push_back(name);
    return result;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(*Adam()), (Names{"momentum", "velocity"}));
  EXPECT_EQ(names(*Adam({.amsgrad = true})), (Names{"momentum", "velocity", "velocity_hat"}));
  EXPECT_EQ(names(*RMSprop()), (Names{"velocity"}));
  EXPECT_EQ(names(*RMSprop({.momentum = 0.5, .centered = true})),
            (Names{"velocity", "momentum", "average_gradient"}));
  EXPECT_EQ(names(*SGD()), (Names{}));
  EXPECT_EQ(names(*SGD({.momentum = 0.9})), (Names{"momentum"}));
  EXPECT_EQ(names(*Adagrad()), (Names{"accumulator"}));

  // Keras 3 creates Adam's momentum and velocity interleaved per weight, then every velocity_hat.
  std::unique_ptr<Optimizer> adam = Adam({.amsgrad = true});
  std::vector<Param> params = initial_params();
  for (const auto& [name, tensors] : adam->slots())
    EXPECT_TRUE(tensors->empty()) << name << " before apply()";
  set_grads(params, 0);
  adam->apply(pointers(params));
  const auto slots = adam->slots();
  const auto variables = adam->keras3_variables();
  ASSERT_EQ(variables.size(), 6u);
  const std::vector<std::pair<std::size_t, std::size_t>> order = {{0, 0}, {1, 0}, {0, 1},
                                                                  {1, 1}, {2, 0}, {2, 1}};
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto [slot, param] = order[k];
    EXPECT_EQ(variables[k].first, slots[slot].first) << k;
    EXPECT_EQ(variables[k].second, &(*slots[slot].second)[param]) << k;
  }
  // The others list each slot whole.
  std::unique_ptr<Optimizer> rmsprop = RMSprop({.momentum = 0.5, .centered = true});
  params = initial_params();
  set_grads(params, 0);
  rmsprop->apply(pointers(params));
  std::vector<std::string> listed;
  for (const auto& [name, tensor] : rmsprop->keras3_variables()) listed.push_back(name);
  EXPECT_EQ(listed,
            (Names{"velocity", "velocity", "momentum", "momentum", "average_gradient", "average_gradient"}));
}

// The step count runs across apply() calls (and so across epochs): Adam's bias correction at step t uses
// t, and an optimizer restored with its slots and set_iterations() carries on exactly.
TEST(OptimizerApply, StepCountRunsAcrossCallsAndResumes) {
  std::vector<Param> straight = initial_params();
  std::unique_ptr<Optimizer> reference = Adam({.learning_rate = 0.05});
  for (std::size_t step = 0; step < 5; ++step) {
    set_grads(straight, step);
    reference->apply(pointers(straight));
  }
  EXPECT_EQ(reference->iterations(), 5);

  const auto resumed_run = [&](bool restore_iterations) {
    std::vector<Param> params = initial_params();
    std::unique_ptr<Optimizer> first = Adam({.learning_rate = 0.05});
    for (std::size_t step = 0; step < 2; ++step) {
      set_grads(params, step);
      first->apply(pointers(params));
    }
    std::unique_ptr<Optimizer> second = Adam({.learning_rate = 0.05});
    const auto saved = first->slots();
    auto restored = second->slots();
    for (std::size_t k = 0; k < saved.size(); ++k) *restored[k].second = *saved[k].second;
    if (restore_iterations) second->set_iterations(first->iterations());
    for (std::size_t step = 2; step < 5; ++step) {
      set_grads(params, step);
      second->apply(pointers(params));
    }
    return params;
  };
  const std::vector<Param> resumed = resumed_run(true);
  for (std::size_t i = 0; i < straight.size(); ++i)
    EXPECT_TRUE(all_close(resumed[i].value, straight[i].value, 0.0, 0.0)) << "weight " << i;
  const std::vector<Param> restarted =
      resumed_run(false);  // bias correction from t = 1 again: another result
  EXPECT_FALSE(all_close(restarted[0].value, straight[0].value, 1e-6, 1e-6));
  EXPECT_THROW(reference->set_iterations(-1), Error);
}

TEST(OptimizerApply, EmptyListTakesNoStep) {
  std::unique_ptr<Optimizer> optimizer = Adam();
  optimizer->apply({});
  EXPECT_EQ(optimizer->iterations(), 0);
}

TEST(OptimizerApply, RejectsParamsThatChange) {
  Param a{"a", Tensor({2}, 1.0f), Tensor({2}, 0.5f)};
  Param b{"b", Tensor({3}, 1.0f), Tensor({3}, 0.5f)};
  Param bad{"bad", Tensor({2}, 1.0f), Tensor({3}, 0.5f)};
  std::unique_ptr<Optimizer> optimizer = SGD({.momentum = 0.9});
  EXPECT_THROW(optimizer->apply({&bad}), Error);
  EXPECT_THROW(optimizer->apply({nullptr}), Error);
  optimizer->apply({&a, &b});
  EXPECT_THROW(optimizer->apply({&a}), Error);
  EXPECT_THROW(optimizer->apply({&b, &a}), Error);
  EXPECT_EQ(optimizer->iterations(), 1);
  // A slot restored with the wrong shape is caught too.
  std::unique_ptr<Optimizer> restored = SGD({.momentum = 0.9});
  restored->slots()[0].second->push_back(Tensor({5}));
  EXPECT_THROW(restored->apply({&a}), Error);
}

// Hand values: SGD with lr 1 steps by exactly the clipped gradient, and the caller's grads stay as they were.
TEST(ClipGradients, ClipnormIsPerWeight) {
  Param a{"a", Tensor({2}, 0.0f), Tensor({2}, std::vector<float>{3.0f, 4.0f})};  // norm 5: scaled to 1
  Param b{"b", Tensor({2}, 0.0f), Tensor({2}, std::vector<float>{0.3f, 0.4f})};  // norm 0.5: kept
  SGD({.learning_rate = 1.0, .common = {.clipnorm = 1.0}})->apply({&a, &b});
  EXPECT_TRUE(all_close(a.value, Tensor({2}, std::vector<float>{-0.6f, -0.8f}), 1e-7, 1e-6));
  EXPECT_TRUE(all_close(b.value, Tensor({2}, std::vector<float>{-0.3f, -0.4f}), 1e-7, 1e-6));
  EXPECT_TRUE(all_close(a.grad, Tensor({2}, std::vector<float>{3.0f, 4.0f}), 0.0, 0.0));
}

TEST(ClipGradients, GlobalClipnormScalesAllWeightsTogether) {
  Param a{"a", Tensor({2}, 0.0f), Tensor({2}, std::vector<float>{3.0f, 4.0f})};
  Param b{"b", Tensor({1}, 0.0f), Tensor({1}, std::vector<float>{12.0f})};  // global norm 13
  SGD({.learning_rate = 1.0, .common = {.global_clipnorm = 6.5}})->apply({&a, &b});
  EXPECT_TRUE(all_close(a.value, Tensor({2}, std::vector<float>{-1.5f, -2.0f}), 1e-7, 1e-6));
  EXPECT_TRUE(all_close(b.value, Tensor({1}, std::vector<float>{-6.0f}), 1e-7, 1e-6));
  // As tf.clip_by_global_norm: a norm that is not finite makes every gradient NaN.
  Param c{"c", Tensor({2}, 0.0f),
          Tensor({2}, std::vector<float>{std::numeric_limits<float>::infinity(), 1.0f})};
  SGD({.learning_rate = 1.0, .common = {.global_clipnorm = 1.0}})->apply({&c});
  EXPECT_TRUE(std::isnan(c.value[0]) && std::isnan(c.value[1]));
}

TEST(ClipGradients, ClipvalueIsPerElement) {
  Param a{"a", Tensor({3}, 0.0f), Tensor({3}, std::vector<float>{3.0f, -0.2f, -7.0f})};
  SGD({.learning_rate = 1.0, .common = {.clipvalue = 0.5}})->apply({&a});
  EXPECT_TRUE(all_close(a.value, Tensor({3}, std::vector<float>{-0.5f, 0.2f, 0.5f}), 0.0, 0.0));
}

// The slots see the clipped gradient: clipping comes before the update, not after it.
TEST(ClipGradients, HappensBeforeTheUpdate) {
  Param a{"a", Tensor({2}, 0.0f), Tensor({2}, std::vector<float>{30.0f, 40.0f})};
  std::unique_ptr<Optimizer> optimizer =
      SGD({.learning_rate = 0.1, .momentum = 0.9, .common = {.clipnorm = 5.0}});
  optimizer->apply({&a});
  EXPECT_TRUE(all_close((*optimizer->slots()[0].second)[0], Tensor({2}, std::vector<float>{-0.3f, -0.4f}),
                        1e-7, 1e-6));
  std::unique_ptr<Optimizer> adagrad =
      Adagrad({.initial_accumulator_value = 0.0, .common = {.clipvalue = 1.0}});
  adagrad->apply({&a});
  EXPECT_TRUE(all_close((*adagrad->slots()[0].second)[0], Tensor({2}, 1.0f), 0.0, 0.0));  // 0 + clip(g)²
}

TEST(Schedule, ExponentialDecay) {
  const ExponentialDecay smooth{.initial_learning_rate = 0.1, .decay_steps = 2, .decay_rate = 0.5};
  const ExponentialDecay stairs{
      .initial_learning_rate = 0.1, .decay_steps = 2, .decay_rate = 0.5, .staircase = true};
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_DOUBLE_EQ(smooth(1), 0.1 * std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(smooth(3), 0.1 * std::pow(0.5, 1.5));
  EXPECT_DOUBLE_EQ(stairs(1), 0.1);
  EXPECT_DOUBLE_EQ(stairs(3), 0.05);
  EXPECT_DOUBLE_EQ(stairs(4), 0.025);
  const ExponentialDecay broken{.decay_steps = 0};
  EXPECT_THROW(broken(1), Error);
}

// The schedule is read at iterations() before each step: the first step takes the initial rate.
TEST(Schedule, EvaluatedAtTheCurrentIteration) {
  std::unique_ptr<Optimizer> optimizer =
      SGD({.common = {.schedule = ExponentialDecay{
                          .initial_learning_rate = 0.1, .decay_steps = 1, .decay_rate = 0.5}}});
  Param w{"w", Tensor({1}, 0.0f), Tensor({1}, 1.0f)};
  float previous = 0.0f;
  for (int step = 0; step < 4; ++step) {
    const double expected = 0.1 * std::pow(0.5, step);
    EXPECT_DOUBLE_EQ(optimizer->current_learning_rate(), expected);
    optimizer->apply({&w});
    EXPECT_NEAR(previous - w.value[0], expected, 1e-7) << "step " << step;
    previous = w.value[0];
  }
  optimizer->set_iterations(10);
  EXPECT_DOUBLE_EQ(optimizer->current_learning_rate(), 0.1 * std::pow(0.5, 10));
}

// tf.keras 2.11's get_config(), as a CPU machine writes it into a model file's training_config.
TEST(OptimizerConfig, MatchesKeras) {
  const json common = {{"weight_decay", nullptr},
                       {"clipnorm", nullptr},
                       {"global_clipnorm", nullptr},
                       {"clipvalue", nullptr},
                       {"use_ema", false},
                       {"ema_momentum", 0.99},
                       {"ema_overwrite_frequency", nullptr},
                       {"jit_compile", false},
                       {"is_legacy_optimizer", false}};
  json adam = common;
  adam.update({{"name", "Adam"},
               {"learning_rate", 0.0010000000474974513},
               {"beta_1", 0.9},
               {"beta_2", 0.999},
               {"epsilon", 1e-07},
               {"amsgrad", false}});
  EXPECT_EQ(Adam()->config(), adam);
  json rmsprop = common;
  rmsprop.update({{"name", "RMSprop"},
                  {"ema_overwrite_frequency", 100},
                  {"learning_rate", 0.0010000000474974513},
                  {"rho", 0.9},
                  {"momentum", 0.0},
                  {"epsilon", 1e-07},
                  {"centered", false}});
  EXPECT_EQ(RMSprop()->config(), rmsprop);
  json sgd = common;
  sgd.update({{"name", "SGD"}, {"learning_rate", double(0.01f)}, {"momentum", 0.0}, {"nesterov", false}});
  EXPECT_EQ(SGD()->config(), sgd);
  json adagrad = common;
  adagrad.update({{"name", "Adagrad"},
                  {"learning_rate", 0.0010000000474974513},
                  {"initial_accumulator_value", 0.1},
                  {"epsilon", 1e-07}});
  EXPECT_EQ(Adagrad()->config(), adagrad);

  const json clipped = SGD({.common = {.clipnorm = 1.5}})->config();
  EXPECT_EQ(clipped.at("clipnorm"), 1.5);
  const json scheduled = Adam({.common = {.schedule = ExponentialDecay{.initial_learning_rate = 0.1,
                                                                       .decay_steps = 100,
                                                                       .decay_rate = 0.96,
                                                                       .staircase = true}}})
                             ->config();
  EXPECT_EQ(scheduled.at("learning_rate"), json({{"class_name", "ExponentialDecay"},
                                                 {"config",
                                                  {{"initial_learning_rate", 0.1},
                                                   {"decay_steps", 100},
                                                   {"decay_rate", 0.96},
                                                   {"staircase", true},
                                                   {"name", nullptr}}}}));
}

TEST(OptimizerConfig, MakeOptimizerByKerasName) {
  EXPECT_EQ(make_optimizer("adam")->config(), Adam()->config());
  EXPECT_EQ(make_optimizer("RMSprop")->name(), "RMSprop");
  EXPECT_EQ(make_optimizer("sgd", 0.5)->current_learning_rate(), 0.5);
  EXPECT_EQ(make_optimizer("Adagrad")->name(), "Adagrad");
  EXPECT_THROW(make_optimizer("adamw"), Error);
}

void expect_error_naming(const std::function<void()>& make, const std::string& option) {
  try {
    make();
    ADD_FAILURE() << "no error for a bad '" << option << "'";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(option), std::string::npos) << error.what();
  }
}

TEST(OptimizerOptions, RejectsInvalidHyperparameters) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_error_naming([] { Adam({.learning_rate = -0.1}); }, "learning_rate");
  expect_error_naming([&] { SGD({.learning_rate = nan}); }, "learning_rate");
  expect_error_naming([] { Adam({.beta_1 = 1.0}); }, "beta_1");
  expect_error_naming([] { Adam({.beta_1 = -0.1}); }, "beta_1");
  expect_error_naming([] { Adam({.beta_2 = 1.5}); }, "beta_2");
  expect_error_naming([] { Adam({.epsilon = -1e-7}); }, "epsilon");
  expect_error_naming([] { RMSprop({.rho = 1.0}); }, "rho");
  expect_error_naming([] { RMSprop({.momentum = -0.5}); }, "momentum");
  expect_error_naming([] { SGD({.momentum = 1.5}); }, "momentum");
  expect_error_naming([] { Adagrad({.initial_accumulator_value = -0.1}); }, "initial_accumulator_value");
  expect_error_naming([] { Adagrad({.epsilon = -1.0}); }, "epsilon");
  expect_error_naming([] { Adam({.common = {.clipnorm = 0.0}}); }, "clipnorm");
  expect_error_naming([] { SGD({.common = {.clipvalue = -1.0}}); }, "clipvalue");
  expect_error_naming([] { RMSprop({.common = {.global_clipnorm = 0.0}}); }, "global_clipnorm");
  expect_error_naming([] { Adam({.common = {.clipnorm = 1.0, .global_clipnorm = 1.0}}); }, "at most one");
  expect_error_naming([] { Adam({.common = {.clipnorm = 1.0, .clipvalue = 1.0}}); }, "at most one");
  expect_error_naming([] { SGD({.common = {.schedule = ExponentialDecay{.decay_steps = 0}}}); },
                      "decay_steps");
  expect_error_naming([] { SGD({.common = {.schedule = ExponentialDecay{.decay_rate = 0.0}}}); },
                      "decay_rate");
  expect_error_naming([] { SGD({.common = {.schedule = ExponentialDecay{.initial_learning_rate = -1.0}}}); },
                      "initial_learning_rate");
  expect_error_naming([] { make_optimizer("adamw"); }, "adamw");
  // The boundaries Keras allows are fine.
  EXPECT_NO_THROW(Adam({.learning_rate = 0.0, .beta_1 = 0.0, .epsilon = 0.0}));
  EXPECT_NO_THROW(SGD({.momentum = 1.0}));
  EXPECT_NO_THROW(Adagrad({.initial_accumulator_value = 0.0}));
}

}  // namespace
}  // namespace rnnkit
