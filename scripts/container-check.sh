#!/usr/bin/env bash
# End-to-end check of the container image, on a machine without a Docker engine or registry access:
# builds the image with the container sandbox (podman + local stand-ins for the eclipse-temurin base
# images), runs it with its port bound to 127.0.0.1, waits (bounded) for /actuator/health to be UP,
# checks POST /generate gives the seed-123 continuation, runs the image's HEALTHCHECK, stops the
# container gracefully and removes it.
#
# Needs root and a few minutes (the first build downloads Maven and the dependencies: the build runs
# with --network=host). Not part of ./mvnw verify. Exits non-zero on the first failure.
#
# Environment:
#   CONTAINER_SANDBOX  path to container-sandbox.sh (default: ../shared/tools/container-sandbox.sh
#                      from the repository root)
#   IMAGE              tag to build (default localhost/scratchgpt:check)
#   PORT               host port on 127.0.0.1 (default 18080)
#   MEMORY             container memory limit (default 3g)
#   BUILD_TIMEOUT, START_TIMEOUT, STOP_TIMEOUT  seconds (defaults 1800, 180, 40)
#   KEEP_IMAGE=1       keep the image afterwards (default: removed; the build cache stays)
#   SKIP_BUILD=1       use an existing $IMAGE instead of building
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SANDBOX=${CONTAINER_SANDBOX:-$REPO/../shared/tools/container-sandbox.sh}
IMAGE=${IMAGE:-localhost/scratchgpt:check}
NAME=scratchgpt-check-$$
PORT=${PORT:-18080}
MEMORY=${MEMORY:-3g}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
START_TIMEOUT=${START_TIMEOUT:-180}
STOP_TIMEOUT=${STOP_TIMEOUT:-40}
EXPECTED=' Featureiman Byeswickattribute argue'
BASE=http://127.0.0.1:$PORT

log() { printf '[container-check] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
pm() { timeout 120 bash "$SANDBOX" podman "$@"; }

[[ $(id -u) -eq 0 ]] || fail "needs root (rootful podman)"
[[ -f $SANDBOX ]] || fail "container sandbox not found at $SANDBOX (set CONTAINER_SANDBOX)"
command -v curl >/dev/null || fail "curl is needed on the host"

cleanup() {
  local rc=$? c
  for c in "$NAME" "$NAME-weights"; do
    pm container exists "$c" 2>/dev/null || continue
    if [[ $rc -ne 0 ]]; then log "$c logs (last 40 lines):"; pm logs --tail 40 "$c" >&2 || true; fi
    pm rm -f -v -t 5 "$c" >/dev/null 2>&1 || true  # -v: also the anonymous /models volume
  done
  if [[ ${KEEP_IMAGE:-0} != 1 && ${SKIP_BUILD:-0} != 1 ]]; then
    pm rmi "$IMAGE" >/dev/null 2>&1 || true
  fi
  if [[ $rc -eq 0 ]]; then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

# wait_up CONTAINER URL: polls URL/actuator/health until UP (bounded); sets $health and $startup
wait_up() {
  local c=$1 url=$2 t0_ns deadline ms
  t0_ns=$3
  deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    health=$(curl -sS --max-time 3 "$url/actuator/health" 2>/dev/null || true)
    [[ $health == *'"status":"UP"'* && $health != *'"status":"DOWN"'* ]] && break
    [[ $(pm inspect --format '{{.State.Running}}' "$c") == true ]] || fail "$c exited during start-up"
    (( SECONDS < deadline )) || fail "$c: health not UP after ${START_TIMEOUT}s: ${health:-no answer}"
    sleep 0.5
  done
  ms=$(( ($(date +%s%N) - t0_ns) / 1000000 ))
  startup=$((ms / 1000)).$(printf %03d $((ms % 1000)))
}

# ---- 1. sandbox and image ------------------------------------------------------------------------
log "sandbox: $SANDBOX"
timeout 1200 bash "$SANDBOX" setup >/dev/null || fail "container-sandbox.sh setup"
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building $IMAGE (up to ${BUILD_TIMEOUT}s)"
  t0=$SECONDS
  timeout "$BUILD_TIMEOUT" bash "$SANDBOX" podman build --format docker --pull=never --network=host \
    -t "$IMAGE" "$REPO" >&2 || fail "image build"
  log "built in $((SECONDS - t0))s"
fi
pm image exists "$IMAGE" || fail "image $IMAGE missing"
size=$(pm image inspect --format '{{.Size}}' "$IMAGE")
log "image size: $((size / 1000000)) MB ($size bytes)"

user=$(pm image inspect --format '{{.Config.User}}' "$IMAGE")
[[ -n $user && $user != root && $user != 0 && $user != 0:* ]] || fail "image runs as root (User='$user')"
hc=$(pm image inspect --format '{{json .HealthCheck}}' "$IMAGE")
[[ $hc == *actuator/health* ]] || fail "image has no HEALTHCHECK on /actuator/health: $hc"
[[ $(pm image inspect --format '{{json .Config.ExposedPorts}}' "$IMAGE") == *8080* ]] || fail "8080 not exposed"
log "image config: user=$user, healthcheck and EXPOSE 8080 present"

# ---- 2. start, wait for health UP -----------------------------------------------------------------
log "starting $NAME (127.0.0.1:$PORT -> 8080, memory $MEMORY)"
t0_ns=$(date +%s%N)
pm run -d --name "$NAME" -p "127.0.0.1:$PORT:8080" --memory "$MEMORY" "$IMAGE" >/dev/null || fail "podman run"
wait_up "$NAME" "$BASE" "$t0_ns"
main_startup=$startup
log "health UP after ${startup}s: $health"
[[ $health == *'"model":{'* ]] || fail "health has no model component"
for probe in liveness readiness; do
  [[ $(curl -sS --max-time 5 "$BASE/actuator/health/$probe") == *'"status":"UP"'* ]] || fail "$probe not UP"
done
sizing=$(pm logs "$NAME" 2>&1 | grep '^scratchgpt: memory limit' || true)
[[ -n $sizing ]] || fail "entrypoint sizing line missing from logs"
log "sizing: $sizing"

# ---- 3. the API ----------------------------------------------------------------------------------
answer=$(curl -sS --max-time 60 -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, I am","maxNewTokens":6}' "$BASE/generate") || fail "POST /generate"
log "POST /generate -> $answer"
[[ $answer == *"\"generatedText\":\"$EXPECTED\""* ]] || fail "generatedText is not \"$EXPECTED\""
metrics=$(curl -sS --max-time 10 "$BASE/actuator/prometheus") || fail "GET /actuator/prometheus"
grep -q '^gpt_model_parameters' <<<"$metrics" || fail "/actuator/prometheus lacks gpt_model_parameters"
uid=$(pm exec "$NAME" id -u)
[[ $uid != 0 ]] || fail "process runs as root inside the container"
log "prometheus metrics present; process uid $uid"

# ---- 4. the image's own health check --------------------------------------------------------------
hc_out=$(pm healthcheck run "$NAME" 2>&1) || fail "podman healthcheck run: $hc_out"
log "podman healthcheck run: ${hc_out:-healthy (exit 0)}"

# ---- 5. graceful stop, with a request in flight ------------------------------------------------------
inflight=$(mktemp)
curl -sS --max-time 120 -o "$inflight" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, I am","maxNewTokens":120}' "$BASE/generate" >"$inflight.code" 2>&1 &
curl_pid=$!
sleep 1
log "stopping while a 120-token /generate is running (SIGTERM, up to ${STOP_TIMEOUT}s before SIGKILL)"
t0=$SECONDS
timeout $((STOP_TIMEOUT + 30)) bash "$SANDBOX" podman stop -t "$STOP_TIMEOUT" "$NAME" >/dev/null || fail "podman stop"
wait "$curl_pid" || true
inflight_code=$(cat "$inflight.code"); inflight_body=$(cat "$inflight"); rm -f "$inflight" "$inflight.code"
[[ $inflight_code == 200 && $inflight_body == *'"generatedTokens":120}'* ]] \
  || fail "the in-flight request did not complete during shutdown: $inflight_code ${inflight_body:0:300}"
log "the in-flight request completed: HTTP $inflight_code, 120 tokens"
code=$(pm inspect --format '{{.State.ExitCode}}' "$NAME")
log "stopped in $((SECONDS - t0))s, exit code $code"
[[ $code == 143 || $code == 0 ]] || fail "exit code $code: not a graceful stop (137 = killed)"
logs=$(pm logs "$NAME" 2>&1)
grep -q 'Commencing graceful shutdown' <<<"$logs" || fail "no 'Commencing graceful shutdown' in the logs"
grep -q 'Graceful shutdown complete' <<<"$logs" || fail "no 'Graceful shutdown complete' in the logs"
log "logs show Spring's graceful shutdown"

# ---- 6. weights from a read-only /models mount -------------------------------------------------------
fixture=$REPO/src/test/resources/fixtures/tiny-hf
if [[ -f $fixture/model.safetensors ]]; then
  log "starting $NAME-weights with $fixture mounted read-only, GPT_MODEL_PATH=/models/tiny-hf"
  pm run -d --name "$NAME-weights" -p "127.0.0.1:$PORT:8080" --memory 1g \
    -v "$fixture:/models/tiny-hf:ro" -e GPT_MODEL_PATH=/models/tiny-hf "$IMAGE" >/dev/null || fail "podman run (weights)"
  wait_up "$NAME-weights" "$BASE" "$(date +%s%N)"
  [[ $health == *'"source":"/models/tiny-hf/model.safetensors"'* ]] || fail "the model is not the mounted one: $health"
  tiny=$(curl -sS --max-time 60 -H 'Content-Type: application/json' \
    -d '{"prompt":"Hello, I am","maxNewTokens":6}' "$BASE/generate") || fail "POST /generate (weights)"
  # the fixture's reference continuation (src/test/resources/fixtures/tiny-hf/reference.json)
  [[ $tiny == *'"generatedTokens":[26140,27813,13830,42413,39143,7860]'* ]] || fail "tiny-hf generated $tiny"
  timeout 60 bash "$SANDBOX" podman stop -t 20 "$NAME-weights" >/dev/null || fail "podman stop (weights)"
  log "mounted checkpoint loaded and generated its reference tokens"
else
  log "skipping the mounted-weights check: $fixture not found"
fi

echo "image=$IMAGE size_bytes=$size startup_seconds=$main_startup generate=\"$EXPECTED\" exit_code=$code"
