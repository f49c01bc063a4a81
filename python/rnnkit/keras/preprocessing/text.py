"""keras.preprocessing.text: Tokenizer (rnnkit's C++ tokenizer, Keras's word_index order and JSON) and
tokenizer_from_json."""
import json

from rnnkit import _rnnkit

_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


class Tokenizer:
    """keras.preprocessing.text.Tokenizer: word (or character) level, word_index by descending count."""

    def __init__(self, num_words=None, filters=_FILTERS, lower=True, split=" ", char_level=False, oov_token=None,
                 analyzer=None, document_count=0, **kwargs):
        if "nb_words" in kwargs:
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
        if analyzer is not None:
            raise NotImplementedError("Tokenizer: a custom analyzer is not supported")
        if document_count:
            raise NotImplementedError("Tokenizer: a starting document_count is not supported")
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.char_level, self.oov_token = char_level, oov_token
        self._cpp = _rnnkit.Tokenizer(num_words, filters, lower, split, char_level, oov_token)
        self._cache = {}

    @classmethod
    def _from_cpp(cls, cpp, config):
        tokenizer = cls.__new__(cls)
        tokenizer._cpp = cpp
        tokenizer._cache = {}
        for key in ("num_words", "filters", "lower", "split", "char_level", "oov_token"):
            setattr(tokenizer, key, config.get(key))
        return tokenizer

    @staticmethod
    def _texts(texts, what):
        if isinstance(texts, str):
            texts = list(texts)  # as Keras: a string is an iterable of one-character texts
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise NotImplementedError(f"Tokenizer.{what}: only texts (str) are supported, received {text!r}")
        return texts

    def _dict(self, name):
        if name not in self._cache:
            self._cache[name] = dict(getattr(self._cpp, name)())
        return self._cache[name]

    def fit_on_texts(self, texts):
        self._cpp.fit_on_texts(self._texts(texts, "fit_on_texts"))
        self._cache = {}

    def fit_on_sequences(self, sequences):
        self._cpp.fit_on_sequences([list(map(int, s)) for s in sequences])
        self._cache = {}

    def texts_to_sequences(self, texts):
        return self._cpp.texts_to_sequences(self._texts(texts, "texts_to_sequences"))

    def texts_to_sequences_generator(self, texts):
        yield from self.texts_to_sequences(texts)

    def sequences_to_texts(self, sequences):
        return self._cpp.sequences_to_texts([list(map(int, s)) for s in sequences])

    def texts_to_matrix(self, texts, mode="binary"):
        return self._cpp.texts_to_matrix(self._texts(texts, "texts_to_matrix"), mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        return self._cpp.sequences_to_matrix([list(map(int, s)) for s in sequences], mode)

    @property
    def word_index(self):
        return self._dict("word_index")

    @property
    def index_word(self):
        return self._dict("index_word")

    @property
    def word_counts(self):
        return self._dict("word_counts")

    @property
    def word_docs(self):
        return self._dict("word_docs")

    @property
    def index_docs(self):
        return self._dict("index_docs")

    @property
    def document_count(self):
        return self._cpp.document_count

    def get_config(self):
        return json.loads(self.to_json())["config"]

    def to_json(self, **kwargs):
        """Keras's tokenizer.to_json(): the same text (json.dumps(..., **kwargs) where kwargs are given)."""
        text = self._cpp.to_json()
        return json.dumps(json.loads(text), **kwargs) if kwargs else text


def tokenizer_from_json(json_string):
    """A Tokenizer from what Keras's (or rnnkit's) to_json() wrote."""
    config = json.loads(json_string).get("config", {})
    return Tokenizer._from_cpp(_rnnkit.Tokenizer.from_json(json_string), config)


def text_to_word_sequence(input_text, filters=_FILTERS, lower=True, split=" "):
    """The words of one text, as Tokenizer splits them."""
    return _rnnkit.Tokenizer(None, filters, lower, split, False, None).tokenize(input_text)
