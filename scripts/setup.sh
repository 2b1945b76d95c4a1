#!/usr/bin/env bash
# Set up everything dnnlens needs, skipping what is already there.
#   scripts/setup.sh        Python venv (.venv) + requirements.txt   (enough to run the dashboard)
#   scripts/setup.sh --dev  the same + requirements-dev.txt + Debian packages in packages-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PYTHON=${PYTHON:-python3}
VENV=.venv

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages (tests need Festival for synthesis and Chromium for browser tests).
if [ "$DEV" = 1 ]; then
  missing=()
  while read -r pkg; do
    pkg=${pkg%%#*}; pkg=$(echo "$pkg" | xargs)
    [ -z "$pkg" ] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < packages-dev.txt
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages (packages-dev.txt): all present"
  else
    if [ "$(id -u)" = 0 ]; then
      say "apt: installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "these Debian packages are missing: ${missing[*]}"
      say "install them as root, then run this again:"
      say "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
fi

# 2. The virtual environment.
if [ ! -x "$VENV/bin/python" ]; then
  say "venv: creating $VENV with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
else
  say "venv: $VENV present ($("$VENV/bin/python" --version 2>&1))"
fi

# 3. Python packages, reinstalled only when a requirements file changed.
install_req() {
  local file=$1 stamp="$VENV/.stamp-$(basename "$1")"
  local sum; sum=$(sha256sum "$file" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    say "pip: installing $file (the first time takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$file"
    echo "$sum" > "$stamp"
  else
    say "pip: $file already installed"
  fi
}
install_req requirements.txt
[ "$DEV" = 1 ] && install_req requirements-dev.txt
say "ready"
