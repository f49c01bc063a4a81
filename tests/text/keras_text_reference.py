#!/usr/bin/python3
"""The Keras text rules written out independently in plain Python, to make fixtures for rnnkit's text tests.

Written from Keras's documented behaviour of keras.preprocessing.text.Tokenizer, pad_sequences and
to_categorical (tf.keras 2.x), using Python's own str.lower()/str.split()/json.dumps/bytes.decode as the
oracles for Unicode case, splitting, JSON text and UTF-8 decoding. Standard library only.

Regenerate (deterministic): tests/text/generate.sh, which also checks the result against Keras's own
keras_preprocessing 1.1.0 where it is installed (tests/text/check_against_keras.py).
Sources of the excerpts are listed in the fixture's "sources" field.
"""
import json
import math
import sys
from pathlib import Path

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
TUTORIAL = "경마장에 있는 말이 뛰고 있다\n그의 말이 법이다\n가는 말이 고와야 오는 말이 곱다\n"


def excerpt(name, first_line, count):
    """Lines first_line..first_line+count-1 (1-based) of a corpus file, joined with newlines."""
    lines = (CORPORA / name).read_text(encoding="utf-8").split("\n")
    return lines[first_line - 1:first_line - 1 + count]


class ReferenceTokenizer:
    """Keras's Tokenizer rules; dictionaries keep insertion order as Python dicts (and Keras) do."""

    def __init__(self, num_words=None, filters=KERAS_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None):
        self.num_words, self.filters, self.lower = num_words, filters, lower
        self.split, self.char_level, self.oov_token = split, char_level, oov_token
        self.document_count = 0
        self.word_counts, self.word_docs, self.index_docs = {}, {}, {}
        self.word_index, self.index_word = {}, {}

    def tokens(self, text):
        if self.lower:
            text = text.lower()
        if self.char_level:
            return list(text)  # code points, spaces and newlines included; filters and split unused
        replaced = "".join(self.split if ch in self.filters else ch for ch in text)
        return [piece for piece in replaced.split(self.split) if piece != ""]

    def fit_on_texts(self, texts):
        for text in texts:
            self.document_count += 1
            tokens = self.tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            # Keras walks a set() here, in hash order; first-seen order is one such order and is
            # deterministic. Dicts compare equal whatever their order.
            for token in dict.fromkeys(tokens):
                self.word_docs[token] = self.word_docs.get(token, 0) + 1
        ranked = sorted(self.word_counts, key=lambda w: -self.word_counts[w])  # stable: ties first-seen
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + ranked
        self.word_index = {}
        for position, word in enumerate(vocabulary):
            self.word_index[word] = position + 1  # a repeated word keeps its first slot, takes the later index
        self.index_word = {index: word for word, index in self.word_index.items()}
        for word, documents in self.word_docs.items():
            self.index_docs[self.word_index[word]] = documents

    def limited(self, index):
        return bool(self.num_words) and index >= self.num_words

    def texts_to_sequences(self, texts):
        oov = self.word_index.get(self.oov_token)
        result = []
        for text in texts:
            sequence = []
            for token in self.tokens(text):
                index = self.word_index.get(token)
                if index is not None and not self.limited(index):
                    sequence.append(index)
                elif self.oov_token is not None:
                    sequence.append(oov)
            result.append(sequence)
        return result

    def sequences_to_texts(self, sequences):
        oov = self.word_index.get(self.oov_token)
        result = []
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(index)
                if word is not None and self.limited(index):
                    word = self.index_word[oov] if oov is not None else None
                elif word is None and self.oov_token is not None:
                    word = self.index_word[oov]
                if word is not None:
                    words.append(word)
            result.append(" ".join(words))
        return result

    def sequences_to_matrix(self, sequences, mode):
        width = self.num_words if self.num_words else len(self.word_index) + 1
        if mode == "tfidf" and self.document_count == 0:
            return None  # Keras raises: tfidf needs documents
        rows = []
        for sequence in sequences:
            counts = {}
            for index in sequence:
                if index < width:
                    counts[index] = counts.get(index, 0) + 1
            row = {}
            for index, count in counts.items():
                if mode == "binary":
                    row[index] = 1.0
                elif mode == "count":
                    row[index] = float(count)
                elif mode == "freq":
                    row[index] = count / len(sequence)  # the length counts ids beyond the width too
                elif mode == "tfidf":
                    tf = 1.0 + math.log(count)
                    idf = math.log(1.0 + self.document_count / (1.0 + self.index_docs.get(index, 0)))
                    row[index] = tf * idf
            rows.append(row)
        return width, rows

    def to_json(self):
        config = {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
            "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }
        return json.dumps({"class_name": "Tokenizer", "config": config})


def sparse(matrix):
    if matrix is None:
        return None
    width, rows = matrix
    entries = [[r, c, v] for r, row in enumerate(rows) for c, v in sorted(row.items())]
    return {"shape": [len(rows), width], "entries": entries}


def tokenizer_case(name, fit_texts, queries, extra_sequences=(), **options):
    tokenizer = ReferenceTokenizer(**options)
    tokenizer.fit_on_texts(fit_texts)
    sequences = tokenizer.texts_to_sequences(queries)
    decode = sequences + [list(s) for s in extra_sequences]
    return {
        "name": name,
        "options": options,
        "fit_texts": fit_texts,
        "document_count": tokenizer.document_count,
        "word_counts": list(tokenizer.word_counts.items()),
        "word_docs": list(tokenizer.word_docs.items()),
        "index_docs": list(tokenizer.index_docs.items()),
        "word_index": list(tokenizer.word_index.items()),
        "index_word": list(tokenizer.index_word.items()),
        "queries": queries,
        "sequences": sequences,
        "decode_sequences": decode,
        "decoded_texts": tokenizer.sequences_to_texts(decode),
        "matrices": {mode: sparse(tokenizer.sequences_to_matrix(sequences, mode))
                     for mode in ("binary", "count", "tfidf", "freq")},
        "to_json": tokenizer.to_json(),
    }


def pad(sequences, maxlen, padding, truncating, value):
    if maxlen is None:
        maxlen = max(len(s) for s in sequences)
    rows = []
    for sequence in sequences:
        kept = sequence[max(0, len(sequence) - maxlen):] if truncating == "pre" else sequence[:maxlen]
        fill = [value] * (maxlen - len(kept))
        rows.append(fill + kept if padding == "pre" else kept + fill)
    return rows


def one_hot(labels, shape, num_classes):
    classes = num_classes if num_classes else int(max(labels)) + 1
    out_shape = list(shape[:-1]) if len(shape) > 1 and shape[-1] == 1 else list(shape)
    data = []
    for label in labels:
        data += [1.0 if c == label else 0.0 for c in range(classes)]
    return {"shape": out_shape + [classes], "data": data}


def tokenizer_cases():
    tutorial_lines = TUTORIAL.split("\n")[:3]
    story = excerpt("ko_short_stories_default.txt", 3, 4)
    poems = excerpt("ko_yundongju_poems.txt", 1, 10)
    alice = excerpt("en_alice_11-0_pg2016.txt", 43, 9)
    unicode_texts = ["École ÉTÉ Été été\nİstanbul ΟΔΟΣ ΣΟΦΙΑ Σ. ΑΣ'Σ",
                     "ПРИВЕТ Мир мир — ǅemal Ǆ",
                     "ＡＢＣ ａｂｃ 🙂 emoji 🙂 café CAFÉ"]
    return [
        # The tutorial fits the whole text as one document.
        tokenizer_case("tutorial_one_document", [TUTORIAL], tutorial_lines + ["경마장에 새 말이"]),
        tokenizer_case("tutorial_lines_oov_num_words", tutorial_lines, tutorial_lines + ["경마장에 새 말이"],
                       extra_sequences=[[0, 1, 4, 5, 11, 12, 99]], num_words=5, oov_token="<OOV>"),
        tokenizer_case("story_words", story, story[:2] + ["흐린 날 새침하게, 눈이!"]),
        tokenizer_case("story_words_num_words_oov", story[:2], story[:2], extra_sequences=[[1, 2, 19, 20, 21, 500]],
                       num_words=20, oov_token="OOV"),
        tokenizer_case("story_chars", story[:2], [story[0], "눈이 온다\n비가 온다"], char_level=True),
        tokenizer_case("poem_chars_oov_num_words", ["\n".join(poems)], poems[:3] + ["햇살 별"],
                       extra_sequences=[[14, 15, 16, 0]], char_level=True, num_words=15, oov_token="□"),
        tokenizer_case("alice_words", alice, alice[:3] + ["Alice and the Queen"]),
        tokenizer_case("alice_keep_case_custom_filters", alice, alice[:2], lower=False,
                       filters="‘’,.:;?!()"),
        tokenizer_case("alice_chars_no_lower", alice[:2], alice[2:4], char_level=True, lower=False),
        tokenizer_case("unicode_lower_words", unicode_texts, unicode_texts + ["é ÉTÉ ς σ"]),
        tokenizer_case("unicode_lower_chars", unicode_texts[:2], unicode_texts[1:], char_level=True),
        tokenizer_case("multi_character_split", ["a--b---c,d", "b--c----a"], ["a--b", "c,,d--e"],
                       filters=",", split="--"),
        tokenizer_case("oov_token_is_also_a_word", ["oov cat oov dog cat", "cat"], ["cat oov bird"],
                       extra_sequences=[[1, 2, 3, 4, 9]], oov_token="oov"),
        tokenizer_case("fit_on_nothing_with_oov", [], ["x y"], extra_sequences=[[1, 2]], oov_token="<unk>"),
        tokenizer_case("special_characters_in_json", ['say "hi"\\there\ttab\x7f\x01 end'],
                       ['say "hi"\\there'], filters="\t"),
    ]


def pad_cases():
    sequences = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10, 11]]
    cases = []
    for maxlen in (None, 2, 4, 7):
        for padding in ("pre", "post"):
            for truncating in ("pre", "post"):
                for value in (0.0, -1.5):
                    cases.append({"sequences": sequences, "maxlen": maxlen, "padding": padding,
                                  "truncating": truncating, "value": value,
                                  "expected": pad(sequences, maxlen, padding, truncating, value)})
    # The tutorial's training data: every prefix of at least two words of each line, padded in front.
    tokenizer = ReferenceTokenizer()
    tokenizer.fit_on_texts([TUTORIAL])
    prefixes = []
    for line in TUTORIAL.split("\n"):
        encoded = tokenizer.texts_to_sequences([line])[0]
        prefixes += [encoded[:end] for end in range(2, len(encoded) + 1)]
    cases.append({"sequences": prefixes, "maxlen": None, "padding": "pre", "truncating": "pre", "value": 0.0,
                  "expected": pad(prefixes, None, "pre", "pre", 0.0)})
    return cases


def categorical_cases():
    cases = []
    for labels, shape, num_classes in [([0, 1, 2, 3], [4], None), ([0, 1, 2, 3], [4], 6), ([1, 0, 2], [3, 1], None),
                                       ([1, 0, 2], [3, 1], 5), ([0, 3, 1, 2], [2, 2], None), ([2], [1], None),
                                       ([1, 0], [2, 1, 1], 3), ([1], [], 3), ([0, 0], [2], 0)]:
        cases.append({"labels": labels, "shape": shape, "num_classes": num_classes,
                      "expected": one_hot(labels, shape, num_classes)})
    return cases


def utf8_cases():
    samples = ["41e282ac42", "c0af", "e080af", "f08080af", "eda080", "edbfbf", "f4908080", "f5808080", "80", "bf41",
               "e282", "41e2", "f09f99", "f09f9982", "c3a9c3", "fe", "ff41", "e0a0", "eda0", "f48fbfbf",
               "ec9588eb8595", "c2a0e0a080efbfbf"]
    cases = []
    for sample in samples:
        data = bytes.fromhex(sample)
        try:
            data.decode("utf-8")
            first_invalid = None
        except UnicodeDecodeError as error:
            first_invalid = error.start
        cases.append({"bytes": sample, "first_invalid": first_invalid,
                      "replaced": data.decode("utf-8", "replace").encode("utf-8").hex()})
    return cases


def lower_cases():
    texts = ["ΟΔΟΣ ΣΟΦΙΑΣ. ΌΣΟΣ", "Σ", "ΑΣ", "ΣΑ", "ΑΣ'Σ", "ΑΣ.Β", "İSTANBUL ıI", "ÀÉÎÕÜ Ÿ Œ Æ Ø Å ẞ ß",
             "ПРИВЕТ, Мир! ЁЖ", "ԱԲԳ", "ＡＢＣ", "ǅ Ǆ ǈ", "경마장에 있는 말이 ABC", "Ꭰ", "ΆΈΉ ΪΫ", "K Å Ω"]
    return [{"text": text, "lower": text.lower(), "code_points": list(text)} for text in texts]


def main():
    fixtures = {
        "generator": "tests/text/keras_text_reference.py (see tests/text/generate.sh)",
        "sources": {
            "ko_short_stories_default.txt": "lines 3-6 of /work/shared/corpora copy: 운수 좋은 날 (현진건), "
                                            "KoCoNovel's edited text, CC BY-SA 4.0",
            "ko_yundongju_poems.txt": "lines 1-10: 윤동주, 서시 (public domain)",
            "en_alice_11-0_pg2016.txt": "lines 43-51: Alice's Adventures in Wonderland, Project Gutenberg #11 "
                                        "(public domain)",
            "tutorial": "the Korean RNN tutorial's three sentences",
        },
        "tokenizer": tokenizer_cases(),
        "pad_sequences": pad_cases(),
        "to_categorical": categorical_cases(),
        "utf8": utf8_cases(),
        "lower": lower_cases(),
    }
    # One compact line per case keeps the file small and its diffs readable.
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    out = []
    for key, value in fixtures.items():
        if isinstance(value, list):
            items = ",\n  ".join(json.dumps(item, **compact) for item in value)
            out.append(f'  {json.dumps(key)}: [\n  {items}\n  ]')
        else:
            out.append(f'  {json.dumps(key)}: {json.dumps(value, **compact)}')
    sys.stdout.write("{\n" + ",\n".join(out) + "\n}\n")


if __name__ == "__main__":
    main()
