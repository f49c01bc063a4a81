#!/usr/bin/env bash
# Regenerates every fixture in tests/parity/fixtures/ from the two oracles, then re-checks them all with
# crosscheck.py. Deterministic: a second run gives byte-identical files.
#   bash tests/parity/generate.sh
# Needs: node + npm (installs @tensorflow/tfjs 4.22.0, pure JS, from package-lock.json on first run) and
# Debian's python3-torch and python3-numpy (run with /usr/bin/python3, not a python3 found on PATH).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/@tensorflow/tfjs ]; then
  npm ci --no-audit --no-fund
fi
node gen_tfjs.mjs   # (TF.js prints a banner suggesting tfjs-node on stderr: ignore it, never install tfjs-node)
node gen_functional.mjs
node gen_nested.mjs
node gen_shapes.mjs
node gen_conv.mjs
/usr/bin/python3 gen_torch.py
/usr/bin/python3 gen_activations.py
/usr/bin/python3 gen_conv_torch.py
/usr/bin/python3 gen_attention_torch.py
/usr/bin/python3 crosscheck.py
/usr/bin/python3 gen_functional_torch.py
/usr/bin/python3 gen_metrics.py
node gen_metrics_tfjs.mjs
