#!/usr/bin/env python3
"""Frame accuracy of our VAD beside webrtcvad (PyPI webrtcvad-wheels, modes 0-3) on labelled mixes.

The mixes, labels and our decisions come from media-bench (`eval::write_vad_set`, run by the
`vad_sweep` example and by media-bench/tests/stage_quality.rs) as a manifest.json: a list of
{rate, item, noise, snr, wav, labels, ours}, labels and ours one '0'/'1' per 10 ms frame.
webrtcvad judges the same 16-bit WAV frame by frame (10 ms). Accuracy is the fraction of frames
whose decision equals the label, pooled over items and noises; webrtcvad's figure is its best
mode for that row (the mode is chosen after seeing the result, in its favour).

  vad_judge.py MANIFEST                 # markdown tables
  vad_judge.py MANIFEST --json          # JSON
  vad_judge.py MANIFEST --check         # exit 1 if ours < webrtcvad's best at any SNR (pooled
                                        # over rates and noises); per-rate and per-noise
                                        # shortfalls are warned
  vad_judge.py MANIFEST --check --strict   # per-rate shortfalls fail too
"""
import argparse, json, sys
from collections import defaultdict

import numpy as np
import soundfile as sf
import webrtcvad


def webrtc_decisions(path, rate, mode):
    x, fs = sf.read(path, dtype="int16")
    assert fs == rate, (path, fs, rate)
    v = webrtcvad.Vad(mode)
    fl = rate // 100
    n = len(x) // fl
    return [v.is_speech(x[i * fl:(i + 1) * fl].tobytes(), rate) for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    cases = json.load(open(a.manifest))
    # (rate, snr) -> [correct_ours, correct_mode0..3, frames]; also by (noise, snr) and snr.
    rows = {k: defaultdict(lambda: np.zeros(6)) for k in ("rate", "noise", "all")}
    for c in cases:
        lab = np.array([ch == "1" for ch in c["labels"]])
        ours = np.array([ch == "1" for ch in c["ours"]])
        webs = [np.array(webrtc_decisions(c["wav"], c["rate"], m)) for m in range(4)]
        n = min(len(lab), len(ours), *(len(w) for w in webs))
        acc = [np.sum(ours[:n] == lab[:n])] + [np.sum(w[:n] == lab[:n]) for w in webs] + [n]
        snr = float(c["snr"])
        rows["rate"][(c["rate"], snr)] += acc
        rows["noise"][(c["noise"], snr)] += acc
        rows["all"][("all", snr)] += acc
    out = {}
    for kind, table in rows.items():
        out[kind] = []
        for (key, snr), v in sorted(table.items()):
            ours = v[0] / v[5]
            modes = [v[1 + m] / v[5] for m in range(4)]
            best = int(np.argmax(modes))
            out[kind].append({"key": key, "snr": snr, "ours": ours, "webrtcvad": modes,
                              "best_mode": best, "best": modes[best], "frames": int(v[5])})
    if a.json:
        print(json.dumps(out))
    else:
        for kind, title in (("all", "all rates and noises"), ("rate", "per rate"), ("noise", "per noise")):
            print(f"\nVAD frame accuracy, {title}\n")
            print("| | SNR dB | ours | webrtcvad best (mode) | mode 0 | mode 1 | mode 2 | mode 3 | frames |")
            print("|---|---|---|---|---|---|---|---|---|")
            for r in out[kind]:
                m = " | ".join(f"{x:.3f}" for x in r["webrtcvad"])
                print(f"| {r['key']} | {r['snr']:g} | **{r['ours']:.3f}** | {r['best']:.3f} ({r['best_mode']}) | {m} | {r['frames']} |")
    if a.check:
        warn = out["noise"] + ([] if a.strict else out["rate"])
        for r in warn:
            if r["ours"] < r["best"]:
                print(f"warning: VAD at {r['key']} / {r['snr']:g} dB: ours {r['ours']:.3f} below webrtcvad "
                      f"{r['best']:.3f}", file=sys.stderr)
        bad = [r for r in out["all"] + (out["rate"] if a.strict else []) if r["ours"] < r["best"]]
        for r in bad:
            print(f"VAD at {r['key']} / {r['snr']:g} dB: ours {r['ours']:.3f} below webrtcvad {r['best']:.3f}",
                  file=sys.stderr)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
