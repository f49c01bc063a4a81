// Generates tests/parity/fixtures/shapes.json from TensorFlow.js 4.22 (pure-JS CPU backend): Keras's weightless
// shape and masking layers (Flatten, Reshape, Permute, RepeatVector, Masking, SpatialDropout1D) alone and in the
// Sequential models they appear in (Masking + LSTM on padded float sequences, RepeatVector seq2seq, ...).
//
//   cd tests/parity && npm ci && node gen_shapes.mjs      (or: bash tests/parity/generate.sh)
//
// The fixture format, seeds and number format are gen_tfjs.mjs's (README.md): model and layer cases, each with
// oracle gradients of L = sum(output * output_grads) from tf.variableGrads. Every option is passed to TF.js
// explicitly; where TF.js and Keras differ the fixture holds Keras's answer and the case's note says so.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rand, tensorJSON } from './fixture_numbers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_FILE = path.join(HERE, 'fixtures', 'shapes.json');
const ORACLE = '@tensorflow/tfjs 4.22.0 cpu';
const GENERATOR = 'gen_shapes.mjs';
const GROUP = 'shapes';

// TF.js getConfig() is camelCase; Keras files are snake_case (gen_tfjs.mjs's rule, TF.js's convertTsToPythonic).
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
const maxAbsDiff = (a, b) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

// ---------------------------------------------------------------------------------------------------------
// Layer specs {type, name, ...Keras options} and their TF.js layers, every option explicit.
const RNN_TYPES = ['SimpleRNN', 'LSTM', 'GRU'];

function build(s, inputShape) {
  const extra = inputShape ? (s.type === 'Embedding' ? { inputLength: inputShape[1] } : { batchInputShape: inputShape }) : {};
  const rnnArgs = () => {
    const a = {
      name: s.name, units: s.units, activation: 'tanh', useBias: true, kernelInitializer: 'glorotUniform',
      recurrentInitializer: 'orthogonal', biasInitializer: 'zeros', dropout: 0, recurrentDropout: 0,
      returnSequences: !!s.return_sequences, returnState: false, goBackwards: !!s.go_backwards, stateful: false,
      unroll: false, ...extra,
    };
    if (s.type !== 'SimpleRNN') { a.recurrentActivation = 'sigmoid'; a.implementation = 2; }
    if (s.type === 'LSTM') a.unitForgetBias = true;
    return a;
  };
  switch (s.type) {
    case 'SimpleRNN': return tf.layers.simpleRNN(rnnArgs());
    case 'LSTM': return tf.layers.lstm(rnnArgs());
    case 'GRU': return tf.layers.gru(rnnArgs()); // reset_after=False, the only GRU TF.js has
    case 'Bidirectional': return tf.layers.bidirectional({ name: s.name, layer: build(s.layer), mergeMode: s.merge_mode, ...extra });
    case 'Embedding':
      return tf.layers.embedding({
        name: s.name, inputDim: s.input_dim, outputDim: s.output_dim, maskZero: !!s.mask_zero,
        embeddingsInitializer: 'randomUniform', ...extra,
      });
    case 'Dense':
      return tf.layers.dense({
        name: s.name, units: s.units, activation: s.activation ?? 'linear', useBias: true,
        kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...extra,
      });
    case 'TimeDistributed': return tf.layers.timeDistributed({ name: s.name, layer: build(s.layer), ...extra });
    case 'Flatten': return tf.layers.flatten({ name: s.name, dataFormat: s.data_format ?? 'channelsLast', ...extra });
    case 'Reshape': return tf.layers.reshape({ name: s.name, targetShape: s.target_shape, ...extra });
    case 'Permute': return tf.layers.permute({ name: s.name, dims: s.dims, ...extra });
    case 'RepeatVector': return tf.layers.repeatVector({ name: s.name, n: s.n, ...extra });
    case 'Masking': return tf.layers.masking({ name: s.name, maskValue: s.mask_value, ...extra });
    case 'SpatialDropout1D': return tf.layers.spatialDropout1d({ name: s.name, rate: s.rate, ...extra });
    default: throw new Error(`unknown layer type ${s.type}`);
  }
}

const rnn = (type, units, o = {}) => ({ type, name: { SimpleRNN: 'simple_rnn', LSTM: 'lstm', GRU: 'gru' }[type], units, ...o });
const dense = (units, activation, o = {}) => ({ type: 'Dense', name: 'dense', units, activation, ...o });
const td = (layer, o = {}) => ({ type: 'TimeDistributed', name: 'time_distributed', layer, ...o });
const flatten = (o = {}) => ({ type: 'Flatten', name: 'flatten', ...o });
const reshape = (target_shape, o = {}) => ({ type: 'Reshape', name: 'reshape', target_shape, ...o });
const permute = (dims, o = {}) => ({ type: 'Permute', name: 'permute', dims, ...o });
const repeat = (n, o = {}) => ({ type: 'RepeatVector', name: 'repeat_vector', n, ...o });
const masking = (mask_value, o = {}) => ({ type: 'Masking', name: 'masking', mask_value, ...o });
const spatialDropout = (rate, o = {}) => ({ type: 'SpatialDropout1D', name: 'spatial_dropout1d', rate, ...o });
const emb = (input_dim, output_dim, mask_zero) => ({ type: 'Embedding', name: 'embedding', input_dim, output_dim, mask_zero });

// Keras's mask propagation (tf.keras 2.x and Keras 3): Embedding(mask_zero) and Masking make a mask; RNNs pass
// it on only with return_sequences; Dense, TimeDistributed and the dropouts pass it through; Flatten, Reshape,
// Permute and RepeatVector (supports_masking False) drop it. `x` is the layer's input; `constant` a
// non-variable copy of it, so that no gradient flows through the comparisons (none does in Keras either).
function nextMask(s, constant, mask) {
  if (s.type === 'Embedding') return s.mask_zero ? tf.notEqual(constant, 0).cast('float32') : null;
  if (s.type === 'Masking') return tf.any(tf.notEqual(constant, s.mask_value), -1).cast('float32');
  if (RNN_TYPES.includes(s.type) || s.type === 'Bidirectional') {
    return (s.type === 'Bidirectional' ? s.layer.return_sequences : s.return_sequences) ? mask : null;
  }
  if (['Flatten', 'Reshape', 'Permute', 'RepeatVector'].includes(s.type)) return null;
  return mask;
}

// Runs the layers one by one with Keras's mask propagation. Masking is applied as x * keep with keep computed
// from a constant copy of x: TF.js's own Masking.call, whose comparisons TF.js cannot differentiate (the tape
// would fail on NotEqual); the forward run asserts the two agree bit for bit.
function applyLayers(specs, layers, x, gradientPass) {
  let y = x, mask = null;
  specs.forEach((s, i) => {
    const constant = tf.tensor(y.dataSync(), y.shape);
    const usesMask = RNN_TYPES.includes(s.type) || s.type === 'Bidirectional';
    let out;
    if (s.type === 'Masking' && gradientPass) {
      out = y.mul(tf.any(tf.notEqual(constant, s.mask_value), -1, true).cast('float32'));
    } else {
      out = layers[i].apply(y, usesMask && mask ? { mask } : {});
    }
    if (s.type === 'Masking' && !gradientPass) {
      const again = y.mul(tf.any(tf.notEqual(constant, s.mask_value), -1, true).cast('float32'));
      if (maxAbsDiff(again, out) !== 0) throw new Error('Masking: x * keep differs from TF.js Masking.call');
    }
    mask = nextMask(s, constant, mask);
    y = out;
  });
  return y;
}

// ---------------------------------------------------------------------------------------------------------
const cases = [];

function oracleGrads(name, f, expected, vars) {
  const r = new Rand(`${GROUP}/${name}/output_grads`);
  const outputGrads = expected.map((t) => r.tensor(t.shape, -0.995, 0.995));
  const { grads } = tf.variableGrads(() => {
    const outs = f();
    outs.forEach((o, k) => {
      const d = maxAbsDiff(o, expected[k]);
      if (!(d === 0)) throw new Error(`${name}: gradient pass output ${k} differs from the forward by ${d}`);
    });
    return tf.addN(outs.map((o, k) => tf.sum(tf.mul(o, outputGrads[k]))));
  }, vars);
  return { outputGrads, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

// A Sequential model case. `predicts`: whether TF.js's model.predict can run it (TF.js throws where a mask
// reaches a layer without masking support, where Keras drops the mask); when it can, the layer-by-layer run
// must equal it.
function modelCase(name, specs, inputShape, input, { note = null, weightScale = 1, predicts = true } = {}) {
  const r = new Rand(`${GROUP}/${name}/weights`);
  const layers = specs.map((s, i) => build(s, i === 0 ? inputShape : undefined));
  const model = tf.sequential({ name: 'sequential', layers });
  const weights = {};
  for (const layer of model.layers) {
    const ws = layer.getWeights().map((w) => r.tensor(w.shape, -weightScale, weightScale));
    if (ws.length === 0) continue;
    layer.setWeights(ws);
    weights[layer.name] = ws.map(tensorJSON);
  }
  const y = applyLayers(specs, model.layers, input, false);
  if (predicts) {
    const d = maxAbsDiff(y, model.predict(input));
    if (d > 1e-6) throw new Error(`${name}: layer-by-layer run differs from predict by ${d}`);
  }
  const embedded = specs[0].type === 'Embedding';
  const xVar = embedded ? null : tf.variable(input, true);
  const weighted = model.layers.filter((layer) => layer.weights.length > 0);
  const vars = [...(xVar ? [xVar] : []), ...weighted.flatMap((layer) => layer.weights.map((w) => w.read()))];
  const { outputGrads, grads } = oracleGrads(name, () => [applyLayers(specs, model.layers, xVar ?? input, true)], [y], vars);
  let g = xVar ? 1 : 0;
  const weightGrads = {};
  for (const layer of weighted) weightGrads[layer.name] = layer.weights.map(() => tensorJSON(grads[g++]));
  cases.push({
    kind: 'model', name, note, model: model.toJSON(null, false), weights,
    input: tensorJSON(input), output: tensorJSON(y),
    output_grads: outputGrads.map(tensorJSON),
    grads: { input: xVar ? tensorJSON(grads[0]) : null, weights: weightGrads },
  });
}

// A single weightless layer on x (an explicit mask is given to the layer only to show it is ignored).
function layerCase(name, spec, x, { mask = null, note = null } = {}) {
  const layer = build(spec);
  const y = layer.apply(x);
  const xVar = tf.variable(x, true);
  const { outputGrads, grads } = oracleGrads(name, () => [layer.apply(xVar)], [y], [xVar]);
  cases.push({
    kind: 'layer', name, note, layer: layerConfigJSON(layer), input_shape: [null, ...x.shape.slice(1)], weights: [],
    inputs: [tensorJSON(x)], mask: mask ? tensorJSON(tf.tensor2d(mask, undefined, 'float32')) : null,
    outputs: [tensorJSON(y)], output_grads: outputGrads.map(tensorJSON),
    grads: { input: tensorJSON(grads[0]), weights: [] },
  });
}

const xIn = (name, shape) => new Rand(`${GROUP}/${name}/input`).tensor(shape);
// Float sequences whose padded timesteps (0 in `rows`) hold `value` in every feature.
function padded(name, rows, F, value = 0) {
  const r = new Rand(`${GROUP}/${name}/input`);
  const data = [];
  for (const row of rows) {
    for (const keep of row) {
      for (let f = 0; f < F; f++) {
        let v = r.uniform(-1, 1);
        while (v === value) v = r.uniform(-1, 1);
        data.push(keep ? v : value);
      }
    }
  }
  return tf.tensor3d(data, [rows.length, rows[0].length, F], 'float32');
}
const lstm = (units, o = {}) => rnn('LSTM', units, o);

function generate() {
  // Each layer alone (layer cases: outputs and input gradients).
  layerCase('flatten_rank3', flatten(), xIn('flatten_rank3', [2, 3, 4]));
  layerCase('flatten_rank4', flatten(), xIn('flatten_rank4', [2, 2, 3, 2]));
  layerCase('flatten_channels_first_rank3', flatten({ data_format: 'channelsFirst' }), xIn('flatten_cf3', [2, 3, 4]));
  layerCase('flatten_channels_first_rank4', flatten({ data_format: 'channelsFirst' }), xIn('flatten_cf4', [2, 2, 3, 2]));
  layerCase('reshape_rank3_to_rank2', reshape([12]), xIn('reshape_a', [2, 3, 4]));
  layerCase('reshape_minus_one_first', reshape([-1, 2]), xIn('reshape_b', [2, 3, 4]));
  layerCase('reshape_minus_one_last', reshape([2, 3, -1]), xIn('reshape_c', [3, 12]));
  layerCase('reshape_rank4_to_rank3', reshape([4, 3]), xIn('reshape_d', [2, 2, 3, 2]));
  layerCase('permute_2_1', permute([2, 1]), xIn('permute_a', [2, 3, 4]));
  layerCase('permute_3_1_2', permute([3, 1, 2]), xIn('permute_b', [2, 2, 3, 4]));
  layerCase('permute_2_3_1', permute([2, 3, 1]), xIn('permute_c', [2, 2, 3, 4]));
  layerCase('permute_identity_1_2', permute([1, 2]), xIn('permute_d', [1, 3, 2]));
  layerCase('repeat_vector_3', repeat(3), xIn('repeat_a', [2, 4]));
  layerCase('repeat_vector_1', repeat(1), xIn('repeat_b', [3, 2]));
  layerCase('flatten_ignores_a_mask', flatten(), xIn('flatten_mask', [2, 3, 2]), {
    mask: [[1, 1, 0], [0, 1, 1]],
    note: 'A mask reaching Flatten is dropped (tf.keras 2.x and Keras 3: supports_masking is False); the output ' +
      'does not depend on it.',
  });

  // Models with the layers between weighted ones.
  modelCase('flatten_then_dense', [flatten(), dense(3, 'tanh')], [null, 3, 4], xIn('m_flatten', [2, 3, 4]));
  modelCase('flatten_channels_first_then_dense', [flatten({ data_format: 'channelsFirst' }), dense(2, 'linear')],
    [null, 3, 4], xIn('m_flatten_cf', [2, 3, 4]));
  modelCase('lstm_sequences_flatten_dense_sigmoid', [lstm(3, { return_sequences: true }), flatten(), dense(1, 'sigmoid')],
    [null, 4, 2], xIn('m_lstm_flatten', [3, 4, 2]));
  modelCase('reshape_minus_one_then_lstm', [reshape([-1, 2]), lstm(3)], [null, 3, 4], xIn('m_reshape_lstm', [2, 3, 4]));
  modelCase('dense_reshape_simple_rnn', [dense(12, 'linear'), reshape([3, 4], { name: 'reshape' }), rnn('SimpleRNN', 3)],
    [null, 5], xIn('m_dense_reshape', [2, 5]));
  modelCase('permute_then_lstm', [permute([2, 1]), lstm(3)], [null, 3, 4], xIn('m_permute_lstm', [2, 3, 4]));
  modelCase('permute_rank4_flatten_dense', [permute([3, 1, 2]), flatten(), dense(2, 'relu')], [null, 2, 3, 4],
    xIn('m_permute4', [2, 2, 3, 4]));
  modelCase('dense_repeat_vector_simple_rnn_time_distributed',
    [dense(4, 'tanh'), repeat(5), rnn('SimpleRNN', 3, { return_sequences: true }), td(dense(2, 'linear', { name: 'dense_1' }))],
    [null, 3], xIn('m_repeat', [2, 3]));
  modelCase('seq2seq_lstm_repeat_vector_lstm_softmax',
    [lstm(4), repeat(4), lstm(4, { name: 'lstm_1', return_sequences: true }), td(dense(3, 'softmax', { name: 'dense' }))],
    [null, 5, 3], xIn('m_seq2seq', [2, 5, 3]), { weightScale: 0.5 });
  modelCase('seq2seq_gru_repeat_vector_gru_softmax',
    [rnn('GRU', 3), repeat(3), rnn('GRU', 4, { name: 'gru_1', return_sequences: true }), td(dense(3, 'softmax'))],
    [null, 4, 2], xIn('m_seq2seq_gru', [3, 4, 2]), { weightScale: 0.5 });

  // Masking on padded float sequences, through every RNN (the mask flows to the next layers).
  const POST = [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]];
  const PRE = [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]];
  const MID = [[1, 0, 1, 0, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1]];
  for (const [type, T] of [['LSTM', 'lstm'], ['GRU', 'gru'], ['SimpleRNN', 'simple_rnn']]) {
    modelCase(`masking_${T}_post_padding`, [masking(0), rnn(type, 3)], [null, 5, 2], padded(`mk_${T}_post`, POST, 2));
    modelCase(`masking_${T}_pre_padding`, [masking(0), rnn(type, 3)], [null, 5, 2], padded(`mk_${T}_pre`, PRE, 2));
  }
  modelCase('masking_lstm_sequences_time_distributed_post', [masking(0), lstm(3, { return_sequences: true }), td(dense(2, 'linear'))],
    [null, 5, 2], padded('mk_seq_post', POST, 2));
  modelCase('masking_lstm_sequences_time_distributed_pre', [masking(0), lstm(3, { return_sequences: true }), td(dense(2, 'softmax'))],
    [null, 5, 2], padded('mk_seq_pre', PRE, 2));
  modelCase('masking_mid_sequence_and_fully_masked_row', [masking(0), lstm(3, { return_sequences: true }), lstm(2, { name: 'lstm_1' })],
    [null, 5, 3], padded('mk_mid', MID, 3));
  modelCase('masking_value_minus_one_lstm_go_backwards', [masking(-1), lstm(3, { go_backwards: true })], [null, 5, 2],
    padded('mk_minus_one', POST, 2, -1), { note: 'mask_value -1: the masked steps hold -1 and Masking outputs zeros there.' });
  modelCase('masking_dense_lstm', [masking(0), dense(3, 'tanh'), lstm(2)], [null, 5, 2], padded('mk_dense', PRE, 2),
    { note: 'The mask passes through Dense to the LSTM.' });
  modelCase('masking_bidirectional_lstm', [masking(0), { type: 'Bidirectional', name: 'bidirectional', layer: lstm(2), merge_mode: 'concat' }],
    [null, 5, 2], padded('mk_bidi', POST, 2));
  modelCase('masking_flatten_dense_mask_dropped', [masking(0), flatten(), dense(2, 'linear')], [null, 3, 2],
    padded('mk_flatten', [[1, 0, 1], [0, 1, 1]], 2), {
      predicts: false,
      note: 'Keras (tf.keras 2.x and Keras 3) drops the mask at Flatten; TF.js 4.22 throws there instead ' +
        '("does not support masking"), so this case runs the layers one by one; Masking still zeroes the padded steps.',
    });

  // SpatialDropout1D: the identity at inference; the mask passes through it.
  modelCase('spatial_dropout1d_identity_then_lstm', [spatialDropout(0.4), lstm(3)], [null, 4, 3], xIn('sd_lstm', [2, 4, 3]),
    { note: 'SpatialDropout1D is the identity at inference (predict).' });
  modelCase('embedding_mask_spatial_dropout1d_gru', [emb(10, 3, true), spatialDropout(0.3), rnn('GRU', 2)], [null, 5],
    tf.tensor2d([[4, 7, 1, 0, 0], [0, 0, 9, 2, 5]], undefined, 'float32'),
    { note: 'SpatialDropout1D is the identity at inference; the Embedding mask passes through it to the GRU.' });
  modelCase('masking_spatial_dropout1d_lstm', [masking(0), spatialDropout(0.5), lstm(2)], [null, 5, 2], padded('sd_mask', POST, 2),
    { note: 'SpatialDropout1D is the identity at inference; the Masking mask passes through it to the LSTM.' });
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('expected the cpu backend');
  // gen_tfjs.mjs's fixUnpackGradient: TF.js hands Unpack's gradient a bare tensor for a one-step unstack.
  const orig = tf.getGradient('Unpack');
  tf.registerGradient({ kernelName: 'Unpack', gradFunc: (dy, saved, attrs) => orig.gradFunc(Array.isArray(dy) ? dy : [dy], saved, attrs) });
  generate();
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
  }
  const head = `{"generator": ${JSON.stringify(GENERATOR)}, "oracle": ${JSON.stringify(ORACLE)}, "cases": [\n`;
  const text = head + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n';
  fs.writeFileSync(OUT_FILE, text);
  console.log(`shapes.json: ${cases.length} cases, ${text.length} bytes`);
}
await main();
