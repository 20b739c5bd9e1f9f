#!/usr/bin/env bash
# Set up on a fresh Debian/Ubuntu machine and run the main job on the virtual device.
#   ./run.sh                      runs the sample suite (scenarios/samples.yaml) into runs/<timestamp>,
#                                 one app per CPU core; runs/latest points at it
#   ./run.sh SCENARIO [ARGS...]   runs `exerciser run SCENARIO ARGS...`
set -euo pipefail
cd "$(dirname "$0")"
need=""
for tool in tesseract ffmpeg adb aapt redis-server chromium; do
  command -v "$tool" >/dev/null || need=1
done
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || need=1
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # What the main job needs (OCR, CJK fonts, video, adb), and what the tests need besides (aapt, redis, chromium).
  $SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng fonts-noto-cjk adb ffmpeg \
    aapt redis-server chromium libgl1 libglib2.0-0 >/dev/null
fi
# (re)install when there is no venv yet, or the dependencies changed since the last install
if [ ! -x .venv/bin/exerciser ] || [ pyproject.toml -nt .venv/.installed ]; then
  [ -d .venv ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi
if [ $# -eq 0 ]; then
  # A run never overwrites another: each gets its own folder.
  out="runs/$(date +%Y%m%d-%H%M%S)"
  mkdir -p runs && ln -sfn "$(basename "$out")" runs/latest
  set -- scenarios/samples.yaml --out "$out" --jobs 0
fi
# Exit status of `exerciser run`: 0 all compliant, 1 a violation was found, 2 tool or input error.
exec .venv/bin/exerciser run "$@"
