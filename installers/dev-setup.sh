#!/usr/bin/env bash
# Set up a development/test environment from scratch: .venv with bbj-coder and every extra the
# test suite needs. Safe to re-run. llama-cpp-python ships as source only, so its wheel is built
# once (about 5-10 minutes on 2 cores) into a wheelhouse and reused on every later run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
LLAMA_VERSION="0.3.36"
WHEELHOUSE="${BBJ_CODER_WHEELHOUSE:-$HOME/.cache/bbj-coder-ci/wheels}"

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip

mkdir -p "$WHEELHOUSE"
if ! ls "$WHEELHOUSE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "Building llama-cpp-python $LLAMA_VERSION once (cached in $WHEELHOUSE)..."
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
        .venv/bin/python -m pip wheel --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELHOUSE"
fi

.venv/bin/python -m pip install --quiet --find-links "$WHEELHOUSE" -e ".[dev,train]"
echo "Ready: .venv/bin/bbj-coder --help"
