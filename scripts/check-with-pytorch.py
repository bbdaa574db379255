"""Checks a finished evnn sMNIST GRU run with independent tools: loads best.safetensors with the
`safetensors` library into torch.nn.GRU + torch.nn.Linear (PyTorch parameter names, no renaming),
reads the prepared test split with pyarrow, evaluates it in PyTorch and compares the accuracy and
loss with the run's summary.json.

    python3 scripts/check-with-pytorch.py results/smnist-gru-quick/seed1-<hash> [--data-dir datasets]

Exit 0 when the numbers agree, 1 when they do not, 2 when something needed is missing."""
import argparse
import json
import re
import sys
from pathlib import Path


def fail(message, code=2):
    print(f"check-with-pytorch: {message}", file=sys.stderr)
    sys.exit(code)


try:
    import pyarrow.ipc
    import torch
    from safetensors.torch import load_file
except ImportError as err:
    fail(f"needs torch, safetensors and pyarrow ({err})")


def config_value(config_text, key):
    m = re.search(rf"^\s*{key}:\s*(\S+)\s*$", config_text, re.MULTILINE)
    return m.group(1) if m else None


def load_split(path):
    with pyarrow.ipc.open_file(str(path)) as reader:
        table = reader.read_all()
    labels = torch.tensor(table.column("label").to_numpy().astype("int64"))
    flat = table.column("pixels").combine_chunks().flatten().to_numpy()
    pixels = torch.tensor(flat.astype("float32")).reshape(len(labels), 784) / 255.0
    return pixels, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--data-dir", type=Path, default=Path("datasets"))
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()

    config = (a.run_dir / "config.yaml").read_text()
    view = config_value(config, "view")
    if view not in ("smnist-rows", "smnist"):
        fail(f"view {view} is not checked by this script (smnist-rows and smnist are)")
    summary = json.loads((a.run_dir / "summary.json").read_text())

    state = load_file(str(a.run_dir / "best.safetensors"))
    layers = sum(1 for k in state if re.fullmatch(r"rnn\.weight_ih_l\d+", k))
    hidden, inputs = state["rnn.weight_hh_l0"].shape[1], state["rnn.weight_ih_l0"].shape[1]
    gru = torch.nn.GRU(inputs, hidden, num_layers=layers)
    readout = torch.nn.Linear(hidden, state["readout.weight"].shape[0])
    # strict loading: any missing or extra name is an error
    gru.load_state_dict({k[len("rnn."):]: v for k, v in state.items() if k.startswith("rnn.")})
    readout.load_state_dict({k[len("readout."):]: v for k, v in state.items() if k.startswith("readout.")})

    pixels, labels = load_split(a.data_dir / "mnist" / "test.arrow")
    steps = 28 if view == "smnist-rows" else 784
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(labels), a.batch):
            x = pixels[start:start + a.batch].reshape(-1, steps, 784 // steps).transpose(0, 1)
            out, _ = gru(x)
            logits = readout(out[-1])
            y = labels[start:start + a.batch]
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
    acc, loss = correct / len(labels), loss_sum / len(labels)
    want_acc, want_loss = summary["final"]["test_accuracy"], summary["final"]["test_loss"]
    print(f"torch {torch.__version__}: {len(labels)} test images, {layers}-layer GRU H={hidden}, view {view}")
    print(f"pytorch: accuracy {acc:.4f} loss {loss:.5f}")
    print(f"evnn   : accuracy {want_acc:.4f} loss {want_loss:.5f}")
    # float32 sums in another order may flip a borderline prediction or two, no more
    ok = abs(acc - want_acc) <= 3 / len(labels) and abs(loss - want_loss) <= 1e-3 * max(1.0, want_loss)
    print("agree" if ok else "DISAGREE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
