#!/usr/bin/python3
"""PyTorch's side of bench/compare: the same models, shapes and timing as bench/rnnkit_bench.cpp; prints JSON.

  torch_bench.py train CONFIG [--threads N] [--omp-threads M] [--reps R] [--warmup W] [--steps S]
  torch_bench.py generate     [--threads N] [--omp-threads M] [--reps R] [--warmup W] [--tokens K]

`train`: nn.Embedding + nn.LSTM/GRU/RNN + nn.Linear + CrossEntropyLoss (BCEWithLogitsLoss for bilstm and
cnn-lstm, which has nn.Conv1d + ReLU + nn.MaxPool1d before its LSTM) + Adam,
zero_grad / backward / step, S steps per repetition, seconds per step. `generate`: greedy generation with
the state kept between tokens, one nn.LSTM call per token under no_grad, seconds per token.
The thread counts are set by bench/compare in the environment (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS) before
torch loads; torch.set_num_threads is called here too.
"""
import argparse
import json
import time

import torch
from torch import nn

# name: (cell, vocabulary, embedding, units, batch, timesteps, bidirectional, return_sequences)
CONFIGS = {
    "char": ("lstm", 65, 64, 256, 64, 100, False, True),
    "char-gru": ("gru", 65, 64, 256, 64, 100, False, True),
    "word": ("lstm", 10000, 128, 512, 32, 35, False, True),
    "word-gru": ("gru", 10000, 128, 512, 32, 35, False, True),
    "word-rnn": ("rnn", 10000, 128, 512, 32, 35, False, True),
    "tiny": ("rnn", 12, 10, 32, 32, 5, False, False),
    "bilstm": ("lstm", 20000, 128, 64, 64, 100, True, False),
    "cnn-lstm": ("lstm", 20000, 128, 64, 64, 100, False, False),
    "generate": ("lstm", 10000, 128, 512, 1, 1, False, True),
}
# CNN-LSTM classifiers: (filters, kernel_size, pool) of the Conv1d(relu) + MaxPool1d between Embedding and RNN.
CNN = {"cnn-lstm": (64, 5, 4)}
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.GRU is Keras's GRU with reset_after=True


class Model(nn.Module):
    def __init__(self, cell, vocabulary, embedding, units, bidirectional, return_sequences, outputs, cnn=None):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding)
        self.cnn = None
        if cnn:  # Keras's Conv1D(relu) + MaxPooling1D, channels first as torch convolves
            filters, kernel_size, pool = cnn
            self.cnn = nn.Sequential(nn.Conv1d(embedding, filters, kernel_size), nn.ReLU(), nn.MaxPool1d(pool))
            embedding = filters
        self.rnn = CELLS[cell](embedding, units, batch_first=True, bidirectional=bidirectional)
        self.dense = nn.Linear(units * (2 if bidirectional else 1), outputs)
        self.return_sequences = return_sequences
        self.bidirectional = bidirectional

    def forward(self, ids, state=None):
        x = self.embedding(ids)
        if self.cnn is not None:
            x = self.cnn(x.transpose(1, 2)).transpose(1, 2)
        sequence, state = self.rnn(x, state)
        if self.return_sequences:
            return self.dense(sequence), state
        if self.bidirectional:  # Keras's last output: forward's last step, backward's first
            hidden = state[0] if isinstance(state, tuple) else state
            return self.dense(torch.cat([hidden[0], hidden[1]], dim=1)), state
        return self.dense(sequence[:, -1]), state


def timed(warmup, reps, work):
    for _ in range(warmup):
        work()
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return seconds


def train(args):
    cell, vocabulary, embedding, units, batch, timesteps, bidirectional, return_sequences = CONFIGS[args.config]
    torch.manual_seed(1)
    cnn = CNN.get(args.config)
    binary = (bidirectional and not return_sequences) or cnn is not None
    model = Model(cell, vocabulary, embedding, units, bidirectional, return_sequences, 1 if binary else vocabulary,
                  cnn)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    x = torch.randint(0, vocabulary, (batch, timesteps))
    if binary:
        loss_function, y = nn.BCEWithLogitsLoss(), torch.randint(0, 2, (batch, 1)).float()
    else:
        loss_function = nn.CrossEntropyLoss()
        y = torch.randint(0, vocabulary, (batch, timesteps) if return_sequences else (batch,))

    def step():
        optimizer.zero_grad()
        logits, _ = model(x)
        if return_sequences and not binary:
            loss = loss_function(logits.reshape(-1, vocabulary), y.reshape(-1))
        else:
            loss = loss_function(logits, y)
        loss.backward()
        optimizer.step()

    def steps():
        for _ in range(args.steps):
            step()

    seconds = timed(args.warmup, args.reps, steps)
    return {"step_seconds": [s / args.steps for s in seconds], "tokens_per_step": batch * timesteps}


def generate(args):
    cell, vocabulary, embedding, units, _, _, _, _ = CONFIGS["generate"]
    torch.manual_seed(1)
    model = Model(cell, vocabulary, embedding, units, False, True, vocabulary).eval()
    last = [1]

    def tokens():
        state, token = None, torch.tensor([[1]])
        with torch.no_grad():
            for _ in range(args.tokens):
                logits, state = model(token, state)
                token = torch.argmax(torch.softmax(logits[0, -1], dim=0)).reshape(1, 1)
        last[0] = int(token)

    seconds = timed(args.warmup, args.reps, tokens)
    return {"token_seconds": [s / args.tokens for s in seconds], "last_token": last[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "generate"])
    parser.add_argument("config", nargs="?", default="generate", choices=sorted(CONFIGS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--omp-threads", type=int, default=None, help="torch.set_num_threads (default: --threads)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(args.omp_threads or args.threads)
    result = train(args) if args.mode == "train" else generate(args)
    result.update(mode=args.mode, threads=args.threads, omp_threads=torch.get_num_threads(), torch=torch.__version__)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
