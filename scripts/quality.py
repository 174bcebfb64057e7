#!/usr/bin/env python3
"""PESQ (ITU-T P.862) of `mediacore transcode` on real recorded speech, per codec and loss rate.

Speech: Debian's asterisk-core-sounds-en-wav (one female speaker, 8 kHz), codec2-examples (several
speakers, 8 kHz), and asterisk-core-sounds-en-g722 decoded to 16 kHz for wideband. Narrowband
PESQ for 8 kHz codecs, wideband (P.862.2) for 16 kHz and up. Loss is random with fixed seeds,
averaged over seeds and items.

  quality.py --mediacore target/release/mediacore                 # markdown table
  quality.py --mediacore BIN --json                               # JSON
  quality.py --mediacore BIN --check media-cli/tests/quality-floors.json   # exit 1 below a floor
"""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np
import soundfile as sf
from pesq import pesq

ALLISON = "/usr/share/asterisk/sounds/en_US_f_Allison"
CODEC2 = "/usr/share/codec2/wav"
ALLISON_PROMPTS = ["vm-intro", "vm-options", "conf-onlyperson", "vm-instructions", "privacy-prompt"]
CODEC2_ITEMS = [["hts1a", "hts2a", "mmt1"], ["cross", "morig", "forig", "big_dog"], ["david4"]]

# codec -> (extra mediacore args, PESQ rate, mode)
CODECS = {
    "pcmu": ([], 8000, "nb"),
    "pcma": ([], 8000, "nb"),
    "ilbc": ([], 8000, "nb"),
    "g722": ([], 16000, "wb"),
    "opus": (["--bitrate", "24000"], 16000, "wb"),
    # The same settings through ffmpeg's libopus encoder (Debian's libopus 1.3.1), its packets
    # then lost and recovered by our receiver exactly as ours are: judges our encoder setup.
    "opus-ffmpeg": (None, 16000, "wb"),
}


def read(path, rate):
    x, fs = sf.read(path, dtype="int16")
    if x.ndim > 1:
        x = x.mean(axis=1).astype(np.int16)
    if fs != rate:
        raise SystemExit(f"{path}: {fs} Hz, expected {rate}")
    return x


def silence(rate, ms=300):
    return np.zeros(rate * ms // 1000, dtype=np.int16)


def corpus(tmp):
    """Returns {rate: [wav paths]} of 8-14 s speech items."""
    items = {8000: [], 16000: []}
    parts = []
    for p in ALLISON_PROMPTS:
        parts += [read(f"{ALLISON}/{p}.wav", 8000), silence(8000)]
    path = os.path.join(tmp, "allison-nb.wav")
    sf.write(path, np.concatenate(parts)[: 8000 * 14], 8000, subtype="PCM_16")
    items[8000].append(path)
    for i, names in enumerate(CODEC2_ITEMS):
        x = np.concatenate([np.concatenate([read(f"{CODEC2}/{n}.wav", 8000), silence(8000)]) for n in names])
        path = os.path.join(tmp, f"codec2-{i}.wav")
        sf.write(path, x[: 8000 * 12], 8000, subtype="PCM_16")
        items[8000].append(path)
    # Wideband: the G.722 prompts, decoded by ffmpeg (the reference is then G.722-band-limited
    # speech; every codec is scored against the same reference).
    parts = []
    for p in ALLISON_PROMPTS:
        raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "g722", "-i", f"{ALLISON}/{p}.g722",
                              "-f", "s16le", "-ar", "16000", "-"], check=True, capture_output=True).stdout
        parts += [np.frombuffer(raw, dtype=np.int16), silence(16000)]
    path = os.path.join(tmp, "allison-wb.wav")
    sf.write(path, np.concatenate(parts)[: 16000 * 14], 16000, subtype="PCM_16")
    items[16000].append(path)
    return items


def score(binary, codec, loss, seeds, items, tmp):
    args, rate, mode = CODECS[codec]
    scores = []
    for ref in items[rate]:
        for seed in seeds if loss > 0 else [1]:
            out = os.path.join(tmp, "deg.wav")
            if codec == "opus-ffmpeg":
                enc = os.path.join(tmp, "ff.opus")
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", ref, "-c:a", "libopus", "-b:a", "24k",
                                "-fec", "1", "-packet_loss", str(loss), "-frame_duration", "20",
                                "-application", "voip", enc], check=True, capture_output=True)
                cmd = [binary, "decode", "--codec", "opus", "--rate", str(rate)]
                if loss > 0:
                    cmd += ["--loss", str(loss), "--seed", str(seed)]
                subprocess.run(cmd + [enc, out], check=True, capture_output=True)
            else:
                cmd = [binary, "transcode", "--codec", codec, *args, "--rate", str(rate)]
                if loss > 0:
                    cmd += ["--loss", str(loss), "--seed", str(seed)]
                subprocess.run(cmd + [ref, out], check=True, capture_output=True)
            r, d = read(ref, rate), read(out, rate)
            n = min(len(r), len(d))
            scores.append(pesq(rate, r[:n], d[:n], mode))
    return float(np.mean(scores))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mediacore", required=True)
    ap.add_argument("--codecs", default=None, help="comma list (default: every codec this build has)")
    ap.add_argument("--losses", default="0,5,10,20")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", help="JSON {codec: {loss: floor}}; exit 1 if any score is below")
    a = ap.parse_args()
    have = {c["name"] for c in json.loads(subprocess.run([a.mediacore, "codecs", "--json"], check=True,
                                                          capture_output=True).stdout)}
    if "opus" in have:
        have.add("opus-ffmpeg")
    floors = json.load(open(a.check)) if a.check else None
    if a.codecs:
        codecs = a.codecs.split(",")
    elif floors:
        codecs = [c for c in floors if c in have]
    else:
        codecs = [c for c in CODECS if c in have]
    losses = [int(x) for x in a.losses.split(",")]
    if floors:
        losses = sorted({int(l) for c in codecs for l in floors[c]})
    seeds = [int(s) for s in a.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        items = corpus(tmp)
        table = {c: {l: score(a.mediacore, c, l, seeds, items, tmp) for l in losses} for c in codecs}
    if a.json:
        print(json.dumps(table))
    else:
        print("| codec | PESQ | " + " | ".join(f"{l}% loss" for l in losses) + " |")
        print("|---|---|" + "---|" * len(losses))
        for c in codecs:
            mode = "WB" if CODECS[c][2] == "wb" else "NB"
            print(f"| {c} | {mode} | " + " | ".join(f"{table[c][l]:.2f}" for l in losses) + " |")
    if floors:
        bad = [(c, l, table[c][int(l)], f) for c in codecs for l, f in floors[c].items() if table[c][int(l)] < f]
        for c, l, s, f in bad:
            print(f"{c} at {l}% loss: PESQ {s:.2f} below floor {f}", file=sys.stderr)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
