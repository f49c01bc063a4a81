// Second opinion on fixtures/metrics/metrics.json (written by gen_metrics.py, numpy) from TensorFlow.js 4.22:
// tf.metrics.binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, precision and recall on every
// unweighted case TF.js has the metric for. TF.js's functions see one batch, so each is given the case's
// batches concatenated, which for these unweighted metrics is the streaming value after the last batch.
// TF.js's precision and recall compare y_pred with 1 and 0: they are given (y_pred > 0.5). Each value is
// written to fixtures/metrics/metrics_tfjs.json, which tests/unit/metrics_test.cpp compares with rnnkit too;
// a disagreement with numpy above 1e-6 stops the script.
//
//   cd tests/parity && node gen_metrics_tfjs.mjs      (after npm ci and gen_metrics.py)
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const IN_FILE = path.join(HERE, 'fixtures', 'metrics', 'metrics.json');
const OUT_FILE = path.join(HERE, 'fixtures', 'metrics', 'metrics_tfjs.json');

// Which TF.js function answers which case (by the case's name prefix), and how its inputs are prepared.
const ORACLES = [
  ['binary_accuracy_b1', 'binaryAccuracy'],
  ['binary_accuracy_threshold', null],  // TF.js's binaryAccuracy has no threshold
  ['binary_accuracy', 'binaryAccuracy'],
  ['mean_metric_wrapper_binary', 'binaryAccuracy'],
  ['categorical_accuracy', 'categoricalAccuracy'],
  ['sparse_categorical_accuracy', 'sparseCategoricalAccuracy'],
  ['precision_default', 'precision'],
  ['recall_default', 'recall'],
];

function concat(batches, key) {
  const shape = [...batches[0][key].shape];
  shape[0] = batches.reduce((n, b) => n + b[key].shape[0], 0);
  return tf.tensor(batches.flatMap((b) => b[key].data), shape, 'float32');
}

const fixture = JSON.parse(fs.readFileSync(IN_FILE, 'utf8'));
const results = [];
for (const c of fixture.cases) {
  if (c.name.endsWith('_weighted')) continue;
  const oracle = ORACLES.find(([prefix]) => c.name.startsWith(prefix));
  if (!oracle || oracle[1] === null) continue;
  const fn = oracle[1];
  let yTrue = concat(c.batches, 'y_true');
  let yPred = concat(c.batches, 'y_pred');
  if (fn === 'binaryAccuracy' && yTrue.rank < yPred.rank) yTrue = yTrue.reshape(yPred.shape);
  if (fn === 'sparseCategoricalAccuracy' && yTrue.rank === yPred.rank - 1) yTrue = yTrue.expandDims(-1);
  if (fn === 'precision' || fn === 'recall') yPred = tf.cast(tf.greater(yPred, 0.5), 'float32');
  const value = tf.mean(tf.metrics[fn](yTrue, yPred)).dataSync()[0];
  const expected = c.expected[c.expected.length - 1];
  if (Math.abs(value - expected) > 1e-6)
    throw new Error(`${c.name}: TF.js ${fn} gives ${value}, numpy ${expected}`);
  results.push({ name: c.name, oracle: `tf.metrics.${fn}`, value });
}
fs.writeFileSync(OUT_FILE, JSON.stringify({ generator: 'gen_metrics_tfjs.mjs (@tensorflow/tfjs 4.22.0 cpu)', results }, null, 1) + '\n');
console.log(`${results.length} cases agree with numpy -> ${OUT_FILE}`);
