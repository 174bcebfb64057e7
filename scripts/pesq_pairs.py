#!/usr/bin/env python3
"""PESQ (ITU-T P.862.2 wideband at 16 kHz, P.862 narrowband at 8 kHz) of reference/degraded WAV pairs.

  pesq_pairs.py RATE REF1 DEG1 [REF2 DEG2 ...]

Prints one score per pair, one per line, in order; a pair PESQ cannot score prints `nan`.
Both files of a pair must be mono 16-bit at RATE (8000 or 16000).
"""
import sys

import numpy as np
import soundfile as sf
from pesq import pesq


def main():
    rate = int(sys.argv[1])
    files = sys.argv[2:]
    if len(files) % 2:
        raise SystemExit("pairs of files expected")
    mode = "wb" if rate == 16000 else "nb"
    for ref_path, deg_path in zip(files[0::2], files[1::2]):
        ref, fs1 = sf.read(ref_path, dtype="int16")
        deg, fs2 = sf.read(deg_path, dtype="int16")
        if fs1 != rate or fs2 != rate:
            raise SystemExit(f"{ref_path} / {deg_path}: not {rate} Hz")
        n = min(len(ref), len(deg))
        try:
            print(f"{pesq(rate, ref[:n].astype(np.float64), deg[:n].astype(np.float64), mode):.4f}")
        except Exception as e:  # silent or too short input
            print("nan", flush=True)
            print(f"{ref_path}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
