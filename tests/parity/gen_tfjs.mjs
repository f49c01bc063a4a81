// Generates tests/parity/fixtures/{simple_rnn,lstm,gru,bidirectional,embedding_masking,dense_misc}.json
// from TensorFlow.js 4.22 (pure-JS CPU backend), the first of rnnkit's two oracles.
//
//   cd tests/parity && npm install && node gen_tfjs.mjs      (or: bash tests/parity/generate.sh)
//
// Every case is built from a small table row: the builders below pass EVERY option to TF.js explicitly
// (TF.js defaults differ from Keras), set every weight with setWeights from a seeded PRNG, run the model or
// layer, and write the result in the fixture format described in README.md. Where TF.js and Keras disagree,
// the fixture holds Keras's answer and the case's "note" says what was corrected.
// Every case also records oracle gradients (output_grads, grads) of L = sum(output * output_grads) from
// tf.variableGrads, Keras corrections included as multiplications by constant 0/1 tensors (see oracleGrads).
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rand, f32, prod, tensorJSON } from './fixture_numbers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(HERE, 'fixtures');
const ORACLE = '@tensorflow/tfjs 4.22.0 cpu';
const GENERATOR = 'gen_tfjs.mjs';

// TF.js getConfig() is camelCase; Keras files are snake_case. Same rule as TF.js's own convertTsToPythonic
// (which model.toJSON uses), so layer-case configs read exactly like layers inside a model config.
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

// ---------------------------------------------------------------------------------------------------------
// Layer builders. A spec is a plain object {type, name, ...options with Keras names}; build() turns it into a
// TF.js layer with every option spelled out.
const TFJS_ACT = { tanh: 'tanh', relu: 'relu', linear: 'linear', sigmoid: 'sigmoid', hard_sigmoid: 'hardSigmoid', softmax: 'softmax' };
const RNN_TYPES = ['SimpleRNN', 'LSTM', 'GRU'];

function rnnArgs(s) {
  const a = {
    name: s.name,
    units: s.units,
    activation: TFJS_ACT[s.activation ?? 'tanh'],
    useBias: s.use_bias ?? true,
    kernelInitializer: 'glorotUniform',
    recurrentInitializer: 'orthogonal',
    biasInitializer: 'zeros',
    dropout: 0,
    recurrentDropout: 0,
    returnSequences: !!s.return_sequences,
    returnState: !!s.return_state,
    goBackwards: !!s.go_backwards,
    stateful: false,
    unroll: false,
  };
  if (s.type !== 'SimpleRNN') {
    a.recurrentActivation = TFJS_ACT[s.recurrent_activation ?? 'sigmoid'];
    a.implementation = 2;
  }
  if (s.type === 'LSTM') a.unitForgetBias = s.unit_forget_bias ?? true;
  return a;
}

function build(s, inputShape) {
  const extra = inputShape ? (s.type === 'Embedding' ? { inputLength: inputShape[1] } : { batchInputShape: inputShape }) : {};
  switch (s.type) {
    case 'SimpleRNN': return tf.layers.simpleRNN({ ...rnnArgs(s), ...extra });
    case 'LSTM': return tf.layers.lstm({ ...rnnArgs(s), ...extra });
    case 'GRU': return tf.layers.gru({ ...rnnArgs(s), ...extra }); // TF.js GRU is Keras reset_after=False
    case 'Bidirectional':
      return tf.layers.bidirectional({ name: s.name, layer: build(s.layer), mergeMode: s.merge_mode, ...extra });
    case 'Embedding':
      return tf.layers.embedding({
        name: s.name, inputDim: s.input_dim, outputDim: s.output_dim, maskZero: !!s.mask_zero,
        embeddingsInitializer: 'randomUniform', ...extra,
      });
    case 'Dense':
      return tf.layers.dense({
        name: s.name, units: s.units, activation: TFJS_ACT[s.activation ?? 'linear'], useBias: s.use_bias ?? true,
        kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...extra,
      });
    case 'TimeDistributed': return tf.layers.timeDistributed({ name: s.name, layer: build(s.layer), ...extra });
    case 'Dropout': return tf.layers.dropout({ name: s.name, rate: s.rate, ...extra });
    default: throw new Error(`unknown layer type ${s.type}`);
  }
}

// Shorthands used by the case tables.
const rnn = (type, o) => ({ type, name: { SimpleRNN: 'simple_rnn', LSTM: 'lstm', GRU: 'gru' }[type], ...o });
const bidi = (layer, merge_mode, o = {}) => ({ type: 'Bidirectional', name: 'bidirectional', layer, merge_mode, ...o });
const emb = (input_dim, output_dim, mask_zero, o = {}) => ({ type: 'Embedding', name: 'embedding', input_dim, output_dim, mask_zero, ...o });
const dense = (units, activation, o = {}) => ({ type: 'Dense', name: 'dense', units, activation, ...o });
const td = (layer, o = {}) => ({ type: 'TimeDistributed', name: 'time_distributed', layer, ...o });
const dropout = (rate, o = {}) => ({ type: 'Dropout', name: 'dropout', rate, ...o });

// Keras: Embedding(mask_zero) makes the mask; RNNs pass it on only with return_sequences (un-reversed, also
// for go_backwards); Dense, Dropout and TimeDistributed pass it through.
function nextMask(s, input, mask) {
  if (s.type === 'Embedding') return s.mask_zero ? tf.notEqual(input, 0).cast('float32') : null;
  if (RNN_TYPES.includes(s.type) || s.type === 'Bidirectional') return returnsSequences(s) ? mask : null;
  return mask;
}
const returnsSequences = (s) => (s.type === 'Bidirectional' ? !!s.layer.return_sequences : !!s.return_sequences);

const ZERO_OUTPUT_NOTE =
  'Keras forces zero_output_for_mask inside Bidirectional(return_sequences=True): the output at every masked ' +
  'step is zeros for both directions. TF.js 4.22 repeats the previous output there instead; this fixture ' +
  'holds the Keras answer (TF.js output with masked steps zeroed).';

// Keras correction for Bidirectional(return_sequences=True) under a mask. `outs` are the sequence outputs
// (one, or two for merge_mode None); mask is (B, T) float.
function zeroMaskedSteps(outs, mask) {
  const m = mask.expandDims(-1);
  return outs.map((o) => o.mul(m));
}
const anyMasked = (mask) => mask != null && mask.min().dataSync()[0] === 0;

const LEADING_MASK_NOTE =
  'Keras outputs zeros at masked steps before the first unmasked step (backend.rnn starts its previous ' +
  'output at zeros); TF.js 4.22 repeats the previous state h there, which is the initial_state given. This ' +
  'fixture holds the Keras answer (those outputs zeroed; the returned states are the same in both).';

// (B, T) 0/1 array, 1 where the output at that index (in the layer's output order, which is processing order,
// reversed for go_backwards) comes before the row's first unmasked step.
function leadingMasked(maskRows, goBackwards) {
  return maskRows.map((row) => {
    const T = row.length;
    let seen = false;
    return row.map((_, k) => {
      seen = seen || row[goBackwards ? T - 1 - k : k] !== 0;
      return seen ? 0 : 1;
    });
  });
}
// Keras correction for an explicit initial_state under a mask. out: (B,T,U) sequence or (B,U) last output.
function zeroLeadingMasked(out, maskRows, goBackwards, sequences) {
  const lead = leadingMasked(maskRows, goBackwards);
  const keep = sequences
    ? tf.tensor2d(lead.map((r) => r.map((v) => 1 - v))).expandDims(-1)
    : tf.tensor2d(lead.map((r) => [1 - r[r.length - 1]]));
  return out.mul(keep);
}

function maxAbsDiff(a, b) { return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]; }

// ---------------------------------------------------------------------------------------------------------
// Oracle gradients. The loss is L = sum_k sum(output_k * output_grads_k), output_grads_k drawn from a stream of
// its own ("<group>/<name>/output_grads", multiples of 0.01 in [-0.99, 0.99]) so no forward number changes.
// f() recomputes Keras's outputs (corrections included, as multiplications by constant 0/1 tensors) from the
// variables; tf.variableGrads differentiates L with respect to every variable in `vars`.
const GRAD_CORRECTION_NOTE =
  'Gradients: the Keras output is the TF.js output times a constant 0/1 tensor K (1 where kept, 0 where ' +
  'zeroed), and those zeros depend on no weight or input, so the recorded gradients are TF.js gradients of ' +
  'sum(output * output_grads) with the multiplication by K inside the differentiated function.';
const GRAD_MIDDLE_NOTE =
  'Gradients: the correction sits inside the network; the layers are applied one by one with the ' +
  'Bidirectional output multiplied by the constant 0/1 mask K inside the differentiated function, so the ' +
  'gradient flows through the multiplication.';

function outputGradTensors(group, name, shapes) {
  const r = new Rand(`${group}/${name}/output_grads`);
  return shapes.map((shape) => r.tensor(shape, -0.995, 0.995));
}

// f: () => [output tensors]; expected: the recorded outputs (f must reproduce them exactly); vars: tf.Variables.
// Returns {outputGrads: [tensor], grads: [tensor per var]}.
function oracleGrads(group, name, f, expected, vars) {
  const outputGrads = outputGradTensors(group, name, expected.map((t) => t.shape));
  const { grads } = tf.variableGrads(() => {
    const outs = f();
    if (outs.length !== expected.length) throw new Error(`${group}/${name}: ${outs.length} outputs in the gradient pass`);
    outs.forEach((o, k) => {
      const d = maxAbsDiff(o, expected[k]);
      if (!(d === 0)) throw new Error(`${group}/${name}: gradient pass output ${k} differs from the forward by ${d}`);
    });
    return tf.addN(outs.map((o, k) => tf.sum(tf.mul(o, outputGrads[k]))));
  }, vars);
  // variableGrads leaves out a variable with no path to L (none expected here): that gradient is zero.
  return { outputGrads, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}
const weightVars = (layer) => layer.weights.map((w) => w.read());

// TF.js 4.22 quirk: the engine hands a gradient function a bare tensor (not a one-element array) when the op has
// a single output, and Unpack's gradient passes it straight to stack(), which throws for T=1 (tf.unstack of a
// length-1 time axis in the RNN loop). Same gradient, with the single-output case wrapped in an array.
function fixUnpackGradient() {
  const orig = tf.getGradient('Unpack');
  tf.registerGradient({
    kernelName: 'Unpack',
    gradFunc: (dy, saved, attrs) => orig.gradFunc(Array.isArray(dy) ? dy : [dy], saved, attrs),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Case builders.
const groups = {};
function add(group, c) {
  (groups[group] ??= []).push(c);
}

function randomWeights(layer, r, scale) {
  return layer.getWeights().map((w) => r.tensor(w.shape, -scale, scale));
}

// A Sequential model case. `specs` are layer specs; `input` is a tf.Tensor (float token ids for Embedding).
function modelCase(group, name, specs, inputShape, input, { note = null, weightScale = 1 } = {}) {
  const r = new Rand(`${group}/${name}/weights`);
  const layers = specs.map((s, i) => build(s, i === 0 ? inputShape : undefined));
  const model = tf.sequential({ name: 'sequential', layers });
  const weights = {};
  for (const layer of model.layers) {
    const ws = randomWeights(layer, r, weightScale);
    if (ws.length === 0) continue;
    layer.setWeights(ws);
    weights[layer.name] = ws.map(tensorJSON);
  }
  const predicted = model.predict(input);

  // Run the layers one by one with Keras's mask propagation, applying the Keras correction where TF.js
  // differs. Without corrections this must reproduce model.predict (checks the layer-by-layer machinery).
  const notes = [];
  const y = applyLayers(specs, model.layers, input, true, notes);
  const yRaw = applyLayers(specs, model.layers, input, false);
  const d = maxAbsDiff(yRaw, predicted);
  if (d > 1e-6) throw new Error(`${group}/${name}: layer-by-layer run differs from predict by ${d}`);
  const corrected = notes.length > 0;
  if (corrected && maxAbsDiff(y, predicted) === 0) {
    notes.push('Here the correction leaves the final output unchanged (the next RNN skips masked steps), ' +
      'so TF.js and Keras agree on it.');
  }
  if (note) notes.unshift(note);

  // Gradients of L = sum(output * output_grads) with respect to the input (none for token ids) and every weight.
  const embedded = specs[0].type === 'Embedding';
  const xVar = embedded ? null : tf.variable(input, true);
  const weighted = model.layers.filter((layer) => layer.weights.length > 0);
  const vars = [...(xVar ? [xVar] : []), ...weighted.flatMap(weightVars)];
  const { outputGrads, grads } = oracleGrads(group, name, () => [applyLayers(specs, model.layers, xVar ?? input, true)], [y], vars);
  if (corrected) notes.push(specs[specs.length - 1].type === 'Bidirectional' ? GRAD_CORRECTION_NOTE : GRAD_MIDDLE_NOTE);
  let g = xVar ? 1 : 0;
  const weightGrads = {};
  for (const layer of weighted) weightGrads[layer.name] = layer.weights.map(() => tensorJSON(grads[g++]));

  const modelJSON = model.toJSON(null, false);
  add(group, {
    kind: 'model', name, note: notes.length ? notes.join(' ') : null, model: modelJSON, weights,
    input: tensorJSON(input), output: tensorJSON(y),
    output_grads: outputGrads.map(tensorJSON),
    grads: { input: xVar ? tensorJSON(grads[0]) : null, weights: weightGrads },
  });
}

// Applies a model's layers one by one with Keras's mask propagation (the mask is computed from `x`'s token ids
// for an Embedding(mask_zero) first layer). correct: apply the Keras correction for Bidirectional
// (return_sequences) under a mask, a multiplication by the constant 0/1 mask, so gradients flow through it.
function applyLayers(specs, layers, x, correct, notes = null) {
  let y = x, mask = null;
  specs.forEach((s, i) => {
    const usesMask = RNN_TYPES.includes(s.type) || s.type === 'Bidirectional';
    const kw = usesMask && mask ? { mask } : {};
    let out = layers[i].apply(y, kw);
    if (correct && s.type === 'Bidirectional' && returnsSequences(s) && anyMasked(mask)) {
      [out] = zeroMaskedSteps([out], mask);
      if (notes && !notes.includes(ZERO_OUTPUT_NOTE)) notes.push(ZERO_OUTPUT_NOTE);
    }
    mask = nextMask(s, y, mask);
    y = out;
  });
  return y;
}

// A single-layer case (return_state, initial_state, merge_mode None, explicit mask).
// mask: array of B rows of T 0/1 numbers, or null. initialState: whether to pass random initial states.
function layerCase(group, name, spec, { B, T, F, mask = null, initialState = false, note = null }) {
  const r = new Rand(`${group}/${name}`);
  const layer = build(spec);
  const x = r.tensor([B, T, F]);
  const inner = spec.type === 'Bidirectional' ? spec.layer : spec;
  const nStates = (inner.type === 'LSTM' ? 2 : 1) * (spec.type === 'Bidirectional' ? 2 : 1);
  const states = initialState ? Array.from({ length: nStates }, () => r.tensor([B, inner.units])) : [];
  const maskT = mask ? tf.tensor2d(mask, [B, T], 'float32') : null;
  // A fresh kwargs object per call: TF.js's Bidirectional.call overwrites kwargs.initialState in place.
  const kwargs = () => ({ ...(maskT ? { mask: maskT } : {}), ...(states.length ? { initialState: states.slice() } : {}) });
  layer.apply(x, kwargs()); // builds the layer
  const ws = randomWeights(layer, r, 1);
  layer.setWeights(ws);
  const raw = (o) => (Array.isArray(o) ? o : [o]);
  let outs = raw(layer.apply(x, kwargs()));
  const notes = note ? [note] : [];
  // Keras corrections, as multiplications by constant 0/1 tensors (reused in the gradient pass).
  const nSeq = spec.merge_mode === null ? 2 : 1;
  const bidiFix = spec.type === 'Bidirectional' && inner.return_sequences && anyMasked(maskT);
  // Standalone RNN: zero the leading masked outputs. Bidirectional without return_sequences: both halves'
  // last outputs are zeros for a fully masked row (each direction starts from its own initial state).
  const leadFix = initialState && mask && !(spec.type === 'Bidirectional' && inner.return_sequences);
  const nOut = spec.type === 'Bidirectional' && spec.merge_mode === null ? 2 : 1;
  const gb = spec.type === 'Bidirectional' ? false : !!inner.go_backwards; // for last outputs gb is moot
  let leadApplied = false;
  const correct = (o) => {
    let c = o;
    if (bidiFix) c = [...zeroMaskedSteps(c.slice(0, nSeq), maskT), ...c.slice(nSeq)];
    if (leadApplied) c = [...c.slice(0, nOut).map((t) => zeroLeadingMasked(t, mask, gb, !!inner.return_sequences)), ...c.slice(nOut)];
    return c;
  };
  if (bidiFix) {
    const fixed = correct(outs);
    if (fixed.slice(0, nSeq).every((o, i) => maxAbsDiff(o, outs[i]) === 0)) throw new Error(`${group}/${name}: no-op correction`);
    outs = fixed;
    notes.push(ZERO_OUTPUT_NOTE);
  }
  if (leadFix) {
    const fixed = outs.slice(0, nOut).map((o) => zeroLeadingMasked(o, mask, gb, !!inner.return_sequences));
    if (fixed.some((o, i) => maxAbsDiff(o, outs[i]) > 0)) {
      outs = [...fixed, ...outs.slice(nOut)];
      notes.push(LEADING_MASK_NOTE);
      leadApplied = true;
    } else if (leadingMasked(mask, gb).some((row) => row.some((v) => v === 1))) {
      throw new Error(`${group}/${name}: leading masked steps but the correction changed nothing`);
    }
  }

  // Gradients of L = sum_k sum(outputs_k * output_grads_k) with respect to x, every weight and the initial states.
  const xVar = tf.variable(x, true);
  const stateVars = states.map((s) => tf.variable(s, true));
  const wVars = weightVars(layer);
  const gradKwargs = () => ({ ...(maskT ? { mask: maskT } : {}), ...(stateVars.length ? { initialState: stateVars.slice() } : {}) });
  const { outputGrads, grads } = oracleGrads(group, name, () => correct(raw(layer.apply(xVar, gradKwargs()))), outs,
    [xVar, ...wVars, ...stateVars]);
  if (bidiFix || leadApplied) notes.push(GRAD_CORRECTION_NOTE);
  const gradsJSON = { input: tensorJSON(grads[0]), weights: grads.slice(1, 1 + wVars.length).map(tensorJSON) };
  if (stateVars.length) gradsJSON.initial_state = grads.slice(1 + wVars.length).map(tensorJSON);

  add(group, {
    kind: 'layer', name, note: notes.length ? notes.join(' ') : null, layer: layerConfigJSON(layer),
    input_shape: [null, T, F], weights: ws.map(tensorJSON), inputs: [x, ...states].map(tensorJSON),
    mask: maskT ? tensorJSON(maskT) : null, outputs: outs.map(tensorJSON),
    output_grads: outputGrads.map(tensorJSON), grads: gradsJSON,
  });
}

const xIn = (group, name, shape) => new Rand(`${group}/${name}/input`).tensor(shape);
const idsIn = (rows) => tf.tensor2d(rows, undefined, 'float32');
const randomIds = (group, name, B, T, V, lo = 0) => {
  const r = new Rand(`${group}/${name}/ids`);
  return idsIn(Array.from({ length: B }, () => Array.from({ length: T }, () => r.int(lo, V))));
};

// ---------------------------------------------------------------------------------------------------------
// The sweep. Column legend of the model tables:
//   act = activation, ract = recurrent_activation, bias = use_bias, seq = return_sequences,
//   back = go_backwards, ufb = unit_forget_bias (LSTM only; it only changes initial weights, so it is here for
//   config parsing), U units, T timesteps, F features, B batch.

// SimpleRNN: every activation with and without bias; every pair of (act, bias, seq, back) values occurs.
const SIMPLE_SWEEP = [
  // act,      bias, seq, back, U, T, F, B
  ['tanh',     1, 0, 0, 2, 3, 2, 2],
  ['tanh',     0, 1, 1, 3, 4, 1, 1],
  ['relu',     1, 1, 0, 1, 1, 3, 2],
  ['relu',     0, 0, 1, 4, 5, 2, 3],
  ['linear',   1, 0, 1, 2, 2, 2, 1],
  ['linear',   0, 1, 0, 3, 3, 3, 2],
  ['sigmoid',  1, 1, 1, 2, 5, 1, 2],
  ['sigmoid',  0, 0, 0, 1, 1, 1, 1],
];
// LSTM and GRU: the 12 (activation, recurrent_activation) pairs; each binary option meets every value of the
// others (checked pairwise coverage).
const GATED_SWEEP = [
  // act,     ract,           bias, seq, back, ufb, U, T, F, B
  ['tanh',    'sigmoid',      1, 0, 1, 1, 2, 3, 2, 2],
  ['relu',    'hard_sigmoid', 0, 1, 0, 1, 3, 4, 1, 1],
  ['linear',  'tanh',         1, 0, 0, 1, 1, 1, 3, 2],
  ['sigmoid', 'sigmoid',      0, 0, 0, 1, 4, 5, 2, 3],
  ['tanh',    'hard_sigmoid', 1, 1, 0, 0, 2, 2, 2, 1],
  ['relu',    'tanh',         1, 0, 1, 1, 3, 3, 3, 2],
  ['linear',  'sigmoid',      0, 1, 1, 1, 2, 5, 1, 2],
  ['sigmoid', 'hard_sigmoid', 1, 0, 1, 0, 1, 1, 1, 1],
  ['tanh',    'tanh',         0, 0, 1, 0, 4, 4, 3, 2],
  ['relu',    'sigmoid',      0, 1, 0, 0, 2, 3, 2, 3],
  ['linear',  'hard_sigmoid', 1, 1, 1, 0, 3, 5, 2, 1],
  ['sigmoid', 'tanh',         0, 1, 1, 0, 1, 2, 1, 2],
];
// Layer cases (the things a Sequential cannot express), per recurrent type.
const STATE_SWEEP = [
  // return_sequences, go_backwards, initial_state, mask, U, T, F, B
  [0, 0, 0, null, 2, 3, 2, 2],
  [1, 0, 0, null, 3, 4, 1, 1],
  [0, 1, 0, null, 1, 2, 3, 2],
  [1, 1, 0, null, 2, 5, 2, 3],
  [0, 0, 1, null, 2, 3, 2, 2],
  [1, 1, 1, null, 3, 1, 2, 1],
  [1, 0, 0, [[1, 1, 0, 1], [0, 1, 1, 1], [0, 0, 0, 0]], 2, 4, 2, 3],
  [0, 0, 0, [[1, 1, 1, 0, 0], [0, 0, 1, 1, 1]], 3, 5, 1, 2],
  [1, 1, 0, [[0, 1, 1, 0], [1, 1, 1, 1]], 2, 4, 3, 2],
  [1, 0, 1, [[1, 0, 1], [0, 0, 1]], 2, 3, 2, 2],
  [1, 1, 1, [[1, 1, 0, 0], [0, 1, 1, 0]], 3, 4, 1, 2],
  [0, 0, 1, [[0, 0, 0], [1, 0, 1], [0, 1, 1]], 2, 3, 2, 3],
];

function recurrentGroup(type) {
  const group = { SimpleRNN: 'simple_rnn', LSTM: 'lstm', GRU: 'gru' }[type];
  const sweep = type === 'SimpleRNN'
    ? SIMPLE_SWEEP.map(([act, bias, seq, back, U, T, F, B]) => [act, 'sigmoid', bias, seq, back, 1, U, T, F, B])
    : GATED_SWEEP;
  for (const [act, ract, bias, seq, back, ufb, U, T, F, B] of sweep) {
    const o = { units: U, activation: act, use_bias: !!bias, return_sequences: !!seq, go_backwards: !!back };
    if (type !== 'SimpleRNN') o.recurrent_activation = ract;
    if (type === 'LSTM') o.unit_forget_bias = !!ufb;
    const name = [`u${U}`, act, type !== 'SimpleRNN' ? `rec_${ract}` : null, bias ? 'bias' : 'nobias',
      seq ? 'seq' : 'last', back ? 'backwards' : null, type === 'LSTM' ? (ufb ? 'ufb' : 'no_ufb') : null,
      `t${T}`, `f${F}`, `b${B}`].filter(Boolean).join('_');
    modelCase(group, name, [rnn(type, o)], [null, T, F], xIn(group, name, [B, T, F]));
  }
  // return_state / initial_state / explicit mask, with activations and recurrent activations rotating.
  const acts = ['tanh', 'relu', 'sigmoid', 'linear'];
  const racts = ['sigmoid', 'hard_sigmoid', 'tanh'];
  STATE_SWEEP.forEach(([seq, back, init, mask, U, T, F, B], i) => {
    const o = {
      units: U, activation: acts[i % 4], use_bias: i % 3 !== 2, return_sequences: !!seq, return_state: true,
      go_backwards: !!back,
    };
    if (type !== 'SimpleRNN') o.recurrent_activation = racts[i % 3];
    if (type === 'LSTM') o.unit_forget_bias = i % 2 === 0;
    const name = ['state', `u${U}`, o.activation, o.recurrent_activation ? `rec_${o.recurrent_activation}` : null,
      o.use_bias ? 'bias' : 'nobias', seq ? 'seq' : 'last', back ? 'backwards' : null, init ? 'initial_state' : null,
      mask ? 'mask' : null, `t${T}`, `f${F}`, `b${B}`].filter(Boolean).join('_');
    layerCase(group, name, rnn(type, o), { B, T, F, mask, initialState: !!init });
  });
  // Stacked: return_sequences into another RNN (two and three deep).
  const s1 = (o) => rnn(type, { units: 3, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true, ...o });
  modelCase(group, 'stacked_2_seq_into_last_t4_f2_b2',
    [s1({ return_sequences: true }), s1({ name: `${s1({}).name}_1`, units: 2 })], [null, 4, 2], xIn(group, 'stacked2', [2, 4, 2]));
  modelCase(group, 'stacked_3_seq_seq_seq_backwards_middle_t3_f3_b2',
    [s1({ return_sequences: true, units: 2 }),
      s1({ name: `${s1({}).name}_1`, return_sequences: true, go_backwards: true, activation: 'relu' }),
      s1({ name: `${s1({}).name}_2`, return_sequences: true, units: 1, use_bias: false })],
    [null, 3, 3], xIn(group, 'stacked3', [2, 3, 3]));
}

function bidirectionalGroup() {
  const group = 'bidirectional';
  const acts = ['tanh', 'relu', 'sigmoid', 'linear'];
  const racts = ['sigmoid', 'hard_sigmoid', 'tanh'];
  let i = 0;
  // Every inner type x every Sequential-expressible merge mode x return_sequences.
  for (const type of RNN_TYPES) {
    for (const merge of ['concat', 'sum', 'mul', 'ave']) {
      for (const seq of [false, true]) {
        const U = 1 + (i % 3), T = [3, 1, 4, 2, 5][i % 5], F = 1 + ((i + 1) % 3), B = 1 + (i % 3);
        const o = { units: U, activation: acts[i % 4], use_bias: i % 5 !== 3, return_sequences: seq };
        if (type !== 'SimpleRNN') o.recurrent_activation = racts[i % 3];
        if (type === 'LSTM') o.unit_forget_bias = i % 2 === 0;
        const name = [type.toLowerCase(), merge, seq ? 'seq' : 'last', `u${U}`, o.activation,
          o.recurrent_activation ? `rec_${o.recurrent_activation}` : null, o.use_bias ? 'bias' : 'nobias',
          `t${T}`, `f${F}`, `b${B}`].filter(Boolean).join('_');
        modelCase(group, name, [bidi(rnn(type, o), merge)], [null, T, F], xIn(group, name, [B, T, F]));
        i++;
      }
    }
  }
  // Layer cases: merge_mode None, return_state, initial_state, explicit masks (the zero_output_for_mask fix).
  const LAYER_SWEEP = [
    // type,       merge,    seq, state, init, back, mask
    ['SimpleRNN', null,     1, 0, 0, 0, null],
    ['LSTM',      null,     0, 0, 0, 0, null],
    ['GRU',       null,     1, 1, 0, 0, null],
    ['LSTM',      'concat', 1, 1, 0, 0, null],
    ['SimpleRNN', 'sum',    0, 1, 0, 0, null],
    ['GRU',       'ave',    0, 1, 1, 0, null],
    ['LSTM',      'mul',    1, 1, 1, 0, null],
    ['SimpleRNN', 'concat', 1, 0, 0, 1, null],
    ['LSTM',      'concat', 1, 0, 0, 0, [[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]]],
    ['GRU',       'sum',    1, 0, 0, 0, [[0, 0, 1, 1], [1, 1, 1, 0], [1, 0, 1, 1]]],
    ['SimpleRNN', 'ave',    1, 0, 0, 0, [[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]]],
    ['GRU',       'mul',    1, 0, 0, 0, [[1, 1, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0]]],
    ['SimpleRNN', null,     1, 1, 0, 0, [[1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 0, 0]]],
    ['LSTM',      'concat', 0, 1, 0, 0, [[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]]],
    ['LSTM',      'sum',    1, 1, 1, 0, [[0, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 1]]],
    ['GRU',       'concat', 0, 1, 1, 0, [[0, 0, 0], [1, 0, 1], [0, 1, 0]]],
    ['SimpleRNN', null,     0, 1, 1, 0, [[1, 1, 0], [0, 0, 0]]],
  ];
  LAYER_SWEEP.forEach(([type, merge, seq, state, init, back, mask], j) => {
    const U = 1 + (j % 3), T = mask ? mask[0].length : [3, 1, 4, 2][j % 4], F = 1 + ((j + 2) % 3);
    const B = mask ? mask.length : 1 + (j % 2);
    const o = { units: U, activation: acts[j % 4], use_bias: j % 4 !== 2, return_sequences: !!seq, return_state: !!state, go_backwards: !!back };
    if (type !== 'SimpleRNN') o.recurrent_activation = racts[j % 3];
    if (type === 'LSTM') o.unit_forget_bias = j % 2 === 1;
    const name = [type.toLowerCase(), merge ?? 'none', seq ? 'seq' : 'last', state ? 'state' : null,
      init ? 'initial_state' : null, back ? 'inner_go_backwards' : null, mask ? 'mask' : null, `u${U}`,
      o.activation, o.recurrent_activation ? `rec_${o.recurrent_activation}` : null,
      o.use_bias ? 'bias' : 'nobias', `t${T}`, `f${F}`, `b${B}`].filter(Boolean).join('_');
    layerCase(group, name, bidi(rnn(type, o), merge), { B, T, F, mask, initialState: !!init });
  });
  // Stacked Bidirectionals (the tutorial's Bidirectional SimpleRNN stack, shrunk).
  const b = (n, seq) => bidi(rnn('SimpleRNN', { name: `simple_rnn${n ? '_' + n : ''}`, units: 2, activation: 'tanh', return_sequences: seq }),
    'concat', { name: `bidirectional${n ? '_' + n : ''}` });
  modelCase(group, 'stacked_bidirectional_simple_rnn_x3_t4_f3_b2', [b(0, true), b(1, true), b(2, false)],
    [null, 4, 3], xIn(group, 'stacked', [2, 4, 3]));
}

function embeddingMaskingGroup() {
  const group = 'embedding_masking';
  const V = 6, E = 2;
  const PRE = [[0, 0, 3, 1, 5], [2, 4, 1, 3, 2], [0, 0, 0, 0, 0]]; // pre-padding, full row, fully masked row
  const POST = [[3, 1, 5, 0, 0], [2, 4, 1, 3, 2], [0, 0, 0, 0, 0]];
  const MID = [[1, 0, 2, 0, 3], [0, 5, 5, 0, 0]]; // zeros inside the sequence (Keras skips those steps too)
  const ro = (type, o) => rnn(type, { units: 2, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true, ...o });

  modelCase(group, 'embedding_only_no_mask', [emb(V, 3, false)], [null, 4], idsIn([[0, 1, 2, 5], [3, 3, 0, 4]]));
  modelCase(group, 'embedding_only_mask_zero', [emb(V, 3, true)], [null, 4], idsIn([[0, 1, 2, 5], [3, 3, 0, 0]]),
    { note: 'The mask does not change the Embedding output: id 0 still looks up row 0.' });
  modelCase(group, 'embedding_no_mask_zero_ids_are_tokens_lstm', [emb(V, E, false), ro('LSTM', { return_sequences: true })],
    [null, 5], idsIn(PRE));
  for (const type of RNN_TYPES) {
    for (const [pad, rows] of [['pre', PRE], ['post', POST], ['mid', MID]]) {
      for (const seq of [false, true]) {
        if (pad === 'mid' && seq === false) continue;
        const name = `${type.toLowerCase()}_${seq ? 'seq' : 'last'}_${pad}_padding${rows.length === 3 ? '_fully_masked_row' : ''}`;
        modelCase(group, name, [emb(V, E, true), ro(type, { return_sequences: seq })], [null, rows[0].length], idsIn(rows));
      }
    }
    modelCase(group, `${type.toLowerCase()}_seq_go_backwards_post_padding`,
      [emb(V, E, true), ro(type, { return_sequences: true, go_backwards: true })], [null, 5], idsIn(POST));
  }
  modelCase(group, 'simple_rnn_t1_b1_single_masked_step', [emb(V, E, true), ro('SimpleRNN', { return_sequences: true })], [null, 1], idsIn([[0]]));
  modelCase(group, 'lstm_t1_b2_one_masked', [emb(V, E, true), ro('LSTM', {})], [null, 1], idsIn([[0], [4]]));
  // Bidirectional under a mask: Keras zeros masked steps when returning sequences.
  for (const [type, merge, seq, rows] of [
    ['LSTM', 'concat', true, PRE], ['GRU', 'sum', true, POST], ['SimpleRNN', 'mul', true, MID], ['LSTM', 'ave', true, POST],
    ['GRU', 'concat', false, PRE], ['SimpleRNN', 'ave', false, POST],
  ]) {
    const name = `bidirectional_${type.toLowerCase()}_${merge}_${seq ? 'seq' : 'last'}_${rows === PRE ? 'pre' : rows === POST ? 'post' : 'mid'}_padding`;
    modelCase(group, name, [emb(V, E, true), bidi(ro(type, { return_sequences: seq }), merge)], [null, 5], idsIn(rows));
  }
  // The correction must flow on to later layers: TimeDistributed(Dense) sees the zeros.
  modelCase(group, 'bidirectional_lstm_seq_then_time_distributed_dense',
    [emb(V, E, true), bidi(ro('LSTM', { return_sequences: true }), 'concat'), td(dense(2, 'linear'))], [null, 5], idsIn(POST));
  // Stacked RNNs under a mask: the mask flows through return_sequences layers (un-reversed after go_backwards).
  modelCase(group, 'stacked_lstm_seq_into_gru_pre_padding',
    [emb(V, E, true), ro('LSTM', { return_sequences: true }), ro('GRU', {})], [null, 5], idsIn(PRE));
  modelCase(group, 'stacked_simple_rnn_go_backwards_seq_into_simple_rnn_mask_unreversed',
    [emb(V, E, true), ro('SimpleRNN', { return_sequences: true, go_backwards: true }), ro('SimpleRNN', { name: 'simple_rnn_1', return_sequences: true })],
    [null, 5], idsIn(MID));
  modelCase(group, 'stacked_bidirectional_seq_into_lstm_post_padding',
    [emb(V, E, true), bidi(ro('GRU', { return_sequences: true }), 'concat'), ro('LSTM', {})], [null, 5], idsIn(POST));
  // Dropout and Dense pass the mask through (Keras supports_masking).
  modelCase(group, 'dropout_between_embedding_and_lstm_mask_passes',
    [emb(V, E, true), dropout(0.5), ro('LSTM', { return_sequences: true })], [null, 5], idsIn(PRE));
  modelCase(group, 'lstm_seq_then_time_distributed_dense_pre_padding',
    [emb(V, E, true), ro('LSTM', { return_sequences: true }), td(dense(3, 'softmax'))], [null, 5], idsIn(PRE));
  modelCase(group, 'dense_between_embedding_and_gru_mask_passes',
    [emb(V, E, true), dense(3, 'relu'), ro('GRU', { return_sequences: true })], [null, 5], idsIn(POST));
}

function denseMiscGroup() {
  const group = 'dense_misc';
  for (const act of ['linear', 'relu', 'sigmoid', 'tanh', 'softmax']) {
    modelCase(group, `dense_${act}_2d_u3_f2_b2`, [dense(3, act)], [null, 2], xIn(group, `${act}2d`, [2, 2]));
    modelCase(group, `dense_${act}_3d_u2_t3_f3_b2`, [dense(2, act)], [null, 3, 3], xIn(group, `${act}3d`, [2, 3, 3]));
  }
  modelCase(group, 'dense_nobias_relu_2d_u4_f3_b3', [dense(4, 'relu', { use_bias: false })], [null, 3], xIn(group, 'nb2', [3, 3]));
  modelCase(group, 'dense_nobias_softmax_3d_u3_t2_f2_b1', [dense(3, 'softmax', { use_bias: false })], [null, 2, 2], xIn(group, 'nb3', [1, 2, 2]));
  modelCase(group, 'dense_stack_tanh_then_sigmoid_2d', [dense(3, 'tanh'), dense(1, 'sigmoid', { name: 'dense_1' })], [null, 2], xIn(group, 'stack', [3, 2]));
  for (const act of ['softmax', 'relu', 'linear']) {
    modelCase(group, `time_distributed_dense_${act}_u3_t4_f2_b2`, [td(dense(3, act))], [null, 4, 2], xIn(group, `td${act}`, [2, 4, 2]));
  }
  modelCase(group, 'dropout_identity_between_dense', [dense(3, 'relu'), dropout(0.5), dense(2, 'linear', { name: 'dense_1' })],
    [null, 2], xIn(group, 'drop1', [2, 2]), { note: 'Dropout is the identity at inference (predict).' });
  modelCase(group, 'dropout_identity_after_lstm',
    [rnn('LSTM', { units: 3, return_sequences: true, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true }),
      dropout(0.3), td(dense(2, 'softmax'))],
    [null, 3, 2], xIn(group, 'drop2', [2, 3, 2]), { note: 'Dropout is the identity at inference (predict).' });
  // The Korean Keras tutorials' models (small random weights).
  const small = { weightScale: 0.5 };
  modelCase(group, 'tutorial_embedding_12_10_len5_simple_rnn_32_dense_12_softmax',
    [emb(12, 10, false), rnn('SimpleRNN', { units: 32, activation: 'tanh' }), dense(12, 'softmax')], [null, 5],
    randomIds(group, 'tut1', 2, 5, 12), small);
  modelCase(group, 'tutorial_embedding_100_3_bidirectional_lstm_4_dense_1_sigmoid',
    [emb(100, 3, false), bidi(rnn('LSTM', { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true }), 'concat'),
      dense(1, 'sigmoid')], [null, 6], randomIds(group, 'tut2', 3, 6, 100), small);
  modelCase(group, 'tutorial_embedding_100_3_lstm_4_dense_1_sigmoid',
    [emb(100, 3, false), rnn('LSTM', { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true }),
      dense(1, 'sigmoid')], [null, 6], randomIds(group, 'tut3', 2, 6, 100), small);
  modelCase(group, 'tutorial_simple_rnn_3_input_2x10', [rnn('SimpleRNN', { units: 3, activation: 'tanh' })], [null, 2, 10],
    xIn(group, 'tut4', [2, 2, 10]), small);
  modelCase(group, 'tutorial_deep_simple_rnn_seq_seq_last_dense',
    [rnn('SimpleRNN', { units: 4, activation: 'tanh', return_sequences: true }),
      rnn('SimpleRNN', { name: 'simple_rnn_1', units: 4, activation: 'tanh', return_sequences: true }),
      rnn('SimpleRNN', { name: 'simple_rnn_2', units: 4, activation: 'tanh' }), dense(1, 'linear')],
    [null, 5, 1], xIn(group, 'tut5', [2, 5, 1]), small);
  modelCase(group, 'tutorial_char_rnn_lstm_seq_time_distributed_softmax',
    [rnn('LSTM', { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true, return_sequences: true }),
      td(dense(3, 'softmax'))], [null, 4, 3], xIn(group, 'tut6', [2, 4, 3]), small);
  modelCase(group, 'tutorial_rnnlm_embedding_lstm_dense_softmax',
    [emb(10, 3, false), rnn('LSTM', { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true }),
      dense(10, 'softmax')], [null, 4], randomIds(group, 'tut7', 3, 4, 10, 1), small);
  modelCase(group, 'tutorial_gru_reset_before_3_input_2x10',
    [rnn('GRU', { units: 3, activation: 'tanh', recurrent_activation: 'sigmoid' })], [null, 2, 10], xIn(group, 'tut8', [2, 2, 10]), small);
  modelCase(group, 'tutorial_stacked_lstm_embedding_seq_last_dense_sigmoid',
    [emb(20, 4, true), rnn('LSTM', { units: 3, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true, return_sequences: true }),
      rnn('LSTM', { name: 'lstm_1', units: 3, activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true }),
      dense(1, 'sigmoid')], [null, 5], idsIn([[0, 0, 4, 17, 9], [3, 11, 19, 2, 6]]), small);
}

// ---------------------------------------------------------------------------------------------------------
function writeGroup(group, cases) {
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${group}/${c.name}`);
    names.add(c.name);
  }
  const head = `{"generator": ${JSON.stringify(GENERATOR)}, "oracle": ${JSON.stringify(ORACLE)}, "cases": [\n`;
  const text = head + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n';
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, `${group}.json`), text);
  console.log(`${group}.json: ${cases.length} cases, ${text.length} bytes`);
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('expected the cpu backend');
  fixUnpackGradient();
  for (const type of RNN_TYPES) recurrentGroup(type);
  bidirectionalGroup();
  embeddingMaskingGroup();
  denseMiscGroup();
  for (const [group, cases] of Object.entries(groups)) writeGroup(group, cases);
}
await main();
