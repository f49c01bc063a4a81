// Generates tests/parity/fixtures/nested/nested.json: models used as layers of other models (Keras's nested
// models) in TensorFlow.js 4.22 (pure-JS CPU backend): a tf.sequential and a tf.model called inside a tf.model,
// a nested model called twice (shared), a mask flowing into a nested model, and a Sequential holding a
// Sequential. Each case holds the leaf layers' weights, the inputs, the outputs, and the gradients of
// loss = mean((y - target)^2) over every output element (summed over outputs) with respect to every weight
// and every float input.
//
//   cd tests/parity && npm ci && node gen_nested.mjs
//
// Every option is passed explicitly (Keras defaults); weights and inputs come from fixture_numbers.mjs's Rand
// seeded with "nested/<case>/...". Before writing, each case is checked against the same model built flat
// (the nested model's layers called directly on the outer tensors, sharing the weights): a nested model
// computes exactly what its layers compute.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Rand, tensorJSON } from './fixture_numbers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(HERE, 'fixtures', 'nested');
const asArray = (o) => (Array.isArray(o) ? o : [o]);

const lstm = (name, units, returnSequences, more = {}) => tf.layers.lstm({ ...more,
  name, units, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, unitForgetBias: true,
  kernelInitializer: 'glorotUniform', recurrentInitializer: 'orthogonal', biasInitializer: 'zeros',
  dropout: 0, recurrentDropout: 0, returnSequences, returnState: false, goBackwards: false, stateful: false,
  unroll: false, implementation: 2,
});
const gru = (name, units) => tf.layers.gru({
  name, units, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, kernelInitializer: 'glorotUniform',
  recurrentInitializer: 'orthogonal', biasInitializer: 'zeros', dropout: 0, recurrentDropout: 0,
  returnSequences: false, returnState: false, goBackwards: false, stateful: false, unroll: false, implementation: 2,
});
const dense = (name, units, activation, more = {}) => tf.layers.dense({ ...more,
  name, units, activation, useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros',
});

// The layers that hold weights, nested models opened, in Keras's model.weights order.
function leafLayers(model) {
  return model.layers.flatMap((l) => (l instanceof tf.LayersModel ? leafLayers(l) : l.weights.length ? [l] : []));
}

const cases = [];
await tf.setBackend('cpu');

// spec: {name, build() -> {model, flat}, inputs, floatInputs}; flat is the same graph with no nested model.
function addCase(spec) {
  const { model, flat } = spec.build();
  const r = new Rand(`nested/${spec.name}/weights`);
  const weights = {};
  for (const layer of leafLayers(model)) {
    const ws = layer.getWeights().map((w) => r.tensor(w.shape, -0.5, 0.5));
    layer.setWeights(ws);
    weights[layer.name] = ws.map(tensorJSON);
  }
  const inputs = spec.inputs;
  const outputs = asArray(model.predict(inputs));
  asArray(flat.predict(inputs)).forEach((o, k) => {
    const d = tf.max(tf.abs(tf.sub(o, outputs[k]))).dataSync()[0];
    if (d !== 0) throw new Error(`${spec.name}: the nested model differs from the flat one by ${d}`);
  });
  const targets = outputs.map((o, k) => new Rand(`nested/${spec.name}/target${k}`).tensor(o.shape));
  const lossOf = (outs) => tf.addN(outs.map((o, k) => tf.mean(tf.square(tf.sub(o, targets[k])))));
  const inputVars = inputs.map((x, k) => (spec.floatInputs[k] ? tf.variable(x, true) : null));
  const leaves = leafLayers(model);
  const weightVars = leaves.flatMap((l) => l.weights.map((w) => w.read()));
  const { value, grads } = tf.variableGrads(
    () => lossOf(asArray(model.apply(inputs.map((x, k) => inputVars[k] ?? x)))),
    [...inputVars.filter((v) => v), ...weightVars]);
  const gradOf = (v) => {
    if (!grads[v.name]) throw new Error(`${spec.name}: no gradient for ${v.name}`);
    return tensorJSON(grads[v.name]);
  };
  cases.push({
    name: spec.name, note: spec.note ?? null, model: model.toJSON(null, false), weights,
    inputs: inputs.map(tensorJSON), outputs: outputs.map(tensorJSON), targets: targets.map(tensorJSON),
    loss: value.dataSync()[0],
    grads: {
      inputs: inputVars.map((v) => (v ? gradOf(v) : null)),
      weights: Object.fromEntries(leaves.map((l) => [l.name, l.weights.map((w) => gradOf(w.read()))])),
    },
  });
}

const B = 3, T = 4, F = 3;

// 1. A Sequential (LSTM -> Dense) called inside a Functional model, then a Dense head.
addCase({
  name: 'sequential_in_functional',
  build() {
    const inner = tf.sequential({ name: 'encoder', layers: [lstm('enc_lstm', 4, false, { inputShape: [T, F] }), dense('enc_dense', 3, 'tanh')] });
    const x = tf.input({ name: 'x', batchShape: [null, T, F] });
    const head = dense('head', 2, 'linear');
    const model = tf.model({ name: 'outer', inputs: x, outputs: head.apply(inner.apply(x)) });
    const flat = tf.model({ inputs: x, outputs: head.apply(inner.layers[1].apply(inner.layers[0].apply(x))) });
    return { model, flat };
  },
  inputs: [new Rand('nested/sequential_in_functional/x').tensor([B, T, F])],
  floatInputs: [true],
});

// 2. A Functional model (GRU -> Dense) called on two inputs: one set of weights, gradients summed over both calls.
addCase({
  name: 'shared_functional_twice',
  note: 'the nested model "siamese" has two nodes and one set of weights',
  build() {
    const xi = tf.input({ name: 'xi', batchShape: [null, T, F] });
    const g = gru('sia_gru', 3);
    const d = dense('sia_dense', 2, 'tanh');
    const inner = tf.model({ name: 'siamese', inputs: xi, outputs: d.apply(g.apply(xi)) });
    const a = tf.input({ name: 'a', batchShape: [null, T, F] });
    const b = tf.input({ name: 'b', batchShape: [null, T, F] });
    const cat = tf.layers.concatenate({ name: 'cat', axis: -1 });
    const head = dense('head', 1, 'linear');
    const model = tf.model({ name: 'outer', inputs: [a, b], outputs: head.apply(cat.apply([inner.apply(a), inner.apply(b)])) });
    const flatOut = head.apply(cat.apply([d.apply(g.apply(a)), d.apply(g.apply(b))]));
    return { model, flat: tf.model({ inputs: [a, b], outputs: flatOut }) };
  },
  inputs: [new Rand('nested/shared_functional_twice/a').tensor([B, T, F]),
    new Rand('nested/shared_functional_twice/b').tensor([B, T, F])],
  floatInputs: [true, true],
});

// 3. The mask of an Embedding(mask_zero) outside flows into a nested Sequential's LSTMs.
addCase({
  name: 'mask_into_nested',
  build() {
    const inner = tf.sequential({ name: 'tagger', layers: [lstm('tag_lstm', 3, true, { inputShape: [5, 3] }), lstm('tag_lstm_2', 2, false)] });
    const ids = tf.input({ name: 'ids', batchShape: [null, 5] });
    const emb = tf.layers.embedding({ name: 'emb', inputDim: 6, outputDim: 3, maskZero: true, embeddingsInitializer: 'randomUniform' });
    const e = emb.apply(ids);
    const model = tf.model({ name: 'outer', inputs: ids, outputs: inner.apply(e) });
    const flat = tf.model({ inputs: ids, outputs: inner.layers[1].apply(inner.layers[0].apply(e)) });
    return { model, flat };
  },
  inputs: [tf.tensor([[3, 1, 5, 2, 4], [2, 4, 1, 0, 0], [5, 0, 0, 0, 0]], [3, 5], 'float32')],
  floatInputs: [false],
});

// 4. A Sequential holding a Sequential: Dense -> [Dense -> Dense] -> Dense.
addCase({
  name: 'sequential_in_sequential',
  build() {
    const inner = tf.sequential({ name: 'block', layers: [dense('blk_a', 4, 'relu', { inputShape: [5] }), dense('blk_b', 3, 'tanh')] });
    const first = tf.layers.dense({ name: 'first', units: 5, activation: 'tanh', inputShape: [F], useBias: true });
    const last = dense('last', 2, 'linear');
    const model = tf.sequential({ name: 'outer', layers: [first, inner, last] });
    const x = tf.input({ name: 'x', batchShape: [null, F] });
    const flat = tf.model({ inputs: x, outputs: last.apply(inner.layers[1].apply(inner.layers[0].apply(first.apply(x)))) });
    return { model, flat };
  },
  inputs: [new Rand('nested/sequential_in_sequential/x').tensor([B, F])],
  floatInputs: [true],
});

fs.mkdirSync(OUT_DIR, { recursive: true });
const text = `{"generator": "gen_nested.mjs", "oracle": "@tensorflow/tfjs 4.22.0 cpu", "cases": [\n${
  cases.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`;
fs.writeFileSync(path.join(OUT_DIR, 'nested.json'), text);
console.log(`nested.json: ${cases.length} cases, ${text.length} bytes`);
