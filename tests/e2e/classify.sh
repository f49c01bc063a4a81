#!/usr/bin/env bash
# End-to-end: text classification from the command line. `rnnkit train --task classify` on 400 Korean movie
# reviews (NSMC) at word, char and subword level, `evaluate --data` (its report and --output), `predict` of two
# sentences after reload giving the same probabilities as evaluate and as each other run, --json, a Keras-style
# model plus --tokenizer, and the errors of bad files.
#
# Usage: classify.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: classify.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: classify.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export OMP_NUM_THREADS=1

source "$tests/e2e/lib/checks.bash"
train=$tests/e2e/nsmc_slice/train.tsv
test=$tests/e2e/nsmc_slice/test.tsv

"$rnnkit" train "$train" --task classify -o word.keras --level word --units 16 --embedding-dim 16 --epochs 3 --max-length 20 \
  --validation-split 0.2 --verbose 2 --threads 1 >train.log
grep -q "^Epoch 3/3$" train.log || { echo "FAIL: train: no third epoch"; cat train.log; exit 1; }
grep -q "320 training texts" train.log || fail_check "train holds out the last 20%: $(head -n 1 train.log)"
grep -q "binary (sigmoid, binary_crossentropy)" train.log || fail_check "0/1 labels make a binary classifier"
grep -q "val_accuracy" train.log || fail_check "train prints the validation accuracy"
[[ -f word.keras && -f word.history.csv ]] || { echo "FAIL: no model or history"; ls; exit 1; }
"$python" -c "
import zipfile, json
z = zipfile.ZipFile('word.keras')
assert 'assets/tokenizer.json' in z.namelist(), z.namelist()
info = json.loads(z.read('assets/rnnkit_text.json'))
assert info['task'] == 'classify' and info['labels'] == ['0', '1'] and info['seq_length'] == 20, info
" || fail_check "the tokenizer and the class names are assets of word.keras"
pass "train --task classify: 3 epochs, validation, word.keras with its tokenizer and labels"

"$rnnkit" evaluate word.keras --data "$test" --output preds.tsv >eval.txt
for key in samples loss accuracy precision recall f1 roc_auc "confusion matrix" "macro avg" "weighted avg"; do
  grep -q "^$key" eval.txt || fail_check "evaluate prints $key: $(cat eval.txt)"
done
grep -q "^samples: 100$" eval.txt || fail_check "evaluate reads 100 rows"
# The report's numbers again from the written predictions, with numpy.
"$python" - <<'PY' || fail_check "evaluate's accuracy and AUC agree with its --output"
import numpy as np
rows = [line.rstrip("\n").split("\t") for line in open("preds.tsv", encoding="utf-8")]
assert rows[0][:6] == ["line", "label", "predicted", "probability", "p_0", "p_1"], rows[0]
truth = np.array([int(r[1]) for r in rows[1:]]); p1 = np.array([float(r[5]) for r in rows[1:]])
report = dict(line.split(": ", 1) for line in open("eval.txt", encoding="utf-8") if ": " in line)
assert abs(float(report["accuracy"]) - np.mean((p1 > 0.5) == truth)) < 1e-6
pos, neg = p1[truth == 1], p1[truth == 0]
auc = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
assert abs(float(report["roc_auc"]) - auc) < 1e-5, (report["roc_auc"], auc)
PY
pass "evaluate --data: loss, accuracy, precision, recall, F1, ROC AUC, confusion matrix, --output"

# predict two sentences, twice (each a fresh load): the same probabilities, and the same as evaluate's.
printf 'text\tlabel\n정말 재미있고 감동적인 영화\t1\n시간 낭비 최악의 영화\t0\n' >two.tsv
"$rnnkit" predict word.keras --text "정말 재미있고 감동적인 영화" --text "시간 낭비 최악의 영화" >p1.txt
"$rnnkit" predict word.keras --text "정말 재미있고 감동적인 영화" --text "시간 낭비 최악의 영화" >p2.txt
cmp -s p1.txt p2.txt || fail_check "predict after reload differs: $(cat p1.txt p2.txt)"
[[ $(wc -l <p1.txt) == 2 ]] || fail_check "predict prints a line per text: $(cat p1.txt)"
"$rnnkit" evaluate word.keras --data two.tsv --output two_preds.tsv >/dev/null
"$python" - <<'PY' || fail_check "predict's probabilities are evaluate's"
p = [line.split("\t") for line in open("p1.txt", encoding="utf-8")]
e = [line.rstrip("\n").split("\t") for line in open("two_preds.tsv", encoding="utf-8")][1:]
for (label, prob, text), row in zip(p, e):
    assert label == row[2] and abs(float(prob) - float(row[3])) < 1e-7, (label, prob, row)
PY
"$rnnkit" predict word.keras --data two.tsv --json >p.json
"$python" -c "
import json
rows = [json.loads(l) for l in open('p.json', encoding='utf-8')]
assert [r['text'] for r in rows] == ['정말 재미있고 감동적인 영화', '시간 낭비 최악의 영화'], rows
for r in rows: assert abs(sum(r['probabilities'].values()) - 1) < 1e-6 and r['label'] in ('0', '1'), r
" || fail_check "predict --data --json: $(cat p.json)"
printf '정말 재미있고 감동적인 영화\n시간 낭비 최악의 영화\n' >lines.txt
"$rnnkit" predict word.keras --data lines.txt >p3.txt
cmp -s p1.txt p3.txt || fail_check "predict --data (one text a line) differs from --text"
pass "predict: two sentences reproduce after reload, as evaluate gives them; --data as lines or TSV; --json"

# The char and subword levels, and string labels over three classes.
"$rnnkit" train "$train" --task classify -o sub.keras --level subword --vocab-size 1200 --units 8 \
  --embedding-dim 8 --epochs 1 --max-length 30 --verbose 0 --threads 1 >sub.log
"$python" -c "import zipfile; assert 'assets/sentencepiece.model' in zipfile.ZipFile('sub.keras').namelist()" ||
  fail_check "the SentencePiece model is an asset of sub.keras"
"$rnnkit" predict sub.keras --text "재밌다" >s1.txt
"$rnnkit" predict sub.keras --text "재밌다" >s2.txt
cmp -s s1.txt s2.txt || fail_check "subword predictions differ after reload"
"$rnnkit" evaluate sub.keras --data "$test" | grep -q "^roc_auc" || fail_check "evaluate a subword model"
"$rnnkit" train "$train" --task classify -o char.keras --level char --units 8 --embedding-dim 8 --epochs 1 \
  --max-length 40 --verbose 0 --threads 1 >/dev/null
"$rnnkit" predict char.keras --text "재밌다" | grep -qP '^[01]\t' || fail_check "predict with a char model"
"$python" - <<'PY'
import random
random.seed(1)
words = {"sports": ["골", "경기", "선수"], "arts": ["그림", "전시", "화가"], "news": ["정부", "발표", "정책"]}
with open("topics.csv", "w", encoding="utf-8") as f:
    f.write("topic,sentence\n")
    for i in range(90):
        topic = list(words)[i % 3]
        f.write(f'{topic},"{random.choice(words[topic])}, {random.choice(words[topic])} {i}"\n')
PY
"$rnnkit" train topics.csv --task classify -o topics.h5 --level word --label-column topic --units 8 --embedding-dim 8 \
  --epochs 2 --verbose 0 --threads 1 --class-weight balanced >topics.log
"$rnnkit" evaluate topics.h5 --data topics.csv --label-column topic >topics_eval.txt
grep -q "^macro avg" topics_eval.txt && grep -q "^sports" topics_eval.txt || fail_check "three classes: $(cat topics_eval.txt)"
grep -q "^roc_auc" topics_eval.txt && fail_check "no ROC AUC for three classes"
pass "subword (SentencePiece asset) and char levels; string labels over three classes from a CSV (.h5)"

# A Keras model with its Tokenizer: the model file alone and tokenizer.json from the trained one.
"$python" -c "
import zipfile
open('tokenizer.json', 'wb').write(zipfile.ZipFile('word.keras').read('assets/tokenizer.json'))
"
"$rnnkit" convert word.keras plain.h5 >/dev/null
"$rnnkit" predict plain.h5 --tokenizer tokenizer.json --text "정말 재미있고 감동적인 영화" --text "시간 낭비 최악의 영화" >k.txt
cmp -s p1.txt k.txt || fail_check "a Keras model + --tokenizer gives the same: $(cat k.txt p1.txt)"
pass "predict with a Keras model file and --tokenizer"

printf 'id\tbody\tlabel\n1\tx\t0\n' >nocol.tsv
expect_error "no text column" "has no text column (none of text, document" -- train nocol.tsv --task classify -o m.keras
printf 'document\tlabel\nx\t0\ny\t1\textra\n' >ragged.tsv
expect_error "ragged row" "file 'ragged.tsv', line 3: 3 fields where the header has 2" -- train ragged.tsv --task classify -o m.keras
printf 'document\tlabel\nx\t0\n\t1\n' >empty.tsv
expect_error "empty text" "file 'empty.tsv', line 3, column 1 (document): the text is empty" -- train empty.tsv --task classify -o m.keras
printf 'document\tlabel\nx\t0\ny\t2\n' >unknown.tsv
expect_error "unknown label" "file 'unknown.tsv', line 3, column 2 (label): unknown label '2'" -- evaluate word.keras --data unknown.tsv
printf 'document\tlabel\nx\t0\nbad \xff\t1\n' >bad.tsv
expect_error "invalid UTF-8" "file 'bad.tsv', line 3, column 1 (document): invalid UTF-8" -- train bad.tsv --task classify -o m.keras
expect_error "language-model flag" "--seq-length is for language models" -- train "$train" --task classify -o m.keras --seq-length 5
expect_error "classify flag" "--max-length is for --task classify" -- train lines.txt -o m.keras --max-length 5
expect_error "a language model is no classifier" "not written by \`rnnkit train --task classify\`" -- predict plain.h5 --text x
expect_error "a classifier is no language model" "is a text classifier, not a language model" -- generate word.keras
expect_error "subword vocabulary too small" "SentencePiece cannot train 50 pieces" -- train "$train" --task classify -o m.keras --level subword --vocab-size 50

((failures == 0))
