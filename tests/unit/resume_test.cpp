// Saving a compiled model keeps its training state in Keras's layouts (tf.keras 2.11's training_config and
// optimizer_weights in .h5, Keras 3's compile_config and optimizer/vars in .keras) and rnnkit's TrainingState
// (the generator of shuffling and dropout, the epoch) beside them, so that training N epochs, saving, loading
// and training M more gives, bit for bit, what N + M epochs without a stop give.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "io/keras_h5.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "rnnkit/text/datasets.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;

// 12 sequences of 5 token ids below 12 and a one-hot next token: enough to move every weight.
std::pair<Tensor, Tensor> data() {
  Tensor x({12, 5}), y({12, 12});
  for (std::int64_t i = 0; i < 12; ++i) {
    for (std::int64_t t = 0; t < 5; ++t) x.at({i, t}) = static_cast<float>((i * 7 + t * 5) % 12);
    y.at({i, (i * 5 + 3) % 12}) = 1.0f;
  }
  return {x, y};
}

Sequential model(std::unique_ptr<Optimizer> optimizer, bool from_logits = false) {
  clear_session();  // the same layer names, and so the same weight names, in every copy
  Sequential result({.seed = 11});
  result.add(Embedding(12, 4, {.input_length = 5}));
  result.add(LSTM(5));
  result.add(Dense(12, {.activation = from_logits ? "linear" : "softmax"}));
  result.build({kNone, 5});
  result.compile({.loss = "categorical_crossentropy",
                  .optimizer = std::move(optimizer),
                  .metrics = {"accuracy"},
                  .from_logits = from_logits});
  return result;
}

FitOptions epochs(int first, int last) {
  return {.epochs = last, .batch_size = 5, .verbose = 0, .shuffle = false, .initial_epoch = first};
}

bool bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].shape() != b[i].shape() ||
        !std::equal(a[i].values().begin(), a[i].values().end(), b[i].values().begin()))
      return false;
  return true;
}

struct OptimizerCase {
  std::string name;
  std::function<std::unique_ptr<Optimizer>()> make;
};

std::vector<OptimizerCase> optimizers() {
  return {{"adam", [] { return Adam(); }},
          {"adam_amsgrad", [] { return Adam({.learning_rate = 0.01, .amsgrad = true}); }},
          {"rmsprop_centered_momentum", [] { return RMSprop({.momentum = 0.5, .centered = true}); }},
          {"sgd_momentum", [] { return SGD({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}); }},
          {"adagrad", [] { return Adagrad({.learning_rate = 0.1}); }},
          {"adam_schedule", [] {
             return Adam(
                 {.common = {.schedule = ExponentialDecay{.initial_learning_rate = 0.01, .decay_steps = 3}}});
           }}};
}

// The model trained 5 epochs straight through, and one stopped after 2, to be saved and resumed to 5.
std::pair<Sequential, Sequential> straight_and_stopped(const OptimizerCase& optimizer) {
  const auto [x, y] = data();
  Sequential straight = model(optimizer.make());
  straight.fit(x, y, epochs(0, 5));
  Sequential stopped = model(optimizer.make());
  stopped.fit(x, y, epochs(0, 2));
  return {std::move(straight), std::move(stopped)};
}

class Resume : public ::testing::TestWithParam<std::tuple<OptimizerCase, std::string>> {};

TEST_P(Resume, TrainingStopSaveLoadAndGoOnIsTrainingStraight) {
  const auto& [optimizer, extension] = GetParam();
  const auto [x, y] = data();
  auto [straight, first] = straight_and_stopped(optimizer);
  const testing::TempFolder folder;
  const fs::path file = folder.path() / ("model" + extension);
  save_model(first, file);
  LoadedModel loaded = load_model_file(file);
  Model& resumed = loaded.model;
  ASSERT_TRUE(resumed.compiled());
  EXPECT_EQ(resumed.loss().name(), "categorical_crossentropy");
  EXPECT_EQ(resumed.metrics(), std::vector<std::string>{"accuracy"});
  EXPECT_EQ(resumed.optimizer().config(), first.optimizer().config());
  EXPECT_EQ(resumed.optimizer().iterations(), 6);  // 12 samples in batches of 5: 3 steps an epoch
  resumed.fit(x, y, epochs(2, 5));

  EXPECT_EQ(resumed.optimizer().iterations(), straight.optimizer().iterations());
  EXPECT_TRUE(bitwise_equal(resumed.get_weights(), straight.get_weights()));
}

std::string resume_case_name(
    const ::testing::TestParamInfo<std::tuple<OptimizerCase, std::string>>& param_info) {
  return std::get<0>(param_info.param).name + (std::get<1>(param_info.param) == ".h5" ? "_h5" : "_keras");
}

INSTANTIATE_TEST_SUITE_P(ModelFiles, Resume,
                         ::testing::Combine(::testing::ValuesIn(optimizers()),
                                            ::testing::Values(".keras", ".h5")),
                         resume_case_name);

TEST(ResumeFiles, FromLogitsLossAndAnUncompiledModelRoundTrip) {
  const testing::TempFolder folder;
  for (const char* extension : {".keras", ".h5"}) {
    SCOPED_TRACE(extension);
    const fs::path file = folder.path() / (std::string("m") + extension);
    save_model(model(SGD(), true), file);
    const Sequential loaded = load_model(file);
    ASSERT_TRUE(loaded.compiled());
    EXPECT_TRUE(loaded.loss().from_logits());
    EXPECT_EQ(loaded.optimizer().iterations(), 0);  // never trained: only the step count is saved
    Sequential uncompiled({.seed = 1});
    uncompiled.add(Dense(2, {.input_shape = Shape{3}}));
    save_model(uncompiled, file);
    EXPECT_FALSE(load_model(file).compiled());
  }
}

using testing::have_h5py;
using testing::python;

// The layouts, read with h5py and zipfile: what tf.keras 2.11's save_model and Keras 3's saving_lib write.
TEST(ResumeFiles, LayoutIsKerasOwn) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  Sequential trained = model(Adam());
  const auto [x, y] = data();
  trained.fit(x, y, epochs(0, 1));
  save_model(trained, folder.path() / "m.h5");
  save_model(trained, folder.path() / "m.keras");
  const auto [status, output] = python(
      "import sys, h5py, json, zipfile, io\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "tc = json.loads(f.attrs['training_config'])\n"
      "print(tc['loss'], tc['metrics'], tc['optimizer_config']['class_name'], "
      "tc['optimizer_config']['config']['learning_rate'])\n"
      "names = [n.decode() if hasattr(n, 'decode') else n for n in "
      "f['optimizer_weights'].attrs['weight_names']]\n"
      "print(len(names), names[:4])\n"
      "print(f['optimizer_weights/iteration:0'].dtype, f['optimizer_weights/iteration:0'][()])\n"
      "z = zipfile.ZipFile(sys.argv[2])\n"
      "cc = json.loads(z.read('config.json'))['compile_config']\n"
      "print(cc['optimizer']['class_name'], cc['optimizer']['config']['name'], cc['loss'], cc['metrics'])\n"
      "w = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')\n"
      "v = w['optimizer/vars']\n"
      "print(len(v), v['0'].dtype, v['0'][()], v['1'].dtype, v['1'][()] == v['1'].dtype.type(0.001), "
      "v['2'].shape)\n",
      (folder.path() / "m.h5").string() + " " + (folder.path() / "m.keras").string(), folder.path());
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output,
            "categorical_crossentropy ['accuracy'] Custom>Adam 0.0010000000474974513\n"
            "13 ['iteration:0', 'Adam/m/embedding/embeddings:0', 'Adam/v/embedding/embeddings:0', "
            "'Adam/m/lstm/lstm_cell/kernel:0']\n"
            "int64 3\n"
            "Adam adam categorical_crossentropy ['accuracy']\n"
            "14 int64 3 float32 True (12, 4)\n");
}

// Optimizer state that does not fit the model: the model loads all the same, compiled with a fresh optimizer,
// and the reason (naming the file and the path inside it) is reported, as Keras warns and starts afresh.
TEST(ResumeFiles, OptimizerStateThatDoesNotFitIsDroppedWithTheFileAndPath) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  Sequential trained = model(Adam());
  const auto [x, y] = data();
  trained.fit(x, y, epochs(0, 1));
  const fs::path h5 = folder.path() / "m.h5", keras = folder.path() / "m.keras";
  const std::string edit_h5 =
      "import sys, h5py, numpy as np\n"
      "f = h5py.File(sys.argv[1], 'r+')\n"
      "g = f['optimizer_weights']\n"
      "if sys.argv[2] == 'count':\n"
      "    g.attrs['weight_names'] = [n for n in g.attrs['weight_names']][:-1]\n"
      "else:\n"
      "    del g['Adam/v/lstm/lstm_cell/kernel:0']\n"
      "    g['Adam/v/lstm/lstm_cell/kernel:0'] = np.zeros((3, 3), np.float32)\n";
  const auto expect_fresh_optimizer = [&](const fs::path& file, const std::string& reason) {
    const LoadedModel loaded = load_model_file(file);
    ASSERT_TRUE(loaded.model.compiled());
    EXPECT_EQ(loaded.model.optimizer().iterations(), 0);
    EXPECT_EQ(loaded.model.optimizer().config(), trained.optimizer().config());
    EXPECT_TRUE(bitwise_equal(loaded.model.get_weights(), trained.get_weights()));
    ASSERT_EQ(loaded.dropped_training_state.size(), 1u);
    const std::string& message = loaded.dropped_training_state[0];
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_NE(message.find("training starts with a fresh optimizer"), std::string::npos) << message;
  };
  for (const char* edit : {"count", "shape"}) {
    SCOPED_TRACE(edit);
    save_model(trained, h5);
    ASSERT_EQ(python(edit_h5, h5.string() + " " + edit, folder.path()).first, 0);
    expect_fresh_optimizer(h5,
                           std::string(edit) == "count"
                               ? "object /optimizer_weights: holds 12 optimizer weights"
                               : "object /optimizer_weights/Adam/v/lstm/lstm_cell/kernel:0: shape (3, 3)");
  }
  save_model(trained, keras);
  const std::string edit_keras =
      "import sys, h5py, zipfile, io, numpy as np\n"
      "z = zipfile.ZipFile(sys.argv[1])\n"
      "members = {n: z.read(n) for n in z.namelist()}\n"
      "buffer = io.BytesIO(members['model.weights.h5'])\n"
      "with h5py.File(buffer, 'r+') as w:\n"
      "    del w['optimizer/vars/5']\n"
      "    w['optimizer/vars/5'] = np.zeros((2,), np.float32)\n"
      "members['model.weights.h5'] = buffer.getvalue()\n"
      "with zipfile.ZipFile(sys.argv[1], 'w') as out:\n"
      "    for n, b in members.items(): out.writestr(n, b)\n";
  ASSERT_EQ(python(edit_keras, keras.string(), folder.path()).first, 0);
  expect_fresh_optimizer(keras, "object /optimizer/vars/5: shape (2,)");
}

// Rewrites the optimizer state of a tf.keras 2.11 .h5 that rnnkit saved into the layout another Keras wrote,
// from those Kerases' own saving code: argv[1] the file, argv[2] the era.
//   keras3     Keras 3's legacy .h5: "adam/iteration", "adam/learning_rate", "adam/<weight>_momentum", ...
//   keras2     Keras 2.1-2.3 get_updates(): "Adam/iterations:0" (int64; none for RMSprop and Adagrad before
//              2.3), then each slot list whole as "training/Adam/Variable_N:0", Adam's vhats (1,)
//              placeholders
//   keras2.0   Keras 2.0: a float32 "Adam_1/iterations:0", no vhats
//   keras1     Keras 1: unnamed variables, a float32 "Variable:0" step count first
// and the optimizer_config into that era's keys (Keras 2's "lr" and "decay").
constexpr const char* kRewriteOptimizerState = R"(
import sys, json, h5py, numpy as np
path, era = sys.argv[1], sys.argv[2]
f = h5py.File(path, 'r+')
g = f['optimizer_weights']
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
steps = int(g[names[0]][()])
order, lists = [], {}
for n in names[1:]:
    _, slot, weight = n.split('/', 2)
    lists.setdefault(slot, []).append(g[n][()])
    order.append((slot, weight[:-2]))
training = json.loads(f.attrs['training_config'])
optimizer = training['optimizer_config']
name = optimizer['class_name'].replace('Custom>', '')
config = optimizer['config']
del f['optimizer_weights']
out = []
if era == 'keras3':
    keras3_slot = {'m': 'momentum', 'v': 'velocity', 'vhat': 'velocity_hat'}
    prefix = name.lower()
    out.append((prefix + '/iteration', np.int64(steps)))
    out.append((prefix + '/learning_rate', np.float32(config['learning_rate'])))
    seen = {}
    for slot, weight in order:
        i = seen.setdefault(slot, 0)
        seen[slot] += 1
        out.append((prefix + '/' + weight.replace('/', '_') + '_' + keras3_slot.get(slot, slot), lists[slot][i]))
    optimizer['class_name'] = name
else:
    own = {'Adam': ['m', 'v', 'vhat'], 'RMSprop': ['velocity'], 'SGD': ['m'], 'Adagrad': ['accumulator']}[name]
    variables = []
    for slot in own:
        if slot in lists:
            variables += lists[slot]
        elif slot == 'vhat' and era != 'keras2.0':
            variables += [np.zeros((1,), np.float32) for _ in lists['m']]
    if era == 'keras1':
        out.append(('Variable:0', np.float32(steps)))
        out += [('Variable_%d:0' % (i + 1), v) for i, v in enumerate(variables)]
    else:
        if era == 'keras2.0':
            out.append(('Adam_1/iterations:0', np.float32(steps)))
        elif name in ('Adam', 'SGD'):
            out.append((name + '/iterations:0', np.int64(steps)))
        suffix = lambda i: '' if i == 0 else '_%d' % i
        out += [('training/%s/Variable%s:0' % (name, suffix(i)), v) for i, v in enumerate(variables)]
    config['lr'] = config.pop('learning_rate')
    for key in ('name', 'weight_decay', 'clipnorm', 'global_clipnorm', 'clipvalue', 'use_ema', 'ema_momentum',
                'ema_overwrite_frequency', 'jit_compile', 'is_legacy_optimizer'):
        config.pop(key, None)
    config['decay'] = 0.0
    optimizer['class_name'] = name
f.attrs['training_config'] = json.dumps(training)
g = f.create_group('optimizer_weights')
g.attrs['weight_names'] = np.array([n.encode() for n, _ in out])
for n, v in out:
    g[n] = v
)";

class OlderKerasOptimizerState : public ::testing::TestWithParam<std::tuple<OptimizerCase, std::string>> {};

// State that a Keras of another era saved resumes training exactly: the weights are those of training
// straight through, bit for bit.
TEST_P(OlderKerasOptimizerState, ResumesTrainingExactly) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const auto& [optimizer, era] = GetParam();
  const auto [x, y] = data();
  auto [straight, first] = straight_and_stopped(optimizer);
  const testing::TempFolder folder;
  const fs::path file = folder.path() / "model.h5";
  save_model(first, file);
  const auto [status, output] = python(kRewriteOptimizerState, file.string() + " " + era, folder.path());
  ASSERT_EQ(status, 0) << output;

  LoadedModel loaded = load_model_file(file);
  EXPECT_TRUE(loaded.dropped_training_state.empty()) << loaded.dropped_training_state.front();
  ASSERT_TRUE(loaded.model.compiled());
  EXPECT_EQ(loaded.model.optimizer().name(), first.optimizer().name());
  // Keras 2.2's RMSprop and Adagrad kept no step count; their updates do not read it.
  const std::string name = first.optimizer().name();
  if (era != "keras2" || name == "Adam" || name == "SGD") {
    EXPECT_EQ(loaded.model.optimizer().iterations(), 6);
  }
  loaded.model.fit(x, y, epochs(2, 5));
  EXPECT_TRUE(bitwise_equal(loaded.model.get_weights(), straight.get_weights()));
}

std::vector<OptimizerCase> keras2_optimizers() {
  return {{"adam", [] { return Adam(); }},
          {"adam_amsgrad", [] { return Adam({.learning_rate = 0.01, .amsgrad = true}); }},
          {"rmsprop", [] { return RMSprop(); }},
          {"sgd_momentum", [] { return SGD({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}); }},
          {"adagrad", [] { return Adagrad({.learning_rate = 0.1}); }}};
}

INSTANTIATE_TEST_SUITE_P(
    Eras, OlderKerasOptimizerState,
    ::testing::Combine(::testing::ValuesIn(keras2_optimizers()),
                       ::testing::Values("keras3", "keras2", "keras1")),
    [](const ::testing::TestParamInfo<std::tuple<OptimizerCase, std::string>>& param_info) {
      return std::get<0>(param_info.param).name + "_" + std::get<1>(param_info.param);
    });

INSTANTIATE_TEST_SUITE_P(Keras2_0, OlderKerasOptimizerState,
                         ::testing::Combine(::testing::Values(OptimizerCase{"adam", [] { return Adam(); }}),
                                            ::testing::Values("keras2.0")),
                         [](const auto&) { return std::string("adam_keras2_0"); });

// A training configuration rnnkit cannot compile (an optimizer it lacks) leaves the model loaded, uncompiled,
// with the reason.
// A model trained an epoch with Adam, saved as `extension`, edited by a Python script (argv[1]: the file) and
// loaded again; `trained` receives the model as it was saved.
LoadedModel save_edit_and_load(const std::string& extension, const std::string& edit, Sequential& trained) {
  const testing::TempFolder folder;
  trained = model(Adam());
  const auto [x, y] = data();
  trained.fit(x, y, epochs(0, 1));
  const fs::path file = folder.path() / ("m" + extension);
  save_model(trained, file);
  const auto [status, output] = python(edit, file.string(), folder.path());
  EXPECT_EQ(status, 0) << output;
  return load_model_file(file);
}

TEST(ResumeFiles, UncompilableTrainingConfigLoadsTheModelUncompiled) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  Sequential trained;
  const LoadedModel loaded = save_edit_and_load(
      ".h5",
      "import sys, json, h5py\n"
      "f = h5py.File(sys.argv[1], 'r+')\n"
      "t = json.loads(f.attrs['training_config'])\n"
      "t['optimizer_config'] = {'class_name': 'Nadam', 'config': {'lr': 0.002, 'schedule_decay': 0.004}}\n"
      "f.attrs['training_config'] = json.dumps(t)\n",
      trained);
  EXPECT_FALSE(loaded.model.compiled());
  EXPECT_TRUE(bitwise_equal(loaded.model.get_weights(), trained.get_weights()));
  ASSERT_EQ(loaded.dropped_training_state.size(), 1u);
  EXPECT_NE(loaded.dropped_training_state[0].find("optimizer 'Nadam' is not supported"), std::string::npos)
      << loaded.dropped_training_state[0];
  EXPECT_NE(loaded.dropped_training_state[0].find("the model loads uncompiled"), std::string::npos);
}

// A .keras whose compile_config names no optimizer compiles with Keras 3's default, RMSprop, as
// compile_from_config does; the saved Adam variables do not fit it and are dropped, as Keras skips them.
TEST(ResumeFiles, KerasArchiveWithoutAnOptimizerCompilesKerasDefault) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  Sequential trained;
  const LoadedModel loaded = save_edit_and_load(".keras",
                                                "import sys, json, zipfile\n"
                                                "z = zipfile.ZipFile(sys.argv[1])\n"
                                                "members = {n: z.read(n) for n in z.namelist()}\n"
                                                "config = json.loads(members['config.json'])\n"
                                                "del config['compile_config']['optimizer']\n"
                                                "members['config.json'] = json.dumps(config).encode()\n"
                                                "with zipfile.ZipFile(sys.argv[1], 'w') as out:\n"
                                                "    for n, b in members.items(): out.writestr(n, b)\n",
                                                trained);
  ASSERT_TRUE(loaded.model.compiled());
  EXPECT_EQ(loaded.model.optimizer().name(), "RMSprop");
  EXPECT_EQ(loaded.model.loss().name(), "categorical_crossentropy");
  EXPECT_TRUE(bitwise_equal(loaded.model.get_weights(), trained.get_weights()));
  ASSERT_EQ(loaded.dropped_training_state.size(), 1u);
  EXPECT_NE(loaded.dropped_training_state[0].find("optimizer/vars: holds 14 variables"), std::string::npos)
      << loaded.dropped_training_state[0];
}

// Every weight equal to the last bit, element by element.
void expect_same_weights(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].shape(), expected[i].shape()) << "weight " << i;
    for (std::int64_t j = 0; j < actual[i].size(); ++j)
      ASSERT_EQ(actual[i][j], expected[i][j]) << "weight " << i << ", element " << j;
  }
}

// The resumed run's history is the uninterrupted run's from epoch `first` on, every value equal.
void expect_history_goes_on(const History& resumed, const History& straight, int first) {
  std::vector<int> epochs(straight.epoch.begin() + first, straight.epoch.end());
  EXPECT_EQ(resumed.epoch, epochs);
  ASSERT_EQ(resumed.history.size(), straight.history.size());
  for (const auto& [name, values] : straight.history) {
    ASSERT_TRUE(resumed.history.contains(name)) << name;
    const std::vector<double> rest(values.begin() + first, values.end());
    ASSERT_EQ(resumed.history.at(name).size(), rest.size()) << name;
    for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(resumed.history.at(name)[i], rest[i]) << name;
  }
}

// Every draw from the generator matters here: shuffled batches, a Dropout layer, and dropout and recurrent
// dropout in both recurrent layers.
Sequential dropout_model() {
  clear_session();
  Sequential result({.seed = 5});
  result.add(Embedding(12, 4, {.input_length = 5}));
  result.add(LSTM(6, {.return_sequences = true, .dropout = 0.3f, .recurrent_dropout = 0.2f}));
  result.add(Dropout(0.25f));
  result.add(GRU(5, {.dropout = 0.1f, .recurrent_dropout = 0.3f}));
  result.add(Dense(12, {.activation = "softmax"}));
  result.build({kNone, 5});
  result.compile({.loss = "categorical_crossentropy",
                  .optimizer = Adam({.learning_rate = 0.01}),
                  .metrics = {"accuracy"}});
  return result;
}

constexpr int kEpochs = 5;

FitOptions shuffled(int first, const std::pair<Tensor, Tensor>& validation,
                    std::vector<std::shared_ptr<Callback>> callbacks = {}) {
  FitOptions options{.epochs = kEpochs,
                     .batch_size = 5,
                     .verbose = 0,
                     .shuffle = true,
                     .validation_data = validation,
                     .initial_epoch = first,
                     .callbacks = std::move(callbacks)};
  return options;
}

class ResumeShuffledDropout : public ::testing::TestWithParam<std::string> {};

// The checkpoints ModelCheckpoint writes after each epoch of one run each go on to that run's end exactly.
TEST_P(ResumeShuffledDropout, EveryEpochsCheckpointGoesOnAsTheRunDid) {
  const std::string extension = GetParam();
  const auto [x, y] = data();
  const auto validation = std::pair(x, y);
  const testing::TempFolder folder;
  Sequential straight = dropout_model();
  const History whole = straight.fit(
      x, y, shuffled(0, validation, {ModelCheckpoint(folder.path() / ("m{epoch:02d}" + extension))}));
  EXPECT_EQ(straight.training_state().epoch, kEpochs);
  for (int k = 1; k < kEpochs; ++k) {
    SCOPED_TRACE("resumed after epoch " + std::to_string(k));
    LoadedModel loaded = load_model_file(folder.path() / ("m0" + std::to_string(k) + extension));
    EXPECT_TRUE(loaded.dropped_training_state.empty());
    ASSERT_TRUE(loaded.training_state.has_value());
    EXPECT_EQ(loaded.training_state->epoch, k);
    EXPECT_TRUE(loaded.assets.empty());  // the state is rnnkit's, not one of the user's assets
    const History rest = loaded.model.fit(x, y, shuffled(loaded.training_state->epoch, validation));
    expect_same_weights(loaded.model.get_weights(), straight.get_weights());
    expect_history_goes_on(rest, whole, k);
  }
}

// Training k epochs, save_model, load, and fit to the end: the same for every k.
TEST_P(ResumeShuffledDropout, StopSaveLoadAndGoOnAfterAnyEpoch) {
  const std::string extension = GetParam();
  const auto [x, y] = data();
  const auto validation = std::pair(x, y);
  Sequential straight = dropout_model();
  const History whole = straight.fit(x, y, shuffled(0, validation));
  for (int k = 1; k < kEpochs; ++k) {
    SCOPED_TRACE("stopped after epoch " + std::to_string(k));
    Sequential stopped = dropout_model();
    FitOptions first_part = shuffled(0, validation);
    first_part.epochs = k;
    stopped.fit(x, y, first_part);
    const testing::TempFolder folder;
    save_model(stopped, folder.path() / ("m" + extension));
    Model resumed = load_model(folder.path() / ("m" + extension));
    EXPECT_EQ(resumed.training_state().epoch, k);
    const History rest = resumed.fit(x, y, shuffled(k, validation));
    expect_same_weights(resumed.get_weights(), straight.get_weights());
    expect_history_goes_on(rest, whole, k);
  }
}

INSTANTIATE_TEST_SUITE_P(ModelFiles, ResumeShuffledDropout, ::testing::Values(".keras", ".h5"),
                         [](const auto& param_info) { return param_info.param.substr(1); });

// The saved generator is what makes the run go on: the same checkpoint given a fresh generator trains to
// other weights, so the tests above would fail without it.
TEST(ResumeShuffledDropoutControl, AFreshGeneratorTrainsToOtherWeights) {
  const auto [x, y] = data();
  const auto validation = std::pair(x, y);
  const testing::TempFolder folder;
  Sequential straight = dropout_model();
  straight.fit(x, y, shuffled(0, validation, {ModelCheckpoint(folder.path() / "m{epoch:02d}.keras")}));
  Model resumed = load_model(folder.path() / "m02.keras");
  resumed.set_training_state({.generator = Rng(5), .epoch = 2});
  resumed.fit(x, y, shuffled(2, validation));
  EXPECT_FALSE(bitwise_equal(resumed.get_weights(), straight.get_weights()));
}

// A language-model Dataset (windows over one id sequence, shuffled each epoch) resumes the same way.
TEST(ResumeDataset, WindowDatasetGoesOnAsTheRunDid) {
  auto ids = std::make_shared<std::vector<std::int32_t>>();
  for (std::int32_t i = 0; i < 97; ++i) ids->push_back((i * 7 + i / 5) % 9);
  const auto windows = [&] {
    return make_window_datasets(ids, {.seq_length = 6, .stride = 3, .batch_size = 4}, 0.2);
  };
  const auto language_model = [] {
    clear_session();
    Sequential result({.seed = 3});
    result.add(Embedding(9, 4));
    result.add(GRU(6, {.return_sequences = true, .dropout = 0.2f, .recurrent_dropout = 0.25f}));
    result.add(Dropout(0.1f));
    result.add(Dense(9, {.activation = "softmax"}));
    result.build({kNone, kNone});
    result.compile(
        {.loss = "sparse_categorical_crossentropy", .optimizer = RMSprop({.learning_rate = 0.01})});
    return result;
  };
  const auto options = [](int first, Dataset* validation) {
    return FitOptions{
        .epochs = 4, .verbose = 0, .shuffle = true, .validation_dataset = validation, .initial_epoch = first};
  };
  WindowDatasets straight_data = windows();
  Sequential straight = language_model();
  const History whole = straight.fit(*straight_data.training, options(0, straight_data.validation.get()));
  for (int k = 1; k < 4; ++k) {
    SCOPED_TRACE("stopped after epoch " + std::to_string(k));
    WindowDatasets data = windows();  // a new process: the datasets made afresh too
    Sequential stopped = language_model();
    FitOptions first_part = options(0, data.validation.get());
    first_part.epochs = k;
    stopped.fit(*data.training, first_part);
    const testing::TempFolder folder;
    save_model(stopped, folder.path() / "lm.keras");
    Model resumed = load_model(folder.path() / "lm.keras");
    const History rest = resumed.fit(*data.training, options(k, data.validation.get()));
    expect_same_weights(resumed.get_weights(), straight.get_weights());
    expect_history_goes_on(rest, whole, k);
  }
}

TEST(TrainingState, GeneratorStateRoundTripsAndTheZeroStateIsRefused) {
  Rng original(42);
  original.next();
  Rng restored = Rng::from_state(original.state());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(restored.next(), original.next());
  EXPECT_THROW(Rng::from_state({0, 0, 0, 0}), Error);
}

TEST(TrainingState, OnlyACompiledModelSavesOneAndItsAssetNameIsReserved) {
  const testing::TempFolder folder;
  Sequential uncompiled({.seed = 1});
  uncompiled.add(Dense(2, {.input_shape = Shape{3}}));
  save_model(uncompiled, folder.path() / "u.keras");
  EXPECT_FALSE(load_model_file(folder.path() / "u.keras").training_state.has_value());
  Sequential compiled = model(SGD());
  EXPECT_THROW(
      try {
        save_model(compiled, folder.path() / "c.h5", {{"rnnkit_training_state.json", "{}"}});
      } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("'rnnkit_training_state.json' is rnnkit's own"),
                  std::string::npos)
            << error.what();
        throw;
      },
      Error);
}

// A training state that cannot be read is dropped with the file, the asset and the reason; the model loads,
// compiled, with its optimizer state.
TEST(TrainingState, UnreadableStateIsDroppedWithTheReason) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  const fs::path file = folder.path() / "m.h5", state = folder.path() / "state.json";
  const auto [x, y] = data();
  Sequential trained = model(Adam());
  trained.fit(x, y, epochs(0, 1));
  const std::string zero = "\"0000000000000000\"";
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"version": 1, "epoch": 1, "generator": ["0", "1", "2"]})", "field 'generator': expected 4 words"},
      {R"({"version": 1, "epoch": 1, "generator": ["12", "1", "2", "3"]})", "word 0 is not 16 hex digits"},
      {R"({"version": 1, "epoch": -1, "generator": []})", "field 'epoch': expected an epoch count"},
      {R"({"version": 2})", "expected an object with \"version\": 1"},
      {"not json", "not valid JSON"},
      {R"({"version": 1, "epoch": 1, "generator": [)" + zero + "," + zero + "," + zero + "," + zero + "]}",
       "all four words are zero"}};
  for (const auto& [bytes, reason] : cases) {
    SCOPED_TRACE(bytes);
    save_model(trained, file);
    std::ofstream(state) << bytes;
    const auto [status, output] = python(
        "import sys, h5py, numpy as np\n"
        "f = h5py.File(sys.argv[1], 'r+')\n"
        "del f['rnnkit_assets/rnnkit_training_state.json']\n"
        "f['rnnkit_assets/rnnkit_training_state.json'] = "
        "np.frombuffer(open(sys.argv[2], 'rb').read(), np.uint8)\n",
        file.string() + " " + state.string(), folder.path());
    ASSERT_EQ(status, 0) << output;
    const LoadedModel loaded = load_model_file(file);
    EXPECT_TRUE(loaded.model.compiled());
    EXPECT_EQ(loaded.model.optimizer().iterations(), 3);
    EXPECT_FALSE(loaded.training_state.has_value());
    EXPECT_TRUE(loaded.assets.empty());
    ASSERT_EQ(loaded.dropped_training_state.size(), 1u);
    const std::string& message = loaded.dropped_training_state[0];
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("asset rnnkit_training_state.json"), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  }
}

// Keras's own readers see the state where rnnkit puts it: a member of the .keras archive's assets/ and a
// dataset of the .h5's rnnkit_assets group, JSON either way.
TEST(TrainingState, LayoutReadByPython) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  const auto [x, y] = data();
  Sequential trained = model(Adam());
  trained.fit(x, y, epochs(0, 2));
  save_model(trained, folder.path() / "m.h5");
  save_model(trained, folder.path() / "m.keras");
  const auto [status, output] = python(
      "import sys, h5py, json, zipfile\n"
      "h = json.loads(bytes(h5py.File(sys.argv[1], 'r')['rnnkit_assets/rnnkit_training_state.json'][()]))\n"
      "k = json.loads(zipfile.ZipFile(sys.argv[2]).read('assets/rnnkit_training_state.json'))\n"
      "print(h == k, h['version'], h['epoch'], len(h['generator']), "
      "all(len(w) == 16 and int(w, 16) >= 0 for w in h['generator']))\n",
      (folder.path() / "m.h5").string() + " " + (folder.path() / "m.keras").string(), folder.path());
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "True 1 2 4 True\n");
}

}  // namespace
}  // namespace rnnkit
