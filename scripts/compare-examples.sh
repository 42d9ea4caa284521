#!/usr/bin/env bash
# Fails, printing a unified diff, unless two synthesized example folders hold byte-identical
# YAML files under the same names. Usage: compare-examples.sh EXPECTED_DIR ACTUAL_DIR
set -euo pipefail
shopt -s nullglob
expected=${1:?usage: compare-examples.sh EXPECTED_DIR ACTUAL_DIR}
actual=${2:?usage: compare-examples.sh EXPECTED_DIR ACTUAL_DIR}

for dir in "$expected" "$actual"; do
  files=("$dir"/*.yaml)
  if [ "${#files[@]}" -eq 0 ]; then
    echo "no synthesized YAML in $dir: run its synth first" >&2
    exit 1
  fi
done

if ! diff -ru "$expected" "$actual"; then
  echo "examples differ: $actual does not match $expected (diff above)" >&2
  exit 1
fi
echo "examples match: $expected and $actual hold the same YAML"
