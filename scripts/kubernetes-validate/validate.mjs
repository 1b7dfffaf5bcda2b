// Validates a rendered kustomization (multi-document YAML) without a cluster, in three passes:
//   1. schema: each object against its API's OpenAPI schema (kubernetes-models: core Kubernetes,
//      KEDA, Prometheus Operator): required fields, types, enums;
//   2. unknown fields: every field of a core object must exist in the Kubernetes API (release-1.36
//      type map of @kubernetes/client-node): a misspelt field would otherwise be dropped silently;
//   3. ScratchGPT's rules: what the manifests promise (probes on the actuator groups, read-only root
//      with writable cache and /tmp, grace period covering preStop and Spring's shutdown phase,
//      requests = limits, selectors that select the pods, scalers aimed at the Deployment, ...).
//
//   node validate.mjs --expect Deployment,Service,... --shutdown-seconds 30 [--facts out.json] rendered.yaml
// Prints one line per object and the Deployment's sizing; exits 1 listing every problem. --facts writes
// what a runner of the Deployment needs (start-up budget, grace period, preStop command) as JSON.
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as coreTypes from "@kubernetes/client-node/dist/gen/models/all.js";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const expected = (option("--expect") ?? "").split(",").filter(Boolean);
const shutdownSeconds = Number(option("--shutdown-seconds") ?? 30);
const factsFile = option("--facts");
if (args.length !== 1) {
  console.error("usage: node validate.mjs [--expect Kind,...] [--shutdown-seconds N] [--facts FILE] FILE|-");
  process.exit(2);
}
const text = readFileSync(args[0] === "-" ? 0 : args[0], "utf8");

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

const docs = parseAllDocuments(text);
const objects = [];
for (const doc of docs) {
  if (doc.errors.length) {
    problem("yaml", doc.errors.map((e) => e.message).join("; "));
    continue;
  }
  const o = doc.toJS();
  if (o) objects.push(o);
}
const id = (o) => `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;

// ---- 1. schema ----------------------------------------------------------------------------------
// The package holding each API group's models (kubernetes-models/<group>/<version>/<Kind> otherwise).
const modelPackages = {
  "": "kubernetes-models",
  "keda.sh": "@kubernetes-models/keda/keda.sh",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
};
async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  try {
    return (await import(`${modelPackages[group] ?? `kubernetes-models/${group}`}/${version}/${kind}`))[kind];
  } catch {
    return undefined;
  }
}
for (const o of objects) {
  if (!o.apiVersion || !o.kind || !o.metadata?.name) {
    problem(id(o), "apiVersion, kind and metadata.name are required");
    continue;
  }
  const Model = await modelOf(o.apiVersion, o.kind);
  if (!Model) {
    problem(id(o), `no schema known for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    problem(id(o), `schema: ${e.message}`);
  }
}

// ---- 2. unknown fields (core API only; custom resources have no closed schema) --------------------
function unknownFields(value, type, path) {
  if (value === null || value === undefined) return;
  const array = type.match(/^Array<(.*)>$/);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`));
    return;
  }
  const map = type.match(/^\{ \[key: string\]: (.*); \}$/);
  if (map) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`);
    return;
  }
  const cls = coreTypes[type];
  if (!cls?.getAttributeTypeMap || typeof value !== "object" || Array.isArray(value)) return;
  const fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) problem(path, `unknown field "${k}" (not in ${type})`);
    else unknownFields(v, fields.get(k), `${path}.${k}`);
  }
}
for (const o of objects) {
  if (!o.apiVersion || !o.kind) continue;
  const version = o.apiVersion.split("/").pop();
  const type = version.charAt(0).toUpperCase() + version.slice(1) + o.kind;
  if (coreTypes[type]) unknownFields(o, type, id(o));
}

// ---- 3. ScratchGPT's rules -------------------------------------------------------------------------
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const kinds = objects.map((o) => o.kind);
for (const kind of expected) {
  if (!kinds.includes(kind)) problem("render", `no ${kind}`);
}
if (expected.length) {
  for (const kind of kinds) if (!expected.includes(kind)) problem("render", `unexpected ${kind}`);
}
const recommended = ["name", "instance", "version", "component", "part-of", "managed-by"].map(
  (l) => `app.kubernetes.io/${l}`,
);
for (const o of objects) {
  const missing = recommended.filter((l) => !o.metadata?.labels?.[l]);
  if (missing.length) problem(id(o), `missing labels ${missing.join(", ")}`);
}
const selects = (selector, labels) =>
  selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const deployments = byKind("Deployment");
if (deployments.length !== 1) problem("render", `${deployments.length} Deployments, expected 1`);
const deployment = deployments[0];
const podLabels = deployment?.spec?.template?.metadata?.labels;
if (deployment) {
  const d = id(deployment);
  const spec = deployment.spec;
  const pod = spec.template.spec;
  if (!selects(spec.selector?.matchLabels, podLabels)) problem(d, "selector does not select the pod template");
  if (spec.selector?.matchLabels?.["app.kubernetes.io/version"]) problem(d, "the version must not be in the selector");
  if (spec.replicas !== undefined && (byKind("HorizontalPodAutoscaler").length || byKind("ScaledObject").length)) {
    problem(d, "spec.replicas is set although an autoscaler owns the count");
  }
  const podSec = pod.securityContext ?? {};
  if (podSec.runAsNonRoot !== true || podSec.runAsUser !== 10001) problem(d, "pod must run as non-root uid 10001");
  if (podSec.seccompProfile?.type !== "RuntimeDefault") problem(d, "seccompProfile must be RuntimeDefault");
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const c = pod.containers?.find((x) => x.name === "scratchgpt");
  if (!c) problem(d, "no container named scratchgpt");
  if (c) {
    const where = `${d} container scratchgpt`;
    const sec = c.securityContext ?? {};
    if (sec.readOnlyRootFilesystem !== true) problem(where, "readOnlyRootFilesystem must be true");
    if (sec.allowPrivilegeEscalation !== false) problem(where, "allowPrivilegeEscalation must be false");
    if (!sec.capabilities?.drop?.includes("ALL")) problem(where, "capabilities must drop ALL");
    const http = c.ports?.find((p) => p.name === "http");
    if (http?.containerPort !== 8080) problem(where, "needs port http = 8080");
    const probes = {
      startupProbe: "/actuator/health/liveness",
      readinessProbe: "/actuator/health/readiness",
      livenessProbe: "/actuator/health/liveness",
    };
    for (const [probe, path] of Object.entries(probes)) {
      const get = c[probe]?.httpGet;
      if (get?.path !== path) problem(where, `${probe} must GET ${path}`);
      else if (get.port !== "http" && get.port !== 8080) problem(where, `${probe} port ${get.port} is not http`);
    }
    for (const r of ["cpu", "memory"]) {
      const req = c.resources?.requests?.[r];
      const lim = c.resources?.limits?.[r];
      if (!req || String(req) !== String(lim)) problem(where, `${r} request (${req}) must equal its limit (${lim})`);
    }
    const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    for (const m of mounts.values()) if (!volumes.has(m.name)) problem(where, `mount ${m.mountPath}: no volume ${m.name}`);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    const cache = env.JAVACPP_CACHE_DIR ?? "/var/cache/javacpp";
    for (const path of ["/tmp", cache]) {
      const m = mounts.get(path);
      if (!m || m.readOnly || !volumes.get(m.name)?.emptyDir) problem(where, `${path} needs a writable emptyDir`);
    }
    const modelPath = env.GPT_MODEL_PATH ?? "";
    if (modelPath) {
      const m = [...mounts.values()].find((x) => modelPath.startsWith(x.mountPath + "/"));
      if (!m) problem(where, `GPT_MODEL_PATH ${modelPath} is on no volume`);
      else if (!m.readOnly) problem(where, `the weights volume ${m.mountPath} must be mounted read-only`);
      const claim = m && volumes.get(m.name)?.persistentVolumeClaim?.claimName;
      if (m && !byKind("PersistentVolumeClaim").some((p) => p.metadata.name === claim)) {
        problem(where, `no PersistentVolumeClaim ${claim} for the weights`);
      }
    }
    const sleep = c.lifecycle?.preStop?.exec?.command;
    const preStop = sleep?.[0] === "sleep" ? Number(sleep[1]) : (c.lifecycle?.preStop?.sleep?.seconds ?? 0);
    if (!(preStop > 0)) problem(where, "needs a preStop sleep (endpoints are removed while the pod keeps serving)");
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (grace <= preStop + shutdownSeconds) {
      problem(d, `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStop} s + shutdown ${shutdownSeconds} s`);
    }
  }
}
for (const s of byKind("Service")) {
  if (!selects(s.spec?.selector, podLabels)) problem(id(s), "selector does not select the Deployment's pods");
  const p = s.spec?.ports?.find((x) => x.name === "http");
  if (p?.port !== 80 || p?.targetPort !== "http") problem(id(s), "needs port http: 80 -> targetPort http");
}
for (const p of byKind("PodDisruptionBudget")) {
  if (!selects(p.spec?.selector?.matchLabels, podLabels)) problem(id(p), "selector does not select the Deployment's pods");
}
const scalers = [...byKind("HorizontalPodAutoscaler"), ...byKind("ScaledObject")];
if (scalers.length > 1) problem("render", `${scalers.map(id).join(" and ")} would both scale the Deployment`);
for (const s of scalers) {
  const ref = s.spec?.scaleTargetRef;
  if (ref?.name !== deployment?.metadata?.name || (ref?.kind ?? "Deployment") !== "Deployment") {
    problem(id(s), "scaleTargetRef is not the Deployment");
  }
}
for (const s of byKind("ScaledObject")) {
  for (const t of s.spec?.triggers ?? []) {
    if (t.type === "prometheus" && !/gpt_[a-z_]+/.test(t.metadata?.query ?? "")) {
      problem(id(s), `trigger ${t.name}: the query reads no gpt_ metric`);
    }
  }
}
for (const m of byKind("ServiceMonitor")) {
  const service = byKind("Service").find((s) => selects(m.spec?.selector?.matchLabels, s.metadata?.labels));
  if (!service) problem(id(m), "selects no Service");
  for (const e of m.spec?.endpoints ?? []) {
    if (e.path !== "/actuator/prometheus") problem(id(m), `endpoint path ${e.path} is not /actuator/prometheus`);
    if (service && !service.spec.ports.some((p) => p.name === e.port)) problem(id(m), `no Service port ${e.port}`);
  }
}

for (const o of objects) console.log(`  ${o.apiVersion} ${id(o)}`);
const c = deployment?.spec?.template?.spec?.containers?.find((x) => x.name === "scratchgpt");
if (c) {
  const probe = c.startupProbe ?? {};
  const facts = {
    startupBudgetSeconds: (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3),
    terminationGracePeriodSeconds: deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30,
    preStop: c.lifecycle?.preStop?.exec?.command ?? [],
    modelPath: c.env?.find((e) => e.name === "GPT_MODEL_PATH")?.value ?? "",
  };
  const r = c.resources ?? {};
  console.log(
    `  sizing: cpu ${r.limits?.cpu}, memory ${r.limits?.memory}, model "${facts.modelPath}",` +
      ` start-up allowed ${facts.startupBudgetSeconds} s, grace ${facts.terminationGracePeriodSeconds} s` +
      ` (preStop "${facts.preStop.join(" ")}", shutdown phase ${shutdownSeconds} s)`,
  );
  if (factsFile) writeFileSync(factsFile, JSON.stringify(facts));
}
if (problems.length) {
  for (const p of problems) console.error(`  PROBLEM ${p}`);
  console.error(`${objects.length} objects, ${problems.length} problems`);
  process.exit(1);
}
console.log(`${objects.length} objects valid`);
