#!/usr/bin/env bash
# Installs the real servers the test suite starts on 127.0.0.1 (PostgreSQL, Redis) and the
# MIDI renderer of the audio evaluation set (fluidsynth + the GM soundfont) and a Java runtime
# for Spark when missing.
# Needs root (or passwordless sudo) on Debian/Ubuntu; elsewhere install them by hand.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The "real music" evaluation set is rendered from MIDI through a General MIDI soundfont.
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
# `audotics train --engine spark` and its tests run Spark, a JVM (pyspark 4 needs Java 17+).
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "missing system packages: ${need[*]} (run as root or install them)" >&2; exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${need[*]} (no apt-get here; install them by hand)" >&2; exit 1
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
