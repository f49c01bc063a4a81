#!/usr/bin/env bash
# Regenerates tests/text/fixtures.json with Debian's Python (standard library only); the output is
# deterministic, so a clean regeneration leaves git diff empty. Then, where Keras's own keras_preprocessing
# is installed (scripts/setup --oracles), checks the fixtures against it.
set -euo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 keras_text_reference.py > fixtures.json
if /usr/bin/python3 -c "import keras_preprocessing" 2>/dev/null; then
  /usr/bin/python3 check_against_keras.py
else
  echo "keras_preprocessing not installed (scripts/setup --oracles): fixtures not checked against Keras"
fi
