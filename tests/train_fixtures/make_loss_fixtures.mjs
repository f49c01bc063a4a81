// Generates tests/train_fixtures/losses.json, the oracle of rnnkit's losses (tests/unit/losses_test.cpp):
// for every loss x from_logits x (B,C) / (B,T,C) x with / without sample_weight, plus cases for Keras's other
// label shapes, label rows that do not sum to 1 and argmax ties, the loss value Keras's SUM_OVER_BATCH_SIZE
// reduction gives, its gradient with respect to y_pred, and Keras's "accuracy".
//
//   node tests/train_fixtures/make_loss_fixtures.mjs       (TensorFlow.js from tests/parity/node_modules,
//                                                            numpy from Debian's /usr/bin/python3)
//
// Two oracles, neither of them rnnkit:
//  * TensorFlow.js 4.22 (pure-JS CPU backend): its loss ops, differentiated with tf.grad, reduced as Keras
//    reduces (sum of weight * per-row loss / number of rows: keras/utils/losses_utils.py).
//  * keras_losses_numpy.py: Keras's formulas transcribed into numpy float64, the gradient by central
//    differences.
// A case takes TF.js's numbers where TF.js computes what Keras computes, and numpy's (oracle "numpy", with a
// note saying why) where it does not:
//  * binary_crossentropy on probabilities: TF.js turns the clipped p into a logit and takes
//    -(y log p + (1-y) log(1-p)); Keras (backend.binary_crossentropy) adds epsilon again inside the logs,
//    -(y log(p + 1e-7) + (1-y) log(1 - p + 1e-7)): different at every p, by log 2 where the clip is hit.
//  * sparse_categorical_crossentropy on probabilities: TF.js clips, one-hots and calls its categorical loss,
//    which renormalises and clips again; Keras feeds log(clip(p)) to sparse_softmax_cross_entropy_with_logits,
//    with no second clip. The same numbers unless the second clip is active (p/sum hits the clip).
//  * sparse_categorical_crossentropy from logits: TF.js clips the logits to [1e-7, 1-1e-7] (its layers loss),
//    which Keras never does; the TF.js oracle here is tf.losses.softmaxCrossEntropy on one-hot labels, the
//    same function as Keras's sparse_softmax_cross_entropy_with_logits.
//  * categorical_crossentropy from logits: TF.js's layers loss takes softmax then clips; Keras uses
//    softmax_cross_entropy_with_logits, unclipped: the oracle is tf.losses.softmaxCrossEntropy (same op, and
//    the same gradient convention softmax - y as TensorFlow's op).
// (At a logit of exactly 0, TensorFlow's sigmoid_cross_entropy_with_logits builds max(x, 0) and -|x| from
// where(x >= 0) "to allow computing gradients at zero", so its gradient is sigmoid(0) - y = 0.5 - y.
// tf.losses.sigmoidCrossEntropy uses relu and abs instead, but TF.js's abs gradient at 0 is -1 (step(x, -1))
// and relu's 0, which gives 0.5 - y as well: the zero_logit case checks it against numpy.)
// Every case is also computed by the other oracle, and the generator stops if the two disagree where they
// should agree.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tf = require(path.join(HERE, '..', 'parity', 'node_modules', '@tensorflow', 'tfjs'));
const OUT = path.join(HERE, 'losses.json');
const NUMPY = path.join(HERE, 'keras_losses_numpy.py');
const PYTHON = '/usr/bin/python3';
const EPSILON = 1e-7;  // Keras's and TF.js's epsilon()

// ---------------------------------------------------------------------------------------------------------
// Deterministic numbers: mulberry32 seeded with FNV-1a of the case name (as tests/parity/gen_tfjs.mjs).
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
  next() {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  // A multiple of 0.01 in [lo, hi].
  hundredths(lo, hi) { return Math.round(lo * 100 + this.next() * (hi - lo) * 100) / 100; }
  int(n) { return Math.floor(this.next() * n); }
}
const f32 = (values) => Array.from(Float32Array.from(values));
const count = (shape) => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------
// Inputs. Rows are (sample[, timestep]) positions; C the last axis.

// Probability rows that sum to 1, with rows that hit the clip: an exact one-hot prediction (0 and 1), a
// 1e-9, and (for the categorical loss) a row whose normalised value falls below 1e-7.
function probabilityRows(rand, rows, classes, { extremes = true, normalised = true } = {}) {
  const data = [];
  for (let r = 0; r < rows; r++) {
    let row = Array.from({ length: classes }, () => rand.hundredths(0.05, 1));
    if (extremes && r === 0) row = row.map((_, j) => (j === 1 ? 1 : 0));
    if (extremes && r === rows - 1) row = row.map((v, j) => (j === 0 ? 1e-9 : v));
    const total = row.reduce((a, b) => a + b, 0);
    data.push(...(normalised ? row.map((v) => v / total) : row));
  }
  return f32(data);
}

function logitRows(rand, rows, classes, { extremes = true } = {}) {
  const data = [];
  for (let r = 0; r < rows; r++) {
    let row = Array.from({ length: classes }, () => rand.hundredths(-3, 3));
    // Far beyond the clip: softmax gives ~1e-35, sigmoid 1 - 1e-18; Keras's logits path does not clip.
    if (extremes && r === 0) row = row.map((_, j) => (j === 0 ? 40 : j === 1 ? -40 : 0.5));
    data.push(...row);
  }
  return f32(data);
}

function oneHotRows(rand, rows, classes) {
  const data = [], ids = [];
  for (let r = 0; r < rows; r++) {
    const id = rand.int(classes);
    ids.push(id);
    for (let j = 0; j < classes; j++) data.push(j === id ? 1 : 0);
  }
  return { data, ids };
}

// ---------------------------------------------------------------------------------------------------------
// Cases.
const CANONICAL = {
  categorical_crossentropy: 'categorical_crossentropy', sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy', mean_squared_error: 'mean_squared_error', mse: 'mean_squared_error',
};

function weightsFor(rand, predShape, weighted, temporal = false) {
  if (!weighted) return null;
  const shape = temporal ? predShape.slice(0, -1) : [predShape[0]];
  // One weight of 0 where there are more than two.
  const n = count(shape);
  const data = Array.from({ length: n }, (_, i) => (n > 2 && i === n - 2 ? 0 : rand.hundredths(0.2, 2)));
  return { shape, data: f32(data) };
}

function makeCases() {
  const cases = [];
  const add = (c) => cases.push(c);
  for (const rank of [2, 3]) {
    for (const weighted of [false, true]) {
      const tag = `${rank}d/${weighted ? 'weighted' : 'unweighted'}`;
      const predShape = rank === 2 ? [4, 3] : [2, 3, 4];
      const rows = count(predShape.slice(0, -1)), classes = predShape.at(-1);
      for (const fromLogits of [false, true]) {
        // categorical
        {
          const name = `categorical_crossentropy/${fromLogits ? 'logits' : 'probabilities'}/${tag}`;
          const rand = new Rand(name);
          const yPred = fromLogits ? logitRows(rand, rows, classes) : probabilityRows(rand, rows, classes);
          const { data } = oneHotRows(rand, rows, classes);
          add({ name, loss: 'categorical_crossentropy', from_logits: fromLogits, y_pred: { shape: predShape, data: yPred },
                y_true: { shape: predShape, data }, sample_weight: weightsFor(rand, predShape, weighted) });
        }
        // sparse: labels (B) / (B,T) unweighted, with a trailing 1 when weighted
        {
          const name = `sparse_categorical_crossentropy/${fromLogits ? 'logits' : 'probabilities'}/${tag}`;
          const rand = new Rand(name);
          const yPred = fromLogits ? logitRows(rand, rows, classes) : probabilityRows(rand, rows, classes);
          const { ids } = oneHotRows(rand, rows, classes);
          // The one-hot prediction row puts 1 on class 1, the last row 1e-9 on class 0: label 0 hits the clip in
          // both, the second with the other classes unclipped (where TF.js's second clip changes the gradient).
          if (!fromLogits) ids[0] = ids[rows - 1] = 0;
          const labelShape = weighted ? [...predShape.slice(0, -1), 1] : predShape.slice(0, -1);
          add({ name, loss: 'sparse_categorical_crossentropy', from_logits: fromLogits,
                y_pred: { shape: predShape, data: yPred }, y_true: { shape: labelShape, data: ids },
                sample_weight: weightsFor(rand, predShape, weighted) });
        }
        // binary: multi-label (B, 3) in 2d, one unit (B, T, 1) in 3d
        {
          const name = `binary_crossentropy/${fromLogits ? 'logits' : 'probabilities'}/${tag}`;
          const rand = new Rand(name);
          const shape = rank === 2 ? [4, 3] : [2, 3, 1];
          const n = count(shape);
          let yPred;
          if (fromLogits) {
            yPred = f32(Array.from({ length: n }, (_, i) => (i === 0 ? 30 : i === 1 ? -30 : rand.hundredths(-3, 3))));
          } else {
            yPred = f32(Array.from({ length: n }, (_, i) =>
              (i === 0 ? 0 : i === 1 ? 1 : i === 2 ? 1e-9 : rand.hundredths(0.02, 0.98))));
          }
          const yTrue = Array.from({ length: n }, (_, i) => (i < 2 ? i % 2 : rand.int(2)));
          add({ name, loss: 'binary_crossentropy', from_logits: fromLogits, y_pred: { shape, data: yPred },
                y_true: { shape, data: yTrue }, sample_weight: weightsFor(rand, shape, weighted) });
        }
      }
      // mean squared error ('mse' alias in the weighted cases)
      {
        const name = `mean_squared_error/${tag}`;
        const rand = new Rand(name);
        const n = count(predShape);
        add({ name, loss: weighted ? 'mse' : 'mean_squared_error', from_logits: false,
              y_pred: { shape: predShape, data: f32(Array.from({ length: n }, () => rand.hundredths(-2, 2))) },
              y_true: { shape: predShape, data: f32(Array.from({ length: n }, () => rand.hundredths(-1, 1))) },
              sample_weight: weightsFor(rand, predShape, weighted) });
      }
    }
  }

  // Keras's renormalisation: categorical predictions whose rows do not sum to 1.
  {
    const name = 'categorical_crossentropy/probabilities/unnormalised_rows';
    const rand = new Rand(name);
    const yPred = probabilityRows(rand, 4, 3, { extremes: false, normalised: false });
    add({ name, loss: 'categorical_crossentropy', from_logits: false, y_pred: { shape: [4, 3], data: yPred },
          y_true: { shape: [4, 3], data: f32([1, 0, 0, 0, 0.3, 0.7, 0, 0, 1, 0.5, 0.5, 0]) }, sample_weight: null });
  }
  // softmax_cross_entropy_with_logits with soft labels and a row of zeros: the value is sum(y * -log_softmax),
  // the gradient TensorFlow's op gives, softmax - y (not the derivative where y does not sum to 1).
  {
    const name = 'categorical_crossentropy/logits/soft_and_zero_labels';
    const rand = new Rand(name);
    add({ name, loss: 'categorical_crossentropy', from_logits: true, y_pred: { shape: [3, 3], data: logitRows(rand, 3, 3) },
          y_true: { shape: [3, 3], data: f32([0.2, 0.8, 0, 0, 0, 0, 0.1, 0.1, 0.8]) }, sample_weight: null });
  }
  // Sparse labels (B,T) with temporal (B,T) sample weights.
  {
    const name = 'sparse_categorical_crossentropy/probabilities/3d/temporal_weights';
    const rand = new Rand(name);
    const shape = [2, 3, 4];
    const { ids } = oneHotRows(rand, 6, 4);
    add({ name, loss: 'sparse_categorical_crossentropy', from_logits: false,
          y_pred: { shape, data: probabilityRows(rand, 6, 4, { extremes: false }) }, y_true: { shape: [2, 3], data: ids },
          sample_weight: weightsFor(rand, shape, true, true) });
  }
  // Binary (B,1) predictions with (B) labels, as model.fit takes them (match_dtype_and_rank).
  {
    const name = 'binary_crossentropy/probabilities/flat_labels';
    const rand = new Rand(name);
    add({ name, loss: 'binary_crossentropy', from_logits: false,
          y_pred: { shape: [5, 1], data: f32([0.5, 0.73, 0.12, 1, 0.5000001]) }, y_true: { shape: [5], data: [0, 1, 1, 1, 1] },
          sample_weight: weightsFor(rand, [5, 1], true) });
  }
  // A logit of exactly 0 (a zero-initialised Dense): TensorFlow's gradient is sigmoid(0) - y there.
  {
    const name = 'binary_crossentropy/logits/zero_logit';
    add({ name, loss: 'binary_crossentropy', from_logits: true, y_pred: { shape: [3, 2], data: f32([0, 0, 0, 1.5, -2, 0]) },
          y_true: { shape: [3, 2], data: [1, 0, 0, 1, 1, 1] }, sample_weight: null });
  }
  // Accuracy: argmax ties take the first maximum; binary accuracy thresholds strictly above 0.5.
  {
    const name = 'categorical_crossentropy/probabilities/argmax_ties';
    add({ name, loss: 'categorical_crossentropy', from_logits: false,
          y_pred: { shape: [4, 3], data: f32([0.4, 0.4, 0.2, 0.2, 0.4, 0.4, 0.3, 0.3, 0.4, 0.5, 0.25, 0.25]) },
          y_true: { shape: [4, 3], data: [0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0] }, sample_weight: null });
  }
  {
    const name = 'sparse_categorical_crossentropy/logits/argmax_ties';
    add({ name, loss: 'sparse_categorical_crossentropy', from_logits: true,
          y_pred: { shape: [3, 3], data: f32([1, 1, 0, 2, 0.5, 2, -1, 3, 3]) }, y_true: { shape: [3], data: [1, 0, 1] },
          sample_weight: null });
  }
  for (const c of cases) c.canonical = CANONICAL[c.loss];
  return cases;
}

// ---------------------------------------------------------------------------------------------------------
// TF.js oracle.

// Keras's SUM_OVER_BATCH_SIZE: a (B) weight against (B, T) losses is expanded to (B, 1)
// (losses_utils.squeeze_or_expand_dimensions), then sum(weight * loss) / number of losses.
function reduce(losses, weight) {
  let weighted = losses;
  if (weight) {
    let w = tf.tensor(weight.data, weight.shape);
    if (losses.rank - w.rank === 1) w = w.expandDims(-1);
    weighted = losses.mul(w);
  }
  return weighted.sum().div(losses.size);
}

// Per-row losses from TF.js ops, for the cases where they compute Keras's formula (see the header).
function tfjsRowLosses(c, yPred, yTrue) {
  const classes = yPred.shape.at(-1);
  switch (c.canonical) {
    case 'categorical_crossentropy':
      return c.from_logits ? tf.losses.softmaxCrossEntropy(yTrue, yPred, undefined, 0, tf.Reduction.NONE)
                           : tf.metrics.categoricalCrossentropy(yTrue, yPred);
    case 'sparse_categorical_crossentropy': {
      const oneHot = tf.oneHot(yTrue.reshape([-1]).toInt(), classes).toFloat().reshape(yPred.shape);
      if (c.from_logits) return tf.losses.softmaxCrossEntropy(oneHot, yPred, undefined, 0, tf.Reduction.NONE);
      // Exactly TF.js's layers sparseCategoricalCrossentropy: clip, one-hot, categoricalCrossentropy.
      return tf.metrics.categoricalCrossentropy(oneHot, tf.clipByValue(yPred, EPSILON, 1 - EPSILON));
    }
    case 'binary_crossentropy':
      if (c.from_logits)
        return tf.losses.sigmoidCrossEntropy(yTrue.reshape(yPred.shape), yPred, undefined, 0, tf.Reduction.NONE).mean(-1);
      return tf.metrics.binaryCrossentropy(yTrue.reshape(yPred.shape), yPred);
    case 'mean_squared_error':
      return tf.metrics.meanSquaredError(yTrue.reshape(yPred.shape), yPred);
  }
  throw new Error(c.canonical);
}

// Keras's "accuracy" (compile_utils.MetricsContainer._get_metric_object picks it from the shapes) with TF.js's
// metric functions, which compute Keras's binary/categorical/sparse categorical accuracy.
function tfjsAccuracy(c, yPred, yTrue) {
  let trueShape = c.y_true.shape.slice();
  if (trueShape.length === 1 && yPred.rank === 2) trueShape = [...trueShape, 1];  // match_dtype_and_rank
  const binary = yPred.shape.at(-1) === 1;
  const sparse = trueShape.length < yPred.rank || (trueShape.at(-1) === 1 && yPred.shape.at(-1) > 1);
  // The mean of the matches in double precision (every row counts the same: binary accuracy's mean over
  // the last axis is over equal-sized groups).
  const mean = (t) => { const v = Array.from(t.dataSync()); return v.reduce((a, b) => a + b, 0) / v.length; };
  if (binary) return mean(tf.metrics.binaryAccuracy(yTrue.reshape(yPred.shape), yPred));
  if (sparse) return mean(tf.metrics.sparseCategoricalAccuracy(yTrue.reshape(yPred.shape.slice(0, -1)), yPred));
  return mean(tf.metrics.categoricalAccuracy(yTrue, yPred));
}

function tfjsOracle(c) {
  return tf.tidy(() => {
    const yPred = tf.tensor(c.y_pred.data, c.y_pred.shape);
    const yTrue = tf.tensor(c.y_true.data, c.y_true.shape);
    const f = (p) => reduce(tfjsRowLosses(c, p, yTrue), c.sample_weight);
    return {
      value: f(yPred).dataSync()[0],
      gradient: Array.from(tf.grad(f)(yPred).dataSync()),
      accuracy: tfjsAccuracy(c, yPred, yTrue),
    };
  });
}

// Where TF.js's numbers are not Keras's, and why (see the header); null where they are.
function tfjsDiffers(c) {
  if (c.canonical === 'binary_crossentropy' && !c.from_logits)
    return 'TF.js binaryCrossentropy omits the epsilon Keras adds inside the logs (log(p + 1e-7), log(1 - p + 1e-7))';
  if (c.canonical === 'sparse_categorical_crossentropy' && !c.from_logits) {
    const classes = c.y_pred.shape.at(-1);
    const clipped = c.y_pred.data.map((v) => Math.min(Math.max(v, EPSILON), 1 - EPSILON));
    for (let start = 0, row = 0; start < clipped.length; start += classes, row++) {
      const values = clipped.slice(start, start + classes), total = values.reduce((a, b) => a + b, 0);
      const label = values[c.y_true.data[row]] / total;
      if (label < EPSILON || label > 1 - EPSILON)
        return 'TF.js clips the label\'s clip(p) / sum(clip(p)) a second time (its categorical loss); Keras does not';
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------

function closeEnough(a, b, rtol, atol) { return Math.abs(a - b) <= atol + rtol * Math.abs(b); }

// Where TF.js and numpy differ beyond float32 rounding.
function compareOracles(tfjs, numpy) {
  const problems = [];
  if (!closeEnough(tfjs.accuracy, numpy.accuracy, 0, 1e-12)) problems.push(`accuracy ${tfjs.accuracy} vs ${numpy.accuracy}`);
  if (!closeEnough(tfjs.value, numpy.value, 2e-6, 1e-6)) problems.push(`value ${tfjs.value} vs ${numpy.value}`);
  if (numpy.numeric_gradient) {
    const scale = Math.max(...numpy.gradient.map(Math.abs));
    tfjs.gradient.forEach((g, i) => {
      if (!closeEnough(g, numpy.gradient[i], 1e-4, 1e-5 * scale)) problems.push(`gradient[${i}] ${g} vs ${numpy.gradient[i]}`);
    });
  }
  return problems;
}

async function main() {
  await tf.setBackend('cpu');
  const cases = makeCases();
  const run = spawnSync(PYTHON, [NUMPY], { input: JSON.stringify(cases), maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`${PYTHON} ${NUMPY} failed: ${run.stderr}`);
  const numpyResults = new Map(JSON.parse(run.stdout.toString()).map((r) => [r.name, r]));

  const fixtures = [];
  for (const c of cases) {
    const tfjs = tfjsOracle(c), numpy = numpyResults.get(c.name);
    const differs = tfjsDiffers(c);
    const problems = compareOracles(tfjs, numpy);
    if (!differs && problems.length) throw new Error(`${c.name}: TF.js and numpy disagree: ${problems.join('; ')}`);
    if (differs && !numpy.numeric_gradient) throw new Error(`${c.name}: no numpy gradient to use`);
    const expected = differs ? { value: numpy.value, gradient: numpy.gradient, accuracy: numpy.accuracy } : tfjs;
    const note = differs
      ? `numpy (Keras's formula): ${differs}; ` +
        (problems.length ? `TF.js differs here: ${problems.slice(0, 3).join('; ')}` : 'on these inputs TF.js agrees within float32')
      : `TF.js; numpy (Keras's formula) agrees${numpy.numeric_gradient ? '' : ' on the value and accuracy (a numeric gradient is not TF\'s softmax - y where labels do not sum to 1)'}`;
    fixtures.push({
      name: c.name, loss: c.loss, from_logits: c.from_logits, y_pred: c.y_pred, y_true: c.y_true,
      sample_weight: c.sample_weight, value: expected.value,
      gradient: { shape: c.y_pred.shape, data: expected.gradient }, accuracy: expected.accuracy,
      oracle: differs ? 'numpy' : 'tfjs', note,
    });
  }
  const out = {
    description: 'Keras (tf.keras 2.11) losses: SUM_OVER_BATCH_SIZE value, gradient w.r.t. y_pred, accuracy. ' +
                 'Generated by make_loss_fixtures.mjs; see its header for the oracles and where TF.js differs.',
    generator: 'make_loss_fixtures.mjs (@tensorflow/tfjs 4.22.0 cpu) + keras_losses_numpy.py (numpy float64)',
    cases: fixtures,
  };
  fs.writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${fixtures.length} cases to ${path.relative(process.cwd(), OUT)} ` +
              `(${fixtures.filter((f) => f.oracle === 'numpy').length} from numpy)`);
}

main().catch((e) => { console.error(e); process.exit(1); });
