#!/bin/sh
# Container entrypoint: starts ScratchGPT (Spring Boot layered layout in /app) as PID 1, so that
# SIGTERM reaches the JVM (graceful shutdown).
#
# ND4J keeps float32 weights and the KV caches off-heap (JavaCPP); with gpt.model.weight-format f32 (the
# default) the Java heap only holds the service, the tokenizer and request objects, so it is capped. bf16
# and q8_0 weights live on the Java heap (with, while loading, one float32 tensor they are converted
# through), so for those the heap gets a larger share. Sizes derived from the container's memory limit
# (cgroup v2 or v1; the machine's RAM when there is none):
#   -Xmx                                   f32: 25 % of the limit, at most 1 GiB; bf16, q8_0: 40 % of it
#   org.bytedeco.javacpp.maxphysicalbytes  90 % of the limit: the whole process (RSS)
#   org.bytedeco.javacpp.maxbytes          the above less the heap and 256 MiB for the JVM itself:
#                                          the ND4J arrays (f32 weights, KV caches, activations)
# The format is read from GPT_MODEL_WEIGHTFORMAT or a --gpt.model.weight-format=... argument.
# Past these JavaCPP runs a GC and then throws OutOfMemoryError, instead of the kernel OOM-killing the
# container. Anything in JAVA_OPTS comes last and wins; arguments go to Spring Boot (--server.port=...).
#
# The weight kernels need the JDK's Vector API (--add-modules jdk.incubator.vector), an incubator module
# that trimmed Java runtimes may leave out: it is added when this runtime has it; without it the service
# still starts, products run on OpenBLAS only and the log says so. With it, the JVM prints one
# "WARNING: Using incubator modules" line on stderr at start, which Java 17 has no option to silence.
set -eu

MiB=1048576
limit=
if [ -r /sys/fs/cgroup/memory.max ]; then                      # cgroup v2
  v=$(cat /sys/fs/cgroup/memory.max)
  [ "$v" = max ] || limit=$v
elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then  # cgroup v1 (a huge value: no limit)
  limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
fi
ram=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
if [ -z "$limit" ] || [ "$limit" -gt "$ram" ]; then limit=$ram; fi

format=${GPT_MODEL_WEIGHTFORMAT:-f32}
for arg in "$@"; do
  case "$arg" in --gpt.model.weight-format=*) format=${arg#*=} ;; esac
done
if [ "$format" = f32 ]; then
  heap=$((limit / 4))
  if [ "$heap" -gt $((1024 * MiB)) ]; then heap=$((1024 * MiB)); fi
else
  heap=$((limit / 10 * 4))
fi
maxphysical=$((limit / 100 * 90))
maxbytes=$((maxphysical - heap - 256 * MiB))
if [ "$maxbytes" -lt $((64 * MiB)) ]; then maxbytes=$((64 * MiB)); fi
echo "scratchgpt: memory limit $((limit / MiB)) MiB, weight format $format: heap $((heap / MiB)) MiB," \
  "javacpp maxbytes $((maxbytes / MiB)) MiB, maxphysicalbytes $((maxphysical / MiB)) MiB" >&2

# JavaCPP extracts the natives (~400 MB) into its cache at every start; where it cannot write (a read-only
# root without a volume there) it silently uses /tmp instead, and fails obscurely if that is too small.
cache=${JAVACPP_CACHE_DIR:-/var/cache/javacpp}
mkdir -p "$cache" 2>/dev/null || true
if [ ! -w "$cache" ]; then
  echo "scratchgpt: JavaCPP cache $cache is not writable by uid $(id -u): the natives go to /tmp instead;" \
    "mount a writable volume (emptyDir) there" >&2
fi

vector=
if java --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector@'; then
  vector="--add-modules jdk.incubator.vector"
else
  echo "scratchgpt: this Java runtime has no jdk.incubator.vector module: weight kernels off" >&2
fi

# shellcheck disable=SC2086 # JAVA_OPTS and vector are lists of options
exec java \
  $vector \
  -Xmx$((heap / MiB))m \
  -XX:+ExitOnOutOfMemoryError \
  -Dorg.bytedeco.javacpp.maxbytes="$maxbytes" \
  -Dorg.bytedeco.javacpp.maxphysicalbytes="$maxphysical" \
  -Dorg.bytedeco.javacpp.cachedir="$cache" \
  ${JAVA_OPTS:-} \
  -cp /app org.springframework.boot.loader.launch.JarLauncher "$@"
