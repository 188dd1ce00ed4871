#!/usr/bin/env bash
# Ensures the Debian packages the tests and the gateway need are installed.
# As root (CI) it installs what is missing; otherwise it prints the exact command and fails.
# Each argument is CHECK:PACKAGE, where CHECK is a command name, or py-venv for Python's venv.
set -euo pipefail
python=${PYTHON:-python3}
missing=()
for pair in "$@"; do
  check=${pair%%:*}
  package=${pair#*:}
  case "$check" in
    py-venv) "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("$package") ;;
    *) command -v "$check" >/dev/null 2>&1 || missing+=("$package") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "These Debian packages are needed. Run, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
