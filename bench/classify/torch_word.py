#!/usr/bin/python3
"""PyTorch side of the NSMC classification benchmark (bench/classify/README.md): the model `rnnkit train
--task classify --level word` builds by default (Embedding(V, 128) + LSTM(128) + Linear(1) + sigmoid, Keras's
initialisers), trained the same way (Adam 1e-3, batch 64, the last 10% of the training file for validation,
EarlyStopping on val_loss with patience 2 keeping the best weights) for at most the same time, on the same
token ids: the word_index of the rnnkit model's own tokenizer (assets/tokenizer.json), applied as Keras's
texts_to_sequences, padded and cut 'pre' to the same length.

Usage: torch_word.py TRAIN.tsv TEST.tsv RNNKIT_MODEL.keras SECONDS
"""
import json
import sys
import time
import zipfile

import numpy as np
import torch


def read(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    header = rows[0]
    t, l = header.index("document"), header.index("label")
    return [r[t] for r in rows[1:]], np.array([int(r[l]) for r in rows[1:]], dtype=np.float32)


def keras_sequences(texts, config, word_index):
    filters = config["filters"]
    table = str.maketrans({c: " " for c in filters})
    out = []
    for text in texts:
        if config["lower"]:
            text = text.lower()
        words = [w for w in text.translate(table).split(config["split"]) if w]
        out.append([word_index[w] for w in words if w in word_index])
    return out


def pad_pre(sequences, maxlen):
    x = np.zeros((len(sequences), maxlen), dtype=np.int64)
    for i, s in enumerate(sequences):
        s = s[-maxlen:]
        if s:
            x[i, -len(s):] = s
    return x


class Classifier(torch.nn.Module):
    def __init__(self, vocabulary, dim=128, units=128):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, dim)
        self.lstm = torch.nn.LSTM(dim, units, batch_first=True)
        self.dense = torch.nn.Linear(units, 1)
        torch.nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        torch.nn.init.xavier_uniform_(self.lstm.weight_ih_l0)
        for gate in range(4):
            torch.nn.init.orthogonal_(self.lstm.weight_hh_l0.data[gate * units:(gate + 1) * units])
        torch.nn.init.zeros_(self.lstm.bias_ih_l0)
        torch.nn.init.zeros_(self.lstm.bias_hh_l0)
        self.lstm.bias_ih_l0.data[units:2 * units] = 1.0  # Keras's unit_forget_bias
        torch.nn.init.xavier_uniform_(self.dense.weight)
        torch.nn.init.zeros_(self.dense.bias)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return torch.sigmoid(self.dense(h[-1])).squeeze(1)


def main():
    train_path, test_path, model_path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    torch.set_num_threads(1)
    torch.manual_seed(1)
    archive = zipfile.ZipFile(model_path)
    tokenizer = json.loads(archive.read("assets/tokenizer.json"))["config"]
    word_index = json.loads(tokenizer["word_index"])
    maxlen = json.loads(archive.read("assets/rnnkit_text.json"))["seq_length"]
    texts, labels = read(train_path)
    cut = len(texts) - len(texts) // 10
    x = pad_pre(keras_sequences(texts, tokenizer, word_index), maxlen)
    xt, yt = torch.from_numpy(x[:cut]), torch.from_numpy(labels[:cut])
    xv, yv = torch.from_numpy(x[cut:]), torch.from_numpy(labels[cut:])
    test_texts, test_labels = read(test_path)
    xs = torch.from_numpy(pad_pre(keras_sequences(test_texts, tokenizer, word_index), maxlen))
    model = Classifier(len(word_index) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCELoss()
    start = time.time()
    best, best_state, wait = float("inf"), None, 0
    epoch = 0
    while time.time() - start < seconds:
        model.train()
        order = torch.randperm(len(xt))
        for b in range(0, len(xt), 64):
            i = order[b:b + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(xt[i]), yt[i])
            loss.backward()
            optimizer.step()
            if time.time() - start >= seconds:
                break
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(xv), yv).item()
        epoch += 1
        print(f"epoch {epoch}: val_loss {val:.4f} after {time.time() - start:.0f}s", flush=True)
        if val < best:
            best, best_state, wait = val, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            wait += 1
            if wait >= 2:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        p = model(xs).numpy()
    print(f"test accuracy {np.mean((p > 0.5) == (test_labels == 1)):.4f} after {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
