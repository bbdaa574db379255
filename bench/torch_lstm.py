"""PyTorch side of bench/lstm.mjs: times torch.nn.LSTM (CPU, float32, seq-first) on the same
shapes and thread count, and prints one JSON line with the median times in milliseconds.

Forward is timed under no_grad; forward+backward back-propagates the sum of the outputs
(dy = ones, no gradient of hN or cN, as in the evnn run), with no gradient for the input (a first
layer on data). The timing code is bench/torch_rnn.py, shared with bench/torch_gru.py."""
import torch

from torch_rnn import main

if __name__ == "__main__":
    main(torch.nn.LSTM)
