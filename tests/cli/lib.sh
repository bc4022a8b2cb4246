# Shared helpers for the CLI tests: a tiny TAP producer around the real binary.
#
# A test script sources this file with the trawl binary as $1:
#
#   . "$(dirname "$0")/lib.sh" "$@"
#   run tree acme            # runs "$TRAWL tree acme": sets RC, OUT and ERR (files)
#   is "$RC" 0 "tree exits 0"
#   expect_exit 2 "unknown command" bogus
#   done_testing
#
# Every test runs in its own scratch directory ($TRAWL_CLI_SCRATCH from ctest,
# else a temporary one) with TRAWL_DB pointing into it, so no test can touch a
# trawl.db of the caller. Set TODO="bug: ..." before an assertion to mark a
# known failure as a TAP TODO.

set -u

TRAWL=${1:?usage: $0 PATH_TO_TRAWL}
case $TRAWL in /*) ;; *) TRAWL=$PWD/$TRAWL ;; esac
[ -x "$TRAWL" ] || { echo "Bail out! trawl binary '$TRAWL' is not executable"; exit 1; }
CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=$CLI_DIR/data
JQ=${JQ:-$(command -v jq || echo /usr/bin/jq)}
[ -x "$JQ" ] || { echo "Bail out! jq is required ($JQ)"; exit 1; }

if [ -n "${TRAWL_CLI_SCRATCH:-}" ]; then
    SCRATCH=$TRAWL_CLI_SCRATCH
    rm -rf "$SCRATCH"
    mkdir -p "$SCRATCH"
else
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/trawl-cli.XXXXXX")
    trap 'rm -rf "$SCRATCH"' EXIT
fi
cd "$SCRATCH" || exit 1
export TRAWL_DB=$SCRATCH/default.db
# onboarding workspaces (kept after a failed run) stay inside the scratch dir
mkdir -p "$SCRATCH/tmp"
export TMPDIR=$SCRATCH/tmp
export NO_COLOR=1
unset TRAWL_BUSY_TIMEOUT_MS

T_N=0
T_FAILED=0
TODO=
OUT=$SCRATCH/.out
ERR=$SCRATCH/.err
RC=0
# Raw SQLite/FTS5 error texts: none may reach a user.
SQL_LEAK='SQL logic error|syntax error|fts5: |unrecognized token|no such (column|table|function)|malformed MATCH|unterminated string'

# ---- TAP ---------------------------------------------------------------------

# pass DESC / fail DESC [DIAG...]: one TAP line (TODO-aware), diagnostics as comments.
pass()
{
    T_N=$((T_N + 1))
    echo "ok $T_N - $1${TODO:+ # TODO $TODO}"
}

fail()
{
    local desc=$1
    shift
    T_N=$((T_N + 1))
    echo "not ok $T_N - $desc${TODO:+ # TODO $TODO}"
    [ -n "$TODO" ] || T_FAILED=$((T_FAILED + 1))
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | head -c 2000 | sed 's/^/#   /'
    done
}

# ok CONDITION_STATUS DESC: passes when the status (of a previous command) is 0.
ok()
{
    if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi
}

# is GOT WANT DESC
is()
{
    if [ "$1" == "$2" ]; then
        pass "$3"
    elif [ "$(printf '%s' "$1$2" | wc -l)" -gt 2 ]; then
        fail "$3" "diff want got:" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$1") | head -30)"
    else
        fail "$3" "got:  '$1'" "want: '$2'"
    fi
}

# isnt GOT UNWANTED DESC
isnt()
{
    if [ "$1" != "$2" ]; then
        pass "$3"
    else
        fail "$3" "got the unwanted '$1'"
    fi
}

# like TEXT REGEX DESC (extended regex, grep -E semantics over the whole text)
like()
{
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        pass "$3"
    else
        fail "$3" "text:  '$1'" "regex: '$2'"
    fi
}

# unlike TEXT REGEX DESC
unlike()
{
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        fail "$3" "text:  '$1'" "must not match: '$2'"
    else
        pass "$3"
    fi
}

done_testing()
{
    echo "1..$T_N"
    [ "$T_FAILED" -eq 0 ] || { echo "# $T_FAILED of $T_N tests failed"; exit 1; }
    exit 0
}

# ---- running the binary ------------------------------------------------------

# run ARGS...: runs trawl with stdin from /dev/null; RC, $OUT, $ERR hold the result.
run()
{
    "$TRAWL" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

# run_in FILE ARGS...: like run with stdin from FILE.
run_in()
{
    local in=$1
    shift
    "$TRAWL" "$@" >"$OUT" 2>"$ERR" <"$in"
    RC=$?
}

out() { cat "$OUT"; }
err() { cat "$ERR"; }

# expect_exit CODE DESC ARGS...: runs trawl ARGS and checks the exit code.
expect_exit()
{
    local code=$1 desc=$2
    shift 2
    run "$@"
    if [ "$RC" -eq "$code" ]; then
        pass "$desc"
    else
        fail "$desc" "trawl $*" "exit $RC, want $code" "stderr: $(err)"
    fi
}

# expect_stderr_match REGEX DESC: checks the stderr of the last run.
expect_stderr_match()
{
    like "$(err)" "$1" "$2"
}

# expect_fail CODE REGEX DESC ARGS...: exit CODE, stderr matches REGEX, and (for
# exit 1) stderr is one line: the house style for bad input.
expect_fail()
{
    local code=$1 re=$2 desc=$3
    shift 3
    run "$@"
    local lines
    lines=$(wc -l <"$ERR")
    if [ "$RC" -ne "$code" ]; then
        fail "$desc" "trawl $*" "exit $RC, want $code" "stderr: $(err)"
    elif ! grep -Eq -- "$re" "$ERR"; then
        fail "$desc" "trawl $*" "stderr: $(err)" "want match: $re"
    elif [ "$code" -eq 1 ] && [ "$lines" -ne 1 ]; then
        fail "$desc" "trawl $*" "stderr has $lines lines, want 1: $(err)"
    elif grep -Eqi "$SQL_LEAK" "$ERR"; then
        fail "$desc" "trawl $*" "stderr leaks an SQL error: $(err)"
    else
        pass "$desc"
    fi
}

# jq_ok FILTER DESC [FILE]: passes when jq -e FILTER holds for FILE (default $OUT).
jq_ok()
{
    local f=${3:-$OUT}
    if "$JQ" -e "$1" "$f" >/dev/null 2>&1; then
        pass "$2"
    else
        fail "$2" "jq filter: $1" "json: $(head -c 1500 "$f")"
    fi
}

# jqv FILTER [FILE]: prints jq -r FILTER of FILE (default $OUT).
jqv()
{
    "$JQ" -r "$1" "${2:-$OUT}"
}

# import_fixture DB CLIENT FILE: imports and bails out when the set-up fails.
import_fixture()
{
    if ! "$TRAWL" --db "$1" import "$2" "$3" >/dev/null 2>"$ERR"; then
        echo "Bail out! cannot import $3 into $1: $(err)"
        exit 1
    fi
}
