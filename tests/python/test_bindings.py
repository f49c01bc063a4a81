"""Unit tests of rnnkit.keras against independent references: numpy implementations of Keras's maths, values
worked out by hand, and the C++ command line on the same model file."""
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import rnnkit
from rnnkit import keras
from rnnkit.keras import callbacks, layers, losses, models, optimizers
from rnnkit.keras.preprocessing.sequence import pad_sequences
from rnnkit.keras.preprocessing.text import Tokenizer, tokenizer_from_json
from rnnkit.keras.utils import set_random_seed, to_categorical

BUILD_DIR = os.environ.get("RNNKIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_lstm(x, kernel, recurrent, bias):
    """Keras's LSTM (gates i, f, c, o; tanh and sigmoid), the last hidden state and cell state."""
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h, c


def numpy_simple_rnn(x, kernel, recurrent, bias):
    h = np.zeros((x.shape[0], recurrent.shape[0]))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        states.append(h)
    return np.stack(states, axis=1)


def small_model():
    model = models.Sequential()
    model.add(layers.Embedding(10, 4, input_length=5))
    model.add(layers.LSTM(3))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model


def test_predict_equals_numpy_reference():
    model = small_model()
    x = np.array([[1, 2, 3, 4, 5], [0, 9, 8, 7, 6]], dtype=np.int32)
    embeddings, kernel, recurrent, bias, dense_kernel, dense_bias = model.get_weights()
    h, _ = numpy_lstm(embeddings[x].astype(np.float64), kernel, recurrent, bias)
    expected = sigmoid(h @ dense_kernel + dense_bias)
    got = model.predict(x, verbose=0)
    assert got.dtype == np.float32 and got.shape == (2, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_predict_equals_the_command_line_on_the_same_file(tmp_path):
    cli = os.path.join(BUILD_DIR, "rnnkit")
    if not os.path.exists(cli):
        pytest.skip("the command line rnnkit is not built")
    model = small_model()
    model.save(str(tmp_path / "model.h5"))
    x = np.random.default_rng(1).integers(0, 10, size=(7, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([cli, "predict", str(tmp_path / "model.h5"), "--input", str(tmp_path / "x.npy"), "--output",
                    str(tmp_path / "y.npy")], check=True, capture_output=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.load(tmp_path / "y.npy"))


def test_get_and_set_weights_in_keras_order():
    model = models.Sequential([layers.Embedding(10, 4, input_length=5), layers.Bidirectional(layers.LSTM(3)),
                               layers.Dense(2)])
    shapes = [w.shape for w in model.get_weights()]
    # Keras's model.get_weights(): embeddings, then forward kernel, recurrent kernel, bias, then backward's.
    assert shapes == [(10, 4), (4, 12), (3, 12), (12,), (4, 12), (3, 12), (12,), (6, 2), (2,)]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    model.set_weights(weights)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    assert [w.shape for w in model.layers[1].get_weights()] == shapes[1:7]


def test_layer_call_on_numpy_matches_reference_and_return_state_gives_a_list():
    x = np.random.default_rng(2).standard_normal((2, 4, 5)).astype(np.float32)
    rnn = layers.SimpleRNN(3, return_sequences=True)
    out = rnn(x)
    kernel, recurrent, bias = rnn.get_weights()
    np.testing.assert_allclose(out, numpy_simple_rnn(x.astype(np.float64), kernel, recurrent, bias), rtol=1e-5,
                               atol=1e-6)
    lstm = layers.LSTM(3, return_state=True)
    result = lstm(x)
    assert isinstance(result, list) and len(result) == 3
    h, c = numpy_lstm(x.astype(np.float64), *lstm.get_weights())
    np.testing.assert_allclose(result[0], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result[1], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result[2], c, rtol=1e-5, atol=1e-6)


def test_numpy_in_and_out():
    model = small_model()
    x = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], dtype=np.int64)
    first = model.predict(x, verbose=0)
    assert isinstance(first, np.ndarray) and first.dtype == np.float32
    first[:] = 42  # the output is the caller's: changing it changes nothing in the model
    second = model.predict(x, verbose=0)
    assert not np.any(second == 42)
    np.testing.assert_array_equal(model.predict(x.astype(np.float32), verbose=0), second)
    np.testing.assert_array_equal(model.predict(np.asfortranarray(x), verbose=0), second)
    np.testing.assert_array_equal(model.predict(x.tolist(), verbose=0), second)


def test_fit_returns_history_with_keras_keys_and_learns():
    set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.integers(1, 10, size=(64, 5))
    y = (x[:, 0] > 5).astype(np.float32)  # the first token decides the label
    model = small_model()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(history, callbacks.History)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(15)) and all(len(v) == 15 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert 0 <= accuracy <= 1 and loss > 0
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}


def test_python_callbacks_are_called_and_can_stop_training():
    seen = []

    class StopAfterTwo(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, sorted(logs)))
            if epoch == 1:
                self.model.stop_training = True

    batches = []
    model = small_model()
    model.compile(loss=losses.BinaryCrossentropy(), optimizer="sgd")
    x = np.ones((8, 5))
    history = model.fit(x, np.ones(8), epochs=10, batch_size=4, verbose=0,
                        callbacks=[StopAfterTwo(), callbacks.LambdaCallback(on_batch_end=lambda batch, logs: batches.append(batch))])
    assert seen == [(0, ["loss"]), (1, ["loss"])]
    assert history.epoch == [0, 1] and batches == [0, 1, 0, 1]


def test_verbose_fit_prints_to_python_stdout(capsys):
    model = small_model()
    model.compile(loss="binary_crossentropy", optimizer="adam")
    model.fit(np.ones((4, 5)), np.ones(4), epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out


def test_the_gil_is_released_while_cpp_trains():
    model = models.Sequential([layers.LSTM(64, input_shape=(50, 16)), layers.Dense(1)])
    model.compile(loss="mse", optimizer="adam")
    x = np.random.default_rng(0).standard_normal((512, 50, 16)).astype(np.float32)
    y = np.zeros((512, 1), np.float32)
    done = threading.Event()
    ticks = []

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    started = time.perf_counter()
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    elapsed = time.perf_counter() - started
    done.set()
    ticker.join()
    during = [t for t in ticks if started <= t <= started + elapsed]
    # A thread that held the GIL through fit would leave the ticker no turn at all.
    assert elapsed > 0.05 and len(during) > 10, (elapsed, len(during))


def test_errors_are_python_exceptions_with_the_cpp_message():
    model = small_model()
    with pytest.raises(ValueError, match="embedding"):
        model.set_weights([np.zeros((3, 3))] + model.get_weights()[1:])
    with pytest.raises(NotImplementedError, match="dtype 'float16' is not supported"):
        layers.Dense(3, dtype="float16")
    with pytest.raises(NotImplementedError, match="time_major"):
        layers.LSTM(3, time_major=True)
    with pytest.raises(TypeError, match="not understood"):
        layers.Dense(3, kernal_initializer="zeros")
    with pytest.raises(NotImplementedError, match="MultiHeadAttention"):
        layers.MultiHeadAttention(2, 4)
    with pytest.raises(NotImplementedError, match="mean_absolute_error"):
        model.compile(loss="mean_absolute_error")
    with pytest.raises(ValueError, match="unknown loss|Unknown loss|known"):
        model.compile(loss="no_such_loss")
    with pytest.raises(rnnkit._rnnkit.Error):
        models.load_model("/nonexistent/model.h5")


def test_save_load_and_json_round_trips(tmp_path):
    model = small_model()
    model.compile(loss="binary_crossentropy", optimizer="adam")
    x = np.arange(10).reshape(2, 5)
    for name in ("m.keras", "m.h5"):
        model.save(str(tmp_path / name))
        loaded = models.load_model(str(tmp_path / name))
        assert isinstance(loaded, models.Sequential)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    again = models.model_from_json(model.to_json())
    assert json.loads(again.to_json())["class_name"] == "Sequential"
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_functional_model_with_states():
    encoder_inputs = keras.Input(shape=(None, 4))
    output, h, c = layers.LSTM(3, return_state=True)(encoder_inputs)
    outputs = layers.Dense(2, activation="softmax")(output)
    model = models.Model(encoder_inputs, [outputs, h, c])
    x = np.random.default_rng(4).standard_normal((2, 6, 4)).astype(np.float32)
    probabilities, h_out, c_out = model.predict(x, verbose=0)
    lstm = model.layers[1]
    assert isinstance(lstm, layers.LSTM)
    h_ref, c_ref = numpy_lstm(x.astype(np.float64), *lstm.get_weights())
    np.testing.assert_allclose(h_out, h_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_out, c_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_summary_goes_through_print_fn():
    lines = []
    model = models.Sequential([layers.SimpleRNN(3, input_shape=(2, 10))])
    model.summary(print_fn=lines.append)
    assert any("(None, 3)" in line and "42" in line for line in lines)
    assert "Total params: 42" in "\n".join(lines)


def test_tokenizer_pad_sequences_and_to_categorical():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(["the cat sat", "the cat ran", "a dog"])
    # By descending count, ties in first-seen order.
    assert tokenizer.word_index == {"the": 1, "cat": 2, "sat": 3, "ran": 4, "a": 5, "dog": 6}
    assert tokenizer.texts_to_sequences(["the dog sat", "unknown cat"]) == [[1, 6, 3], [2]]
    again = tokenizer_from_json(tokenizer.to_json())
    assert again.word_index == tokenizer.word_index
    padded = pad_sequences([[1, 2, 3], [4]], maxlen=4)
    assert padded.dtype == np.int32 and padded.tolist() == [[0, 1, 2, 3], [0, 0, 0, 4]]
    assert pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post").tolist() == [[1, 2], [4, 0]]
    assert to_categorical([0, 2, 1]).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_docstrings_name_keras_arguments():
    doc = layers.LSTM.__doc__
    for argument in ("units", "recurrent_dropout", "return_state", "unit_forget_bias"):
        assert argument in doc
    import inspect
    assert "return_sequences=False" in str(inspect.signature(layers.LSTM))


def test_model_layers_are_the_objects_added_and_seeds_repeat():
    lstm = layers.LSTM(2)
    model = models.Sequential([layers.Embedding(5, 3, input_length=2), lstm])
    assert model.layers[1] is lstm
    set_random_seed(7)
    first = small_model().get_weights()
    set_random_seed(7)
    second = small_model().get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_merge_and_attention_layers_on_numpy():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(layers.Add()([a, b]), a + b, rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate()([a, b]), np.concatenate([a, b], axis=-1))
    np.testing.assert_allclose(layers.Multiply()([a, b]), a * b, rtol=1e-6)
    q, v = a.astype(np.float64), b.astype(np.float64)
    scores = q @ v.transpose(0, 2, 1)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(layers.Attention()([a, b]), weights @ v, rtol=1e-5, atol=1e-6)


def test_functional_model_with_two_inputs_given_as_list_or_dict():
    left, right = keras.Input(shape=(3,), name="left"), keras.Input(shape=(3,), name="right")
    dense = layers.Dense(2, name="head")
    model = models.Model([left, right], dense(layers.Concatenate()([left, right])))
    x = [np.ones((4, 3), np.float32), np.arange(12, dtype=np.float32).reshape(4, 3)]
    kernel, bias = dense.get_weights()
    expected = np.concatenate(x, axis=1) @ kernel + bias
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict({"right": x[1], "left": x[0]}, verbose=0), expected, rtol=1e-5,
                               atol=1e-5)
    model.compile(loss="mse", optimizer=optimizers.SGD(learning_rate=0.01))
    history = model.fit(x, np.zeros((4, 2)), epochs=2, verbose=0)
    assert list(history.history) == ["loss"]


def test_one_input_model_takes_a_list_of_one_array_and_early_stopping_runs_in_cpp():
    model = small_model()
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    x, y = np.ones((8, 5)), np.ones(8)
    history = model.fit([x], [y], epochs=30, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)])
    # min_delta 10: no epoch improves on the first, so patience 0 stops after the second.
    assert history.epoch == [0, 1]


def numpy_keras_auc(y, p, n=200):
    """Keras's ROC AUC: n thresholds (the ends just outside [0, 1]), strict 'p > t', interpolated trapezoids."""
    thresholds = np.concatenate([[-1e-7], np.arange(1, n - 1) / (n - 1), [1 + 1e-7]])
    tp = np.array([np.sum((p > t) & (y == 1)) for t in thresholds], dtype=float)
    fp = np.array([np.sum((p > t) & (y == 0)) for t in thresholds], dtype=float)
    tpr, fpr = tp / np.sum(y == 1), fp / np.sum(y == 0)
    return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))


def test_keras_metrics_by_name_and_object_match_numpy():
    set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.integers(1, 10, size=(96, 5))
    y = (x[:, 0] + rng.integers(0, 4, size=96) > 7).astype(np.float32)
    model = small_model()
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", keras.metrics.Precision(name="p"), "recall",
                           keras.metrics.AUC(), keras.metrics.BinaryAccuracy(threshold=0.3, name="acc_03")])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "p", "recall", "auc", "acc_03"}
    results = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[:, 0]
    positive = p > 0.5
    assert results["accuracy"] == pytest.approx(np.mean(positive == (y == 1)), abs=1e-6)
    assert results["p"] == pytest.approx(np.sum(positive & (y == 1)) / np.sum(positive), abs=1e-6)
    assert results["recall"] == pytest.approx(np.sum(positive & (y == 1)) / np.sum(y == 1), abs=1e-6)
    assert results["auc"] == pytest.approx(numpy_keras_auc(y, p), abs=1e-5)
    assert results["acc_03"] == pytest.approx(np.mean((p > 0.3) == (y == 1)), abs=1e-6)
    with pytest.raises(NotImplementedError, match="mean_absolute_error"):
        model.compile(loss="binary_crossentropy", metrics=["mean_absolute_error"])


def test_sample_weight_weighs_the_loss_as_keras():
    set_random_seed(6)
    rng = np.random.default_rng(6)
    x = rng.integers(1, 10, size=(40, 5))
    y = (x[:, 0] > 5).astype(np.float32)
    weights = rng.uniform(0, 2, size=40).astype(np.float32)
    model = small_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    p = np.clip(model.predict(x, verbose=0)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    # Keras's sum-over-batch-size reduction: the weighted sum over the batch's samples, not over the weights.
    expected = np.mean(weights * losses)
    assert model.evaluate(x, y, batch_size=40, sample_weight=weights, verbose=0) == pytest.approx(expected, rel=1e-5)
    history = model.fit(x, y, batch_size=40, epochs=1, sample_weight=weights, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_a_model_used_as_a_layer_shares_its_weights(tmp_path):
    set_random_seed(7)
    encoder = models.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,))], name="encoder")
    x = keras.Input((4,))
    model = models.Model(x, layers.Dense(1)(encoder(x)))
    stacked = models.Sequential([encoder, layers.Dense(2)])
    assert model.layers[1] is encoder and stacked.layers[0] is encoder
    assert model.count_params() == 4 * 3 + 3 + 3 + 1 and stacked.count_params() == 15 + 8
    data = np.random.default_rng(7).normal(size=(6, 4)).astype(np.float32)
    w1, b1, w2, b2 = model.get_weights()
    np.testing.assert_allclose(model.predict(data, verbose=0), np.tanh(data @ w1 + b1) @ w2 + b2, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data, np.ones((6, 1), np.float32), epochs=2, verbose=0)
    trained = encoder.get_weights()
    assert not np.allclose(trained[0], w1)
    for shared, own in zip(stacked.get_weights()[:2], trained):
        np.testing.assert_array_equal(shared, own)
    lines = []
    model.summary(print_fn=lines.append)
    assert any("encoder (Sequential)" in line and "15" in line for line in lines), lines
    for name in ("nested.keras", "nested.h5"):
        model.save(tmp_path / name)
        np.testing.assert_array_equal(models.load_model(tmp_path / name).predict(data, verbose=0),
                                      model.predict(data, verbose=0))
