#!/usr/bin/env bash
# make demo: start the local sandbox, converge the demo tenant, converge it again
# to show nothing changes, and leave the sandbox running.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${SANDBOX_PORT:-4566}"
TIME_SCALE="${SANDBOX_TIME_SCALE:-0.002}"

echo "==> Starting the sandbox (AWS on 127.0.0.1:${PORT}, time scale ${TIME_SCALE})"
$BIN/python -m sandbox start --port "$PORT" --time-scale "$TIME_SCALE"
$BIN/python -m sandbox reset --port "$PORT" >/dev/null

mark=$($BIN/python -c "from sandbox.client import SandboxClient as C; print(C(port=$PORT).log_mark())")
echo "==> Converging the demo tenant (inventories/demo)"
$BIN/ansible-playbook site.yml -i inventories/demo

echo "==> Converging again: nothing should change"
$BIN/ansible-playbook site.yml -i inventories/demo | tee /tmp/demo-second-run.$$ | tail -n 4
rm -f /tmp/demo-second-run.$$

echo "==> AWS calls made by the demo (from the sandbox request log)"
$BIN/python - "$PORT" "$mark" <<'PY'
import sys
from sandbox.client import SandboxClient
stats = SandboxClient(port=int(sys.argv[1])).stats(int(sys.argv[2]))
print(f"  {stats['total']} calls, {stats['mutating']} mutating")
for operation, count in stats["by_operation"].items():
    print(f"  {count:4d}  {operation}")
PY
echo
echo "The sandbox keeps running on http://127.0.0.1:${PORT}; stop it with:"
echo "  .venv/bin/python -m sandbox stop --port ${PORT}"
