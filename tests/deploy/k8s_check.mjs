// Checks deploy/k8s manifests offline: every object against the Kubernetes 1.27 JSON schemas that
// the npm package kubernetes-models bundles (KEDA's ScaledObject against @kubernetes-models/keda's),
// then what those schemas cannot see: unknown fields where a typo is easy, the redis-streams
// trigger metadata as KEDA documents it (keda.sh/docs/2.11/scalers/redis-streams: the schema
// types metadata as a string map), and how the objects fit together (selectors, probes, tiers).
// Each function returns a list of error strings; an empty list means the input passed.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";

const MODELS = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
};

// The fields of the Kubernetes API objects (v1.27) at the levels these manifests write, for the
// unknown-field check the bundled schemas do not make.
const CONTAINER_KEYS = new Set(["name", "image", "command", "args", "workingDir", "ports", "envFrom", "env",
  "resources", "resizePolicy", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
  "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin",
  "stdinOnce", "tty"]);
const POD_SPEC_KEYS = new Set(["volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy",
  "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName",
  "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
  "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain", "affinity",
  "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority", "dnsConfig", "readinessGates",
  "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints",
  "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims"]);
const PROBE_KEYS = new Set(["exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds",
  "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"]);
const DEPLOYMENT_SPEC_KEYS = new Set(["replicas", "selector", "template", "strategy", "minReadySeconds",
  "revisionHistoryLimit", "paused", "progressDeadlineSeconds"]);
const STATEFULSET_SPEC_KEYS = new Set(["replicas", "selector", "template", "volumeClaimTemplates", "serviceName",
  "podManagementPolicy", "updateStrategy", "revisionHistoryLimit", "minReadySeconds",
  "persistentVolumeClaimRetentionPolicy", "ordinals"]);
// KEDA 2.11 ScaledObject spec and the redis-streams trigger's documented metadata.
const SCALED_OBJECT_SPEC_KEYS = new Set(["scaleTargetRef", "pollingInterval", "cooldownPeriod", "idleReplicaCount",
  "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers"]);
const REDIS_STREAMS_KEYS = new Set(["address", "host", "port", "usernameFromEnv", "passwordFromEnv", "stream",
  "consumerGroup", "pendingEntriesCount", "streamLength", "lagCount", "activationLagCount", "enableTLS",
  "unsafeSsl", "databaseIndex", "addressFromEnv", "hostFromEnv", "portFromEnv"]);

function unknownKeys(object, allowed, where) {
  if (object === null || typeof object !== "object") return [];
  return Object.keys(object).filter((key) => !allowed.has(key)).map((key) => `${where}: unknown field "${key}"`);
}

// Parses one file's YAML documents: [{object, where}], errors for YAML that does not parse.
export function parseManifests(text, file) {
  const objects = [];
  const errors = [];
  parseAllDocuments(text, { prettyErrors: true }).forEach((doc, index) => {
    for (const error of doc.errors) errors.push(`${file} document ${index + 1}: ${error.message}`);
    if (doc.errors.length > 0) return;
    const object = doc.toJS();
    if (object === null) return;  // an empty document
    objects.push({ object, where: `${file} document ${index + 1} (${object.kind ?? "?"} ${object.metadata?.name ?? "?"})` });
  });
  return { objects, errors };
}

function checkPodTemplate(template, where) {
  const errors = [];
  const spec = template?.spec ?? {};
  errors.push(...unknownKeys(spec, POD_SPEC_KEYS, `${where} pod spec`));
  for (const container of spec.containers ?? []) {
    const at = `${where} container ${container.name}`;
    errors.push(...unknownKeys(container, CONTAINER_KEYS, at));
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      errors.push(...unknownKeys(container[probe], PROBE_KEYS, `${at} ${probe}`));
    }
    const requests = container.resources?.requests ?? {};
    if (!requests.cpu || !requests.memory) errors.push(`${at}: resources.requests needs cpu and memory`);
  }
  return errors;
}

// One object: the bundled schema, then the unknown-field checks.
export function checkObject({ object, where }) {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${where}: no schema for ${key} (add it to tests/deploy/k8s_check.mjs)`];
  const errors = [];
  try {
    new Model(object).validate();
  } catch (error) {
    errors.push(`${where}: ${error.message}`);
  }
  if (!object.metadata?.namespace && object.kind !== "Namespace") errors.push(`${where}: metadata.namespace is missing`);
  if (object.kind === "Deployment" || object.kind === "StatefulSet") {
    const allowed = object.kind === "Deployment" ? DEPLOYMENT_SPEC_KEYS : STATEFULSET_SPEC_KEYS;
    errors.push(...unknownKeys(object.spec, allowed, `${where} spec`));
    errors.push(...checkPodTemplate(object.spec?.template, where));
    const labels = object.spec?.template?.metadata?.labels ?? {};
    for (const [name, value] of Object.entries(object.spec?.selector?.matchLabels ?? {})) {
      if (labels[name] !== value) errors.push(`${where}: selector ${name}=${value} does not match the pod template's labels`);
    }
  }
  if (object.kind === "ScaledObject") {
    errors.push(...unknownKeys(object.spec, SCALED_OBJECT_SPEC_KEYS, `${where} spec`));
    errors.push(...checkRedisStreamsTriggers(object, where));
  }
  return errors;
}

// The redis-streams trigger as KEDA documents it (the CRD schema leaves metadata a string map).
function checkRedisStreamsTriggers(object, where) {
  const errors = [];
  const triggers = object.spec?.triggers ?? [];
  if (triggers.length === 0) errors.push(`${where}: no triggers`);
  let hasLag = false;
  for (const [index, trigger] of triggers.entries()) {
    const at = `${where} trigger ${index + 1}`;
    if (trigger.type !== "redis-streams") {
      errors.push(`${at}: type "${trigger.type}", expected redis-streams`);
      continue;
    }
    const meta = trigger.metadata ?? {};
    errors.push(...unknownKeys(meta, REDIS_STREAMS_KEYS, `${at} metadata`));
    if (!meta.address && !(meta.host && meta.port)) errors.push(`${at}: needs address (host:port), or host and port`);
    if (meta.address && !/^[A-Za-z0-9.-]+:\d+$/.test(meta.address)) errors.push(`${at}: address "${meta.address}" is not host:port`);
    if (!meta.stream) errors.push(`${at}: stream is required`);
    for (const count of ["pendingEntriesCount", "streamLength", "lagCount", "activationLagCount"]) {
      if (meta[count] !== undefined && !/^\d+$/.test(meta[count])) errors.push(`${at}: ${count} "${meta[count]}" is not a count`);
    }
    if ((meta.lagCount !== undefined || meta.pendingEntriesCount !== undefined) && !meta.consumerGroup) {
      errors.push(`${at}: lagCount and pendingEntriesCount need consumerGroup`);
    }
    if (meta.lagCount !== undefined) {
      hasLag = true;
      if (meta.activationLagCount === undefined) errors.push(`${at}: activationLagCount is required with lagCount`);
    }
  }
  // KEDA: only the consumer-group lag configuration supports scaling down to 0.
  if (object.spec?.minReplicaCount === 0 && !hasLag) errors.push(`${where}: minReplicaCount 0 needs a lagCount trigger`);
  return errors;
}

function selects(selector, labels) {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([name, value]) => labels?.[name] === value);
}

// How the objects fit together: frugal's topology (docs/design/deploy.md).
export function checkTopology(entries) {
  const errors = [];
  const all = entries.map((entry) => entry.object);
  const workloads = all.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
  const podLabels = (o) => o.spec?.template?.metadata?.labels;
  const containerOf = (o) => o.spec?.template?.spec?.containers?.[0] ?? {};
  for (const service of all.filter((o) => o.kind === "Service")) {
    const targets = workloads.filter((w) => selects(service.spec?.selector, podLabels(w)));
    if (targets.length === 0) errors.push(`Service ${service.metadata.name}: selects no workload`);
    for (const port of service.spec?.ports ?? []) {
      if (typeof port.targetPort !== "string") continue;
      for (const target of targets) {
        if (!(containerOf(target).ports ?? []).some((p) => p.name === port.targetPort)) {
          errors.push(`Service ${service.metadata.name}: targetPort "${port.targetPort}" is not a port of ${target.metadata.name}`);
        }
      }
    }
  }
  for (const pdb of all.filter((o) => o.kind === "PodDisruptionBudget")) {
    if (!workloads.some((w) => selects(pdb.spec?.selector?.matchLabels, podLabels(w)))) {
      errors.push(`PodDisruptionBudget ${pdb.metadata.name}: selects no workload`);
    }
  }
  const api = workloads.filter((w) => w.metadata?.labels?.["app.kubernetes.io/component"] === "api");
  if (api.length !== 1) errors.push(`expected one API Deployment, found ${api.length}`);
  for (const deployment of api) {
    const container = containerOf(deployment);
    const args = container.args ?? [];
    for (const flag of ["serve", "--job-store", "--no-video-workers"]) {
      if (!args.includes(flag)) errors.push(`API Deployment: args lack ${flag}`);
    }
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      const get = container[probe]?.httpGet;
      if (get?.path !== "/health") errors.push(`API Deployment: ${probe} is not an HTTP GET of /health`);
      else if (!(container.ports ?? []).some((p) => p.name === get.port || p.containerPort === get.port)) {
        errors.push(`API Deployment: ${probe} port ${get.port} is not a container port`);
      }
    }
    if (!all.some((o) => o.kind === "PodDisruptionBudget" && selects(o.spec?.selector?.matchLabels, podLabels(deployment)))) {
      errors.push("API Deployment: no PodDisruptionBudget");
    }
  }
  const workers = workloads.filter((w) => w.metadata?.labels?.["app.kubernetes.io/component"] === "worker");
  const tiers = new Set();
  for (const worker of workers) {
    const name = worker.metadata.name;
    const args = containerOf(worker).args ?? [];
    const tier = args[args.indexOf("--tiers") + 1];
    if (args[0] !== "worker" || !args.includes("--tiers") || !tier) {
      errors.push(`${name}: expected \`frugal worker ... --tiers TIER\``);
      continue;
    }
    tiers.add(tier);
    if (!args.includes("--job-store") || !args[args.indexOf("--job-store") + 1]?.startsWith("redis://")) {
      errors.push(`${name}: needs --job-store redis://...`);
    }
    if (worker.spec?.replicas !== undefined) errors.push(`${name}: sets replicas, which KEDA owns`);
    const model = (args[args.indexOf("--video-model") + 1] ?? "").split("=")[0];
    const scalers = all.filter((o) => o.kind === "ScaledObject" && o.spec?.scaleTargetRef?.name === name);
    if (scalers.length !== 1) {
      errors.push(`${name}: expected one ScaledObject, found ${scalers.length}`);
      continue;
    }
    for (const trigger of scalers[0].spec.triggers ?? []) {
      const stream = trigger.metadata?.stream;
      if (stream !== `frugal:stream:${model}:${tier}`) {
        errors.push(`${name}: ScaledObject watches "${stream}", the worker's stream is frugal:stream:${model}:${tier}`);
      }
      if (trigger.metadata?.consumerGroup !== "workers") errors.push(`${name}: the consumer group is "workers"`);
    }
    const min = scalers[0].spec.minReplicaCount;
    if (tier === "final" && min !== 0) errors.push(`${name}: the final tier scales to zero (minReplicaCount 0)`);
    if (tier !== "final" && !(min >= 1)) errors.push(`${name}: minReplicaCount ${min}, expected at least 1`);
  }
  for (const tier of ["draft", "preview", "final"]) {
    if (!tiers.has(tier)) errors.push(`no worker Deployment for the ${tier} tier`);
  }
  for (const so of all.filter((o) => o.kind === "ScaledObject")) {
    if (!workers.some((w) => w.metadata.name === so.spec?.scaleTargetRef?.name)) {
      errors.push(`ScaledObject ${so.metadata.name}: scales no worker Deployment`);
    }
  }
  const redis = workloads.find((w) => w.kind === "StatefulSet" && w.metadata.name === "redis");
  const redisConf = all.find((o) => o.kind === "ConfigMap" && o.metadata.name === "redis-config")?.data?.["redis.conf"] ?? "";
  if (!redis) errors.push("no redis StatefulSet");
  if (!/^appendonly yes$/m.test(redisConf)) errors.push("redis.conf: appendonly yes is missing");
  if (!/^maxmemory-policy noeviction$/m.test(redisConf)) errors.push("redis.conf: maxmemory-policy noeviction is missing");
  if (redis && !(redis.spec?.volumeClaimTemplates ?? []).length) errors.push("redis StatefulSet: no persistent volume");
  return errors;
}

// Every *.yaml file of a folder: the objects and the errors of all the checks.
export function checkFolder(folder) {
  const entries = [];
  const errors = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".yaml")).sort()) {
    const parsed = parseManifests(readFileSync(join(folder, file), "utf8"), file);
    errors.push(...parsed.errors);
    entries.push(...parsed.objects);
  }
  for (const entry of entries) errors.push(...checkObject(entry));
  errors.push(...checkTopology(entries));
  return { entries, errors };
}
