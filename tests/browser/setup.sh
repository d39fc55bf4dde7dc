#!/usr/bin/env bash
# Install what the browser test needs: Debian's Chromium and its WebDriver. Idempotent (does
# nothing when both are present) and non-interactive; needs root or sudo for apt-get. The
# Python side (selenium) comes from pyproject.toml via bin/setup.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver already installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
chromium --version
/usr/bin/chromedriver --version
