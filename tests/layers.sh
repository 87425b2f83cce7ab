#!/usr/bin/env bash
# The include graph between the folders of src/ points one way (docs/ARCHITECTURE.md, Layers):
# a file may include its own folder's headers and those of a lower layer, never a higher one or
# another folder of its own layer. Also: engine/engine_int.h is included only inside src/engine/,
# and no file of src/engine/ names the module registry (module_registry, module_count,
# module_find, modules/registry.h). Usage: layers.sh [SRC_DIR] (default: the repo's src/).
set -euo pipefail
src=${1:-"$(dirname "$0")/../src"}
cd "$src"

# layer of each folder (main.c is "main"); equal ranks may not include each other
declare -A rank=([core]=0 [json]=1 [crypto]=1 [db]=2 [req]=3 [auth]=4 [engine]=4 [modules]=5 [custom]=5 [webhook]=5
                 [router]=6 [http]=7 [keys]=4 [cli]=8 [main]=9)
folder_of() { # path relative to src/ -> its folder (db/backends/x.c -> db)
  case "$1" in */*) echo "${1%%/*}" ;; *) echo main ;; esac
}

status=0
while IFS= read -r f; do
  f=${f#./}
  from=$(folder_of "$f")
  [[ -n ${rank[$from]+x} ]] || { echo "$f: folder $from has no layer in tests/layers.sh"; status=1; continue; }
  while IFS= read -r inc; do
    to=$(folder_of "$inc")
    [[ -e $inc ]] || continue # a header outside src/ named like one of ours
    [[ $to == "$from" ]] && continue
    if [[ -z ${rank[$to]+x} ]]; then
      echo "$f: includes $inc, whose folder has no layer"; status=1
    elif (( rank[$to] >= rank[$from] )); then
      echo "$f: includes $inc: $from (layer ${rank[$from]}) may not depend on $to (layer ${rank[$to]})"
      status=1
    fi
    if [[ $inc == engine/engine_int.h && $from != engine ]]; then
      echo "$f: includes engine/engine_int.h, private to src/engine/ (modules use engine/hook.h)"
      status=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find . -name '*.[ch]' | sort)

if grep -nE '\b(module_registry|module_count|module_find)\b|modules/registry\.h' engine/*.[ch]; then
  echo "src/engine/ names the module registry (above): the engine is given modules, it does not look them up"
  status=1
fi
[[ $status == 0 ]] && echo "layers: every include points down"
exit $status
