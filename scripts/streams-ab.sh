#!/usr/bin/env bash
# Decode rate of N concurrent greedy streams in two builds of the engine, taken in turns so that the machine's
# drift spreads over both (the in-process counterpart of decode-ab.py, through the real BatchScheduler).
#
#   scripts/streams-ab.sh BEFORE_DIR AFTER_DIR FORMAT STREAMS [TURNS] [ROUNDS]
#
# BEFORE_DIR and AFTER_DIR are checkouts of the two commits, each built with ./mvnw -o test-compile (a
# `git worktree add ../before <commit>` gives the first). Every turn starts one JVM per build: that build's engine
# (target/classes) under AFTER_DIR's harness (FormatBench in its streams mode: GPT-2 small, seed 123, FORMAT),
# which prints ROUNDS rates after a warm-up; the script prints each JVM's median and, at the end, the median of
# those medians per build. Nothing else should run meanwhile.
set -euo pipefail
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); format=$3; streams=$4; turns=${5:-3}; rounds=${6:-5}
deps=$(mktemp)
(cd "$after" && ./mvnw -o -q dependency:build-classpath -Dmdep.outputFile="$deps" >/dev/null)
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A all
for turn in $(seq "$turns"); do
  for build in before after; do
    dir=${!build}
    rates=$(java -Xmx2g --add-modules jdk.incubator.vector -cp "$dir/target/classes:$after/target/test-classes:$(cat "$deps")" \
      com.scratchgpt.bench.FormatBench "$format" "$rounds" "$streams" 2>/dev/null | awk '/^RATE /{print $2}')
    m=$(echo "$rates" | median)
    all[$build]+="$m "
    echo "turn $turn $build: $format, $streams streams, median $m tokens/s (rounds: $(echo $rates | tr '\n' ' '))"
  done
done
for build in before after; do
  echo "$build: median of the turns $(echo ${all[$build]} | tr ' ' '\n' | median) tokens/s"
done
rm -f "$deps"
