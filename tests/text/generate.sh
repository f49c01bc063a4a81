#!/usr/bin/env bash
# Regenerates tests/text/fixtures.json with Debian's Python (standard library only); the output is
# deterministic, so a clean regeneration leaves git diff empty.
set -euo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 keras_text_reference.py > fixtures.json
