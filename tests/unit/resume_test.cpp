// Saving a compiled model keeps its training state in Keras's layouts (tf.keras 2.11's training_config and
// optimizer_weights in .h5, Keras 3's compile_config and optimizer/vars in .keras), so that training N
// epochs, saving, loading and training M more gives, bit for bit, what N + M epochs without a stop give.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "io/keras_h5.h"
#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
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

class Resume : public ::testing::TestWithParam<std::tuple<OptimizerCase, std::string>> {};

TEST_P(Resume, TrainingStopSaveLoadAndGoOnIsTrainingStraight) {
  const auto& [optimizer, extension] = GetParam();
  const auto [x, y] = data();
  Sequential straight = model(optimizer.make());
  straight.fit(x, y, epochs(0, 5));

  Sequential first = model(optimizer.make());
  first.fit(x, y, epochs(0, 2));
  const testing::TempFolder folder;
  const fs::path file = folder.path() / ("model" + extension);
  save_model(first, file);
  LoadedModel loaded = load_model_file(file);
  Sequential& resumed = loaded.model;
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

bool have_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0;
}

std::pair<int, std::string> python(const std::string& script, const std::string& arguments,
                                   const fs::path& folder) {
  const fs::path source = folder / "script.py", output = folder / "output.txt";
  std::ofstream(source) << script;
  const int status = std::system(
      ("/usr/bin/python3 " + source.string() + " " + arguments + " > " + output.string() + " 2>&1").c_str());
  return {status, testing::read_text(output)};
}

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

// Optimizer state that does not fit the model: an error naming the file and the path inside it.
TEST(ResumeFiles, MalformedOptimizerStateNamesTheFileAndPath) {
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
  for (const char* edit : {"count", "shape"}) {
    SCOPED_TRACE(edit);
    save_model(trained, h5);
    ASSERT_EQ(python(edit_h5, h5.string() + " " + edit, folder.path()).first, 0);
    try {
      (void)load_model(h5);
      ADD_FAILURE() << "loaded";
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(h5.string()), std::string::npos) << message;
      EXPECT_NE(message.find(std::string(edit) == "count"
                                 ? "object /optimizer_weights: holds 12 optimizer weights"
                                 : "object /optimizer_weights/Adam/v/lstm/lstm_cell/kernel:0: shape (3, 3)"),
                std::string::npos)
          << message;
    }
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
  try {
    (void)load_model(keras);
    ADD_FAILURE() << "loaded";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(keras.string()), std::string::npos) << message;
    EXPECT_NE(message.find("object /optimizer/vars/5: shape (2,)"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace rnnkit
