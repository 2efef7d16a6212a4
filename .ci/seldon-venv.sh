#!/usr/bin/env bash
# Creates <repo>/.venv-seldon: a Python 3.12 venv with the Seldon Core v1 microservice
# (seldon-core needs Python >= 3.12 and numpy < 2, so it cannot share the main venv).
# The Deployments tests find it through $SELDON_VENV or <repo>/.venv-seldon.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SELDON_VENV:-$ROOT/.venv-seldon}"
PY312="${PYTHON312:-}"
if [ -z "$PY312" ]; then
  for cand in "$HOME/.pyenv/versions/3.12.1/bin/python" "$(command -v python3.12 || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then PY312="$cand"; break; fi
  done
fi
if [ -z "$PY312" ]; then
  echo "seldon-venv: no Python 3.12 found (set PYTHON312)" >&2
  exit 1
fi
if [ -x "$VENV/bin/seldon-core-microservice" ] && "$VENV/bin/python" -c "import seldon_core, sklearn, joblib" 2>/dev/null; then
  echo "seldon-venv: $VENV ready"
  exit 0
fi
"$PY312" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "seldon-core==1.19.0" "scikit-learn" "joblib"
"$VENV/bin/python" -c "import seldon_core, sklearn, numpy; print('seldon-venv: seldon-core', seldon_core.__version__ if hasattr(seldon_core, '__version__') else '', 'numpy', numpy.__version__)"
