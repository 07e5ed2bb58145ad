#!/usr/bin/env python3
"""Converts the official Wan2.1 PyTorch pickles to safetensors, once, offline.

The official releases ship the VAE (`Wan2.1_VAE.pth`) and the umT5 encoder
(`models_t5_umt5-xxl-enc-bf16.pth`) as pickled state dicts; frugal reads only safetensors (a pickle
can run code). This writes `<name>.safetensors` beside each input with the same tensor names, dtypes
and shapes (a state dict nested under "state_dict"/"model" is unwrapped).

    /usr/bin/python3 tools/convert_wan/pth_to_safetensors.py Wan2.1-T2V-1.3B/Wan2.1_VAE.pth \
        Wan2.1-T2V-1.3B/models_t5_umt5-xxl-enc-bf16.pth

Needs Debian's python3-torch (1.13 is enough). `torch.load(weights_only=True)` is used where the torch
version has it.
"""
import json
import struct
import sys
from pathlib import Path

import torch

DTYPES = {
    torch.float32: ("F32", torch.int32),
    torch.float16: ("F16", torch.int16),
    torch.bfloat16: ("BF16", torch.int16),
    torch.float64: ("F64", torch.int64),
    torch.int64: ("I64", torch.int64),
    torch.int32: ("I32", torch.int32),
}


def load_state_dict(path):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13.1 has no weights_only
        obj = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def write_safetensors(tensors, path, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype not in DTYPES:
            raise SystemExit(f"{name}: unsupported dtype {t.dtype}")
        st_name, raw_view = DTYPES[t.dtype]
        raw = t.view(raw_view).numpy().tobytes() if t.dim() > 0 else t.reshape(1).view(raw_view).numpy().tobytes()
        header[name] = {"dtype": st_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    for arg in argv[1:]:
        src = Path(arg)
        dst = src.with_suffix(".safetensors")
        tensors = load_state_dict(src)
        write_safetensors(tensors, dst, {"converted_from": src.name, "format": "pt"})
        n = sum(t.numel() for t in tensors.values())
        print(f"{src} -> {dst}: {len(tensors)} tensors, {n} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
