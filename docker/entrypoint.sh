#!/bin/sh
# Container entrypoint: starts ScratchGPT (Spring Boot layered layout in /app) as PID 1.
#
# ND4J keeps the model weights and KV caches off-heap (JavaCPP), so the JVM's container support
# (-XX:MaxRAMPercentage) only sizes the small Java heap. The off-heap limits are derived here from the
# container's memory limit (cgroup v2 or v1; the machine's RAM when there is none):
#   heap                                          -XX:MaxRAMPercentage=${HEAP_PERCENT:-20}
#   org.bytedeco.javacpp.maxbytes          (ND4J arrays)      ${OFFHEAP_PERCENT:-65} % of the limit
#   org.bytedeco.javacpp.maxphysicalbytes  (whole process RSS) ${PHYSICAL_PERCENT:-90} % of the limit
# Past these, JavaCPP runs a GC and then throws OutOfMemoryError instead of the kernel OOM-killing the
# container. Anything in JAVA_OPTS comes last and wins; arguments are passed on to Spring Boot
# (e.g. --server.port=9090).
set -eu

limit=
if [ -r /sys/fs/cgroup/memory.max ]; then                      # cgroup v2
  v=$(cat /sys/fs/cgroup/memory.max)
  [ "$v" = max ] || limit=$v
elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then  # cgroup v1 (huge value: no limit)
  limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
fi
ram=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
if [ -z "$limit" ] || [ "$limit" -gt "$ram" ]; then limit=$ram; fi

heap_pct=${HEAP_PERCENT:-20}
maxbytes=$((limit / 100 * ${OFFHEAP_PERCENT:-65}))
maxphysical=$((limit / 100 * ${PHYSICAL_PERCENT:-90}))
echo "scratchgpt: memory limit $((limit >> 20)) MiB: heap ${heap_pct}%," \
  "javacpp maxbytes $((maxbytes >> 20)) MiB, maxphysicalbytes $((maxphysical >> 20)) MiB" >&2

# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java \
  -XX:MaxRAMPercentage="$heap_pct" \
  -XX:+ExitOnOutOfMemoryError \
  -Dorg.bytedeco.javacpp.maxbytes="$maxbytes" \
  -Dorg.bytedeco.javacpp.maxphysicalbytes="$maxphysical" \
  -Dorg.bytedeco.javacpp.cachedir="${JAVACPP_CACHE_DIR:-/var/cache/javacpp}" \
  ${JAVA_OPTS:-} \
  -cp /app org.springframework.boot.loader.launch.JarLauncher "$@"
