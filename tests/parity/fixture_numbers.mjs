// The numbers every TF.js fixture generator here shares: deterministic weights and inputs, and JSON of float32
// values that round-trip exactly.
import * as tf from '@tensorflow/tfjs';

// FNV-1a of a string: the seed of a case's numbers, so they never depend on which other cases exist.
export function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const prod = (shape) => shape.reduce((a, b) => a * b, 1);

// mulberry32 seeded with fnv1a(name). Values are multiples of 0.01 (as float32), easy to read and to check by
// hand.
export class Rand {
  constructor(name) { this.s = fnv1a(name) | 0; }
  next() { // uniform in [0, 1)
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo, hi) { return Math.fround(Math.round((lo + (hi - lo) * this.next()) * 100) / 100); }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo)); } // [lo, hi)
  array(n, lo = -1, hi = 1) { return Array.from({ length: n }, () => this.uniform(lo, hi)); }
  tensor(shape, lo = -1, hi = 1) { return tf.tensor(this.array(prod(shape), lo, hi), shape, 'float32'); }
}

// The shortest decimal that round-trips the float32 value (-0 written as 0).
export function f32(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite value ${v}`);
  if (v === 0) return 0;
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  throw new Error('unreachable');
}

export const tensorJSON = (t) => ({ shape: t.shape.slice(), data: Array.from(t.dataSync(), f32) });
