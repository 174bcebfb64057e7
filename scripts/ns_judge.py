#!/usr/bin/env python3
"""PESQ of noise suppressors on real speech mixed with noise, against the clean speech.

The files come from media-bench (the `ns_sweep` example, media-bench/tests/stage_quality.rs) as
a manifest.json: a list of {rate, item, noise, snr, clean, noisy, <method>: wav, ...}. Every
key other than rate/item/noise/snr/clean is a method scored with PESQ against `clean`:
narrowband P.862 at 8 kHz, wideband P.862.2 at 16 kHz. Scores are averaged over items.

  ns_judge.py MANIFEST                     # markdown table per rate
  ns_judge.py MANIFEST --json              # JSON
  ns_judge.py MANIFEST --check             # exit 1 unless ours >= nnnoiseless - 0.05 and
                                           # ours > noisy in every (rate, noise, SNR) row
"""
import argparse, json, sys
from collections import defaultdict

import numpy as np
import soundfile as sf
from pesq import pesq

META = {"rate", "item", "noise", "snr", "clean"}


def score(rate, ref, deg):
    r, fr = sf.read(ref, dtype="int16")
    d, fd = sf.read(deg, dtype="int16")
    assert fr == fd == rate
    n = min(len(r), len(d))
    return pesq(rate, r[:n], d[:n], "nb" if rate == 8000 else "wb")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    cases = json.load(open(a.manifest))
    acc = defaultdict(lambda: defaultdict(list))
    methods = []
    for c in cases:
        for m in c:
            if m not in META and m not in methods:
                methods.append(m)
        key = (c["rate"], c["noise"], float(c["snr"]))
        for m in methods:
            if m in c:
                acc[key][m].append(score(c["rate"], c["clean"], c[m]))
    rows = []
    for key in sorted(acc, key=lambda k: (k[0], k[1], k[2])):
        rows.append({"rate": key[0], "noise": key[1], "snr": key[2],
                     **{m: float(np.mean(v)) for m, v in acc[key].items()}})
    if a.json:
        print(json.dumps(rows))
    else:
        for rate in sorted({r["rate"] for r in rows}):
            kind = "narrowband P.862" if rate == 8000 else "wideband P.862.2"
            print(f"\nNS PESQ at {rate} Hz ({kind}), mean over items\n")
            print("| noise | SNR dB | " + " | ".join(methods) + " |")
            print("|---|---|" + "---|" * len(methods))
            for r in rows:
                if r["rate"] == rate:
                    print(f"| {r['noise']} | {r['snr']:g} | " + " | ".join(f"{r[m]:.2f}" for m in methods if m in r) + " |")
            sub = [r for r in rows if r["rate"] == rate]
            print("| **mean** | | " + " | ".join(f"**{np.mean([r[m] for r in sub if m in r]):.2f}**" for m in methods) + " |")
    if a.check:
        bad = []
        for r in rows:
            if "ours" in r and "nnnoiseless" in r and r["ours"] < r["nnnoiseless"] - 0.05:
                bad.append(f"{r['rate']} Hz {r['noise']} {r['snr']:g} dB: ours {r['ours']:.2f} < nnnoiseless {r['nnnoiseless']:.2f} - 0.05")
            if "ours" in r and r["ours"] <= r["noisy"]:
                bad.append(f"{r['rate']} Hz {r['noise']} {r['snr']:g} dB: ours {r['ours']:.2f} <= unprocessed {r['noisy']:.2f}")
        for b in bad:
            print(b, file=sys.stderr)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
