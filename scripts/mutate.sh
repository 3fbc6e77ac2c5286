#!/usr/bin/env bash
# Mutation testing of the files that hold coesync's guarantees (create-once,
# echo suppression, the store's group committer) with
# github.com/go-gremlins/gremlins v0.5.0. Each mutant is tested against the
# -short suite of the package that owns the file, and only that package.
# Prints killed/lived/not covered/timed out per file and every mutant that
# survived; exits 1 when one survived.
#
#   scripts/mutate.sh                          # every file below
#   scripts/mutate.sh sync/engine/echo.go      # one file (or several)
#   MUTATE_WORKERS=4 scripts/mutate.sh         # fewer parallel test runs
#   MUTATE_FLAGS="--invert-logical" scripts/mutate.sh   # more mutators
#
# gremlins has no -short flag and mutates every file of a package, so a
# wrapper named "go" placed first on PATH (a) adds -short to each go test
# it runs and (b) trims the coverage profile of the first run to the files
# asked for: gremlins tests only covered mutants, so the other files of the
# package cost nothing and a mutant of a target file left uncovered is
# reported as NOT COVERED (a gap as real as a survivor).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

GREMLINS=${GREMLINS:-github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0}
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	files=(sync/engine/draft.go sync/engine/intent.go sync/engine/echo.go sync/store/committer.go)
fi

real_go=$(command -v go)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cat >"$work/bin/go" <<EOF
#!/usr/bin/env bash
# Written by scripts/mutate.sh; see there.
if [ "\$1" != test ]; then exec "$real_go" "\$@"; fi
shift
profile=
prev=
for a in "\$@"; do
	if [ "\$prev" = -coverprofile ]; then profile=\$a; fi
	prev=\$a
done
# A mutant's run is killed on its timeout: exec, so the kill reaches go.
[ -n "\$profile" ] || exec "$real_go" test -short "\$@"
"$real_go" test -short "\$@"
rc=\$?
if [ -n "\$profile" ] && [ -f "\$profile" ]; then
	# Keep the mode line and the blocks of the target files only.
	grep -E "^mode:|/(\$MUTATE_KEEP):" "\$profile" >"\$profile.keep" || true
	mv "\$profile.keep" "\$profile"
fi
exit \$rc
EOF
chmod +x "$work/bin/go"
# Built, not "go run": go run puts GOROOT/bin first on the tool's PATH,
# which would bypass the wrapper.
GOBIN="$work/tool" "$real_go" install "$GREMLINS"

# Group the target files by package directory: one gremlins run each.
declare -A keep
for f in "${files[@]}"; do
	[ -f "$f" ] || { echo "mutate: no file $f" >&2; exit 2; }
	d=$(dirname "$f")
	keep[$d]="${keep[$d]:+${keep[$d]}|}$(basename "$f" | sed 's/\./\\./g')"
done

status=0
for d in $(printf '%s\n' "${!keep[@]}" | sort); do
	echo "== $d (${keep[$d]//\\/})"
	out="$work/$(echo "$d" | tr / _).json"
	# shellcheck disable=SC2086
	(cd "$d" && MUTATE_KEEP="$d/(${keep[$d]})" PATH="$work/bin:$PATH" \
		"$work/tool/gremlins" unleash \
		--workers "${MUTATE_WORKERS:-0}" --timeout-coefficient "${MUTATE_TIMEOUT_COEFFICIENT:-10}" \
		--output "$out" ${MUTATE_FLAGS:-} "$root/$d") >"$out.log" 2>&1 || true
	if [ ! -s "$out" ]; then
		tail -n 40 "$out.log" >&2
		echo "mutate: gremlins wrote no results for $d" >&2
		status=2
		continue
	fi
	python3 - "$out" "${keep[$d]//\\/}" <<'PY' || status=1
import json, sys
res = json.load(open(sys.argv[1]))
wanted = set(sys.argv[2].split("|"))
bad = False
for f in sorted(res.get("files") or [], key=lambda f: f["file_name"]):
    muts = f.get("mutations") or []
    count = lambda s: sum(1 for m in muts if m["status"] == s)
    name = f["file_name"]
    if name.rsplit("/", 1)[-1] not in wanted:
        continue
    print(f"{name}: killed {count('KILLED')}, lived {count('LIVED')}, "
          f"not covered {count('NOT COVERED')}, timed out {count('TIMED OUT')}, "
          f"not viable {count('NOT VIABLE')}")
    for m in sorted(muts, key=lambda m: (m["line"], m["column"])):
        if m["status"] in ("LIVED", "NOT COVERED"):
            bad = True
            print(f"  {m['status']:<11} {m['type']:<22} {name}:{m['line']}:{m['column']}")
sys.exit(1 if bad else 0)
PY
done
exit $status
