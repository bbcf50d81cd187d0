#!/usr/bin/env bash
# Renders docs/editor.png: runs the standalone build (dummy audio backend) under Xvfb with Mesa's
# software OpenGL, grabs the screen with xwd and crops it to the editor window with ImageMagick.
# Installs what is missing (Debian packages). Not part of the test suite: the editor's headless
# test is tests/editor_ui.rs, which needs none of this.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libasound2-dev libjack-jackd2-dev xvfb x11-apps imagemagick libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cargo build --release --features standalone --bin loadline-standalone

W=1120
H=700
DISPLAY_NUM=:97
Xvfb "$DISPLAY_NUM" -screen 0 "$((W + 40))x$((H + 40))x24" >/dev/null 2>&1 &
XVFB_PID=$!
trap 'kill "$APP_PID" 2>/dev/null || true; kill "$XVFB_PID" 2>/dev/null || true' EXIT
sleep 1
DISPLAY="$DISPLAY_NUM" LIBGL_ALWAYS_SOFTWARE=1 ./target/release/loadline-standalone --backend dummy >/tmp/loadline-standalone.log 2>&1 &
APP_PID=$!
sleep "${SCREENSHOT_WAIT_S:-6}"
DISPLAY="$DISPLAY_NUM" xwd -root -silent > /tmp/loadline-editor.xwd
# The window opens at the top-left corner of the empty screen.
convert /tmp/loadline-editor.xwd -crop "${W}x${H}+0+0" +repage docs/editor.png
echo "wrote docs/editor.png"
