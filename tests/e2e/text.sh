#!/usr/bin/env bash
# End-to-end: the text commands. `rnnkit train` on a small corpus for a few seconds, `generate` (valid UTF-8,
# only the corpus's characters, greedy deterministic, sampling reproducible with --seed), `evaluate --text`,
# `--resume`, the tutorial's word-level model trained and generating its sentence, the error cases, and a short
# `rnnkit demo`.
#
# Usage: text.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: text.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: text.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

source "$tests/e2e/lib/checks.bash"

# A small Korean and English corpus: a few repeated lines (the model learns them within seconds).
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
  printf '경마장에 있는 말이 뛰고 있다\n그의 말이 법이다\nthe cat sat on the mat.\n'
done >corpus.txt

"$rnnkit" train corpus.txt -o lm.keras --units 32 --layers 1 --embedding-dim 16 --seq-length 20 --batch-size 8 \
  --epochs 3 --dropout 0 --learning-rate 0.01 --validation-split 0.2 --verbose 2 --threads 1 --sample-length 30 \
  >train.log
grep -q "^Epoch 3/3$" train.log || { echo "FAIL: train: no third epoch"; cat train.log; exit 1; }
grep -q "val_perplexity" train.log || fail_check "train prints the validation perplexity"
grep -q "^----- sample" train.log || fail_check "train prints a sample after each epoch"
[[ -f lm.keras && -f lm.history.csv && -f lm.loss.svg ]] || { echo "FAIL: train wrote no model, history or plot"; ls; exit 1; }
[[ $(head -n 1 lm.history.csv) == "epoch,loss,perplexity,val_loss,val_perplexity" ]] ||
  fail_check "history header: $(head -n 1 lm.history.csv)"
[[ $(wc -l <lm.history.csv) == 4 ]] || fail_check "history has $(wc -l <lm.history.csv) lines, expected 4"
"$python" -c "import xml.dom.minidom, sys; xml.dom.minidom.parse('lm.loss.svg')" || fail_check "the SVG is not XML"
"$python" -c "import zipfile; names = zipfile.ZipFile('lm.keras').namelist(); assert 'assets/tokenizer.json' in names, names" ||
  fail_check "the tokenizer is not an asset of lm.keras"
pass "train: 3 epochs, validation perplexity, samples, lm.keras with its tokenizer, history CSV, SVG"

# generate: valid UTF-8 made of the corpus's characters; greedy twice gives the same; --seed reproduces.
"$rnnkit" generate lm.keras --seed-text "경마장에" -n 60 --greedy >greedy1.txt
"$rnnkit" generate lm.keras --seed-text "경마장에" -n 60 --greedy >greedy2.txt
cmp -s greedy1.txt greedy2.txt && pass "generate --greedy is deterministic" || fail_check "greedy differs between runs"
"$rnnkit" generate lm.keras -n 200 --temperature 1.0 --seed 5 >sample1.txt
"$rnnkit" generate lm.keras -n 200 --temperature 1.0 --seed 5 >sample2.txt
"$rnnkit" generate lm.keras -n 200 --temperature 1.0 --seed 6 >sample3.txt
cmp -s sample1.txt sample2.txt && pass "generate --seed reproduces a sample" || fail_check "the same --seed differs"
cmp -s sample1.txt sample3.txt && fail_check "--seed 5 and --seed 6 gave the same 200 characters" || true
"$rnnkit" generate lm.keras -n 100 --temperature 0.8 --top-k 5 --top-p 0.9 --seed 2 >sample4.txt
"$python" - corpus.txt greedy1.txt sample1.txt sample3.txt sample4.txt <<'PY' || fail_check "generated text"
import sys
corpus = set(open(sys.argv[1], encoding="utf-8").read())
for name in sys.argv[2:]:
    text = open(name, "rb").read().decode("utf-8")  # raises on invalid UTF-8
    foreign = set(text) - corpus
    assert not foreign, f"{name}: characters not in the corpus: {foreign!r}"
    assert len(text) >= 50, f"{name}: only {len(text)} characters"
greedy = open(sys.argv[2], encoding="utf-8").read()
assert greedy.startswith("경마장에"), greedy
PY
pass "generated text is valid UTF-8 made of the corpus's characters"

# evaluate --text: per-token cross-entropy in nats and bits, and perplexity = e^nats.
"$rnnkit" evaluate lm.keras --text corpus.txt >evaluate.log
"$python" - evaluate.log <<'PY' || fail_check "evaluate --text"
import math, sys
values = dict(line.split(": ", 1) for line in open(sys.argv[1], encoding="utf-8").read().splitlines())
nats, bits, perplexity = (float(values[k]) for k in ("cross_entropy_nats", "cross_entropy_bits", "perplexity"))
assert abs(bits - nats / math.log(2)) < 1e-4 * max(1, bits), values
assert abs(perplexity - math.exp(nats)) < 1e-3 * perplexity, values
# 22 distinct characters: a trained model is well below the uniform 22 and below the unigram entropy.
assert 0 < nats < math.log(22), values
assert values["tokens"].startswith(str(len(open("corpus.txt", encoding="utf-8").read()))), values
PY
pass "evaluate --text: $(grep perplexity evaluate.log)"
# The .npy form of evaluate still works beside it (fit.sh checks its numbers).
"$rnnkit" evaluate --help | grep -q -- "--x" || fail_check "evaluate --help lacks --x"

# --resume continues from the checkpoint's epoch to --epochs in all.
"$rnnkit" train corpus.txt -o resumed.keras --resume lm.keras --epochs 5 --batch-size 8 --verbose 2 --threads 1 \
  --sample-length 0 --validation-split 0.2 >resume.log
grep -q "resuming from lm.keras after epoch 3" resume.log || fail_check "resume: no resume line"
grep -q "^Epoch 4/5$" resume.log && grep -q "^Epoch 5/5$" resume.log && ! grep -q "^Epoch 1/5$" resume.log &&
  pass "train --resume runs epochs 4 and 5" || { fail_check "resume epochs"; cat resume.log; }

# --max-time stops cleanly and keeps the best checkpoint.
"$rnnkit" train corpus.txt -o timed.keras --units 16 --layers 1 --seq-length 10 --batch-size 4 --epochs 100000 \
  --max-time 2s --verbose 0 --threads 1 --validation-split 0 >timed.log
grep -q "stopped after --max-time 2s" timed.log && [[ -f timed.keras ]] && pass "train --max-time 2s stops and saves" ||
  { fail_check "--max-time"; cat timed.log; }

# The tutorial: three sentences, word level, Embedding(V,10) + SimpleRNN(32) + Dense(V, softmax) on prefix n-grams,
# Adam, categorical cross-entropy, 200 epochs; greedy from 경마장에 gives its sentence.
printf '경마장에 있는 말이 뛰고 있다\n그의 말이 법이다\n가는 말이 고와야 오는 말이 곱다\n' >tutorial.txt
"$rnnkit" train tutorial.txt -o tutorial.keras --level word --samples line-prefixes --cell simple_rnn --units 32 \
  --layers 1 --embedding-dim 10 --epochs 200 --batch-size 32 --dropout 0 --clipnorm 0 --validation-split 0 \
  --verbose 0 --threads 1 --sample-length 0 >tutorial.log
sentence=$("$rnnkit" generate tutorial.keras --seed-text "경마장에" -n 4 --greedy)
[[ $sentence == "경마장에 있는 말이 뛰고 있다" ]] && pass "the tutorial's model generates: $sentence" ||
  fail_check "tutorial generation: '$sentence'"

# Errors: one line on stderr, exit status 1.
: >empty.txt
printf 'short\n' >short.txt
printf 'abc\xff\xfedef\n' >invalid.txt
expect_error "empty corpus" "is empty" -- train empty.txt -o x.keras --verbose 0
expect_error "corpus shorter than one window" "fewer than one window" -- train short.txt -o x.keras --seq-length 100 --verbose 0
expect_error "invalid UTF-8" "byte offset 3" -- train invalid.txt -o x.keras --verbose 0
expect_error "seed of unknown tokens" "no token the model knows" -- generate lm.keras --seed-text "ZZZ"
expect_error "a model without a tokenizer" "not written by \`rnnkit train\`" -- \
  generate "$tests/e2e/fixtures/embedding_lstm_dense/model.json"
expect_error "a missing model" "timed.missing" -- generate timed.missing
expect_error "bad --max-time" "--max-time" -- train corpus.txt -o x.keras --max-time soon --verbose 0
expect_error "bad temperature" "temperature" -- generate lm.keras --temperature 0
"$rnnkit" train invalid.txt -o replaced.keras --replace-invalid --seq-length 3 --units 8 --layers 1 --epochs 1 \
  --validation-split 0 --verbose 0 --threads 1 >/dev/null && pass "--replace-invalid trains on invalid UTF-8" ||
  fail_check "--replace-invalid"

# --help lists every flag with its default (read whole first: `grep -q` stopping early would cut the pipe).
train_help=$("$rnnkit" train --help)
for flag in --level --cell --units --layers --bidirectional --embedding-dim --seq-length --batch-size --epochs \
  --dropout --recurrent-dropout --optimizer --learning-rate --clipnorm --validation-split --max-vocab --seed \
  --verbose --resume --history --threads --max-time; do
  grep -q -- "$flag" <<<"$train_help" || fail_check "train --help lacks $flag"
done
grep -q -- "--units INT=256" <<<"$train_help" || fail_check "train --help shows no default for --units"
for flag in --seed-text -n --greedy --temperature --top-k --top-p --seed; do
  "$rnnkit" generate --help | grep -q -- "$flag" || fail_check "generate --help lacks $flag"
done

# A short demo: the embedded corpus, a few seconds, Korean text out.
"$rnnkit" demo --max-time 3s --units 32 -n 80 --threads 1 >demo.log
"$python" - demo.log <<'PY' && pass "rnnkit demo --max-time 3s prints Korean text" || { fail_check "demo"; tail -n 20 demo.log; }
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
generated = text.split("=====\n", 1)[1]
assert sum("가" <= c <= "힣" for c in generated) >= 10, generated
PY

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
