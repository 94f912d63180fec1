#!/usr/bin/env bash
# The project's test command (`npm test`): node's test runner through tsx over every *.test.ts.
# Unit tests live beside the code (src/**), integration tests under test/.
# Pass a glob prefix to narrow, e.g. `npm test -- src/media`.
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."

roots=("$@")
[ ${#roots[@]} -eq 0 ] && roots=(src test)
files=()
for root in "${roots[@]}"; do
  if [ -f "$root" ]; then files+=("$root"); else files+=("$root"/**/*.test.ts); fi
done

# A runner given no files reports success; an empty glob here is a broken layout, not a pass.
if [ ${#files[@]} -eq 0 ]; then
  echo "run-tests: no *.test.ts files found under: ${roots[*]}" >&2
  exit 1
fi

# FFmpeg-heavy integration tests share two cores; two files at a time keeps them from timing out.
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"
