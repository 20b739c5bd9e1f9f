#!/usr/bin/env bash
# Set up on a fresh Debian/Ubuntu machine and run the main job on the virtual device.
#   ./run.sh                      runs the sample suite (scenarios/samples.yaml) into runs/latest
#   ./run.sh SCENARIO [ARGS...]   runs `exerciser run SCENARIO ARGS...`
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v tesseract >/dev/null || ! command -v ffmpeg >/dev/null || ! command -v adb >/dev/null \
   || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng fonts-noto-cjk adb ffmpeg \
    aapt redis-server >/dev/null
fi
if [ ! -x .venv/bin/exerciser ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
fi
if [ $# -eq 0 ]; then
  set -- scenarios/samples.yaml --out runs/latest
fi
# Exit status of `exerciser run`: 0 all compliant, 1 a violation was found, 2 tool or input error.
exec .venv/bin/exerciser run "$@"
