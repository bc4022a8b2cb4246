# Helpers for the archive tests: lib.sh of the CLI tests around extract_dump.
# run FILE [NAME] [--max-* N] extracts FILE into $OUT (one JSON document per
# line); jqs FILTER DESC asserts FILTER over the array of those documents.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh" "$@"

jqs()
{
    if "$JQ" -se "$1" "$OUT" >/dev/null 2>&1; then
        pass "$2"
    else
        fail "$2" "jq -s filter: $1" "docs: $(head -c 2500 "$OUT")" "stderr: $(head -c 500 "$ERR")"
    fi
}

# doc PART: the document with that part id ("" = the archive's own), compact.
doc()
{
    if [ -z "$1" ]; then
        "$JQ" -sc '.[] | select(.part == null)' "$OUT"
    else
        "$JQ" -sc --arg p "$1" '.[] | select(.part == $p)' "$OUT"
    fi
}
