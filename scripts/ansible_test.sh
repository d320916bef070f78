#!/usr/bin/env bash
# ansible-test on the collection iconeus.tenant_toolkit (the repository root: galaxy.yml): it is
# built with ansible-galaxy, installed into a throw-away ansible_collections tree, and
# `ansible-test sanity --local` or `ansible-test units --local` runs on what was installed, unchanged.
#
# ansible-test puts each sanity test in a virtual environment of its own, installs its pinned
# requirements there, and bootstraps pip with a get-pip script it downloads from
# ci-files.testing.ansible.com, which these machines cannot reach. The script therefore:
#   - checks that requirements-sanity.txt carries exactly ansible-test's pins (and its pip);
#   - downloads those wheels from PyPI once into a wheelhouse (a cache outside the repository,
#     keyed by the file's hash);
#   - puts a stand-in for the get-pip script where ansible-test looks for its cached copy: it
#     installs pip with `ensurepip`, points the new environment's pip at the wheelhouse and nothing
#     else (pip.conf in the environment) and installs the pip version ansible-test asked for.
# After the first run the sanity run is offline.
#
# Usage: scripts/ansible_test.sh sanity|units [extra ansible-test arguments, e.g. --test validate-modules]
# Environment: TENANT_SANITY_CACHE (default ~/.cache/tenant-toolkit/sanity); KEEP_SANITY_TREE=1
# keeps the generated collection and prints its path.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
command=${1:-}
case "$command" in
  sanity|units) shift ;;
  *) echo "usage: $0 sanity|units [ansible-test arguments]" >&2; exit 2 ;;
esac
python=${SANITY_PYTHON:-$repo/.venv/bin/python}
ansible_test=$(dirname "$python")/ansible-test
[ -x "$ansible_test" ] || { echo "ansible_test.sh: $ansible_test not found; run 'make setup' first" >&2; exit 2; }

python_version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site_packages=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# Tests skipped on purpose, each with its reason (none needs the network once the wheelhouse
# exists, so none is skipped for that). Everything else ansible-test 2.19 has runs; tests without
# targets in plugins/ (changelog, integration-aliases, pslint, shellcheck) report nothing to do.
skips=()

# --- ansible-test's own pins, checked against requirements-sanity.txt -------------------------
# The pip ansible-test bootstraps is its get_venv_packages() pin; the sanity requirements are its
# _data/requirements/sanity.<test>.txt files. A drift (after an ansible-core bump) stops here with
# the lines to copy, rather than as an offline pip failure deep inside ansible-test.
pin_check=$(cat <<'PY'
import pathlib, re, sys

ansible_test = pathlib.Path(sys.argv[1], "ansible_test")
source = (ansible_test / "_internal/python_requirements.py").read_text()
pip = re.search(r"default_packages = dict\(\s*pip='([^']+)'", source).group(1)


def pins(text):
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.strip().lower()] = (name.strip(), version.strip())
    return found


wanted = {"pip": ("pip", pip)}
for path in sorted((ansible_test / "_data/requirements").glob("sanity.*.txt")):
    # Tests with no target in plugins/ never build their environment.
    if path.name not in ("sanity.changelog.txt", "sanity.integration-aliases.txt"):
        wanted.update(pins(path.read_text()))
have = pins(pathlib.Path(sys.argv[2]).read_text())
drift = sorted(f"{name}=={version}" for key, (name, version) in wanted.items() if have.get(key, ("", ""))[1] != version)
if drift:
    sys.exit("sanity: requirements-sanity.txt does not match this ansible-test; it needs:\n  " + "\n  ".join(drift))
print(pip)
PY
)
pip_version=$("$python" -c "$pin_check" "$site_packages" "$repo/requirements-sanity.txt")

# --- wheelhouse from requirements-sanity.txt ---------------------------------------------------
cache=${TENANT_SANITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenant-toolkit/sanity}
req_hash=$(sha256sum "$repo/requirements-sanity.txt" | cut -c1-12)
wheelhouse=$cache/wheels-$req_hash
if [ ! -e "$wheelhouse/.complete" ]; then
  echo "sanity: downloading the pinned sanity requirements into $wheelhouse"
  rm -rf "$wheelhouse.tmp"
  mkdir -p "$wheelhouse.tmp"
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --python-version "$python_version" -d "$wheelhouse.tmp" -r "$repo/requirements-sanity.txt"
  touch "$wheelhouse.tmp/.complete"
  rm -rf "$wheelhouse"
  mv "$wheelhouse.tmp" "$wheelhouse"
  # Wheelhouses of earlier pins are no longer used (an hour's grace for a run still using one).
  find "$cache" -maxdepth 1 -name 'wheels-*' ! -name "wheels-$req_hash*" -mmin +60 -exec rm -rf {} +
fi

# --- stand-in for ansible-test's downloaded get-pip script --------------------------------------
# ansible-test looks for ~/.ansible/test/cache/get_pip_<pip version with underscores>.py
# (ansible_test/_util/target/setup/requirements.py) before downloading it.
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
marker="# tenant-toolkit get-pip stand-in"
if [ ! -e "$get_pip" ] || grep -qF "$marker" "$get_pip"; then
  mkdir -p "$(dirname "$get_pip")"
  cat > "$get_pip.tmp" <<EOF
$marker (written by scripts/ansible_test.sh; delete it to let ansible-test download the real one).
# Called as: python get_pip.py [pip options] pip==<version> --no-setuptools --no-wheel
import os
import subprocess
import sys

WHEELHOUSE = "$wheelhouse"


def main():
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    if os.path.exists(os.path.join(WHEELHOUSE, ".complete")):
        # Every later install into this environment (ansible-test's pinned sanity requirements)
        # comes from the wheelhouse built from requirements-sanity.txt, and from nowhere else.
        with open(os.path.join(sys.prefix, "pip.conf"), "w") as handle:
            handle.write("[global]\nno-index = true\nfind-links = %s\n" % WHEELHOUSE)
    packages = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if packages:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages]
        if subprocess.run(command).returncode:
            sys.stderr.write("get-pip stand-in: could not install %s, keeping the pip from ensurepip\n" % packages)


main()
EOF
  mv "$get_pip.tmp" "$get_pip"
else
  echo "sanity: $get_pip exists and is not ours; ansible-test will use it as it is"
fi

# --- the collection, built and installed as users get it --------------------------------------
# ansible-test works inside <path>/ansible_collections/<namespace>/<name>/. The repository root is the
# collection (galaxy.yml), so it is built with ansible-galaxy (build_ignore leaves the playbook project
# out) and installed into a throw-away tree: what is tested is exactly what ships, unchanged.
work=$(mktemp -d "${TMPDIR:-/tmp}/tenant-sanity.XXXXXX")
if [ "${KEEP_SANITY_TREE:-0}" = 1 ]; then
  trap 'echo "sanity: collection kept in $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
galaxy=$(dirname "$python")/ansible-galaxy
"$galaxy" collection build "$repo" --output-path "$work/dist" >/dev/null
# --no-deps: the collections it depends on come from the pinned ansible bundle, linked in below.
ANSIBLE_COLLECTIONS_PATH="$work" "$galaxy" collection install "$work"/dist/*.tar.gz --no-deps --force -p "$work" >/dev/null
root=$work/ansible_collections
collection=$root/$("$python" -c 'import sys, yaml; g = yaml.safe_load(open(sys.argv[1])); print(g["namespace"] + "/" + g["name"])' "$repo/galaxy.yml")

# Collections the plugins use (doc fragments, module_utils), from the pinned ansible bundle.
for dep in amazon/aws ansible/windows microsoft/ad community/aws community/general community/windows; do
  mkdir -p "$root/$(dirname "$dep")"
  ln -s "$site_packages/ansible_collections/$dep" "$root/$dep"
done

cd "$collection"
started=$(date +%s)
status=0
if [ "$command" = sanity ]; then
  "$ansible_test" sanity --local --python "$python_version" --color no ${skips[@]+"${skips[@]}"} "$@" || status=$?
else
  # tests/unit/plugins/{module_utils,modules} run in ansible-test's restricted module context (no
  # controller code), the others in the controller context: the collection's own unit tests.
  "$ansible_test" units --local --python "$python_version" --color no "$@" || status=$?
fi
echo "$command: finished in $(($(date +%s) - started)) s with status $status"
exit "$status"
