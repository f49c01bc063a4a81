#!/usr/bin/env bash
# End-to-end: `generate` and `evaluate --text` on language models trained in Keras, read with Keras's own
# Tokenizer JSON (--tokenizer) or the Keras char-RNN's sorted(set(text)) characters (--vocabulary-from): the
# greedy continuation and the cross-entropy that a numpy forward pass of the same weights gives
# (keras_lm/expected.json, written by make_keras_lm_fixtures.py), then the error cases.
#
# Usage: keras_lm.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: keras_lm.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: keras_lm.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$tests"/e2e/keras_lm/* "$work"
cd "$work"

source "$tests/e2e/lib/checks.bash"

# The numpy cases: each command's stdout, or its cross-entropy within 1e-4 (float32 against float64).
"$python" - "$rnnkit" <<'PY' || failures=$((failures + 1))
import json, subprocess, sys
rnnkit = sys.argv[1]
failed = 0
for case in json.load(open("expected.json", encoding="utf-8"))["cases"]:
    run = subprocess.run([rnnkit] + case["args"], capture_output=True)
    stdout, stderr = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")
    if run.returncode != 0:
        ok, got = False, f"status {run.returncode}: {stderr.strip()}"
    elif "stdout" in case:
        ok, got = stdout == case["stdout"], repr(stdout)
    else:
        values = dict(line.split(": ", 1) for line in stdout.splitlines())
        nats = float(values["cross_entropy_nats"])
        ok = abs(nats - case["nats"]) <= 1e-4 * max(1.0, case["nats"]) and \
            values["tokens"].startswith(f"{case['tokens']} (")
        got = f"{nats} nats over {values['tokens']}"
    if ok:
        print(f"ok   {case['name']}: {got}")
    else:
        failed += 1
        print(f"FAIL {case['name']}: {got}, expected {case.get('stdout', case.get('nats'))!r}")
sys.exit(1 if failed else 0)
PY

# Sampling draws no padding, and nothing outside num_words: every word printed is one of the first 7.
"$rnnkit" generate word_oov_lm.h5 --tokenizer word_tokenizer_oov.json --seed-text "the dog" -n 300 \
  --temperature 2 --seed 3 >sampled.txt
"$python" - sampled.txt word_tokenizer_oov.json <<'PY' && pass "sampling stays within num_words" || fail_check "sampling within num_words"
import json, sys
config = json.load(open(sys.argv[2]))["config"]
index_word = json.loads(config["index_word"])
allowed = {index_word[str(i)] for i in range(1, config["num_words"])}
words = open(sys.argv[1], encoding="utf-8").read().split()
assert len(words) == 302, len(words)
assert set(words[2:]) <= allowed, set(words[2:]) - allowed
assert len(set(words[2:])) >= 4, set(words)
PY

# The same tokenizer saved as a JSON string (json.dump(tokenizer.to_json(), f)) reads the same.
"$python" -c "import json; json.dump(open('word_tokenizer.json').read(), open('wrapped.json', 'w'))"
"$rnnkit" generate word_lm.h5 --tokenizer wrapped.json --seed-text "the cat" -n 6 --greedy >wrapped.txt
"$rnnkit" generate word_lm.h5 --tokenizer word_tokenizer.json --seed-text "the cat" -n 6 --greedy >plain.txt
cmp -s wrapped.txt plain.txt && pass "a tokenizer JSON saved as a JSON string" || fail_check "wrapped tokenizer JSON"

# --lower: the example's text.lower(); its vocabulary is that of the lowercased text.
"$rnnkit" generate char_lm.h5 --vocabulary-from char_corpus.txt --lower --seed-text "HELLO" -n 12 --greedy >lower.txt
[[ $(cat lower.txt) == hello* ]] && pass "--lower lowercases the seed: $(head -n 1 lower.txt)" ||
  fail_check "--lower: $(cat lower.txt)"

# Errors: one line on stderr naming what is wrong, exit status 1.
model_json=$tests/e2e/fixtures/embedding_lstm_dense/model.json
"$python" -c "
import json
config = json.load(open('word_tokenizer.json'))
json.dump(json.loads(config['config']['word_index']), open('word_index.json', 'w'))
del config['config']['word_index']
json.dump(config, open('no_word_index.json', 'w'))"
printf 'the cat sat\n' >tiny.txt

expect_error "a model JSON as the tokenizer" "tokenizer file '$model_json': field class_name is \"Sequential\"" -- \
  generate word_lm.h5 --tokenizer "$model_json"
expect_error "a bare word_index as the tokenizer" "looks like a bare word_index" -- \
  generate word_lm.h5 --tokenizer word_index.json
expect_error "a tokenizer without word_index" "tokenizer file 'no_word_index.json': tokenizer JSON: config has no \"word_index\"" -- \
  generate word_lm.h5 --tokenizer no_word_index.json
expect_error "not JSON" "tokenizer file 'tiny.txt' is not JSON" -- generate word_lm.h5 --tokenizer tiny.txt
expect_error "a missing tokenizer" "tokenizer file 'missing.json' cannot be read" -- \
  generate word_lm.h5 --tokenizer missing.json
expect_error "vocabulary and output sizes differ" \
  "model 'word_lm.h5' outputs 14 classes, but tokenizer 'small_tokenizer.json' has len(word_index) + 1 = 4 ids" -- \
  generate word_lm.h5 --tokenizer small_tokenizer.json
expect_error "characters and output sizes differ" "outputs 13 classes, but the characters of 'tiny.txt' are 8 (sorted(set(text))" -- \
  generate char_lm.h5 --vocabulary-from tiny.txt
expect_error "a sigmoid output is no distribution over tokens" "not 'sigmoid'" -- \
  generate "$model_json" --tokenizer word_tokenizer.json
expect_error "--seq-length against a fixed input length" "--seq-length 3 contradicts model 'word_lm.h5', whose input length is fixed at 4" -- \
  generate word_lm.h5 --tokenizer word_tokenizer.json --seq-length 3
expect_error "--level against the tokenizer" "--level char contradicts tokenizer 'word_tokenizer.json', which is word level" -- \
  evaluate word_lm.h5 --tokenizer word_tokenizer.json --level char --text word_held_out.txt
expect_error "--level word with characters" "--level word: --vocabulary-from makes a character vocabulary" -- \
  generate char_lm.h5 --vocabulary-from char_corpus.txt --level word
expect_error "--padding without a length" "has no fixed input length to pad to; give --seq-length too" -- \
  generate word_oov_lm.h5 --tokenizer word_tokenizer_oov.json --padding post
expect_error "a Keras model without its vocabulary" "give its tokenizer (--tokenizer tokenizer.json" -- \
  generate word_lm.h5
expect_error "--tokenizer and --vocabulary-from" "give --tokenizer or --vocabulary-from, not both" -- \
  generate char_lm.h5 --tokenizer word_tokenizer.json --vocabulary-from char_corpus.txt
expect_error "--lower without --vocabulary-from" "--lower goes with --vocabulary-from" -- \
  generate word_lm.h5 --tokenizer word_tokenizer.json --lower
expect_error "text flags without --text" "go with --text" -- \
  evaluate word_lm.h5 --tokenizer word_tokenizer.json --x x.npy --y y.npy --loss mse
expect_error "a character seed outside the vocabulary" "no token the model knows" -- \
  generate char_lm.h5 --vocabulary-from char_corpus.txt --seed-text "ZZZ"

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
