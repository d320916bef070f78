#!/usr/bin/env bash
# make demo: start the local sandbox, converge the demo tenant from nothing, converge it
# again to show that nothing changes (and that only read calls are made), and leave the
# sandbox running. With Debian's samba packages installed the directory is a real Samba AD DC.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${SANDBOX_PORT:-4566}"
TIME_SCALE="${SANDBOX_TIME_SCALE:-0.002}"
LOG_DIR="${DEMO_LOG_DIR:-.sandbox}"
mkdir -p "$LOG_DIR"

stats() {  # stats <mark>: calls since the mark, from the sandbox's request log
  $BIN/python - "$PORT" "$1" <<'PY'
import sys
from sandbox.client import SandboxClient
calls = SandboxClient(port=int(sys.argv[1])).log(int(sys.argv[2]))
# The tenant's lock lives in the toolkit state store (DynamoDB): the run's bookkeeping, counted apart.
tenant = [c for c in calls if c["service"] != "dynamodb"]
mutating = sum(1 for c in tenant if c["mutating"])
print(f"{len(tenant)} AWS calls, {mutating} mutating (and {len(calls) - len(tenant)} for the tenant's lock)")
PY
}
mark() { $BIN/python -c "from sandbox.client import SandboxClient as C; print(C(port=$PORT).log_mark())"; }

echo "==> Starting the sandbox (AWS on 127.0.0.1:${PORT}, time scale ${TIME_SCALE})"
$BIN/python -m sandbox start --port "$PORT" --time-scale "$TIME_SCALE"
$BIN/python -m sandbox reset --port "$PORT" >/dev/null
if [ "$($BIN/python -c "from sandbox.client import SandboxClient as C; print(C(port=$PORT).health()['samba'])")" = "True" ]; then
  echo "    directories are real Samba AD DCs: the LDAP/SMB stages run for real"
else
  echo "    no Samba installed: the LDAP/SMB stages will be skipped (apt-get install samba samba-ad-dc smbclient winbind krb5-user)"
fi

inventory="$LOG_DIR/demo-inventory"
rm -rf "$inventory" && cp -r inventories/demo "$inventory"
sed -i "s#http://127.0.0.1:4566#http://127.0.0.1:${PORT}#" "$inventory/host_vars/demo/aws.yml"

echo "==> Bootstrapping the account: the toolkit state store for tenant locks and history (log: $LOG_DIR/demo-bootstrap.log)"
if ! $BIN/ansible-playbook playbooks/bootstrap.yml -i "$inventory" > "$LOG_DIR/demo-bootstrap.log" 2>&1; then
  tail -n 40 "$LOG_DIR/demo-bootstrap.log"
  echo "bootstrap failed; full log in $LOG_DIR/demo-bootstrap.log" >&2
  exit 1
fi

echo "==> Converging the demo tenant from nothing (log: $LOG_DIR/demo-converge.log)"
first=$(mark)
started=$(date +%s)
if ! $BIN/ansible-playbook site.yml -i "$inventory" > "$LOG_DIR/demo-converge.log" 2>&1; then
  tail -n 40 "$LOG_DIR/demo-converge.log"
  echo "demo converge failed; full log in $LOG_DIR/demo-converge.log" >&2
  exit 1
fi
echo "    done in $(( $(date +%s) - started )) s, $(stats "$first")"
sed -n '/TASK \[Show what the tenant is made of/,/^$/p' "$LOG_DIR/demo-converge.log" | sed -n '/msg:/,$p'
grep -A1 "PLAY RECAP" "$LOG_DIR/demo-converge.log" | tail -n 1

echo "==> Converging again: nothing should change"
second=$(mark)
$BIN/ansible-playbook site.yml -i "$inventory" > "$LOG_DIR/demo-second.log" 2>&1
grep -A1 "PLAY RECAP" "$LOG_DIR/demo-second.log" | tail -n 1
echo "    $(stats "$second")"

echo
echo "The sandbox keeps running on http://127.0.0.1:${PORT} (inventory: $inventory)."
echo "Try: .venv/bin/ansible-playbook site.yml -i $inventory --check --diff"
echo "Stop it with: .venv/bin/python -m sandbox stop --port ${PORT}"
