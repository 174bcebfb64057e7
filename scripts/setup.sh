#!/usr/bin/env bash
# Installs what media-core's build and tests need beyond cargo and a C compiler, on a Debian
# machine of this project's kind. Idempotent: installed packages are skipped.
#   scripts/setup.sh          everything the tests need (judges, reference libraries, speech)
#   scripts/setup.sh --run    only what `mediacore` itself needs to build
set -euo pipefail
cd "$(dirname "$0")/.."

run_pkgs=(cmake pkg-config)
test_pkgs=(
  ffmpeg sox opus-tools
  libspandsp-dev libsoxr-dev libspeexdsp-dev
  asterisk-core-sounds-en-wav asterisk-core-sounds-en-g722 codec2-examples
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
)
pkgs=("${run_pkgs[@]}")
[ "${1:-}" = "--run" ] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python judges (PESQ, STOI) in a project-local virtual environment.
if [ "${1:-}" != "--run" ]; then
  if ! .venv/bin/python -c "import pesq, numpy, soundfile, pystoi, webrtcvad" 2>/dev/null; then
    echo "setup: creating .venv with pesq, pystoi, numpy, soundfile, webrtcvad-wheels" >&2
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check pesq pystoi numpy soundfile webrtcvad-wheels
  fi
fi
