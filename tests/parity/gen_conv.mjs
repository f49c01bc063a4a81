// Generates tests/parity/fixtures/conv_pooling.json from TensorFlow.js 4.22 (pure-JS CPU backend): Conv1D,
// MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D and GlobalAveragePooling1D, alone (layer cases) and in
// the text models that mix them with RNNs (model cases), with oracle gradients of L = sum(output * output_grads).
//
//   cd tests/parity && npm ci && node gen_conv.mjs      (or: bash tests/parity/generate.sh)
//
// Same format and number scheme as gen_tfjs.mjs (see README.md). What TF.js cannot compute (causal padding,
// keepdims, a mask on GlobalAveragePooling1D) comes from gen_conv_torch.py instead.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rand, prod, tensorJSON } from './fixture_numbers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'fixtures', 'conv_pooling.json');
const GROUP = 'conv_pooling';

// TF.js getConfig() is camelCase; Keras files are snake_case (TF.js's own convertTsToPythonic rule).
function toSnakeCase(name) {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s[0] !== '_' ? s : 'private' + s;
}
function pythonic(v, key) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return (key === 'name' || key === 'className') ? v : toSnakeCase(v);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => pythonic(x, key));
  const out = {};
  for (const k of Object.keys(v)) out[toSnakeCase(k)] = pythonic(v[k], k);
  return out;
}
const layerConfigJSON = (layer) => ({ class_name: layer.getClassName(), config: pythonic(layer.getConfig()) });

const TFJS_ACT = { tanh: 'tanh', relu: 'relu', linear: 'linear', sigmoid: 'sigmoid', softmax: 'softmax', elu: 'elu' };

// Every option spelled out (TF.js defaults differ from Keras's in places).
function build(s, extra = {}) {
  switch (s.type) {
    case 'Conv1D':
      return tf.layers.conv1d({
        name: s.name, filters: s.filters, kernelSize: s.kernel_size, strides: s.strides ?? 1,
        padding: s.padding ?? 'valid', dilationRate: s.dilation_rate ?? 1, activation: TFJS_ACT[s.activation ?? 'linear'],
        useBias: s.use_bias ?? true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros',
        dataFormat: 'channelsLast', ...extra,
      });
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      const make = s.type === 'MaxPooling1D' ? tf.layers.maxPooling1d : tf.layers.averagePooling1d;
      return make({ name: s.name, poolSize: s.pool_size, strides: s.strides ?? s.pool_size, padding: s.padding ?? 'valid', ...extra });
    }
    case 'GlobalMaxPooling1D': return tf.layers.globalMaxPooling1d({ name: s.name, ...extra });
    case 'GlobalAveragePooling1D': return tf.layers.globalAveragePooling1d({ name: s.name, ...extra });
    case 'Embedding':
      return tf.layers.embedding({ name: s.name, inputDim: s.input_dim, outputDim: s.output_dim, maskZero: !!s.mask_zero,
        embeddingsInitializer: 'randomUniform', ...extra });
    case 'LSTM':
      return tf.layers.lstm({ name: s.name, units: s.units, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true,
        kernelInitializer: 'glorotUniform', recurrentInitializer: 'orthogonal', biasInitializer: 'zeros', unitForgetBias: true,
        dropout: 0, recurrentDropout: 0, returnSequences: !!s.return_sequences, returnState: false, goBackwards: false,
        stateful: false, unroll: false, implementation: 2, ...extra });
    case 'Dense':
      return tf.layers.dense({ name: s.name, units: s.units, activation: TFJS_ACT[s.activation ?? 'linear'], useBias: true,
        kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...extra });
    default: throw new Error(`unknown layer type ${s.type}`);
  }
}

const cases = [];

function outputGradTensors(name, shapes) {
  const r = new Rand(`${GROUP}/${name}/output_grads`);
  return shapes.map((shape) => r.tensor(shape, -0.995, 0.995));
}

// tf.variableGrads of L = sum(f() * output_grads); f must reproduce `expected` (exactly, unless a tolerance
// is given for an equivalent expression).
function oracleGrads(name, f, expected, vars, tolerance = 0) {
  const [outputGrad] = outputGradTensors(name, [expected.shape]);
  const { grads } = tf.variableGrads(() => {
    const out = f();
    const d = tf.max(tf.abs(tf.sub(out, expected))).dataSync()[0];
    if (!(d <= tolerance)) throw new Error(`${name}: gradient pass differs from the forward by ${d}`);
    return tf.sum(tf.mul(out, outputGrad));
  }, vars);
  return { outputGrad, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

// Inputs of distinct values (a shuffled run of multiples of 0.01), where a max must have no ties: which of
// equal maxima takes the gradient differs between TF.js and TensorFlow.
function distinctTensor(r, shape) {
  const n = prod(shape);
  if (n > 201) throw new Error(`no ${n} distinct multiples of 0.01 in [-1, 1]`);
  const pool = Array.from({ length: 201 }, (_, i) => Math.fround((i - 100) / 100));
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return tf.tensor(pool.slice(0, n), shape, 'float32');
}

const AVERAGE_SAME_NOTE =
  'Gradients: TF.js 4.22 divides the gradient of an edge window of average pooling with padding "same" by ' +
  'the full pool size, while its forward pass (as TensorFlow in both passes) divides by the steps inside ' +
  'the input. The recorded gradients are TF.js gradients of an equivalent expression: average pooling with ' +
  'padding "valid" of the input zero-padded as TensorFlow pads it, times pool_size / (steps inside).';

// AveragePooling1D(padding="same") as avgPool("valid") of the explicitly padded input, rescaled per output
// step: the same numbers, with a gradient TF.js computes correctly.
function averageSameByValid(x, pool, strides) {
  const T = x.shape[1], tOut = Math.ceil(T / strides);
  const total = Math.max((tOut - 1) * strides + pool - T, 0), left = Math.floor(total / 2);
  const padded = tf.pad(x, [[0, 0], [left, total - left], [0, 0]]);
  const scale = Array.from({ length: tOut }, (_, t) => {
    const start = t * strides - left;
    return pool / (Math.min(start + pool, T) - Math.max(start, 0));
  });
  return tf.mul(tf.avgPool(padded.expandDims(2), [pool, 1], [strides, 1], 'valid').squeeze([2]),
    tf.tensor(scale, [1, tOut, 1]));
}

// One layer on a (B, T, C) input.
function layerCase(name, spec, { B, T, C, distinct = false, note = null }) {
  const r = new Rand(`${GROUP}/${name}`);
  const layer = build(spec);
  const x = distinct ? distinctTensor(r, [B, T, C]) : r.tensor([B, T, C]);
  layer.apply(x); // builds it
  const ws = layer.getWeights().map((w) => r.tensor(w.shape));
  if (ws.length) layer.setWeights(ws);
  const y = layer.apply(x);
  const xVar = tf.variable(x, true);
  const wVars = layer.weights.map((w) => w.read());
  const averageSame = spec.type === 'AveragePooling1D' && spec.padding === 'same';
  const f = averageSame ? () => averageSameByValid(xVar, spec.pool_size, spec.strides ?? spec.pool_size)
    : () => layer.apply(xVar);
  const { outputGrad, grads } = oracleGrads(name, f, y, [xVar, ...wVars], averageSame ? 1e-7 : 0);
  if (averageSame) note = [note, AVERAGE_SAME_NOTE].filter(Boolean).join(' ');
  cases.push({
    kind: 'layer', name, note, layer: layerConfigJSON(layer), input_shape: [null, T, C], weights: ws.map(tensorJSON),
    inputs: [tensorJSON(x)], mask: null, outputs: [tensorJSON(y)], output_grads: [tensorJSON(outputGrad)],
    grads: { input: tensorJSON(grads[0]), weights: grads.slice(1).map(tensorJSON) },
  });
}

// A Sequential of token ids or float inputs; no layer here makes or reads a mask.
function modelCase(name, specs, inputShape, input, { note = null } = {}) {
  const r = new Rand(`${GROUP}/${name}/weights`);
  const layers = specs.map((s, i) => build(s, i === 0
    ? (s.type === 'Embedding' ? { inputLength: inputShape[1] } : { batchInputShape: inputShape }) : {}));
  const model = tf.sequential({ name: 'sequential', layers });
  const weights = {};
  for (const layer of model.layers) {
    const ws = layer.getWeights().map((w) => r.tensor(w.shape));
    if (!ws.length) continue;
    layer.setWeights(ws);
    weights[layer.name] = ws.map(tensorJSON);
  }
  const y = model.predict(input);
  const embedded = specs[0].type === 'Embedding';
  const xVar = embedded ? null : tf.variable(input, true);
  const weighted = model.layers.filter((layer) => layer.weights.length > 0);
  const vars = [...(xVar ? [xVar] : []), ...weighted.flatMap((layer) => layer.weights.map((w) => w.read()))];
  const apply = () => model.layers.reduce((h, layer) => layer.apply(h), xVar ?? input);
  const { outputGrad, grads } = oracleGrads(name, apply, y, vars);
  let g = xVar ? 1 : 0;
  const weightGrads = {};
  for (const layer of weighted) weightGrads[layer.name] = layer.weights.map(() => tensorJSON(grads[g++]));
  cases.push({
    kind: 'model', name, note, model: model.toJSON(null, false), weights, input: tensorJSON(input), output: tensorJSON(y),
    output_grads: [tensorJSON(outputGrad)], grads: { input: xVar ? tensorJSON(grads[0]) : null, weights: weightGrads },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Conv1D sweep: padding valid/same x strides x activation x use_bias, kernel sizes 1..5, including inputs
// barely longer than the kernel, a kernel longer than the input ("same") and strides that do not divide the
// length. TF.js has no gradient for dilation_rate > 1 and no causal padding: gen_conv_torch.py covers those.
const CONV_SWEEP = [
  // padding, K, strides, dilation, act,     bias, F, T, C, B
  ['valid',   3, 1, 1, 'linear',  1, 2, 6, 2, 2],
  ['valid',   2, 2, 1, 'relu',    0, 3, 7, 1, 2],
  ['valid',   3, 3, 1, 'tanh',    1, 1, 8, 3, 1],
  ['valid',   3, 1, 1, 'sigmoid', 1, 2, 3, 2, 2],
  ['valid',   1, 1, 1, 'tanh',    1, 4, 5, 3, 2],
  ['valid',   1, 2, 1, 'linear',  0, 2, 5, 2, 2],
  ['valid',   4, 1, 1, 'elu',     0, 2, 4, 2, 3],
  ['same',    3, 1, 1, 'relu',    1, 3, 6, 2, 2],
  ['same',    2, 1, 1, 'linear',  1, 2, 5, 2, 2],
  ['same',    4, 2, 1, 'tanh',    0, 2, 7, 2, 2],
  ['same',    3, 2, 1, 'sigmoid', 1, 1, 6, 3, 1],
  ['same',    3, 3, 1, 'linear',  0, 2, 8, 1, 2],
  ['same',    3, 1, 1, 'relu',    0, 2, 6, 2, 2],
  ['same',    2, 2, 1, 'tanh',    1, 3, 5, 2, 1],
  ['same',    1, 2, 1, 'softmax', 1, 3, 5, 2, 2],
  ['same',    5, 1, 1, 'linear',  1, 2, 3, 2, 2],
];

function convGroup() {
  for (const [padding, K, s, d, act, bias, F, T, C, B] of CONV_SWEEP) {
    const name = `conv1d_${padding}_k${K}_s${s}_d${d}_${act}_${bias ? 'bias' : 'nobias'}_f${F}_t${T}_c${C}_b${B}`;
    layerCase(name, { type: 'Conv1D', name: 'conv1d', filters: F, kernel_size: K, strides: s, dilation_rate: d, padding,
      activation: act, use_bias: !!bias }, { B, T, C });
  }
}

// Pooling sweep: pool sizes 1..4, strides below, at and above the pool size, padding valid/same, lengths
// that the windows do not divide (average "same" windows at the edges hold fewer steps).
const POOL_SWEEP = [
  // pool, strides, padding, T, C, B
  [2, null, 'valid', 6, 2, 2],
  [2, null, 'valid', 7, 1, 2],
  [3, 1, 'valid', 5, 2, 2],
  [3, 2, 'valid', 8, 2, 1],
  [2, 3, 'valid', 7, 2, 2],
  [1, 2, 'valid', 5, 2, 2],
  [2, null, 'same', 5, 2, 2],
  [3, 1, 'same', 5, 2, 2],
  [3, 2, 'same', 6, 2, 2],
  [4, 1, 'same', 4, 3, 2],
  [2, 3, 'same', 7, 2, 1],
  [4, 4, 'same', 6, 2, 2],
];

function poolingGroup() {
  for (const type of ['MaxPooling1D', 'AveragePooling1D']) {
    for (const [pool, strides, padding, T, C, B] of POOL_SWEEP) {
      const name = `${type === 'MaxPooling1D' ? 'max' : 'average'}_pooling1d_p${pool}_s${strides ?? 'default'}_${padding}_t${T}_c${C}_b${B}`;
      layerCase(name, { type, name: type === 'MaxPooling1D' ? 'max_pooling1d' : 'average_pooling1d', pool_size: pool,
        strides: strides ?? undefined, padding }, { B, T, C, distinct: type === 'MaxPooling1D' });
    }
  }
  for (const [T, C, B] of [[5, 3, 2], [1, 2, 2], [7, 1, 3]]) {
    layerCase(`global_max_pooling1d_t${T}_c${C}_b${B}`, { type: 'GlobalMaxPooling1D', name: 'global_max_pooling1d' },
      { B, T, C, distinct: true });
    layerCase(`global_average_pooling1d_t${T}_c${C}_b${B}`, { type: 'GlobalAveragePooling1D', name: 'global_average_pooling1d' },
      { B, T, C });
  }
}

const ids = (name, B, T, V) => {
  const r = new Rand(`${GROUP}/${name}/ids`);
  return tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, () => r.int(0, V))), undefined, 'float32');
};

function modelGroup() {
  // IMDB's CNN-LSTM (Embedding + Conv1D(same, relu) + MaxPooling1D + LSTM + Dense(sigmoid)), shrunk.
  modelCase('imdb_cnn_lstm', [
    { type: 'Embedding', name: 'embedding', input_dim: 20, output_dim: 4 },
    { type: 'Conv1D', name: 'conv1d', filters: 3, kernel_size: 3, padding: 'same', activation: 'relu' },
    { type: 'MaxPooling1D', name: 'max_pooling1d', pool_size: 2 },
    { type: 'LSTM', name: 'lstm', units: 3 },
    { type: 'Dense', name: 'dense', units: 1, activation: 'sigmoid' },
  ], [null, 10], ids('imdb_cnn_lstm', 3, 10, 20));
  // A 1-D CNN text classifier: two convolutions, global max pooling, softmax head.
  modelCase('cnn_text_classifier_global_max', [
    { type: 'Embedding', name: 'embedding', input_dim: 15, output_dim: 3 },
    { type: 'Conv1D', name: 'conv1d', filters: 4, kernel_size: 3, activation: 'relu' },
    { type: 'Conv1D', name: 'conv1d_1', filters: 3, kernel_size: 2, strides: 2, activation: 'tanh' },
    { type: 'GlobalMaxPooling1D', name: 'global_max_pooling1d' },
    { type: 'Dense', name: 'dense', units: 3, activation: 'softmax' },
  ], [null, 9], ids('cnn_text_classifier_global_max', 2, 9, 15));
  // Float features (the seizure model's shape): Conv1D(k=1) + average pooling + LSTM over the pooled steps.
  modelCase('conv1d_pointwise_average_pooling_lstm', [
    { type: 'Conv1D', name: 'conv1d', filters: 3, kernel_size: 1, activation: 'relu' },
    { type: 'AveragePooling1D', name: 'average_pooling1d', pool_size: 2, strides: 1 },
    { type: 'LSTM', name: 'lstm', units: 2, return_sequences: true },
    { type: 'GlobalAveragePooling1D', name: 'global_average_pooling1d' },
    { type: 'Dense', name: 'dense', units: 2 },
  ], [null, 5, 4], new Rand(`${GROUP}/conv1d_pointwise_average_pooling_lstm/input`).tensor([2, 5, 4]));
}

tf.setBackend('cpu');
await tf.ready();
convGroup();
poolingGroup();
modelGroup();
const text = '{"generator": "gen_conv.mjs", "oracle": "@tensorflow/tfjs 4.22.0 cpu", "cases": [\n' +
  cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n';
fs.writeFileSync(OUT, text);
console.log(`${path.relative(HERE, OUT)}: ${cases.length} cases`);
