#!/usr/bin/env bash
# Builds the Python wheel with jsii-pacmak, installs it into a fresh virtualenv the way a user
# would (pip, dependencies from PyPI) and synthesizes examples/python with `cdk8s synth`.
# Usage: bash scripts/python-example.sh   (or: npx projen synth:example:python)
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
repo=$PWD
venv="$repo/${EXAMPLE_VENV:-.venv-example}"

# package:python packs the compiled .jsii assembly, so compile first
npx projen compile
rm -rf dist/python
npx projen package:python
wheels=(dist/python/*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
  echo "expected one wheel in dist/python, found ${#wheels[@]}" >&2
  exit 1
fi

rm -rf "$venv"
python3 -m venv "$venv"

# pin cdk8s, cdk8s-plus-27 and constructs to the versions the TypeScript example runs on, so a
# YAML difference between the two examples comes from our bindings and not from version drift
constraints="$venv/constraints.txt"
node -e '
  const fs = require("fs");
  for (const name of ["cdk8s", "cdk8s-plus-27", "constructs"]) {
    const pkg = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8"));
    console.log(`${name}==${pkg.version}`);
  }
' > "$constraints"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
  --constraint "$constraints" "${wheels[0]}"

# a user activates the virtualenv and runs cdk8s synth; the app line in cdk8s.yaml is python3
cd examples/python
rm -rf dist
PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" npx cdk8s synth --no-check-upgrade
for f in dist/*.yaml; do echo "YAML written to examples/python/$f"; done
