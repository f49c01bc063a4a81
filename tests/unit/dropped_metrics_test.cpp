// A model file compiled with metrics rnnkit does not compute (mae, ...) still loads: compiled with its loss,
// optimizer and the metrics rnnkit has, and LoadedModel::dropped_metrics says what was left out and why. The
// files are rnnkit's own saves whose training_config (tf.keras 2.11 .h5) or compile_config (Keras 3 .keras)
// the test rewrites with h5py / zipfile into what Keras writes for compile(metrics=[...]).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;

int run_python(const std::string& script, const fs::path& folder) {
  const fs::path source = folder / "rewrite.py";
  std::ofstream(source) << script;
  return std::system(
      ("/usr/bin/python3 " + source.string() + " > " + (folder / "out.txt").string() + " 2>&1").c_str());
}

Sequential compiled_model() {
  Sequential model;
  model.add(Embedding(5, 2, {.input_length = 3}));
  model.add(LSTM(2));
  model.add(Dense(2, {.activation = "softmax"}));
  model.build({kNone, 3});
  model.compile({.loss = "categorical_crossentropy",
                 .optimizer = Adam({.learning_rate = 0.01}),
                 .metrics = {"accuracy"}});
  return model;
}

TEST(DroppedMetrics, UnsupportedMetricsDoNotBlockLoading) {
  if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") != 0) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  save_model(compiled_model(), folder.path() / "m.h5");
  save_model(compiled_model(), folder.path() / "m.keras");
  // tf.keras 2.11 nests the metrics per output and writes built ones as MeanMetricWrapper or their class;
  // Keras 3 keeps compile()'s arguments as given.
  const std::string script =
      "import h5py, json, zipfile\n"
      "folder = '" +
      folder.path().string() +
      "'\n"
      "with h5py.File(folder + '/m.h5', 'r+') as f:\n"
      "    tc = json.loads(f.attrs['training_config'])\n"
      "    tc['metrics'] = [[{'class_name': 'MeanMetricWrapper', 'config': {'name': 'accuracy', 'dtype': "
      "'float32',"
      " 'fn': 'categorical_accuracy'}}, {'class_name': 'AUC', 'config': {'name': 'auc', 'num_thresholds': "
      "200}},"
      " 'mae']]\n"
      "    tc['weighted_metrics'] = [['accuracy']]\n"
      "    f.attrs['training_config'] = json.dumps(tc)\n"
      "src = zipfile.ZipFile(folder + '/m.keras')\n"
      "members = {n: src.read(n) for n in src.namelist()}\n"
      "config = json.loads(members['config.json'])\n"
      "config['compile_config']['metrics'] = ['accuracy', 'mean_absolute_error', {'module': 'keras.metrics',"
      " 'class_name': 'Precision', 'config': {'name': 'precision'}, 'registered_name': None}]\n"
      "config['compile_config']['weighted_metrics'] = ['accuracy', 'mae']\n"
      "members['config.json'] = json.dumps(config)\n"
      "with zipfile.ZipFile(folder + '/m.keras', 'w') as out:\n"
      "    for name, data in members.items(): out.writestr(name, data)\n";
  ASSERT_EQ(run_python(script, folder.path()), 0) << testing::read_text(folder.path() / "out.txt");

  // What rnnkit computes is compiled (accuracy, AUC, Precision, a weighted accuracy); the rest is listed with
  // the reason.
  const auto expect_dropped = [](const std::vector<std::string>& dropped,
                                 const std::vector<std::string>& prefixes) {
    ASSERT_EQ(dropped.size(), prefixes.size());
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      EXPECT_TRUE(dropped[i].starts_with(prefixes[i])) << dropped[i];
      EXPECT_NE(dropped[i].find("unknown metric"), std::string::npos) << dropped[i];
    }
  };
  LoadedModel h5 = load_model_file(folder.path() / "m.h5");
  expect_dropped(h5.dropped_metrics, {R"("mae": )"});
  EXPECT_EQ(h5.model.metrics(), (std::vector<std::string>{"accuracy", "auc"}));
  LoadedModel keras = load_model_file(folder.path() / "m.keras");
  expect_dropped(keras.dropped_metrics, {R"("mean_absolute_error": )", R"("mae" (in weighted_metrics): )"});
  EXPECT_EQ(keras.model.metrics(), (std::vector<std::string>{"accuracy", "precision"}));
  for (LoadedModel* loaded : {&h5, &keras}) {
    ASSERT_TRUE(loaded->model.compiled());
    EXPECT_EQ(loaded->model.loss().name(), "categorical_crossentropy");
    EXPECT_EQ(loaded->model.weighted_metrics_of(0), std::vector<std::string>{"accuracy"});
    EXPECT_EQ(loaded->model.optimizer().name(), "Adam");
  }
  // A loss rnnkit does not know cannot be dropped like a metric: the model loads uncompiled, and the reason
  // names the file and the loss.
  const std::string bad_loss =
      "import h5py, json\n"
      "with h5py.File('" +
      (folder.path() / "m.h5").string() +
      "', 'r+') as f:\n"
      "    tc = json.loads(f.attrs['training_config'])\n"
      "    tc['loss'] = 'kl_divergence'\n"
      "    f.attrs['training_config'] = json.dumps(tc)\n";
  ASSERT_EQ(run_python(bad_loss, folder.path()), 0) << testing::read_text(folder.path() / "out.txt");
  const LoadedModel uncompiled = load_model_file(folder.path() / "m.h5");
  EXPECT_FALSE(uncompiled.model.compiled());
  ASSERT_EQ(uncompiled.dropped_training_state.size(), 1u);
  const std::string& reason = uncompiled.dropped_training_state[0];
  EXPECT_NE(reason.find("kl_divergence"), std::string::npos) << reason;
  EXPECT_NE(reason.find("m.h5"), std::string::npos) << reason;
  EXPECT_NE(reason.find("the model loads uncompiled"), std::string::npos) << reason;
}

}  // namespace
}  // namespace rnnkit
