#!/usr/bin/env bash
# Code rules no compiler checks: .clang-format is the only formatting authority, and the C
# sources use none of sprintf, strcpy, strcat, atoi, strtok, gets (CONVENTIONS 14).
# Exit 77 (skipped) when clang-format is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/unit/*.c' 'tests/fuzz/*.c' 'tests/fuzz/*.h' 2>/dev/null ||
        find src tests/unit tests/fuzz -name '*.[ch]')
status=0
if banned=$(grep -nE '(^|[^a-z_])(sprintf|strcpy|strcat|atoi|strtok|gets)[[:space:]]*\(' $files |
            grep -vE '(snprintf|vsnprintf)'); then
  echo "banned functions:"; echo "$banned"; status=1
fi
if ! command -v clang-format >/dev/null; then
  echo "SKIP: clang-format is not installed"; [ $status -eq 0 ] && exit 77; exit $status
fi
if ! clang-format --dry-run -Werror $files; then
  echo "not formatted: run clang-format -i on the files above"; status=1
fi
n=$(echo "$files" | wc -w)
[ $status -eq 0 ] && echo "lint: $n files formatted, no banned functions"
exit $status
