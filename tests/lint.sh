#!/usr/bin/env bash
# Code rules no compiler checks: .clang-format is the only formatting authority, and the C
# sources use none of sprintf, vsprintf, strcpy, strcat, atoi, atol, atoll, strtok, gets (CONVENTIONS 14).
# Exit 77 (skipped) when clang-format is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/unit/*.c' 'tests/fuzz/*.c' 'tests/fuzz/*.h' 2>/dev/null ||
        find src tests/unit tests/fuzz -name '*.[ch]')
status=0
# a call of a banned function: its name as a whole identifier followed by '(' (so snprintf,
# vsnprintf and fgets pass, and a banned call on the same line as an allowed one is still found)
banned_re='(^|[^A-Za-z0-9_])(v?sprintf|strcpy|strcat|atoi|atol|atoll|strtok|gets)[[:space:]]*\('
# the pattern itself: each line of the first list must be found, none of the second
for s in 'vsprintf(b, f, ap);' 'snprintf(a, 1, "x"); sprintf(b, "y");' 'x=atoi(s);' \
         'if (strcat (d, s))' 'gets(b)'; do
  printf '%s\n' "$s" | grep -qE "$banned_re" || { echo "lint pattern misses: $s"; status=1; }
done
for s in 'snprintf(a, 1, "x");' 'vsnprintf(b, n, f, ap);' 'fgets(b, n, f);' 'my_sprintf(x);' \
         'strtok_r(s, d, &p);'; do
  if printf '%s\n' "$s" | grep -qE "$banned_re"; then echo "lint pattern flags: $s"; status=1; fi
done
if banned=$(grep -nE "$banned_re" $files); then
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
