// Model files whose shapes Keras accepts though they look wrong: a non-first layer that carries its own input
// shape, a fixed batch size on a model without state, a model saved before it was ever built. Each fixture is
// written with h5py as the Keras of its era writes it.
#include <gtest/gtest.h>

#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;
using testing::have_h5py;
using testing::python;

Tensor sequences(std::int64_t batch) {
  Tensor x({batch, 5, 3});
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37 % 19) - 9) / 9.0f;
  return x;
}

// LSTM(4, return_sequences) + LSTM(2) + Dense(3, softmax) on (5, 3) sequences; `batch` fixes the batch size.
Sequential stacked_lstm(std::optional<std::int64_t> batch) {
  clear_session();
  Sequential model({.seed = 5});
  model.add(LSTM(4, {.return_sequences = true, .batch_input_shape = Shape{batch.value_or(kNone), 5, 3}}));
  model.add(LSTM(2));
  model.add(Dense(3, {.activation = "softmax"}));
  return model;
}

// Keras ignores the input shape of any layer but the first: tf.keras 2.x wrote the first layer's
// batch_input_shape into a later layer's config when a script passed input_shape to every layer.
TEST(FileShapes, LaterLayerInputShapeIsIgnored) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  Sequential model = stacked_lstm(std::nullopt);
  const Tensor expected = model.predict(sequences(2));
  const fs::path file = folder.path() / "m.h5";
  save_model(model, file);
  const auto [status, output] = python(
      "import sys, json, h5py\n"
      "f = h5py.File(sys.argv[1], 'r+')\n"
      "config = json.loads(f.attrs['model_config'])\n"
      "layers = config['config']['layers']\n"
      "second = [l for l in layers if l['class_name'] == 'LSTM'][1]\n"
      "second['config']['batch_input_shape'] = [None, 5, 3]\n"
      "f.attrs['model_config'] = json.dumps(config).encode()\n",
      file.string(), folder.path());
  ASSERT_EQ(status, 0) << output;
  Sequential loaded = load_model(file);
  EXPECT_EQ(loaded.layer(1).output_shapes()[0], (Shape{kNone, 2}));
  const Tensor predicted = loaded.predict(sequences(2));
  ASSERT_EQ(predicted.shape(), expected.shape());
  for (std::int64_t i = 0; i < expected.size(); ++i) EXPECT_EQ(predicted[i], expected[i]) << i;
}

// A batch size fixed by batch_input_shape binds only a stateful model: Keras predicts any batch size with a
// model that has no state, and shows the fixed size in its summary.
TEST(FileShapes, FixedBatchSizeWithoutStateTakesAnyBatch) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  Sequential fixed = stacked_lstm(8);
  const fs::path file = folder.path() / "m.h5";
  save_model(fixed, file);
  Sequential loaded = load_model(file);
  EXPECT_EQ(loaded.layer(2).output_shapes()[0], (Shape{8, 3}));
  Sequential free = stacked_lstm(std::nullopt);
  free.set_weights(fixed.get_weights());
  for (std::int64_t batch : {1, 3, 8, 11}) {
    SCOPED_TRACE(batch);
    const Tensor expected = free.predict(sequences(batch));
    const Tensor predicted = loaded.predict(sequences(batch), 4);
    ASSERT_EQ(predicted.shape(), expected.shape());
    for (std::int64_t i = 0; i < expected.size(); ++i) EXPECT_EQ(predicted[i], expected[i]) << i;
  }
}

// Keras 3 saves a Sequential that was never built (no input shape, never called) with no weights at all, and
// loads it unbuilt: its summary shows every layer as "?" and "0 (unbuilt)"; a first call builds it.
TEST(FileShapes, UnbuiltKeras3ModelLoadsUnbuilt) {
  if (!have_h5py()) GTEST_SKIP() << "no h5py";
  const testing::TempFolder folder;
  const fs::path file = folder.path() / "unbuilt.h5";
  // legacy_h5_format.save_model_to_hdf5 of Keras 3.13: the model_config of Sequential.get_config() (layers
  // without module keys, DTypePolicy objects), and one empty group per layer under model_weights.
  const auto [status, output] = python(
      R"(import sys, json, h5py, numpy as np
policy = {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}
def init(name, **config):
    return {'module': 'keras.initializers', 'class_name': name, 'config': config, 'registered_name': None}
layers = [
    {'class_name': 'Embedding', 'config': {'name': 'embedding_3', 'trainable': True, 'dtype': policy,
        'input_dim': 20, 'output_dim': 4, 'embeddings_initializer': init('RandomUniform', seed=None,
        minval=-0.05, maxval=0.05), 'embeddings_regularizer': None, 'activity_regularizer': None,
        'embeddings_constraint': None, 'mask_zero': False}},
    {'class_name': 'LSTM', 'config': {'name': 'lstm_1', 'trainable': True, 'dtype': policy,
        'return_sequences': False, 'return_state': False, 'go_backwards': False, 'stateful': False,
        'unroll': False, 'zero_output_for_mask': False, 'units': 3, 'activation': 'tanh',
        'recurrent_activation': 'sigmoid', 'use_bias': True, 'kernel_initializer': init('GlorotUniform', seed=None),
        'recurrent_initializer': init('Orthogonal', seed=None, gain=1.0), 'bias_initializer': init('Zeros'),
        'unit_forget_bias': True, 'kernel_regularizer': None, 'recurrent_regularizer': None,
        'bias_regularizer': None, 'activity_regularizer': None, 'kernel_constraint': None,
        'recurrent_constraint': None, 'bias_constraint': None, 'dropout': 0.0, 'recurrent_dropout': 0.0,
        'seed': None}},
    {'class_name': 'Dense', 'config': {'name': 'dense_3', 'trainable': True, 'dtype': policy, 'units': 20,
        'activation': 'softmax', 'use_bias': True, 'kernel_initializer': init('GlorotUniform', seed=None),
        'bias_initializer': init('Zeros'), 'kernel_regularizer': None, 'bias_regularizer': None,
        'kernel_constraint': None, 'bias_constraint': None}},
]
config = {'class_name': 'Sequential', 'config': {'name': 'sequential_3', 'trainable': True, 'dtype': policy,
          'layers': layers}}
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['backend'] = 'tensorflow'
    f.attrs['keras_version'] = '3.13.2'
    f.attrs['model_config'] = json.dumps(config).encode()
    w = f.create_group('model_weights')
    w.attrs['backend'] = 'tensorflow'
    w.attrs['keras_version'] = '3.13.2'
    w.attrs['layer_names'] = np.array([l['config']['name'].encode() for l in layers])
    for l in layers:
        w.create_group(l['config']['name']).attrs['weight_names'] = np.array([], dtype=np.float64)
)",
      file.string(), folder.path());
  ASSERT_EQ(status, 0) << output;
  LoadedModel loaded = load_model_file(file);
  EXPECT_FALSE(loaded.model.built());
  EXPECT_EQ(loaded.model.summary_text(SummaryStyle::keras3),
            "Model: \"sequential_3\"\n"
            "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
            "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
            "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
            "│ embedding_3 (Embedding)         │ ?                      │   0 (unbuilt) │\n"
            "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
            "│ lstm_1 (LSTM)                   │ ?                      │   0 (unbuilt) │\n"
            "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
            "│ dense_3 (Dense)                 │ ?                      │   0 (unbuilt) │\n"
            "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
            " Total params: 0 (0.00 B)\n"
            " Trainable params: 0 (0.00 B)\n"
            " Non-trainable params: 0 (0.00 B)\n");
  // tf.keras 2 refuses to summarise a model that was never built.
  EXPECT_THROW((void)loaded.model.summary_text(SummaryStyle::keras2_12), Error);
  Tensor ids({2, 6});
  for (std::int64_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<float>(1 + i % 19);
  const Tensor probabilities = loaded.model.predict(ids);
  EXPECT_EQ(probabilities.shape(), (Shape{2, 20}));
  EXPECT_EQ(loaded.model.count_params(), 20 * 4 + 4 * (4 + 3 + 1) * 3 + 3 * 20 + 20);
}

}  // namespace
}  // namespace rnnkit
