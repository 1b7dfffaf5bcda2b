#!/usr/bin/env bash
# End-to-end check of the Kubernetes manifests (deploy/kubernetes), on a machine without a cluster:
#   1. renders every overlay, and the components in the combinations docs/DEPLOY.md describes, with
#      `kubectl kustomize`, and validates each render offline (scripts/kubernetes-validate: API
#      schemas, unknown fields, the manifests' own rules; `kubectl apply --dry-run=client` would need
#      an API server);
#   2. builds the image with the container sandbox (podman + local stand-ins for the base images);
#   3. plays the rendered Deployment and Service of overlays/gpt2-small + components/random-init (the
#      seed-123 model) under `podman kube play`, with what podman cannot do adapted (listed below),
#      waits for /actuator/health UP within the manifest's start-up budget, checks the readiness and
#      liveness groups, the probe podman runs, the pod's limits and security settings as the JVM sees
#      them, POST /generate (" Featureiman Byeswickattribute argue") and the metric names the KEDA
#      queries read; then the preStop command and a stop within the grace period with a request in
#      flight, which must complete;
#   4. plays overlays/gpt2-small with its weights claim (podman turns the claim into a named volume,
#      filled here with the tiny-hf test checkpoint as gpt2/) and checks the model comes from the
#      read-only volume;
#   5. tears everything down (also on failure).
#
# What podman 4.3 (Debian 12) cannot do, and how the play is adapted (a kustomize overlay written to
# a temporary folder, on top of the repository's overlays):
#   - Services are ignored (no ClusterIP, no kube-proxy): the container port `http` gets
#     hostPort=$PORT on hostIP 127.0.0.1 instead; without a hostPort podman would publish 8080 on
#     every interface. The Service itself is checked statically (port 80 -> targetPort http).
#   - The image comes from the local store (localhost/...), not a registry.
#   - Named probe ports are not resolved (podman turns the liveness probe into a health check on
#     port 0): the probes get 8080. Startup and readiness probes are not run by podman: this script
#     polls their paths itself, within the startup probe's budget.
#   - preStop hooks and terminationGracePeriodSeconds are ignored (podman stops after 10 s): the
#     script runs the preStop command with `podman exec` and stops the container with the grace period.
#   - PodDisruptionBudget and HorizontalPodAutoscaler need cluster controllers: rendered and
#     validated, not played.
#   - A claim becomes an empty named volume (a cluster would bind a filled volume): the script fills
#     it before the pod starts.
#   - Pods need an infra (pause) container, which podman builds from catatonit: installed if missing.
#
# Needs root, kubectl 1.27 or later (kustomize v5: components, labels on pod templates; renders
# checked identical with 1.27, 1.29 and 1.32), Node.js 20+ and npm,
# curl and jq; a few minutes (the first image build downloads Maven and the dependencies). Not part
# of ./mvnw verify. Exits non-zero on the first failure.
#
# Environment:
#   CONTAINER_SANDBOX  path to container-sandbox.sh (default: ../shared/tools/container-sandbox.sh
#                      from the repository root)
#   IMAGE              tag to build (default localhost/scratchgpt:check)
#   PORT               host port on 127.0.0.1 (default 18081)
#   BUILD_TIMEOUT      seconds (default 1800)
#   KEEP_IMAGE=1       keep the image afterwards (default: removed; the build cache stays)
#   SKIP_BUILD=1       use an existing $IMAGE instead of building
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S=$REPO/deploy/kubernetes
VALIDATE=$REPO/scripts/kubernetes-validate
SANDBOX=${CONTAINER_SANDBOX:-$REPO/../shared/tools/container-sandbox.sh}
IMAGE=${IMAGE:-localhost/scratchgpt:check}
PORT=${PORT:-18081}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
EXPECTED=' Featureiman Byeswickattribute argue'
BASE=http://127.0.0.1:$PORT
POD=scratchgpt-pod-0          # podman's name for the Deployment's (single) pod
CONTAINER=$POD-scratchgpt
VOLUME=scratchgpt-weights     # the claim's name, which podman uses for the volume

log() { printf '[kubernetes-check] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
pm() { timeout 120 bash "$SANDBOX" podman "$@" 2> >(grep -v 'systemd' >&2); }

[[ $(id -u) -eq 0 ]] || fail "needs root (rootful podman)"
[[ -f $SANDBOX ]] || fail "container sandbox not found at $SANDBOX (set CONTAINER_SANDBOX)"
for tool in curl jq node npm; do command -v "$tool" >/dev/null || fail "$tool is needed on the host"; done
command -v kubectl >/dev/null || fail "kubectl is needed (1.27 or later; Debian 12's kubernetes-client is 1.20, whose kustomize v2.0.3 has no components)"
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p')
[[ ${kustomize_version%%.*} -ge 5 ]] 2>/dev/null \
  || fail "kubectl's kustomize is '${kustomize_version:-unknown}': v5 (kubectl 1.27) or later is needed"

WORK=$(mktemp -d)
played=()
cleanup() {
  local rc=$? f
  if [[ $rc -ne 0 ]] && pm container exists "$CONTAINER" 2>/dev/null; then
    log "$CONTAINER logs (last 40 lines):"; pm logs --tail 40 "$CONTAINER" >&2 || true
  fi
  for f in "${played[@]}"; do pm kube down "$f" >/dev/null 2>&1 || true; done
  pm volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  if [[ ${KEEP_IMAGE:-0} != 1 && ${SKIP_BUILD:-0} != 1 ]]; then pm rmi "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
  if [[ $rc -eq 0 ]]; then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

# kustomization NAME RESOURCE [COMPONENT...] [-- EXTRA]: writes $WORK/NAME/kustomization.yaml on the
# repository's RESOURCE folder with the components listed (paths relative to deploy/kubernetes) and
# the EXTRA lines; prints the folder.
kustomization() {
  local dir=$WORK/$1 resource=$2 rel
  shift 2
  mkdir -p "$dir"
  rel=$(realpath --relative-to="$dir" "$K8S")
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [$rel/$resource]"
    if [[ $# -gt 0 && $1 != -- ]]; then
      echo "components:"
      while [[ $# -gt 0 && $1 != -- ]]; do echo "  - $rel/$1"; shift; done
    fi
    if [[ ${1:-} == -- ]]; then printf '%s\n' "$2"; fi
  } >"$dir/kustomization.yaml"
  echo "$dir"
}

# ---- 1. render and validate -----------------------------------------------------------------------
shutdown=$(sed -n 's/^spring.lifecycle.timeout-per-shutdown-phase=\([0-9]*\)s$/\1/p' \
  "$REPO/src/main/resources/application.properties")
[[ -n $shutdown ]] || fail "spring.lifecycle.timeout-per-shutdown-phase (in seconds) not found in application.properties"
lock_sum=$(sha256sum "$VALIDATE/package-lock.json" | cut -d' ' -f1)
if [[ $(cat "$VALIDATE/node_modules/.lock-sum" 2>/dev/null) != "$lock_sum" ]]; then
  log "installing the validator's packages (npm ci in scripts/kubernetes-validate)"
  (cd "$VALIDATE" && npm ci --no-audit --no-fund --loglevel=error >&2) || fail "npm ci"
  echo "$lock_sum" >"$VALIDATE/node_modules/.lock-sum"
fi
log "kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p'), kustomize v$kustomize_version"

CORE=Service,Deployment,PodDisruptionBudget
renders=(
  "overlays/gpt2-small|overlays/gpt2-small||$CORE,PersistentVolumeClaim,HorizontalPodAutoscaler"
  "overlays/gpt2-xl|overlays/gpt2-xl||$CORE,PersistentVolumeClaim,HorizontalPodAutoscaler"
  "gpt2-small + random-init|overlays/gpt2-small|components/random-init|$CORE,HorizontalPodAutoscaler"
  "gpt2-small + keda + servicemonitor|overlays/gpt2-small|components/keda components/servicemonitor|$CORE,PersistentVolumeClaim,ScaledObject,ServiceMonitor"
  "gpt2-xl + keda + servicemonitor|overlays/gpt2-xl|components/keda components/servicemonitor|$CORE,PersistentVolumeClaim,ScaledObject,ServiceMonitor"
)
n=0
for r in "${renders[@]}"; do
  IFS='|' read -r label resource components kinds <<<"$r"
  n=$((n + 1))
  # shellcheck disable=SC2086 # the component list splits into arguments
  dir=$(kustomization "render-$n" "$resource" $components)
  kubectl kustomize "$dir" >"$WORK/render-$n.yaml" 2>"$WORK/render-$n.err" \
    || fail "kubectl kustomize $label: $(cat "$WORK/render-$n.err")"
  log "$label: rendered $(grep -c '^kind:' "$WORK/render-$n.yaml") objects"
  node "$VALIDATE/validate.mjs" --expect "$kinds" --shutdown-seconds "$shutdown" "$WORK/render-$n.yaml" >&2 \
    || fail "$label: validation"
done
keda_queries=$(grep -o 'gpt_[a-z_]*' "$WORK/render-4.yaml" | sort -u)

# ---- 2. sandbox and image ---------------------------------------------------------------------------
log "sandbox: $SANDBOX"
timeout 1200 bash "$SANDBOX" setup >/dev/null || fail "container-sandbox.sh setup"
if ! command -v catatonit >/dev/null; then
  log "installing catatonit (podman builds its pod infra image from it)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends catatonit >/dev/null \
    || fail "apt-get install catatonit"
fi
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building $IMAGE (up to ${BUILD_TIMEOUT}s)"
  t0=$SECONDS
  timeout "$BUILD_TIMEOUT" bash "$SANDBOX" podman build --format docker --pull=never --network=host \
    -t "$IMAGE" "$REPO" >&2 || fail "image build"
  log "built in $((SECONDS - t0))s"
fi
pm image exists "$IMAGE" || fail "image $IMAGE missing"
! pm pod exists "$POD" || fail "a pod $POD exists already (another run?)"
! pm volume exists "$VOLUME" || fail "a volume $VOLUME exists already (another run?)"

# ---- the podman adaptation (see the header) ------------------------------------------------------------
podman_patch="images:
  - name: scratchgpt
    newName: ${IMAGE%:*}
    newTag: ${IMAGE##*:}
patches:
  - target:
      kind: Deployment
      name: scratchgpt
    patch: |-
      - op: test
        path: /spec/template/spec/containers/0/ports/0/name
        value: http
      - op: add
        path: /spec/template/spec/containers/0/ports/0/hostPort
        value: $PORT
      - op: add
        path: /spec/template/spec/containers/0/ports/0/hostIP
        value: 127.0.0.1
      - op: replace
        path: /spec/template/spec/containers/0/startupProbe/httpGet/port
        value: 8080
      - op: replace
        path: /spec/template/spec/containers/0/readinessProbe/httpGet/port
        value: 8080
      - op: replace
        path: /spec/template/spec/containers/0/livenessProbe/httpGet/port
        value: 8080
  - target:
      kind: PodDisruptionBudget
    patch: |-
      \$patch: delete
      apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata:
        name: scratchgpt
  - target:
      kind: HorizontalPodAutoscaler
    patch: |-
      \$patch: delete
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: scratchgpt"

# render NAME RESOURCE [COMPONENT...]: the adapted kustomization rendered to $WORK/NAME.yaml and
# validated again; sets $facts (what the Deployment allows: start-up budget, grace period, preStop)
render() {
  local name=$1 dir
  shift
  dir=$(kustomization "$name" "$@" -- "$podman_patch")
  kubectl kustomize "$dir" >"$WORK/$name.yaml" 2>"$WORK/$name.err" || fail "kubectl kustomize $name: $(cat "$WORK/$name.err")"
  facts=$WORK/$name.facts
  node "$VALIDATE/validate.mjs" --shutdown-seconds "$shutdown" --facts "$facts" "$WORK/$name.yaml" >/dev/null \
    || fail "$name: the adapted render no longer validates"
}

# play FILE: podman kube play, remembered for the teardown
play() {
  log "playing $(grep '^kind:' "$1" | sed 's/kind: //' | paste -sd, -) from $(basename "$1")"
  played+=("$1")
  pm kube play --build=false --start=true "$1" >/dev/null || fail "podman kube play $(basename "$1")"
}

# wait_up: polls readiness until UP within the startup probe's budget; sets $startup
wait_up() {
  local budget t0 h
  budget=$(jq .startupBudgetSeconds "$facts")
  t0=$SECONDS
  while :; do
    h=$(curl -sS --max-time 3 "$BASE/actuator/health/readiness" 2>/dev/null || true)
    [[ $h == *'"status":"UP"'* && $h != *'"status":"DOWN"'* ]] && break
    [[ $(pm inspect --format '{{.State.Status}}' "$CONTAINER") == running ]] || fail "$CONTAINER is not running"
    (( SECONDS - t0 < budget )) || fail "not ready within the startup probe's ${budget}s: ${h:-no answer}"
    sleep 1
  done
  startup=$((SECONDS - t0))
}

# ---- 3. the seed-123 model -------------------------------------------------------------------------------
render seed overlays/gpt2-small components/random-init
log "adapted for podman: $WORK/seed/kustomization.yaml (image, hostPort, probe ports; PDB and HPA left out)"
play "$WORK/seed.yaml"
wait_up
log "ready after ${startup}s (startup probe allows $(jq .startupBudgetSeconds "$facts")s)"
# health shows statuses only to anonymous callers; the served model's name is in /v1/models
health=$(curl -sS --max-time 5 "$BASE/actuator/health")
[[ $health == *'"status":"UP"'* && $health == *'"model":{"status":"UP"}'* ]] || fail "health: $health"
models=$(curl -sS --max-time 5 "$BASE/v1/models")
[[ $models == *'"id":"gpt2-small"'* ]] || fail "the served model is not gpt2-small: $models"
readiness=$(curl -sS --max-time 5 "$BASE/actuator/health/readiness")
[[ $readiness == *'"model":{'* && $readiness == *'"queue":{'* && $readiness == *'"readinessState":{"status":"UP"}'* ]] \
  || fail "the readiness group lacks model, queue or readinessState: $readiness"
liveness=$(curl -sS --max-time 5 "$BASE/actuator/health/liveness")
[[ $liveness == '{"status":"UP"}' ]] || fail "liveness: $liveness"
log "readiness group: $(jq -c '[.components | keys[]]' <<<"$readiness") UP; liveness UP"
hc=$(pm healthcheck run "$CONTAINER" 2>&1) || fail "the liveness probe, as podman runs it: $hc"
log "liveness probe as podman's health check: $(pm inspect --format '{{join .Config.Healthcheck.Test " "}}' "$CONTAINER" | sed 's/^CMD-SHELL //'): healthy"

inspect=$(pm inspect "$CONTAINER")
ro=$(jq -r '.[0].HostConfig.ReadonlyRootfs' <<<"$inspect")
user=$(jq -r '.[0].Config.User' <<<"$inspect")
memory=$(jq -r '.[0].HostConfig.Memory' <<<"$inspect")
cpus=$(jq -r '.[0].HostConfig.CpuQuota / .[0].HostConfig.CpuPeriod' <<<"$inspect")
nnp=$(jq -r '.[0].HostConfig.SecurityOpt | index("no-new-privileges") != null' <<<"$inspect")
caps=$(pm exec "$CONTAINER" sh -c 'grep ^CapEff /proc/self/status' | awk '{print $2}')
[[ $ro == true && $user == 10001:10001 && $nnp == true && $caps == 0000000000000000 ]] \
  || fail "security: read-only=$ro user=$user no-new-privileges=$nnp CapEff=$caps"
pm exec "$CONTAINER" sh -c 'touch /app/x' 2>/dev/null && fail "the root file system is writable"
sizing=$(pm logs "$CONTAINER" 2>&1 | grep '^scratchgpt: memory limit' || true)
[[ $sizing == "scratchgpt: memory limit $((memory / 1048576)) MiB"* ]] \
  || fail "the entrypoint did not size the JVM from the pod's limit ($memory bytes): $sizing"
processors=$(curl -sS --max-time 5 "$BASE/actuator/info" | jq '.nd4j.availableProcessors')
[[ $processors == "$cpus" ]] || fail "the JVM sees $processors processors, the pod's CPU limit is $cpus"
log "pod: read-only root, uid 10001, no capabilities, no-new-privileges; limits ${cpus} CPU, $((memory / 1048576)) MiB"
log "entrypoint: $sizing; JVM and OpenBLAS on $processors processors"

answer=$(curl -sS --max-time 60 -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, I am","maxNewTokens":6}' "$BASE/generate") || fail "POST /generate"
log "POST /generate -> $answer"
[[ $(jq -r .generatedText <<<"$answer") == "$EXPECTED" ]] || fail "generatedText is not \"$EXPECTED\""
metrics=$(curl -sS --max-time 10 "$BASE/actuator/prometheus") || fail "GET /actuator/prometheus"
for m in $keda_queries; do
  grep -q "^${m}[ {]" <<<"$metrics" || fail "the KEDA query reads $m, which /actuator/prometheus does not publish"
done
log "the KEDA queries' metrics are published: $(paste -sd' ' <<<"$keda_queries")"

# Termination as the kubelet does it: the preStop hook, then SIGTERM with what is left of the grace
# period before SIGKILL. A streamed request that is generating when SIGTERM comes must still complete
# (64 tokens: about a second on a quiet machine, under 30 s on a busy shared one).
grace=$(jq .terminationGracePeriodSeconds "$facts")
mapfile -t prestop < <(jq -r '.preStop[]' "$facts")
t0=$SECONDS
pm exec "$CONTAINER" "${prestop[@]}" || fail "the preStop command '${prestop[*]}' failed in the container"
prestop_s=$((SECONDS - t0))
stream=$WORK/stream
curl -sSN --max-time 120 -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, I am","maxNewTokens":64}' "$BASE/generate/stream" >"$stream" 2>&1 &
curl_pid=$!
deadline=$((SECONDS + 60))
until [[ $(grep -c '^event:token' "$stream" 2>/dev/null) -ge 3 ]]; do
  (( SECONDS < deadline )) || fail "the streamed request did not start: $(head -c 300 "$stream")"
  sleep 0.1
done
log "preStop '${prestop[*]}' ran in the container (${prestop_s}s); SIGTERM with $(grep -c '^event:token' "$stream") of 64 streamed tokens sent, SIGKILL after $((grace - prestop_s))s more"
# The container, not the pod: `podman pod stop` would stop the infra container with it and take the
# network away from the request still being answered; the kubelet removes the sandbox last.
timeout $((grace + 30)) bash "$SANDBOX" podman stop -t "$((grace - prestop_s))" "$CONTAINER" >/dev/null 2>&1 \
  || fail "podman stop"
stop_s=$((SECONDS - t0))
wait "$curl_pid" || true
done_tokens=$(sed -n 's/^data://p' "$stream" | jq -s 'map(select(.usage)) | .[0].usage.generatedTokens')
[[ $done_tokens == 64 ]] || fail "the stream in flight did not complete: $(tail -c 300 "$stream")"
code=$(pm inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[[ $code == 143 || $code == 0 ]] || fail "exit code $code: not a graceful stop (137 = killed)"
logs=$(pm logs "$CONTAINER" 2>&1)
grep -q 'Graceful shutdown complete' <<<"$logs" || fail "no 'Graceful shutdown complete' in the logs"
log "terminated ${stop_s}s after preStop began (grace ${grace}s): the stream completed its 64 tokens, exit code $code, Spring's graceful shutdown complete"
pm kube down "$WORK/seed.yaml" >/dev/null || fail "podman kube down"

# ---- 4. weights from the claim ----------------------------------------------------------------------------
fixture=$REPO/src/test/resources/fixtures/tiny-hf
[[ -f $fixture/model.safetensors ]] || fail "$fixture/model.safetensors missing"
render claim overlays/gpt2-small
model_path=$(jq -r .modelPath "$facts")
# The claim first: podman makes it a named volume, filled before the pod that mounts it is played.
awk 'BEGIN { RS = "\n---\n" } /(^|\n)kind: PersistentVolumeClaim\n/ { print }' "$WORK/claim.yaml" >"$WORK/claim-pvc.yaml"
awk 'BEGIN { RS = "\n---\n" } !/(^|\n)kind: PersistentVolumeClaim\n/ { if (n++) print "---"; print }' \
  "$WORK/claim.yaml" >"$WORK/claim-pod.yaml"
play "$WORK/claim-pvc.yaml"
pm volume exists "$VOLUME" || fail "podman made no volume $VOLUME from the claim"
tar -C "$fixture" --transform "s,^\\.,${model_path#/models/}," --owner=0 --group=0 -cf "$WORK/weights.tar" \
  ./config.json ./model.safetensors
pm volume import "$VOLUME" "$WORK/weights.tar" >/dev/null || fail "podman volume import"
log "claim $VOLUME: a podman volume holding the tiny-hf test checkpoint as ${model_path#/models/}/"
play "$WORK/claim-pod.yaml"
wait_up
models=$(curl -sS --max-time 5 "$BASE/v1/models")
[[ $models == *"\"id\":\"$(basename "$model_path")\""* ]] || fail "the model is not the claim's: $models"
tiny=$(curl -sS --max-time 60 -H 'Content-Type: application/json' \
  -d '{"prompt":"Hello, I am","maxNewTokens":6}' "$BASE/generate") || fail "POST /generate (claim)"
# the fixture's reference continuation (src/test/resources/fixtures/tiny-hf/reference.json)
[[ $(jq -c .generatedTokens <<<"$tiny") == '[26140,27813,13830,42413,39143,7860]' ]] || fail "tiny-hf generated $tiny"
pm exec "$CONTAINER" sh -c "touch $model_path/x" 2>/dev/null && fail "the weights volume is writable"
log "ready after ${startup}s with GPT_MODEL_PATH=$model_path from the read-only claim; reference tokens generated"
pm kube down "$WORK/claim-pod.yaml" >/dev/null || fail "podman kube down (claim)"

echo "renders=$n image=$IMAGE seed_generate=\"$EXPECTED\" grace_stop_seconds=$stop_s claim_model=$model_path"
