#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium and its WebDriver, and axe-core (the
# npm package pinned in tests/browser/package.json and package-lock.json, for
# test_accessibility.py) into tests/browser/node_modules. Idempotent (installs only what is
# missing) and non-interactive; needs root or sudo for apt-get. The Python side (selenium)
# comes from pyproject.toml via bin/setup.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver already installed"
else
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
  chromium --version
  /usr/bin/chromedriver --version
fi
# axe-core, exactly as locked (npm ci), without running any package script.
wanted="$(sed -n 's/.*"axe-core": "\(.*\)".*/\1/p' "$here/package.json")"
installed="$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$here/node_modules/axe-core/package.json" 2>/dev/null | head -1 || true)"
if [ "$installed" = "$wanted" ]; then
  echo "axe-core $installed already installed"
else
  if ! command -v npm >/dev/null 2>&1; then
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "axe-core $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$here/node_modules/axe-core/package.json" | head -1) installed"
fi
