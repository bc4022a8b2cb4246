#!/bin/sh
# trawl doctor: one line per layer, JSON with the same facts, exit status
# that says whether --sandbox strict can run here.
TRAWL=$1
fail=0
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

json=$("$TRAWL" doctor --json); jrc=$?
text=$("$TRAWL" doctor); trc=$?
echo "$text" | sed 's/^/# /'
t "$(echo "$json" | jq -e '.layers | length == 16' >/dev/null; echo $?)" "json lists 16 layers"
t "$(echo "$json" | jq -e '[.layers[] | select(.supported == false and .why == "")] | length == 0' >/dev/null; echo $?)" "every unsupported layer says why"
t "$(echo "$json" | jq -e '.landlock_abi >= 0' >/dev/null; echo $?)" "landlock ABI reported"
strict=$(echo "$json" | jq -r .strict_ok)
if [ "$strict" = true ]; then want=0; else want=1; fi
t "$([ "$jrc" = "$want" ] && [ "$trc" = "$want" ]; echo $?)" "exit status $want matches strict_ok=$strict"
t "$([ "$(echo "$text" | grep -cE '^(userns|mountns|pidns|netns|ipcns|utsns|landlock|rlimits|fds|env|caps|dumpable|pdeathsig|seccomp|setuid|zygote) +(yes|no) ')" = 16 ]; echo $?)" "text: one line per layer"
"$TRAWL" doctor --bogus >/dev/null 2>&1
t "$([ $? = 2 ]; echo $?)" "unknown option is a usage error"
echo "1..$n"
exit $fail
