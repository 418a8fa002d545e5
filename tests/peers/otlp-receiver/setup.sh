#!/usr/bin/env bash
# Install the receiver's pinned dependencies (package-lock.json) into node_modules. Idempotent:
# does nothing when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v npm >/dev/null 2>&1; then
	echo "otlp-receiver/setup.sh: npm is missing; run scripts/install-deps.sh" >&2
	exit 2
fi
# a stamp of the lock file that was installed: when it matches, there is nothing to do
stamp=node_modules/.ztrace-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	[ -f node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js ]; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
