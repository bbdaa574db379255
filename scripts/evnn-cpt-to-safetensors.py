"""Converts a checkpoint of EvNN's language model (benchmarks/lm/train.py saves
`torch.save(model.state_dict(), '<dir>/checkpoints/EGRU_best_model.cpt')`) into a safetensors file
that `evnn eval <config> --checkpoint FILE` takes.

    python3 scripts/evnn-cpt-to-safetensors.py EGRU_best_model.cpt model.safetensors

The names are kept as they are (evnn's language model uses EvNN's: embeddings.weight,
rnns.{l}.kernel, …, decoder.decoder.weight/bias). Left out, and listed: the per-layer entries that
are settings rather than weights (rnns.{l}._max_norm, .dampening_factor,
.pseudo_derivative_support: evnn takes them from its config). Tensors are written as float32.
Needs only torch: the safetensors file is written by the few lines below (the format is a JSON
header and raw little-endian data), so the `safetensors` package is not required.

Exit 0 on success, 2 when the input cannot be read or holds something other than a state dict."""
import json
import struct
import sys

SETTINGS = ("._max_norm", ".dampening_factor", ".pseudo_derivative_support")


def fail(message):
    print(f"evnn-cpt-to-safetensors: {message}", file=sys.stderr)
    sys.exit(2)


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text.encode())) % 8) % 8)  # 8-byte aligned data, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode())))
        f.write(text.encode())
        for c in chunks:
            f.write(c)


def main(argv):
    if len(argv) != 3:
        fail("usage: evnn-cpt-to-safetensors.py INPUT.cpt OUTPUT.safetensors")
    try:
        import torch
    except ImportError as err:
        fail(f"needs torch ({err})")
    try:
        state = torch.load(argv[1], map_location="cpu")
    except Exception as err:  # a damaged or foreign file: say which and why
        fail(f"{argv[1]}: cannot be read by torch.load ({err})")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{argv[1]}: not a state dict of tensors (EvNN saves model.state_dict())")
    kept = {k: v.detach().to(torch.float32) for k, v in state.items() if not k.endswith(SETTINGS)}
    dropped = sorted(k for k in state if k.endswith(SETTINGS))
    write_safetensors(argv[2], kept)
    print(f"wrote {argv[2]}: {len(kept)} tensors; left out (settings, taken from the evnn config): {', '.join(dropped) or 'none'}")


if __name__ == "__main__":
    main(sys.argv)
