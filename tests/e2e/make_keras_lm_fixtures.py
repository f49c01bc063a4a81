#!/usr/bin/python3
"""Writes tests/e2e/keras_lm/: language models as Keras trains them, outside rnnkit, and what they
predict, for keras_lm.sh (`rnnkit generate` / `evaluate --text` with --tokenizer and --vocabulary-from).

    /usr/bin/python3 tests/e2e/make_keras_lm_fixtures.py

Models (tf.keras 2.11 .h5 files, written with h5py by tests/model_files/make_fixtures.py's writers):
  word_lm.h5        the next-word tutorial: Embedding(V, 6, input_length=4) + LSTM(8) + Dense(V, softmax), V =
                    len(word_index) + 1 of word_tokenizer.json (Keras's Tokenizer fit on word_corpus.txt);
                    trained on pad_sequences(prefixes, maxlen=5, padding='pre') split into 4 inputs + the next word
  word_oov_lm.h5    Embedding(V, 5) without input_length + LSTM(7) + Dense(V, softmax), V = len(word_index) + 1
                    of word_tokenizer_oov.json (Tokenizer(num_words=8, oov_token='<OOV>')): time dimension None
  char_lm.h5        the Keras lstm_text_generation example: LSTM(8, input_shape=(5, len(chars))) +
                    Dense(len(chars), softmax), chars = sorted(set(char_corpus.txt)), one-hot inputs
  char_lm_act.h5    the same with Dense(len(chars)) + Activation('softmax')
The tokenizers are Keras's own (keras_preprocessing 1.1, Debian's python3-keras-preprocessing): to_json() output.

expected.json: for each case the command-line arguments and what a float64 numpy forward pass of the same
weights gives: the greedy continuation (as the Keras tutorials generate it: the argmax of predict() on the
padded window or the whole context, mapped back through index_word / chars; padding id 0 and, for a
Tokenizer with num_words, ids from num_words on are never chosen, as rnnkit documents) and the mean per-token
cross-entropy of a text (each token predicted from the ones before it, probabilities clipped to
[1e-7, 1 - 1e-7] as Keras's cross-entropy).
"""

import importlib.util
import json
import os
import sys

import numpy as np
from keras_preprocessing.sequence import pad_sequences
from keras_preprocessing.text import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_lm")

spec = importlib.util.spec_from_file_location(
    "model_file_writers", os.path.join(os.path.dirname(HERE), "model_files", "make_fixtures.py"))
writers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(writers)

WORD_CORPUS = """the cat sat on the mat
the dog sat on the log
a cat and a dog met on the mat
the bird sang a song on the log
"""
OOV_CORPUS = """the cat sat on the mat and the cat slept
the dog ran to the park and the dog barked
"""
CHAR_CORPUS = "hello world, hold the door.\nwe help the world.\n"


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def lstm_last(x, kernel, recurrent, bias):
    """Keras's LSTM (gates i, f, c, o; sigmoid, tanh) over x (T, F); the last output."""
    units = recurrent.shape[0]
    h = np.zeros(units)
    c = np.zeros(units)
    for x_t in x:
        z = x_t @ kernel + h @ recurrent + bias
        i, f, g, o = (z[k * units:(k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h


class Model:
    """A Sequential of [Embedding or one-hot input] + LSTM + Dense, float64, with random weights."""

    def __init__(self, rng, vocabulary, units, embedding_dim=None, one_hot_width=None):
        self.vocabulary = vocabulary
        features = embedding_dim or one_hot_width
        self.embeddings = rng.uniform(-1, 1, (vocabulary, embedding_dim)) if embedding_dim else None
        self.one_hot_width = one_hot_width
        self.kernel = rng.uniform(-2, 2, (features, 4 * units))
        self.recurrent = rng.uniform(-1.5, 1.5, (units, 4 * units))
        self.bias = rng.uniform(-0.5, 0.5, 4 * units)
        self.dense_kernel = rng.uniform(-3, 3, (units, vocabulary))
        self.dense_bias = rng.uniform(-0.5, 0.5, vocabulary)
        for name in ("embeddings", "kernel", "recurrent", "bias", "dense_kernel", "dense_bias"):
            value = getattr(self, name)
            if value is not None:  # float32 in the file: compute with exactly those values
                setattr(self, name, value.astype(np.float32).astype(np.float64))

    def probabilities(self, inputs):
        """inputs: ids (T,) for an Embedding, or one-hot rows (T, V)."""
        x = self.embeddings[np.asarray(inputs)] if self.embeddings is not None else np.asarray(inputs, float)
        return softmax(lstm_last(x, self.kernel, self.recurrent, self.bias) @ self.dense_kernel + self.dense_bias)

    def weights(self):
        return [w.astype(np.float32) for w in (self.embeddings, self.kernel, self.recurrent, self.bias,
                                                self.dense_kernel, self.dense_bias) if w is not None]


def one_hot_window(ids, maxlen, width, padding="pre"):
    """The Keras example's x_pred: one row per character, all-zero rows where there is none (padding)."""
    ids = ids[-maxlen:]
    x = np.zeros((maxlen, width))
    start = maxlen - len(ids) if padding == "pre" else 0
    for t, i in enumerate(ids):
        x[start + t, i] = 1.0
    return x


class NearTie(Exception):
    pass


def greedy(model, context_of, seed_ids, count, drawable, excluded_won=None):
    """The argmax of each prediction over the drawable ids, fed back. Raises NearTie unless each choice is
    clear-cut, so that float32 arithmetic cannot pick another; counts in excluded_won[0] the steps where an
    id that may not be drawn had the highest probability."""
    ids = list(seed_ids)
    drawn = []
    for _ in range(count):
        p = model.probabilities(context_of(ids))
        allowed = np.array([p[i] if drawable(i) else -1.0 for i in range(len(p))])
        order = np.argsort(-allowed, kind="stable")
        if allowed[order[0]] - allowed[order[1]] < 1e-3:
            raise NearTie()
        if excluded_won is not None and not drawable(int(np.argmax(p))):
            excluded_won[0] += 1
        ids.append(int(order[0]))
        drawn.append(int(order[0]))
    return drawn


def varied(*sequences):
    """Weights worth testing: each continuation has at least 4 different tokens."""
    return all(len(set(sequence)) >= 4 for sequence in sequences)


def search(make, accept):
    """The first weights seed from 1 whose model `accept`s (deterministic)."""
    for seed in range(1, 500):
        model = make(np.random.default_rng(seed))
        try:
            result = accept(model)
        except NearTie:
            continue
        if result is not None:
            return model, result
    raise RuntimeError("no weights seed gives a model worth testing")


def cross_entropy(model, context_of, ids):
    nats = [-np.log(np.clip(model.probabilities(context_of(ids[:i]))[ids[i]], 1e-7, 1 - 1e-7))
            for i in range(1, len(ids))]
    return float(np.mean(nats)), len(ids)


def layer(class_name, name, **options):
    return writers.L(class_name, name, **options)


def write_h5(path, input_shape, layers, weights, weight_names):
    """tf.keras 2.11's model.save(path.h5) of a Sequential (model_config and model_weights)."""
    config = writers.tf211_model_config({"input_shape": input_shape, "layers": layers})
    by_layer, at = [], 0
    for spec_ in layers:
        names = weight_names[spec_["name"]]
        by_layer.append((spec_["name"], list(zip(names, weights[at:at + len(names)]))))
        at += len(names)
    writers.write_model_h5(os.path.join(OUT, path), config, by_layer, "2.11.0")


def lstm_names(name):
    return [f"{name}/lstm_cell/{p}:0" for p in ("kernel", "recurrent_kernel", "bias")]


def write_text(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []

    # --- The next-word tutorial: fixed input length 4, predictions from pad_sequences([...], maxlen=4, 'pre').
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts([WORD_CORPUS])
    write_text("word_corpus.txt", WORD_CORPUS)
    write_text("word_tokenizer.json", tokenizer.to_json())
    vocabulary = len(tokenizer.word_index) + 1
    seeds = ("the cat", "a dog met on the")

    def padded(ids):
        return pad_sequences([ids], maxlen=4, padding="pre")[0]

    def word_lm_runs(model):
        runs = [greedy(model, padded, tokenizer.texts_to_sequences([seed])[0], 6, lambda i: i != 0)
                for seed in seeds]
        return runs if varied(*runs) else None

    model, runs = search(lambda rng: Model(rng, vocabulary, 8, embedding_dim=6), word_lm_runs)
    write_h5("word_lm.h5", [None, 4],
             [layer("Embedding", "embedding", input_dim=vocabulary, output_dim=6, input_length=4),
              layer("LSTM", "lstm", units=8), layer("Dense", "dense", units=vocabulary, activation="softmax")],
             model.weights(),
             {"embedding": ["embedding/embeddings:0"], "lstm": lstm_names("lstm"),
              "dense": ["dense/kernel:0", "dense/bias:0"]})

    for seed, drawn in zip(seeds, runs):
        seed_ids = tokenizer.texts_to_sequences([seed])[0]
        words = [tokenizer.index_word[i] for i in seed_ids + drawn]
        cases.append({"name": f"word_lm greedy from '{seed}'", "args": [
            "generate", "word_lm.h5", "--tokenizer", "word_tokenizer.json", "--seed-text", seed, "-n", "6",
            "--greedy"], "stdout": " ".join(words) + "\n"})
    held_out = "the dog sat on the mat\nthe bird met a cat on the log\n"
    write_text("word_held_out.txt", held_out)
    nats, tokens = cross_entropy(model, padded, tokenizer.texts_to_sequences([held_out])[0])
    cases.append({"name": "word_lm evaluate --text", "args": [
        "evaluate", "word_lm.h5", "--tokenizer", "word_tokenizer.json", "--text", "word_held_out.txt"],
        "nats": nats, "tokens": tokens})

    # --- A tokenizer whose vocabulary is smaller than word_lm's output: keras_lm.sh's size mismatch error.
    small = Tokenizer()
    small.fit_on_texts(["one two three"])
    write_text("small_tokenizer.json", small.to_json())

    # --- No input length, num_words and an oov_token: the whole context; ids from num_words on are never drawn.
    tokenizer = Tokenizer(num_words=8, oov_token="<OOV>")
    tokenizer.fit_on_texts(OOV_CORPUS.splitlines())
    write_text("word_tokenizer_oov.json", tokenizer.to_json())
    vocabulary = len(tokenizer.word_index) + 1
    seed = "the cat saw a dog"  # saw, a: unknown words, the oov id
    seed_ids = tokenizer.texts_to_sequences([seed])[0]

    def window3(ids):
        return pad_sequences([ids], maxlen=3, padding="pre")[0]

    def oov_lm_runs(model):
        excluded_won = [0]
        whole = greedy(model, lambda ids: ids, seed_ids, 8, lambda i: 0 < i < 8, excluded_won)
        last3 = greedy(model, window3, seed_ids, 8, lambda i: 0 < i < 8, excluded_won)
        # Worth testing: the window changes the text, and an id from num_words on would have won somewhere.
        return (whole, last3) if varied(whole, last3) and whole != last3 and excluded_won[0] > 0 else None

    model, (whole, last3) = search(lambda rng: Model(rng, vocabulary, 7, embedding_dim=5), oov_lm_runs)
    write_h5("word_oov_lm.h5", [None, None],
             [layer("Embedding", "embedding", input_dim=vocabulary, output_dim=5),
              layer("LSTM", "lstm", units=7), layer("Dense", "dense", units=vocabulary, activation="softmax")],
             model.weights(),
             {"embedding": ["embedding/embeddings:0"], "lstm": lstm_names("lstm"),
              "dense": ["dense/kernel:0", "dense/bias:0"]})
    cases.append({"name": "word_oov_lm greedy over the whole context", "args": [
        "generate", "word_oov_lm.h5", "--tokenizer", "word_tokenizer_oov.json", "--seed-text", seed, "-n", "8",
        "--greedy"], "stdout": " ".join(tokenizer.index_word[i] for i in seed_ids + whole) + "\n"})
    cases.append({"name": "word_oov_lm greedy with --seq-length 3", "args": [
        "generate", "word_oov_lm.h5", "--tokenizer", "word_tokenizer_oov.json", "--seed-text", seed, "-n", "8",
        "--greedy", "--seq-length", "3"], "stdout": " ".join(tokenizer.index_word[i] for i in seed_ids + last3) + "\n"})
    held_out = "the dog slept in the park\nthe cat barked\n"
    write_text("word_oov_held_out.txt", held_out)
    nats, tokens = cross_entropy(model, lambda ids: ids, tokenizer.texts_to_sequences([held_out])[0])
    cases.append({"name": "word_oov_lm evaluate --text (unknown words are the oov id)", "args": [
        "evaluate", "word_oov_lm.h5", "--tokenizer", "word_tokenizer_oov.json", "--text", "word_oov_held_out.txt"],
        "nats": nats, "tokens": tokens})

    # --- The Keras char-RNN: chars = sorted(set(text)), one-hot (5, len(chars)) windows.
    write_text("char_corpus.txt", CHAR_CORPUS)
    chars = sorted(set(CHAR_CORPUS))
    char_indices = {c: i for i, c in enumerate(chars)}
    width = len(chars)
    char_seeds = (("pre", "hello"), ("pre", "we"), ("post", "wo"))

    def char_lm_runs(model):
        runs = [greedy(model, lambda ids: one_hot_window(ids, 5, width, padding), [char_indices[c] for c in seed],
                       12, lambda i: True) for padding, seed in char_seeds]
        return runs if varied(*runs) else None

    model, runs = search(lambda rng: Model(rng, width, 8, one_hot_width=width), char_lm_runs)
    weights = model.weights()
    names = {"lstm": lstm_names("lstm"), "dense": ["dense/kernel:0", "dense/bias:0"], "activation": []}
    write_h5("char_lm.h5", [None, 5, width],
             [layer("LSTM", "lstm", units=8), layer("Dense", "dense", units=width, activation="softmax")],
             weights, names)
    write_h5("char_lm_act.h5", [None, 5, width],
             [layer("LSTM", "lstm", units=8), layer("Dense", "dense", units=width),
              layer("Activation", "activation", activation="softmax")], weights, names)
    for (padding, seed), drawn in zip(char_seeds, runs):
        for file in ("char_lm.h5", "char_lm_act.h5"):
            cases.append({"name": f"{file} greedy from '{seed}', padding {padding}", "args": [
                "generate", file, "--vocabulary-from", "char_corpus.txt", "--seed-text", seed, "-n", "12",
                "--greedy"] + (["--padding", "post"] if padding == "post" else []),
                "stdout": seed + "".join(chars[i] for i in drawn) + "\n"})
    held_out = "hello, the old door!\n"  # '!' is not in the corpus: skipped
    write_text("char_held_out.txt", held_out)
    nats, tokens = cross_entropy(model, lambda ids: one_hot_window(ids, 5, width),
                                 [char_indices[c] for c in held_out if c in char_indices])
    cases.append({"name": "char_lm evaluate --text", "args": [
        "evaluate", "char_lm.h5", "--vocabulary-from", "char_corpus.txt", "--text", "char_held_out.txt"],
        "nats": nats, "tokens": tokens})

    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tests/e2e/make_keras_lm_fixtures.py", "cases": cases}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    # Keras's fit_on_texts counts word_docs through a set(): a fixed string hash keeps its JSON order, and so
    # the files, the same from run to run.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    main()
