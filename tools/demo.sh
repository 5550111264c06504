#!/bin/sh
# The demo: builds, starts the example provider under schemerun (which
# starts a broker), runs unmodified programs against it, and stops both.
# Installs what it needs first.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

B=$PWD/build/bin
dir=$(mktemp -d)
export SCHEME_SOCKET="$dir/socket"
cd "$dir"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show() { say "$*"; PATH="$B:$PATH" sh -c "$*"; }

say "schemerun scheme-memfs hello &"
"$B/schemerun" "$B/scheme-memfs" hello &
provider=$!
trap 'kill $provider 2>/dev/null; "$B/schemectl" stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
until "$B/schemectl" list 2>/dev/null | grep -qx hello; do sleep 0.1; done

show "schemerun cat hello:world"
show "schemerun bash -c 'echo hi > hello:x; cat < hello:x'"
show "schemerun python3 -c 'print(open(\"hello:world\").read(), end=\"\")'"
show "schemerun cat :"
show "schemerun cat /scheme/hello/"
show "schemerun sh -c 'head -n 1 hello:fifo & sleep 0.3; echo answered later > hello:fifo; wait'"
show "schemerun sh -c 'seq 1000 > hello:nums; wc -l < hello:nums; sed -n 500p hello:nums'"
show "schemerun dd if=hello:world bs=5 count=1 status=none; echo"
show "schemectl info"
