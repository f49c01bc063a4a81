// Generates tests/parity/fixtures/functional/functional_{seq2seq,shared,masking,fit}.json: Keras Functional models
// (tf.model({inputs, outputs}) in TensorFlow.js 4.22, pure-JS CPU backend), their forward outputs, the gradients
// of a Keras training loss with respect to every weight and every float input, and fit() histories.
//
//   cd tests/parity && npm ci && node gen_functional.mjs      (or: bash tests/parity/generate.sh)
//
// Same conventions as gen_tfjs.mjs: every option is passed explicitly (TF.js defaults differ from Keras), every
// weight is set from a mulberry32 stream seeded with FNV-1a of "<file>/<case>/weights" (multiples of 0.01), and
// where TF.js and Keras differ the fixture holds Keras's answer and the case's "note" says so. The layout of
// a case is described in README.md ("Functional models").
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rand as NumberStream, f32, tensorJSON } from './fixture_numbers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// A folder of their own: the layer/Sequential parity sweeps (tests/unit/parity_test.cpp, crosscheck.py) read
// every fixtures/*.json and know nothing of these cases.
const OUT_DIR = path.join(HERE, 'fixtures', 'functional');
const ORACLE = '@tensorflow/tfjs 4.22.0 cpu';
const GENERATOR = 'gen_functional.mjs';

// Weights and inputs from fixture_numbers.mjs's Rand, with one-hot targets besides.
class Rand extends NumberStream {
  // (rows..., classes) one-hot targets
  oneHot(shape, classes) {
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.oneHot(tf.tensor1d(Array.from({ length: n }, () => this.int(0, classes)), 'int32'), classes)
      .reshape([...shape, classes]).cast('float32');
  }
}

const scalarJSON = (t) => f32(Math.fround(typeof t === 'number' ? t : t.dataSync()[0]));
const maxAbsDiff = (a, b) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
const asArray = (o) => (Array.isArray(o) ? o : [o]);

// See gen_tfjs.mjs: TF.js 4.22 hands Unpack's gradient a bare tensor for a single-output unstack (T=1).
function fixUnpackGradient() {
  const orig = tf.getGradient('Unpack');
  tf.registerGradient({
    kernelName: 'Unpack',
    gradFunc: (dy, saved, attrs) => orig.gradFunc(Array.isArray(dy) ? dy : [dy], saved, attrs),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Layers with every option explicit (Keras defaults, Keras names for the activations).
function rnnLayer(type, name, units, o = {}) {
  const a = {
    name, units, activation: 'tanh', useBias: true, kernelInitializer: 'glorotUniform',
    recurrentInitializer: 'orthogonal', biasInitializer: 'zeros', dropout: 0, recurrentDropout: 0,
    returnSequences: !!o.returnSequences, returnState: !!o.returnState, goBackwards: false, stateful: false,
    unroll: false,
  };
  if (type !== 'SimpleRNN') { a.recurrentActivation = 'sigmoid'; a.implementation = 2; }
  if (type === 'LSTM') a.unitForgetBias = true;
  switch (type) {
    case 'SimpleRNN': return tf.layers.simpleRNN(a);
    case 'LSTM': return tf.layers.lstm(a);
    case 'GRU': return tf.layers.gru(a); // TF.js's GRU is Keras's reset_after=False (writes it in the config)
    default: throw new Error(type);
  }
}
const denseLayer = (name, units, activation) => tf.layers.dense({
  name, units, activation, useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros',
});
const embeddingLayer = (name, inputDim, outputDim, maskZero) => tf.layers.embedding({
  name, inputDim, outputDim, maskZero, embeddingsInitializer: 'randomUniform',
});
const input = (name, batchShape) => tf.input({ name, batchShape, dtype: 'float32' });

// ---------------------------------------------------------------------------------------------------------
// Losses, Keras's: each term is the mean over every sample (and time step, for a sequence output) of the
// per-sample loss, and the total is sum_k loss_weight_k * term_k. The per-sample functions are TF.js's own
// (the ones fit uses).
const LOSS_FN = {
  categorical_crossentropy: (y, p) => tf.metrics.categoricalCrossentropy(y, p),
  mean_squared_error: (y, p) => tf.metrics.meanSquaredError(y, p),
  binary_crossentropy: (y, p) => tf.metrics.binaryCrossentropy(y, p),
};
const TFJS_LOSS = { categorical_crossentropy: 'categoricalCrossentropy', mean_squared_error: 'meanSquaredError', binary_crossentropy: 'binaryCrossentropy' };
function lossTerms(losses, targets, outputs) {
  return losses.map((l, k) => tf.mean(LOSS_FN[l.loss](targets[k], outputs[k])));
}
// The crossentropy note below holds only while no probability comes near TF.js's clip.
function checkAwayFromClip(name, losses, outputs) {
  losses.forEach((l, k) => {
    if (l.loss === 'mean_squared_error') return;
    const p = outputs[k].dataSync();
    if (p.some((v) => v < 1e-4 || v > 1 - 1e-4)) throw new Error(`${name}: a probability of ${l.output} is near the clip`);
  });
}
const totalLoss = (losses, terms) => tf.addN(terms.map((t, k) => tf.mul(t, losses[k].weight)));

const PROBABILITY_LOSS_NOTE =
  'Loss: TF.js computes crossentropy from the probabilities (renormalised, clipped to [1e-7, 1 - 1e-7]); ' +
  'tf.keras 2.x takes the softmax/sigmoid logits (_keras_logits) instead. No probability here is near the ' +
  'clip, so the two agree to float32 rounding.';

// ---------------------------------------------------------------------------------------------------------
// Cases.
const files = {};
const add = (file, c) => (files[file] ??= []).push(c);

// Sets every weight of every layer (Keras get_weights order) from the case's stream; returns {layer: [tensor]}.
function setRandomWeights(model, r, scale) {
  const weights = {};
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const ws = layer.getWeights().map((w) => r.tensor(w.shape, -scale, scale));
    layer.setWeights(ws);
    weights[layer.name] = ws;
  }
  return weights;
}
const weightsJSON = (weights) => Object.fromEntries(Object.entries(weights).map(([k, ws]) => [k, ws.map(tensorJSON)]));
const weightNames = (model) => Object.fromEntries(model.layers.filter((l) => l.weights.length > 0)
  .map((l) => [l.name, l.weights.map((w) => w.originalName.slice(l.name.length + 1))]));
const currentWeights = (model) => Object.fromEntries(model.layers.filter((l) => l.weights.length > 0)
  .map((l) => [l.name, l.getWeights()]));

// Every output of every layer call (node) in the model, in the model's topological order: for debugging a
// graph executor layer by layer. calls: [{layer, node_index, tensors: [SymbolicTensor]}].
function nodeOutputs(model, calls, inputs) {
  const probe = tf.model({ inputs: model.inputs, outputs: calls.flatMap((c) => c.tensors) });
  const values = asArray(probe.predict(inputs));
  let i = 0;
  return calls.map((c) => ({ layer: c.layer, node_index: c.node_index, outputs: c.tensors.map(() => tensorJSON(values[i++])) }));
}

// A forward + gradient case. spec: {build() -> {model, calls}, inputs: [tensor], floatInputs: [bool],
// targets: [tensor], losses: [{output, loss, weight}], weightScale, note, check(model, inputs, outputs)}.
function gradCase(file, name, spec) {
  const { model, calls } = spec.build();
  const modelJSON = model.toJSON(null, false);
  const weights = setRandomWeights(model, new Rand(`${file}/${name}/weights`), spec.weightScale);
  const { inputs, targets, losses } = spec;
  const outputs = asArray(model.predict(inputs));
  if (outputs.length !== model.outputs.length) throw new Error(`${name}: output count`);
  const notes = spec.note ? [spec.note] : [];
  if (spec.check) notes.push(...asArray(spec.check(model, inputs, outputs) ?? []));
  losses.forEach((l, k) => {
    if (l.output !== model.outputNames[k]) throw new Error(`${name}: loss ${k} is for ${l.output}, output is ${model.outputNames[k]}`);
  });

  // Loss value, cross-checked against TF.js's own evaluate() (unweighted there: see the fit notes).
  checkAwayFromClip(name, losses, outputs);
  const terms = lossTerms(losses, targets, outputs);
  const loss = totalLoss(losses, terms);
  model.compile({ optimizer: tf.train.sgd(0), loss: losses.map((l) => TFJS_LOSS[l.loss]) });
  const evaluated = asArray(model.evaluate(inputs, targets, { batchSize: inputs[0].shape[0] }));
  // One output: [loss]. Several: TF.js 4.22 returns [first term, total, term 1, term 2, ...]; the terms are last.
  const perOutput = evaluated.slice(-losses.length);
  perOutput.forEach((e, k) => {
    const d = Math.abs(e.dataSync()[0] - terms[k].dataSync()[0]);
    if (d > 1e-6) throw new Error(`${name}: loss term ${k} differs from evaluate() by ${d}`);
  });
  if (losses.some((l) => l.loss !== 'mean_squared_error')) notes.push(PROBABILITY_LOSS_NOTE);

  // Gradients of the total loss with respect to every float input and every weight, through model.apply.
  const inputVars = inputs.map((x, k) => (spec.floatInputs[k] ? tf.variable(x, true) : null));
  const weighted = model.layers.filter((l) => l.weights.length > 0);
  const weightVars = weighted.flatMap((l) => l.weights.map((w) => w.read()));
  const vars = [...inputVars.filter((v) => v), ...weightVars];
  const { value, grads } = tf.variableGrads(() => {
    const outs = asArray(model.apply(inputs.map((x, k) => inputVars[k] ?? x)));
    outs.forEach((o, k) => {
      const d = maxAbsDiff(o, outputs[k]);
      if (d !== 0) throw new Error(`${name}: gradient pass output ${k} differs from predict by ${d}`);
    });
    return totalLoss(losses, lossTerms(losses, targets, outs));
  }, vars);
  if (value.dataSync()[0] !== loss.dataSync()[0]) throw new Error(`${name}: loss differs in the gradient pass`);
  const gradOf = (v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`${name}: no gradient for ${v.name}`); // every weight here has a path to the loss
    return tensorJSON(g);
  };
  const weightGrads = Object.fromEntries(weighted.map((l) => [l.name, l.weights.map((w) => gradOf(w.read()))]));

  add(file, {
    kind: 'functional', name, note: notes.length ? notes.join(' ') : null, model: modelJSON,
    input_names: model.inputNames, output_names: model.outputNames,
    weight_names: weightNames(model), weights: weightsJSON(weights),
    inputs: inputs.map(tensorJSON), outputs: outputs.map(tensorJSON),
    node_outputs: nodeOutputs(model, calls, inputs),
    loss: {
      terms: losses.map((l) => ({ output: l.output, loss: l.loss, weight: l.weight })),
      targets: targets.map(tensorJSON), term_values: terms.map(scalarJSON), value: scalarJSON(loss),
    },
    grads: { inputs: inputVars.map((v) => (v ? gradOf(v) : null)), weights: weightGrads },
  });
}

// ---------------------------------------------------------------------------------------------------------
// 1. seq2seq: encoder RNN(return_state) -> its states are the decoder RNN's initial_state -> Dense(softmax).
const S2S = { B: 4, T1: 5, F: 3, T2: 4, F2: 5, U: 4, V: 5 };
function seq2seqBuild(type) {
  const { F, F2, U, V } = S2S;
  return () => {
    const encIn = input('encoder_inputs', [null, null, F]);
    const decIn = input('decoder_inputs', [null, null, F2]);
    const enc = rnnLayer(type, 'encoder', U, { returnState: true });
    const encOut = enc.apply(encIn);
    const states = encOut.slice(1);
    const dec = rnnLayer(type, 'decoder', U, { returnSequences: true, returnState: true });
    const decOut = dec.apply(decIn, { initialState: states });
    const dense = denseLayer('decoder_dense', V, 'softmax');
    const probs = dense.apply(decOut[0]);
    const model = tf.model({ name: `seq2seq_${type.toLowerCase()}`, inputs: [encIn, decIn], outputs: probs });
    return {
      model,
      calls: [{ layer: 'encoder', node_index: 0, tensors: encOut }, { layer: 'decoder', node_index: 0, tensors: decOut },
        { layer: 'decoder_dense', node_index: 0, tensors: [probs] }],
    };
  };
}
function seq2seqData(file, name) {
  const { B, T1, F, T2, F2, V } = S2S;
  const r = new Rand(`${file}/${name}/data`);
  return { inputs: [r.tensor([B, T1, F]), r.tensor([B, T2, F2])], targets: [r.oneHot([B, T2], V)] };
}
const SEQ2SEQ_TYPES = [['LSTM', 'lstm'], ['GRU', 'gru_reset_before'], ['SimpleRNN', 'simple_rnn']];
function seq2seqGroup() {
  const file = 'functional_seq2seq';
  for (const [type, tag] of SEQ2SEQ_TYPES) {
    const name = `seq2seq_${tag}`;
    const { inputs, targets } = seq2seqData(file, name);
    gradCase(file, name, {
      build: seq2seqBuild(type), inputs, floatInputs: [true, true], targets, weightScale: 0.5,
      losses: [{ output: 'decoder_dense', loss: 'categorical_crossentropy', weight: 1 }],
      note: type === 'GRU' ? 'GRU reset_after=False: the only GRU TF.js has (its config says so).' : null,
    });
  }
}

// 2. One LSTM called on two inputs (two nodes, one set of weights), a Dense on each call: two outputs.
const SHARED = { B: 4, T: 4, F: 3, U: 3, A: 2, V: 4 };
const SHARED_LOSSES = [
  { output: 'dense_a', loss: 'mean_squared_error', weight: 0.3 },
  { output: 'dense_b', loss: 'categorical_crossentropy', weight: 1.7 },
];
function sharedBuild() {
  const { T, F, U, A, V } = SHARED;
  const x1 = input('input_a', [null, T, F]);
  const x2 = input('input_b', [null, T, F]);
  const lstm = rnnLayer('LSTM', 'shared_lstm', U);
  const h1 = lstm.apply(x1);
  const h2 = lstm.apply(x2);
  const outA = denseLayer('dense_a', A, 'linear').apply(h1);
  const outB = denseLayer('dense_b', V, 'softmax').apply(h2);
  const model = tf.model({ name: 'shared_lstm_two_heads', inputs: [x1, x2], outputs: [outA, outB] });
  return {
    model,
    calls: [{ layer: 'shared_lstm', node_index: 0, tensors: [h1] }, { layer: 'shared_lstm', node_index: 1, tensors: [h2] },
      { layer: 'dense_a', node_index: 0, tensors: [outA] }, { layer: 'dense_b', node_index: 0, tensors: [outB] }],
  };
}
function sharedData(file, name) {
  const { B, T, F, A, V } = SHARED;
  const r = new Rand(`${file}/${name}/data`);
  return { inputs: [r.tensor([B, T, F]), r.tensor([B, T, F])], targets: [r.tensor([B, A]), r.oneHot([B], V)] };
}
function sharedGroup() {
  const file = 'functional_shared';
  const name = 'shared_lstm_two_inputs_two_outputs';
  const { inputs, targets } = sharedData(file, name);
  gradCase(file, name, {
    build: sharedBuild, inputs, floatInputs: [true, true], targets, weightScale: 0.5, losses: SHARED_LOSSES,
    note: 'shared_lstm has two nodes (one per input) and one set of weights; its gradient is the sum over both calls.',
    check: (model) => {
      const lstm = model.getLayer('shared_lstm');
      if (lstm.inboundNodes.length !== 2) throw new Error('shared_lstm should have two nodes');
    },
  });
}

// 3. A mask through the graph: Embedding(mask_zero) -> LSTM(return_sequences, return_state) -> LSTM -> Dense.
const MASK = { V: 7, E: 3, U: 4, U2: 3, T: 6 };
const MASK_IDS = [[3, 1, 5, 2, 6, 4], [2, 4, 1, 0, 0, 0], [5, 3, 6, 6, 0, 0], [6, 0, 0, 0, 0, 0]]; // post-padding
function maskBuild(withStates) {
  const { V, E, U, U2, T } = MASK;
  return () => {
    const ids = input('token_ids', [null, T]);
    const emb = embeddingLayer('embedding', V, E, true);
    const e = emb.apply(ids);
    const lstm1 = rnnLayer('LSTM', 'lstm_seq', U, { returnSequences: true, returnState: true });
    const o1 = lstm1.apply(e);
    const lstm2 = rnnLayer('LSTM', 'lstm_last', withStates ? U : U2);
    const o2 = lstm2.apply(o1[0], withStates ? { initialState: o1.slice(1) } : {});
    const out = denseLayer('dense', 1, 'sigmoid').apply(o2);
    const model = tf.model({ name: withStates ? 'masked_lstm_states_into_lstm' : 'masked_lstm_into_lstm', inputs: ids, outputs: out });
    return {
      model,
      calls: [{ layer: 'embedding', node_index: 0, tensors: [e] }, { layer: 'lstm_seq', node_index: 0, tensors: o1 },
        { layer: 'lstm_last', node_index: 0, tensors: [o2] }, { layer: 'dense', node_index: 0, tensors: [out] }],
    };
  };
}
// Keras's mask rule, applied by hand: Embedding(mask_zero) makes (ids != 0); an RNN with return_sequences passes
// it on (its states carry none); the next RNN skips masked steps. The graph run must equal this layer-by-layer run.
function maskCheck(withStates) {
  return (model, inputs, outputs) => {
    const [ids] = inputs;
    const mask = tf.notEqual(ids, 0).cast('float32');
    const e = model.getLayer('embedding').apply(ids);
    const o1 = model.getLayer('lstm_seq').apply(e, { mask });
    const o2 = model.getLayer('lstm_last').apply(o1[0], { mask, ...(withStates ? { initialState: o1.slice(1) } : {}) });
    const y = model.getLayer('dense').apply(o2);
    const d = maxAbsDiff(y, outputs[0]);
    if (d > 1e-7) throw new Error(`masked model: layer-by-layer run with explicit masks differs by ${d}`);
    // Without the mask the answer must change, or the case would not test it.
    const noMask = model.getLayer('dense').apply(model.getLayer('lstm_last').apply(
      model.getLayer('lstm_seq').apply(e)[0], withStates ? { initialState: model.getLayer('lstm_seq').apply(e).slice(1) } : {}));
    if (maxAbsDiff(noMask, outputs[0]) < 1e-4) throw new Error('masked model: the mask changes nothing');
    // Keras and TF.js differ on an initial_state with masked steps before the first unmasked one; none here.
    if (MASK_IDS.some((row) => row[0] === 0)) throw new Error('masked model: a row starts masked');
    return null;
  };
}
function maskGroup() {
  const file = 'functional_masking';
  for (const withStates of [false, true]) {
    const name = withStates ? 'embedding_mask_lstm_seq_states_into_lstm_initial_state_dense_sigmoid' : 'embedding_mask_lstm_seq_into_lstm_dense_sigmoid';
    const r = new Rand(`${file}/${name}/data`);
    const targets = [tf.tensor2d(MASK_IDS.map(() => [r.int(0, 2)]), undefined, 'float32')];
    gradCase(file, name, {
      build: maskBuild(withStates), inputs: [tf.tensor2d(MASK_IDS, undefined, 'float32')], floatInputs: [false], targets,
      weightScale: 0.5, losses: [{ output: 'dense', loss: 'binary_crossentropy', weight: 1 }], check: maskCheck(withStates),
      note: 'Token ids are written as floats and have no gradient (grads.inputs[0] is null). Rows are post-padded ' +
        'with 0 (masked); lstm_seq passes its mask to lstm_last, its states carry none. The embedding row of id 0 ' +
        'gets a zero gradient (masked steps touch nothing).' +
        (withStates ? ' lstm_last starts from lstm_seq\'s final states (the last unmasked step of each row).' : ''),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// 4. Merge layers (called on lists): every elementwise merge, Concatenate on the feature and time axes, Dot in
// 3D (axes 2, and axes (1, 1) normalized: the cosine) and 2D; and masks through merges.
const MERGE = { B: 4, T: 4, F: 3 };
function mergesBuild() {
  const { T, F } = MERGE;
  const a = input('input_a', [null, T, F]);
  const b = input('input_b', [null, T, F]);
  const c = input('input_c', [null, T, F]);
  const calls = [];
  const call = (layer, inputs) => {
    const out = layer.apply(inputs);
    calls.push({ layer: layer.name, node_index: 0, tensors: [out] });
    return out;
  };
  const sum = call(tf.layers.add({ name: 'add' }), [a, b]);
  const product = call(tf.layers.multiply({ name: 'multiply' }), [a, b, c]);
  const high = call(tf.layers.maximum({ name: 'maximum' }), [sum, c]);
  const low = call(tf.layers.minimum({ name: 'minimum' }), [a, product]);
  const mean = call(tf.layers.average({ name: 'average' }), [high, low, b]);
  const features = call(tf.layers.concatenate({ name: 'concat_features', axis: -1 }), [mean, a]);
  const widened = call(tf.layers.concatenate({ name: 'concat_widen', axis: -1 }), [sum, c]);
  const steps = call(tf.layers.concatenate({ name: 'concat_steps', axis: 1 }), [features, widened]);
  const hA = call(rnnLayer('LSTM', 'lstm_a', 4), steps);
  const outA = call(denseLayer('dense_a', 3, 'softmax'), hA);
  const scores = call(tf.layers.dot({ name: 'dot', axes: 2 }), [a, b]);
  const hB = call(rnnLayer('LSTM', 'lstm_b', 2), scores);
  const cosines = call(tf.layers.dot({ name: 'dot_cosine', axes: [1, 1], normalize: true }), [a, c]);
  const hC = call(rnnLayer('LSTM', 'lstm_c', 2), cosines);
  const outD = call(tf.layers.dot({ name: 'dot_rows', axes: 1 }), [hB, hC]);
  const model = tf.model({ name: 'merges', inputs: [a, b, c], outputs: [outA, hB, outD] });
  return { model, calls };
}
function mergeMaskBuild() {
  const T = 5;
  const ids1 = input('ids_1', [null, T]);
  const ids2 = input('ids_2', [null, T]);
  const calls = [];
  const call = (layer, inputs) => {
    const out = layer.apply(inputs);
    calls.push({ layer: layer.name, node_index: 0, tensors: [out] });
    return out;
  };
  const e1 = call(embeddingLayer('embedding_1', 7, 3, true), ids1);
  const e2 = call(embeddingLayer('embedding_2', 7, 3, true), ids2);
  const joined = call(tf.layers.concatenate({ name: 'concat_steps', axis: 1 }), [e1, e2]);
  const features = call(tf.layers.concatenate({ name: 'concat_features', axis: -1 }), [e1, e2]);
  const h2 = call(rnnLayer('LSTM', 'lstm_joined', 3), joined);
  const h3 = call(rnnLayer('GRU', 'gru_features', 3), features);
  const all = call(tf.layers.concatenate({ name: 'concat_states', axis: -1 }), [h2, h3]);
  const out = call(denseLayer('dense', 1, 'sigmoid'), all);
  return { model: tf.model({ name: 'merge_masks', inputs: [ids1, ids2], outputs: out }), calls };
}
const MERGE_IDS_1 = [[3, 1, 5, 2, 6], [2, 4, 1, 0, 0], [5, 3, 6, 6, 0], [6, 0, 0, 0, 0]];
const MERGE_IDS_2 = [[1, 2, 3, 0, 0], [4, 4, 4, 4, 4], [6, 5, 0, 0, 0], [2, 3, 0, 0, 0]];
// Keras's merge masks by hand: Concatenate(-1) keeps a step both inputs keep; Concatenate(1) joins the masks
// along time. The graph run must equal a layer-by-layer run with these masks. (Add is left out: TF.js 4.22's
// Merge.computeMask keeps an extra axis and ignores the last mask; the C++ tests check Keras's AND by hand.)
function mergeMaskCheck(model, inputs, outputs) {
  const [ids1, ids2] = inputs;
  const m1 = tf.notEqual(ids1, 0).cast('float32');
  const m2 = tf.notEqual(ids2, 0).cast('float32');
  const e1 = model.getLayer('embedding_1').apply(ids1);
  const e2 = model.getLayer('embedding_2').apply(ids2);
  const both = tf.mul(m1, m2);
  const h2 = model.getLayer('lstm_joined').apply(tf.concat([e1, e2], 1), { mask: tf.concat([m1, m2], 1) });
  const h3 = model.getLayer('gru_features').apply(tf.concat([e1, e2], -1), { mask: both });
  const y = model.getLayer('dense').apply(tf.concat([h2, h3], -1));
  const d = maxAbsDiff(y, outputs[0]);
  if (d > 1e-7) throw new Error(`merge masks: layer-by-layer run with Keras's masks differs by ${d}`);
  return null;
}
function mergeGroup() {
  const file = 'functional_merge';
  {
    const name = 'elementwise_concatenate_dot';
    const { B, T, F } = MERGE;
    const r = new Rand(`${file}/${name}/data`);
    const inputs = [r.tensor([B, T, F]), r.tensor([B, T, F]), r.tensor([B, T, F])];
    const targets = [r.oneHot([B], 3), r.tensor([B, 2]), r.tensor([B, 1])];
    gradCase(file, name, {
      build: mergesBuild, inputs, floatInputs: [true, true, true], targets, weightScale: 0.5,
      losses: [{ output: 'dense_a', loss: 'categorical_crossentropy', weight: 1 },
        { output: 'lstm_b', loss: 'mean_squared_error', weight: 0.5 },
        { output: 'dot_rows', loss: 'mean_squared_error', weight: 2 }],
      note: 'Maximum and Minimum route a tie to the earlier input (tf.maximum\'s gradient), as Keras does.',
    });
  }
  {
    const name = 'embedding_masks_through_concatenate';
    const r = new Rand(`${file}/${name}/data`);
    const targets = [tf.tensor2d(MERGE_IDS_1.map(() => [r.int(0, 2)]), undefined, 'float32')];
    gradCase(file, name, {
      build: mergeMaskBuild,
      inputs: [tf.tensor2d(MERGE_IDS_1, undefined, 'float32'), tf.tensor2d(MERGE_IDS_2, undefined, 'float32')],
      floatInputs: [false, false], targets, weightScale: 0.5,
      losses: [{ output: 'dense', loss: 'binary_crossentropy', weight: 1 }], check: mergeMaskCheck,
      note: 'Token ids are floats without gradients. Concatenate(axis=-1) keeps a step where both masks ' +
        'do; Concatenate(axis=1) joins the masks along time (masked steps mid-sequence for lstm_joined).',
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// 5. fit(): per-epoch losses (TF.js history keys, which are Keras's) and the final weights.
const ADAM_NOTE =
  'Adam: TF.js divides by sqrt(v_hat) + epsilon; Keras (tf.keras 2.x, legacy and new optimizers alike) by ' +
  'sqrt(v) + epsilon with v not bias-corrected, i.e. sqrt(v_hat) + epsilon / sqrt(1 - beta_2^t). The generator ' +
  'sets TF.js\'s epsilon to 1e-7 / sqrt(1 - beta_2^t) before every step t, so the fixture is Keras\'s Adam with ' +
  'epsilon 1e-7.';
const LOSS_WEIGHTS_NOTE =
  'loss_weights: TF.js 4.22 ignores compile\'s lossWeights (its total is the unweighted sum; the generator ' +
  'checks this). The generator compiles with each loss multiplied by its weight, which gives Keras\'s total ' +
  'and gradients, and divides the per-output history entries by their weights, since Keras reports those ' +
  'unweighted.';

async function fitCase(file, name, spec) {
  const { model } = spec.build();
  const modelJSON = model.toJSON(null, false);
  const initial = setRandomWeights(model, new Rand(`${file}/${name}/weights`), spec.weightScale);
  const { inputs, targets, losses, optimizer, batchSize, epochs } = spec;
  const notes = spec.note ? [spec.note] : [];
  const weighted = losses.some((l) => l.weight !== 1);
  // Each loss scaled by its Keras loss weight (TF.js ignores lossWeights).
  const lossFns = losses.map((l) => (weighted ? (y, p) => tf.mul(LOSS_FN[l.loss](y, p), l.weight) : TFJS_LOSS[l.loss]));
  let tfjsOptimizer;
  const callbacks = {};
  if (optimizer.class_name === 'SGD') {
    if (optimizer.config.momentum !== 0 || optimizer.config.nesterov) throw new Error('plain SGD only');
    tfjsOptimizer = tf.train.sgd(optimizer.config.learning_rate);
  } else if (optimizer.class_name === 'Adam') {
    const c = optimizer.config;
    if (c.amsgrad) throw new Error('no amsgrad');
    tfjsOptimizer = tf.train.adam(c.learning_rate, c.beta_1, c.beta_2, c.epsilon);
    callbacks.onBatchBegin = async () => { // Keras's epsilon placement (see ADAM_NOTE)
      tfjsOptimizer.epsilon = c.epsilon / Math.sqrt(1 - Math.pow(c.beta_2, tfjsOptimizer.iterations + 1));
    };
    notes.push(ADAM_NOTE);
  } else {
    throw new Error(`optimizer ${optimizer.class_name}`);
  }
  const batchLogs = [];
  callbacks.onBatchEnd = async (batch, logs) => {
    batchLogs.push(Object.fromEntries(Object.entries(logs).filter(([k]) => k !== 'batch' && k !== 'size')));
  };
  model.compile({ optimizer: tfjsOptimizer, loss: lossFns });
  checkAwayFromClip(name, losses, asArray(model.predict(inputs)));
  const history = await model.fit(inputs, targets, { batchSize, epochs, shuffle: false, verbose: 0, callbacks });
  checkAwayFromClip(name, losses, asArray(model.predict(inputs)));
  if (history.epoch.length !== epochs) throw new Error(`${name}: ${history.epoch.length} epochs ran`);
  // Keras's history: the total, and for several outputs "<output>_loss" unweighted.
  const unweight = (logs) => Object.fromEntries(Object.entries(logs).map(([k, v]) => {
    const k2 = losses.findIndex((l) => `${l.output}_loss` === k);
    const w = k2 >= 0 ? losses[k2].weight : 1;
    return [k, Array.isArray(v) ? v.map((x) => x / w) : v / w];
  }));
  const hist = unweight(Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v.map(Number)])));
  const expectedKeys = ['loss', ...(losses.length > 1 ? losses.map((l) => `${l.output}_loss`) : [])];
  if (JSON.stringify(Object.keys(hist).sort()) !== JSON.stringify(expectedKeys.slice().sort())) {
    throw new Error(`${name}: history keys ${Object.keys(hist)}`);
  }
  // The total is the weighted sum of the per-output entries (each an epoch mean over equal-size batches).
  if (losses.length > 1) {
    hist.loss.forEach((total, e) => {
      const sum = losses.reduce((s, l) => s + l.weight * hist[`${l.output}_loss`][e], 0);
      if (Math.abs(sum - total) > 1e-5 * Math.max(1, Math.abs(total))) throw new Error(`${name}: total ${total} != ${sum}`);
    });
    notes.push(LOSS_WEIGHTS_NOTE);
  }
  // Per history key: [epoch][batch] each batch's own loss (TF.js's onBatchEnd logs; Keras's on_train_batch_end
  // logs hold the running mean instead, which is the history entry at an epoch's last batch).
  const perEpoch = batchLogs.length / epochs;
  const batchLosses = Object.fromEntries(Object.keys(hist).map((k) => [k, Array.from({ length: epochs },
    (_, e) => batchLogs.slice(e * perEpoch, (e + 1) * perEpoch).map((b) => f32(Math.fround(unweight(b)[k]))))]));
  const B = inputs[0].shape[0];
  const batchSizes = Array.from({ length: Math.ceil(B / batchSize) }, (_, b) => Math.min(batchSize, B - b * batchSize));
  if (batchSizes.length !== perEpoch) throw new Error(`${name}: ${perEpoch} batches per epoch`);
  if (losses.some((l) => l.loss !== 'mean_squared_error')) notes.push(PROBABILITY_LOSS_NOTE);

  add(file, {
    kind: 'fit', name, note: notes.join(' ') || null, model: modelJSON,
    input_names: model.inputNames, output_names: model.outputNames,
    weight_names: weightNames(model), weights: weightsJSON(initial),
    inputs: inputs.map(tensorJSON), targets: targets.map(tensorJSON),
    compile: { loss: losses.map((l) => l.loss), loss_weights: losses.map((l) => l.weight), optimizer },
    fit: { batch_size: batchSize, epochs, shuffle: false },
    history: Object.fromEntries(Object.entries(hist).map(([k, v]) => [k, v.map((x) => f32(Math.fround(x)))])),
    batch_sizes: batchSizes, batch_losses: batchLosses,
    final_weights: weightsJSON(currentWeights(model)),
  });
}

// TF.js ignores lossWeights: check it, so a TF.js that starts honouring them makes this generator stop.
async function checkLossWeightsIgnored() {
  const { model } = sharedBuild();
  setRandomWeights(model, new Rand('loss_weights_probe'), 0.5);
  const { inputs, targets } = sharedData('probe', 'probe');
  model.compile({ optimizer: tf.train.sgd(0), loss: ['meanSquaredError', 'categoricalCrossentropy'], lossWeights: [0.3, 1.7] });
  const h = await model.fit(inputs, targets, { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
  const [total, a, b] = ['loss', 'dense_a_loss', 'dense_b_loss'].map((k) => h.history[k][0]);
  if (Math.abs(total - (a + b)) > 1e-6 || Math.abs(total - (0.3 * a + 1.7 * b)) < 1e-3) {
    throw new Error('TF.js now honours lossWeights: drop the workaround in fitCase');
  }
}

async function fitGroup() {
  const file = 'functional_fit';
  await checkLossWeightsIgnored();
  const s2sName = 'fit_seq2seq_lstm_sgd_lr0.1_batch4_epochs3';
  await fitCase(file, s2sName, {
    build: seq2seqBuild('LSTM'), ...seq2seqData(file, s2sName), weightScale: 0.5, batchSize: S2S.B, epochs: 3,
    losses: [{ output: 'decoder_dense', loss: 'categorical_crossentropy', weight: 1 }],
    optimizer: { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0, nesterov: false } },
  });
  const sharedName = 'fit_shared_lstm_two_outputs_adam_batch2_epochs3';
  await fitCase(file, sharedName, {
    build: sharedBuild, ...sharedData(file, sharedName), weightScale: 0.5, batchSize: 2, epochs: 3, losses: SHARED_LOSSES,
    optimizer: { class_name: 'Adam', config: { learning_rate: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } },
  });
  const sgdName = 'fit_shared_lstm_two_outputs_sgd_lr0.1_batch2_epochs3';
  await fitCase(file, sgdName, {
    build: sharedBuild, ...sharedData(file, sgdName), weightScale: 0.5, batchSize: 2, epochs: 3, losses: SHARED_LOSSES,
    optimizer: { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0, nesterov: false } },
  });
}

// ---------------------------------------------------------------------------------------------------------
function writeFile(file, cases) {
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${file}/${c.name}`);
    names.add(c.name);
  }
  const head = `{"generator": ${JSON.stringify(GENERATOR)}, "oracle": ${JSON.stringify(ORACLE)}, "cases": [\n`;
  const text = head + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n';
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, `${file}.json`), text);
  console.log(`${file}.json: ${cases.length} cases, ${text.length} bytes`);
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('expected the cpu backend');
  fixUnpackGradient();
  // TF.js warns that initial_state tensors are "non-serializable keyword arguments"; they are in inbound_nodes
  // (as extra inbound tensors, as Keras 2.x writes them), so the warning is noise.
  const warn = console.warn;
  console.warn = (...a) => { if (!String(a[0]).includes('non-serializable keyword arguments')) warn(...a); };
  seq2seqGroup();
  sharedGroup();
  maskGroup();
  mergeGroup();
  await fitGroup();
  for (const [file, cases] of Object.entries(files)) writeFile(file, cases);
}
await main();
