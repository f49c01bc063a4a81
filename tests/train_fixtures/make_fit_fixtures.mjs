// Generates tests/train_fixtures/fit.json, the oracle of rnnkit's training loop (tests/unit/fit_oracle_test.cpp):
// from the same initial weights and the same batches (shuffle off), 3 epochs of model.fit with SGD, SGD with
// momentum and Adam must give the same per-epoch losses and the same final weights.
//
//   node tests/train_fixtures/make_fit_fixtures.mjs        (TensorFlow.js 4.22 from tests/parity/node_modules)
//
// The oracle is TensorFlow.js 4.22's LayersModel.fit on the pure-JS CPU backend. Every case: 11 samples,
// batch_size 4 (batches of 4, 4 and 3: the per-batch mean and the smaller last batch matter), 3 epochs
// (9 optimizer steps; Adam's step count runs across epochs), shuffle false. It records the model JSON
// (model.toJSON), the initial weights per layer (get_weights order, multiples of 0.01 from a seeded PRNG), x, y,
// the compile and fit options, the loss of every batch (onBatchEnd logs), the per-epoch history and the final
// weights.
//
// Where TF.js and Keras (tf.keras 2.11) differ, the fixture holds Keras's answer and the case's note says so:
//  * Adam: TF.js's tf.train.adam takes w -= lr * m_hat / (sqrt(v_hat) + eps); Keras takes
//    w -= lr_t * m / (sqrt(v) + eps) with lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), which is the TF.js
//    form with eps replaced by eps / sqrt(1 - beta_2^t) (3.2e-6 at t = 1 for eps = 1e-7). The Adam cases
//    therefore train with KerasAdam below, a tf.Optimizer whose applyGradients is Keras 2.11's update_step
//    (keras/optimizers/optimizer_experimental/adam.py) in float32 ops, and each Adam case's note gives how far
//    stock tf.train.adam with the same epsilon (1e-7) ends from it. (Keras feeds an Embedding's gradient as
//    IndexedSlices; the 2.11 optimizer sums duplicate indices first and its sparse Adam path decays every row
//    of m and v, so it equals the dense update used here.)
//  * SGD and momentum: TF.js keeps accum = momentum * accum + g and takes w -= lr * accum; Keras keeps
//    m = momentum * m - lr * g and takes w += m. With a constant learning rate m = -lr * accum: the same update
//    (different float32 rounding only), so those cases use stock tf.train.sgd / tf.train.momentum.
//  * The epoch loss: Keras 2.11 feeds each batch's mean loss to a Mean metric weighted by the batch size
//    (compile_utils.LossesContainer: sample_weight=batch_dim); TF.js's BaseLogger also weights by logs.size.
//    "history.loss" here is recomputed from the recorded batch losses as sum(loss_b * size_b) / sum(size_b) in
//    float64 (the generator checks it against TF.js's history), and "keras_batch_end_loss" is what Keras 2.11's
//    on_train_batch_end logs hold: the running weighted mean over the epoch so far, not the batch's own loss.
//  * The loss itself: Keras computes cross-entropy after a final Dense(softmax|sigmoid) from its logits, TF.js
//    from clipped probabilities; these agree unless a probability reaches the 1e-7 clip, which no case comes
//    near (the generator checks every prediction). Sparse labels: TF.js insists on a trailing axis of 1
//    ((B,1), (B,T,1)); the fixture's y has the shape a Keras user passes ((B) or (B,T)), the same ids.
//  * Metric names: TF.js's history calls "accuracy" "acc"; the fixture calls it "accuracy", as Keras does.
//    The generator checks that no prediction is within 1e-3 of an accuracy decision (the label's probability
//    against the largest other one; p = 0.5 for binary), so float32 rounding cannot flip it.
// The output is deterministic (no randomness but the seeded streams): regenerating gives the same bytes.
//
// Cases (CASES below): five models x two or three optimizers: the Korean Keras tutorial's RNN language model
// (Embedding(12, 10) + SimpleRNN(8) + Dense(12, softmax), categorical_crossentropy, the tutorial's own 11
// samples); Embedding + LSTM(6) + Dense(1, sigmoid), binary_crossentropy; GRU(5, reset_after=False) +
// Dense(2), mean_squared_error; Embedding + Bidirectional(LSTM(3)) + Dense(5, softmax),
// sparse_categorical_crossentropy on (B) labels; Embedding + LSTM(4, return_sequences) +
// TimeDistributed(Dense(6, softmax)), sparse_categorical_crossentropy on (B,T) labels.
//
// Regularized cases (name prefix "reg_", REG_FAMILIES below): the same loop with Keras's L1, L2 and L1L2 on
// kernels, recurrent kernels, biases and embeddings of an Embedding + LSTM + Dense, an Embedding +
// Bidirectional(GRU) + TimeDistributed(Dense) and a SimpleRNN + Dense. Keras adds sum(model.losses), the
// penalty l1*sum|w| + l2*sum w^2 of every regularized weight before the step, to the loss it reports and
// differentiates. Where TF.js differs:
//  * TF.js 4.22 loses the penalties of recurrent layers: an RNN's weights belong to its cell, and RNN.losses
//    is the layer's own (empty) list, not the cell's; a Bidirectional's losses are those of the layer it was
//    given (never built), not of its two copies. Keras's layer.losses gathers every sublayer's. The generator
//    therefore appends each cell's loss closures to the list TF.js reads (withCellLosses), and checks at every
//    batch that TF.js's batch loss is its evaluate loss (no penalty) plus the penalty recomputed here in
//    float64 from the weights and the model JSON's regularizer configs, to 1e-5 relative.
//  * TF.js's gradient of |w| at w = 0 is -1 (step(x, -1)), TensorFlow's sign(0) = 0: the initial weights of a
//    regularized case are at least 0.1 in size (a smaller draw becomes +-0.1, 0 becomes 0.1), and the generator checks that no weight under an L1 term
//    comes within L1_MARGIN of 0 at any step (there the sign of a float32 rounding error would decide the step).
//  * "initial_penalty" and "final_penalty" are that float64 penalty at the initial and final weights.
// Keras has activity regularizers too; TF.js refuses to call a layer that has one, so those are checked by
// hand and by finite differences in the unit tests, not here.
//
// Also:
//  * Every layer option is passed explicitly (TF.js's defaults differ: recurrentActivation hardSigmoid,
//    unitForgetBias off, glorotNormal kernels), and the GRU is reset_after=False, the only GRU TF.js has.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tf = require(path.join(HERE, '..', 'parity', 'node_modules', '@tensorflow', 'tfjs'));
const OUT = path.join(HERE, 'fit.json');
const ORACLE = `@tensorflow/tfjs ${tf.version.tfjs} cpu, LayersModel.fit`;
const GENERATOR = 'make_fit_fixtures.mjs';

const SAMPLES = 11, BATCH_SIZE = 4, EPOCHS = 3;
const ADAM_EPSILON = 1e-7;  // Keras's default (and TF.js's epsilon())
const DECISION_MARGIN = 1e-3;  // no prediction this close to an accuracy decision
const CLIP = 1e-7;  // Keras's and TF.js's epsilon(): cross-entropy clips probabilities to [CLIP, 1 - CLIP]
const L1_MARGIN = 1e-4;  // no weight under an L1 penalty this close to 0 at any step

// ---------------------------------------------------------------------------------------------------------
// Deterministic numbers: mulberry32 seeded with FNV-1a of a name (as tests/parity/gen_tfjs.mjs), so a case's
// numbers never depend on which other cases exist. Weights and inputs are multiples of 0.01 (as float32).
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
class Rand {
  constructor(name) { this.s = fnv1a(name) | 0; }
  next() { // mulberry32: uniform in [0, 1)
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo, hi) { return Math.fround(Math.round((lo + (hi - lo) * this.next()) * 100) / 100); }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo)); } // [lo, hi)
  array(n, lo, hi) { return Array.from({ length: n }, () => this.uniform(lo, hi)); }
}
const prod = (shape) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------
// Serialization: tensors as {"shape", "data"}, each float32 value as the shortest decimal that round-trips.
function f32(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite value ${v}`);
  if (v === 0) return 0; // also turns -0 into 0
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  throw new Error('unreachable');
}
const tensorJSON = (t) => ({ shape: t.shape.slice(), data: Array.from(t.dataSync(), f32) });
const arrayJSON = (shape, data) => ({ shape, data: data.map((v) => f32(Math.fround(v))) });

// ---------------------------------------------------------------------------------------------------------
// Keras 2.11's Adam (keras/optimizers/optimizer_experimental/adam.py, update_step, amsgrad off), in float32:
//   local_step = iterations + 1; alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2); w -= (m * alpha) / (sqrt(v) + epsilon)
class KerasAdam extends tf.Optimizer {
  static get className() { return 'KerasAdam'; }
  constructor(learningRate, beta1, beta2, epsilon) {
    super();
    Object.assign(this, { learningRate, beta1, beta2, epsilon });
    this.m = [];
    this.v = [];
    this.step = 0;
  }
  applyGradients(variableGradients) {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    this.step += 1;
    tf.tidy(() => {
      const t = tf.scalar(this.step, 'float32');
      const one = tf.scalar(1, 'float32');
      const beta1Power = tf.pow(tf.scalar(this.beta1, 'float32'), t);
      const beta2Power = tf.pow(tf.scalar(this.beta2, 'float32'), t);
      const alpha = tf.div(tf.mul(tf.scalar(this.learningRate, 'float32'), tf.sqrt(tf.sub(one, beta2Power))),
        tf.sub(one, beta1Power));
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) throw new Error(`no gradient for ${name}`);
        this.m[i] ??= tf.variable(tf.zerosLike(value), false);
        this.v[i] ??= tf.variable(tf.zerosLike(value), false);
        const m = this.m[i], v = this.v[i];
        m.assign(tf.add(m, tf.mul(tf.sub(gradient, m), 1 - this.beta1)));
        v.assign(tf.add(v, tf.mul(tf.sub(tf.square(gradient), v), 1 - this.beta2)));
        value.assign(tf.sub(value, tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), this.epsilon))));
      });
    });
    this.incrementIterations();
  }
  getConfig() {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

// The optimizer of a case: its Keras config (what the fixture records) and the TF.js optimizer to train with.
const OPTIMIZERS = {
  sgd: {
    keras: { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.0, nesterov: false } },
    make: () => tf.train.sgd(0.1),
  },
  sgd_momentum: {
    keras: { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9, nesterov: false } },
    make: () => tf.train.momentum(0.1, 0.9, false),
  },
  adam: {
    keras: {
      class_name: 'Adam',
      config: { learning_rate: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: ADAM_EPSILON, amsgrad: false },
    },
    make: () => new KerasAdam(0.01, 0.9, 0.999, ADAM_EPSILON),
    stock: () => tf.train.adam(0.01, 0.9, 0.999, ADAM_EPSILON),
  },
};

const TFJS_LOSS = {
  categorical_crossentropy: 'categoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  mean_squared_error: 'meanSquaredError',
};

// ---------------------------------------------------------------------------------------------------------
// Layers, every option spelled out (TF.js defaults differ from Keras's).
function recurrentArgs(type, o) {
  const a = {
    name: o.name, units: o.units, activation: 'tanh', useBias: true,
    kernelInitializer: 'glorotUniform', recurrentInitializer: 'orthogonal', biasInitializer: 'zeros',
    dropout: 0, recurrentDropout: 0, returnSequences: !!o.return_sequences, returnState: false,
    goBackwards: false, stateful: false, unroll: false,
  };
  if (o.batchInputShape) a.batchInputShape = o.batchInputShape;
  for (const key of ['kernelRegularizer', 'recurrentRegularizer', 'biasRegularizer']) if (o[key]) a[key] = o[key];
  if (type !== 'SimpleRNN') {
    a.recurrentActivation = 'sigmoid';
    a.implementation = 2;
  }
  if (type === 'LSTM') a.unitForgetBias = true;
  return a;
}
const L = {
  embedding: (inputDim, outputDim, inputLength) => tf.layers.embedding({
    name: 'embedding', inputDim, outputDim, inputLength, maskZero: false, embeddingsInitializer: 'randomUniform',
  }),
  simpleRNN: (o) => tf.layers.simpleRNN({ ...recurrentArgs('SimpleRNN', { name: 'simple_rnn', ...o }) }),
  lstm: (o) => tf.layers.lstm({ ...recurrentArgs('LSTM', { name: 'lstm', ...o }) }),
  gru: (o) => tf.layers.gru({ ...recurrentArgs('GRU', { name: 'gru', ...o }) }), // TF.js's GRU: reset_after=False
  bidirectional: (layer, mergeMode) => tf.layers.bidirectional({ name: 'bidirectional', layer, mergeMode }),
  dense: (units, activation, extra = {}) => tf.layers.dense({
    name: 'dense', units, activation, useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros',
    ...extra,
  }),
  timeDistributed: (layer) => tf.layers.timeDistributed({ name: 'time_distributed', layer }),
};

// ---------------------------------------------------------------------------------------------------------
// Data.

// The Korean Keras tutorial's RNN language model data (wikidocs "RNN 언어 모델"): three lines, Tokenizer ids
// (by count, ties in first-seen order) 말이 1, 경마장에 2, 있는 3, 뛰고 4, 있다 5, 그의 6, 법이다 7, 가는 8,
// 고와야 9, 오는 10, 곱다 11 (vocabulary 12 with the padding 0); every prefix of length >= 2 of every line,
// pre-padded to 6: x the first 5 ids, y the last, one-hot. 11 samples.
function tutorialLanguageModelData() {
  const lines = [[2, 3, 1, 4, 5], [6, 1, 7], [8, 1, 9, 10, 1, 11]];
  const rows = [];
  for (const line of lines) for (let n = 2; n <= line.length; n++) rows.push(line.slice(0, n));
  const padded = rows.map((r) => [...Array(6 - r.length).fill(0), ...r]);
  if (padded.length !== SAMPLES) throw new Error('the tutorial data has 11 samples');
  const x = padded.map((r) => r.slice(0, 5));
  const y = padded.map((r) => Array.from({ length: 12 }, (_, j) => (j === r[5] ? 1 : 0)));
  return { x: { shape: [SAMPLES, 5], data: x.flat() }, y: { shape: [SAMPLES, 12], data: y.flat() } };
}
function randomIds(name, shape, lo, hi) {
  const r = new Rand(name);
  return { shape, data: Array.from({ length: prod(shape) }, () => r.int(lo, hi)) };
}
function randomFloats(name, shape, lo, hi) {
  const r = new Rand(name);
  return { shape, data: r.array(prod(shape), lo, hi) };
}

// ---------------------------------------------------------------------------------------------------------
// Cases. A model family is a function building fresh TF.js layers, the loss, the data and the metrics; each is
// trained with two optimizers.
const FAMILIES = {
  // The tutorial's RNN LM (Embedding(12, 10) + SimpleRNN(32) + Dense(12, softmax)), SimpleRNN shrunk to 8.
  rnn_lm_embedding_12_10_simple_rnn_8_dense_12_softmax: {
    layers: () => [L.embedding(12, 10, 5), L.simpleRNN({ units: 8 }), L.dense(12, 'softmax')],
    loss: 'categorical_crossentropy', metrics: ['accuracy'], data: tutorialLanguageModelData,
    weightScale: 0.5,
  },
  embedding_20_4_lstm_6_dense_1_sigmoid_binary: {
    layers: () => [L.embedding(20, 4, 6), L.lstm({ units: 6 }), L.dense(1, 'sigmoid')],
    loss: 'binary_crossentropy', metrics: ['accuracy'], weightScale: 0.5,
    data: (name) => {
      const y = randomIds(`${name}/y`, [SAMPLES, 1], 0, 2);
      return { x: randomIds(`${name}/x`, [SAMPLES, 6], 1, 20), y };
    },
  },
  gru_reset_before_5_dense_2_mse: {
    layers: () => [L.gru({ units: 5, batchInputShape: [null, 4, 3] }), L.dense(2, 'linear')],
    loss: 'mean_squared_error', metrics: [], weightScale: 0.5,
    data: (name) => ({ x: randomFloats(`${name}/x`, [SAMPLES, 4, 3], -1, 1), y: randomFloats(`${name}/y`, [SAMPLES, 2], -1, 1) }),
  },
  embedding_15_4_bidirectional_lstm_3_dense_5_softmax_sparse: {
    layers: () => [L.embedding(15, 4, 5), L.bidirectional(L.lstm({ units: 3 }), 'concat'), L.dense(5, 'softmax')],
    loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], weightScale: 0.5,
    data: (name) => ({ x: randomIds(`${name}/x`, [SAMPLES, 5], 0, 15), y: randomIds(`${name}/y`, [SAMPLES], 0, 5) }),
  },
  embedding_8_3_lstm_4_seq_time_distributed_dense_6_softmax_sparse: {
    layers: () => [L.embedding(8, 3, 5), L.lstm({ units: 4, return_sequences: true }),
      L.timeDistributed(L.dense(6, 'softmax'))],
    loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], weightScale: 0.5,
    data: (name) => ({ x: randomIds(`${name}/x`, [SAMPLES, 5], 0, 8), y: randomIds(`${name}/y`, [SAMPLES, 5], 0, 6) }),
  },
};
// Regularized families: every regularizer class on every kind of weight (TF.js writes them all as L1L2).
const l1 = (v) => tf.regularizers.l1({ l1: v });
const l2 = (v) => tf.regularizers.l2({ l2: v });
const l1l2 = (a, b) => tf.regularizers.l1l2({ l1: a, l2: b });
const REG_FAMILIES = {
  reg_embedding_20_4_lstm_6_dense_1_sigmoid_binary: {
    layers: () => [
      tf.layers.embedding({
        name: 'embedding', inputDim: 20, outputDim: 4, inputLength: 6, maskZero: false,
        embeddingsInitializer: 'randomUniform', embeddingsRegularizer: l2(0.01),
      }),
      L.lstm({ units: 6, kernelRegularizer: l1(0.01), recurrentRegularizer: l2(0.02), biasRegularizer: l1l2(0.005, 0.01) }),
      L.dense(1, 'sigmoid', { kernelRegularizer: l2(0.05), biasRegularizer: l1(0.01) }),
    ],
    loss: 'binary_crossentropy', metrics: ['accuracy'], weightScale: 0.5,
    data: (name) => ({ x: randomIds(`${name}/x`, [SAMPLES, 6], 1, 20), y: randomIds(`${name}/y`, [SAMPLES, 1], 0, 2) }),
  },
  reg_embedding_15_4_bidirectional_gru_3_seq_time_distributed_dense_6_softmax_sparse: {
    layers: () => [
      L.embedding(15, 4, 5),
      L.bidirectional(L.gru({ units: 3, return_sequences: true, kernelRegularizer: l2(0.03), recurrentRegularizer: l1(0.01) }), 'concat'),
      L.timeDistributed(L.dense(6, 'softmax', { kernelRegularizer: l1l2(0.01, 0.02) })),
    ],
    // No accuracy: a prediction comes within 1e-3 of a decision here, and the other families cover it.
    loss: 'sparse_categorical_crossentropy', metrics: [], weightScale: 0.5,
    data: (name) => ({ x: randomIds(`${name}/x`, [SAMPLES, 5], 0, 15), y: randomIds(`${name}/y`, [SAMPLES, 5], 0, 6) }),
  },
  reg_simple_rnn_5_dense_2_mse: {
    layers: () => [
      L.simpleRNN({ units: 5, batchInputShape: [null, 4, 3], kernelRegularizer: l1(0.02), biasRegularizer: l2(0.1) }),
      L.dense(2, 'linear', { biasRegularizer: l1l2(0.01, 0.05) }),
    ],
    loss: 'mean_squared_error', metrics: [], weightScale: 0.5,
    data: (name) => ({ x: randomFloats(`${name}/x`, [SAMPLES, 4, 3], -1, 1), y: randomFloats(`${name}/y`, [SAMPLES, 2], -1, 1) }),
  },
};
for (const family of Object.values(REG_FAMILIES)) family.regularized = true;
Object.assign(FAMILIES, REG_FAMILIES);

const CASES = [
  ['rnn_lm_embedding_12_10_simple_rnn_8_dense_12_softmax', 'sgd'],
  ['rnn_lm_embedding_12_10_simple_rnn_8_dense_12_softmax', 'adam'],
  ['embedding_20_4_lstm_6_dense_1_sigmoid_binary', 'sgd_momentum'],
  ['embedding_20_4_lstm_6_dense_1_sigmoid_binary', 'adam'],
  ['gru_reset_before_5_dense_2_mse', 'sgd'],
  ['gru_reset_before_5_dense_2_mse', 'sgd_momentum'],
  ['gru_reset_before_5_dense_2_mse', 'adam'],
  ['embedding_15_4_bidirectional_lstm_3_dense_5_softmax_sparse', 'adam'],
  ['embedding_15_4_bidirectional_lstm_3_dense_5_softmax_sparse', 'sgd_momentum'],
  ['embedding_8_3_lstm_4_seq_time_distributed_dense_6_softmax_sparse', 'sgd'],
  ['embedding_8_3_lstm_4_seq_time_distributed_dense_6_softmax_sparse', 'adam'],
  ['reg_embedding_20_4_lstm_6_dense_1_sigmoid_binary', 'sgd'],
  ['reg_embedding_20_4_lstm_6_dense_1_sigmoid_binary', 'sgd_momentum'],
  ['reg_embedding_20_4_lstm_6_dense_1_sigmoid_binary', 'adam'],
  ['reg_embedding_15_4_bidirectional_gru_3_seq_time_distributed_dense_6_softmax_sparse', 'adam'],
  ['reg_embedding_15_4_bidirectional_gru_3_seq_time_distributed_dense_6_softmax_sparse', 'sgd_momentum'],
  ['reg_simple_rnn_5_dense_2_mse', 'sgd_momentum'],
];

// TF.js's recurrent layers keep their weights' penalties in the cell, where model.fit never looks (see the
// header): hand each cell's loss closures to the list TF.js reads for the layer.
function withCellLosses(model) {
  for (const layer of model.layers) {
    const cells = layer.cell ? [layer.cell] : layer.forwardLayer ? [layer.forwardLayer.cell, layer.backwardLayer.cell] : [];
    for (const cell of cells) layer.losses.push(...cell.losses);
  }
}

// The regularizers of a layer's weights, in getWeights order, from its Keras config (null where none).
function weightRegularizers(layer) {
  const c = layer.config;
  switch (layer.class_name) {
    case 'Embedding': return [c.embeddings_regularizer];
    case 'Dense': return c.use_bias ? [c.kernel_regularizer, c.bias_regularizer] : [c.kernel_regularizer];
    case 'SimpleRNN': case 'LSTM': case 'GRU':
      return c.use_bias ? [c.kernel_regularizer, c.recurrent_regularizer, c.bias_regularizer]
        : [c.kernel_regularizer, c.recurrent_regularizer];
    case 'Bidirectional': { const inner = weightRegularizers(c.layer); return [...inner, ...inner]; }
    case 'TimeDistributed': return weightRegularizers(c.layer);
    default: return [];
  }
}

// Keras's sum(model.losses) for these weights, in float64: l1*sum|w| + l2*sum w^2 per regularized weight.
// Also checks that no weight with an L1 term is exactly 0, where TF.js's gradient of |w| is not TensorFlow's.
function penalty(modelJSON, weightsByLayer) {
  let total = 0;
  for (const layer of modelJSON.config.layers) {
    const regularizers = weightRegularizers(layer);
    (weightsByLayer[layer.config.name] ?? []).forEach((w, k) => {
      const r = regularizers[k];
      if (!r) return;
      if (r.class_name !== 'L1L2') throw new Error(`unexpected regularizer ${JSON.stringify(r)}`);
      for (const v of w.data) {
        // |w| is not differentiable at 0, and near it the sign decides each step: keep clear of it.
        if (r.config.l1 && Math.abs(v) < L1_MARGIN) throw new Error(`${layer.config.name}: weight ${k} is ${v}, near the kink of |w|`);
        total += r.config.l1 * Math.abs(v) + r.config.l2 * v * v;
      }
    });
  }
  return total;
}

// A case's sparse labels go to TF.js with a trailing axis of 1 (its fit insists); Keras takes them as they are.
function tfjsTarget(loss, y) {
  const t = tf.tensor(y.data, y.shape, 'float32');
  if (loss !== 'sparse_categorical_crossentropy' || y.shape.at(-1) === 1) return t;
  return t.expandDims(-1);
}

// How far the predictions are from what could change a recorded number: the smallest distance from an
// accuracy decision (binary: |p - 0.5|; otherwise |p[label] - max of the other p|, the label being the sparse
// id or the one-hot's argmax), and the smallest and largest probability (how near the cross-entropy clip).
// labels: one per prediction row (the binary target itself for C = 1).
function predictionMargins(yPred, labels) {
  const C = yPred.shape.at(-1);
  const p = yPred.dataSync();
  let decision = Infinity, smallest = Infinity, largest = -Infinity;
  for (let row = 0; row < p.length / C; row++) {
    const values = Array.from(p.subarray(row * C, row * C + C));
    smallest = Math.min(smallest, ...values);
    largest = Math.max(largest, ...values);
    if (C === 1) {
      decision = Math.min(decision, Math.abs(values[0] - 0.5));
    } else {
      const others = values.filter((_, j) => j !== labels[row]);
      decision = Math.min(decision, Math.abs(values[labels[row]] - Math.max(...others)));
    }
  }
  return { decision, smallest, largest };
}

// One label per prediction row: sparse ids as they are, one-hot rows by argmax, binary targets as they are.
function rowLabels(y, C) {
  if (y.data.length === prod(y.shape) && y.shape.at(-1) === C && C > 1) {
    const labels = [];
    for (let row = 0; row < y.data.length / C; row++) {
      const r = y.data.slice(row * C, row * C + C);
      labels.push(r.indexOf(Math.max(...r)));
    }
    return labels;
  }
  return y.data.slice();
}

// Builds the model with the case's initial weights, fits it, and returns what happened.
async function train(family, lossName, optimizer, x, y, initialWeights) {
  const model = tf.sequential({ name: 'sequential', layers: family.layers() });
  for (const layer of model.layers) {
    const ws = initialWeights[layer.name];
    if (ws) layer.setWeights(ws.map((w) => tf.tensor(w.data, w.shape, 'float32')));
  }
  const modelJSON = model.toJSON(null, false);
  if (family.regularized) withCellLosses(model);
  const currentWeights = () => Object.fromEntries(model.layers.filter((l) => l.getWeights().length)
    .map((l) => [l.name, l.getWeights().map(tensorJSON)]));
  const batchPenalties = [];
  const metrics = family.metrics.length ? ['acc'] : [];
  model.compile({ loss: TFJS_LOSS[lossName], optimizer, metrics });
  const xT = tf.tensor(x.data, x.shape, 'float32');
  const yT = tfjsTarget(lossName, y);
  const batchLosses = [], batchAccuracies = [], batchSizes = [];
  const labels = rowLabels(y, model.outputs[0].shape.at(-1));
  const margins = { decision: Infinity, smallest: Infinity, largest: -Infinity };
  let epochLosses = null, epochAccuracies = null;
  const history = await model.fit(xT, yT, {
    epochs: EPOCHS, batchSize: BATCH_SIZE, shuffle: false, verbose: 0, yieldEvery: 'never',
    callbacks: {
      onEpochBegin: async () => {
        epochLosses = [];
        epochAccuracies = [];
        batchLosses.push(epochLosses);
        batchAccuracies.push(epochAccuracies);
      },
      onBatchBegin: async (batch) => {
        // The weights this batch is trained from: check its predictions stay clear of the clip and of
        // accuracy decisions (shuffle is off, so batch b is samples [4b, 4b + 4)).
        const begin = batch * BATCH_SIZE, size = Math.min(BATCH_SIZE, SAMPLES - begin);
        const yPred = model.predict(xT.slice(begin, size));
        const perSample = labels.length / SAMPLES;
        const m = predictionMargins(yPred, labels.slice(begin * perSample, (begin + size) * perSample));
        margins.decision = Math.min(margins.decision, m.decision);
        margins.smallest = Math.min(margins.smallest, m.smallest);
        margins.largest = Math.max(margins.largest, m.largest);
        if (family.regularized) {
          const dataLoss = model.evaluate(xT.slice(begin, size), yT.slice(begin, size), { batchSize: size });
          batchPenalties.push({ dataLoss: dataLoss.at?.(0) ?? dataLoss, penalty: penalty(modelJSON, currentWeights()) });
        }
      },
      onBatchEnd: async (batch, logs) => {
        if (batchLosses.length === 1) batchSizes.push(logs.size);
        if (family.regularized) {
          // TF.js's batch loss must be its data loss plus the float64 penalty of the weights it started from.
          const { dataLoss, penalty: p } = batchPenalties.at(-1);
          const expected = (Array.isArray(dataLoss) ? dataLoss[0] : dataLoss).dataSync()[0] + p;
          if (!(Math.abs(logs.loss - expected) <= 1e-5 * Math.abs(expected))) {
            throw new Error(`batch ${batch}: TF.js loss ${logs.loss}, data loss + penalty ${expected}`);
          }
        }
        epochLosses.push(logs.loss);
        if (metrics.length) epochAccuracies.push(logs.acc);
      },
    },
  });
  const finalWeights = {};
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length) finalWeights[layer.name] = ws.map(tensorJSON);
  }
  const finalPenalty = family.regularized ? penalty(modelJSON, finalWeights) : undefined;
  return { modelJSON, history: history.history, batchLosses, batchAccuracies, batchSizes, margins, finalWeights, finalPenalty };
}

const sizeWeightedMean = (values, sizes) => values.reduce((s, v, i) => s + v * sizes[i], 0) / sizes.reduce((a, b) => a + b, 0);
const runningMeans = (values, sizes) => values.map((_, k) => sizeWeightedMean(values.slice(0, k + 1), sizes.slice(0, k + 1)));

function maxWeightDifference(a, b) {
  let abs = 0, rel = 0;
  for (const name of Object.keys(a)) {
    a[name].forEach((w, k) => w.data.forEach((v, i) => {
      const e = b[name][k].data[i], d = Math.abs(v - e);
      abs = Math.max(abs, d);
      rel = Math.max(rel, d / Math.max(Math.abs(e), 1e-3));
    }));
  }
  return { abs, rel };
}

async function makeCase(familyName, optimizerName) {
  const family = FAMILIES[familyName];
  const opt = OPTIMIZERS[optimizerName];
  const name = `${familyName}__${optimizerName}`;
  const { x, y } = family.data(familyName);
  // Initial weights: built once to learn the shapes, then drawn from the case family's stream, so the two
  // optimizers of a family start from the same weights.
  const probe = tf.sequential({ name: 'sequential', layers: family.layers() });
  const r = new Rand(`${familyName}/weights`);
  const initialWeights = {};
  for (const layer of probe.layers) {
    const ws = layer.getWeights();
    if (ws.length) {
      initialWeights[layer.name] = ws.map((w) => {
        const values = r.array(prod(w.shape), -family.weightScale, family.weightScale);
        // Away from 0, where |w| has its kink (see the header): |w| >= 0.1, the sign kept (0 becomes 0.1).
        const awayFromZero = (v) => (Math.abs(v) >= 0.1 ? v : v < 0 ? -0.1 : 0.1);
        return arrayJSON(w.shape, family.regularized ? values.map(awayFromZero) : values);
      });
    }
  }

  const run = await train(family, family.loss, opt.make(), x, y, initialWeights);
  const notes = [];
  // The epoch loss Keras 2.11 reports: the batch losses weighted by batch size.
  const loss = run.batchLosses.map((losses) => sizeWeightedMean(losses, run.batchSizes));
  loss.forEach((v, e) => {
    const tfjs = run.history.loss[e];
    if (!(Math.abs(v - tfjs) <= 1e-6 * Math.abs(v))) throw new Error(`${name}: epoch ${e} loss ${v} recomputed, TF.js ${tfjs}`);
  });
  const history = { loss };
  if (family.metrics.length) {
    history.accuracy = run.batchAccuracies.map((accs) => sizeWeightedMean(accs, run.batchSizes));
    history.accuracy.forEach((v, e) => {
      if (!(Math.abs(v - run.history.acc[e]) <= 1e-6)) throw new Error(`${name}: epoch ${e} accuracy ${v} recomputed, TF.js ${run.history.acc[e]}`);
    });
    if (!(run.margins.decision >= DECISION_MARGIN)) throw new Error(`${name}: a prediction is ${run.margins.decision} from an accuracy decision`);
  }
  if (family.loss !== 'mean_squared_error' && !(run.margins.smallest > 1e3 * CLIP && run.margins.largest < 1 - 1e3 * CLIP)) {
    throw new Error(`${name}: a probability comes near the cross-entropy clip (${run.margins.smallest}, ${run.margins.largest})`);
  }
  if (run.batchSizes.join() !== '4,4,3') throw new Error(`${name}: batch sizes ${run.batchSizes}`);
  notes.push('history.loss is the batch losses weighted by batch size (Keras 2.11 and TF.js agree; checked against ' +
    'TF.js\'s history to 1e-6). keras_batch_end_loss is the running weighted mean Keras passes to on_train_batch_end.');

  if (optimizerName === 'adam') {
    const stock = await train(family, family.loss, opt.stock(), x, y, initialWeights);
    const d = maxWeightDifference(stock.finalWeights, run.finalWeights);
    const dl = Math.max(...stock.history.loss.map((v, e) => Math.abs(v - loss[e]) / Math.abs(loss[e])));
    notes.push('Adam: trained with Keras 2.11\'s update (w -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)), eps 1e-7. ' +
      `Stock TF.js tf.train.adam (w -= lr * m_hat/(sqrt(v_hat)+eps), eps 1e-7) ends ${d.abs.toExponential(2)} away ` +
      `at most in a final weight (relative ${d.rel.toExponential(2)}, to max(|w|, 1e-3)) and ` +
      `${dl.toExponential(2)} relative in an epoch loss.`);
  }
  if (family.loss === 'sparse_categorical_crossentropy') {
    notes.push(`Sparse labels: y is ${JSON.stringify(y.shape)} as Keras takes it; TF.js was given ` +
      `${JSON.stringify(tfjsTarget(family.loss, y).shape)} (its fit wants a trailing 1).`);
  }
  if (family.metrics.length) notes.push('TF.js\'s history key "acc" is recorded as "accuracy" (Keras\'s name).');
  if (familyName.includes('gru')) notes.push('GRU reset_after=False (TF.js has only that GRU).');
  if (family.regularized) {
    notes.push('Regularized: TF.js\'s recurrent penalties handed to fit by the generator; every batch loss checked ' +
      'against TF.js\'s evaluate loss plus the float64 penalty (see the generator header).');
  }

  return {
    name, note: notes.join(' '), model: run.modelJSON, weights: initialWeights,
    x: arrayJSON(x.shape, x.data), y: arrayJSON(y.shape, y.data),
    compile: { loss: family.loss, optimizer: opt.keras, metrics: family.metrics },
    fit: { epochs: EPOCHS, batch_size: BATCH_SIZE, shuffle: false },
    batch_sizes: run.batchSizes,
    batch_losses: run.batchLosses,
    keras_batch_end_loss: run.batchLosses.map((losses) => runningMeans(losses, run.batchSizes)),
    history,
    final_weights: run.finalWeights,
    ...(family.regularized ? { initial_penalty: penalty(run.modelJSON, initialWeights), final_penalty: run.finalPenalty } : {}),
  };
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('expected the cpu backend');
  const cases = [];
  for (const [family, optimizer] of CASES) cases.push(await makeCase(family, optimizer));
  const head = `{"generator": ${JSON.stringify(GENERATOR)}, "oracle": ${JSON.stringify(ORACLE)}, ` +
    `"description": ${JSON.stringify('model.fit oracle: 11 samples, batch_size 4, 3 epochs, shuffle off; see the generator header for where TF.js and Keras differ and what the fixture holds.')}, "cases": [\n`;
  const text = head + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n';
  fs.writeFileSync(OUT, text);
  console.log(`fit.json: ${cases.length} cases, ${text.length} bytes`);
  for (const c of cases) console.log(`  ${c.name}: loss ${c.history.loss.map((v) => v.toFixed(5)).join(' ')}`);
}
await main();
