// deploy/k8s checked offline (node --test; run by test_deploy): every object passes the schemas
// bundled in kubernetes-models / @kubernetes-models/keda and the checks of k8s_check.mjs, and each
// check fails on a deliberately broken copy of the real manifests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkFolder, checkObject, checkTopology, parseManifests } from "./k8s_check.mjs";

const folder = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy", "k8s");
const shipped = checkFolder(folder);

// A deep copy of the shipped objects, with `edit` applied to the one of that kind and name.
function broken(kind, name, edit) {
  const entries = structuredClone(shipped.entries);
  const entry = entries.find((e) => e.object.kind === kind && e.object.metadata.name === name);
  assert.ok(entry, `${kind} ${name} is in deploy/k8s`);
  edit(entry.object);
  return { entries, entry };
}
function errorsOf({ entries }) {
  return [...entries.flatMap((entry) => checkObject(entry)), ...checkTopology(entries)];
}
function assertCaught(mutation, pattern) {
  const errors = errorsOf(mutation);
  assert.ok(errors.some((e) => pattern.test(e)), `expected an error matching ${pattern}, got:\n${errors.join("\n")}`);
}

test("every shipped manifest passes the schemas and the checks", () => {
  assert.deepEqual(shipped.errors, []);
  const kinds = shipped.entries.map((e) => e.object.kind);
  const count = (kind) => kinds.filter((k) => k === kind).length;
  assert.equal(count("Deployment"), 4, "the API and three worker tiers");
  assert.equal(count("ScaledObject"), 3);
  assert.equal(count("PodDisruptionBudget"), 5);
  assert.equal(count("StatefulSet"), 1);
  assert.equal(count("Service"), 2);
});

test("the schemas catch wrong types and missing required fields", () => {
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.replicas = "two"; }), /spec\/replicas must be integer/);
  assertCaught(broken("Deployment", "frugal-api", (o) => { delete o.spec.selector; }), /must have required property selector/);
  assertCaught(broken("StatefulSet", "redis", (o) => { o.spec.template.spec.containers[0].ports[0].containerPort = "6379"; }),
               /containerPort must be integer/);
  assertCaught(broken("PodDisruptionBudget", "frugal-api", (o) => { o.spec.minAvailable = true; }), /minAvailable/);
  assertCaught(broken("ScaledObject", "frugal-worker-final", (o) => { o.spec.minReplicaCount = "zero"; }),
               /minReplicaCount must be integer/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { delete o.spec.scaleTargetRef; }),
               /required property scaleTargetRef/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { o.spec.triggers[0].metadata.lagCount = 4; }),
               /lagCount must be string/);
});

test("unknown fields where typos are easy are caught", () => {
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.spec.containers[0].imagePullPolicyy = "Always"; }),
               /unknown field "imagePullPolicyy"/);
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.spec.containers[0].readinessProbe.periodSecond = 5; }),
               /unknown field "periodSecond"/);
  assertCaught(broken("Deployment", "frugal-worker-draft", (o) => { o.spec.replica = 2; }), /unknown field "replica"/);
  assertCaught(broken("ScaledObject", "frugal-worker-final", (o) => { o.spec.minReplicas = 0; }), /unknown field "minReplicas"/);
});

test("redis-streams triggers follow KEDA's documented metadata", () => {
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { o.spec.triggers[0].metadata.lagcount = "4"; }),
               /unknown field "lagcount"/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { delete o.spec.triggers[0].metadata.activationLagCount; }),
               /activationLagCount is required/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { delete o.spec.triggers[0].metadata.consumerGroup; }),
               /need consumerGroup/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { o.spec.triggers[0].metadata.lagCount = "four"; }),
               /lagCount "four" is not a count/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { o.spec.triggers[0].metadata.address = "redis"; }),
               /is not host:port/);
  assertCaught(broken("ScaledObject", "frugal-worker-final", (o) => { o.spec.triggers = [o.spec.triggers[1]]; }),
               /minReplicaCount 0 needs a lagCount trigger/);
});

test("the objects fit together", () => {
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.spec.containers[0].readinessProbe.httpGet.path = "/healthz"; }),
               /readinessProbe is not an HTTP GET of \/health/);
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.spec.containers[0].ports[0].name = "web"; }),
               /targetPort "http" is not a port of frugal-api/);
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.metadata.labels["app.kubernetes.io/component"] = "apl"; }),
               /selector app.kubernetes.io\/component=api does not match/);
  assertCaught(broken("Deployment", "frugal-api", (o) => { o.spec.template.spec.containers[0].args = ["serve"]; }),
               /args lack --no-video-workers/);
  assertCaught(broken("Deployment", "frugal-worker-preview", (o) => { o.spec.replicas = 3; }), /sets replicas, which KEDA owns/);
  assertCaught(broken("Deployment", "frugal-worker-preview", (o) => { delete o.spec.template.spec.containers[0].resources; }),
               /resources.requests needs cpu and memory/);
  assertCaught(broken("ScaledObject", "frugal-worker-preview", (o) => { o.spec.triggers[0].metadata.stream = "frugal:stream:wan-shapes:draft"; }),
               /the worker's stream is frugal:stream:wan-shapes:preview/);
  assertCaught(broken("ScaledObject", "frugal-worker-final", (o) => { o.spec.minReplicaCount = 1; }), /final tier scales to zero/);
  assertCaught(broken("ScaledObject", "frugal-worker-draft", (o) => { o.spec.scaleTargetRef.name = "frugal-worker-drafts"; }),
               /expected one ScaledObject, found 0/);
  assertCaught(broken("ConfigMap", "redis-config", (o) => { o.data["redis.conf"] = o.data["redis.conf"].replace("appendonly yes", "appendonly no"); }),
               /appendonly yes is missing/);
  assertCaught(broken("PodDisruptionBudget", "frugal-api", (o) => { o.spec.selector.matchLabels = { app: "nothing" }; }),
               /PodDisruptionBudget frugal-api: selects no workload/);
});

test("YAML that does not parse, and unknown kinds, are errors", () => {
  const parsed = parseManifests("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   namespace: frugal\n", "bad.yaml");
  assert.ok(parsed.errors.length > 0, "a mis-indented key must not parse");
  const [entry] = parseManifests("apiVersion: v1\nkind: Sevrice\nmetadata: {name: x, namespace: frugal}\n", "kind.yaml").objects;
  assert.match(checkObject(entry).join("\n"), /no schema for v1\/Sevrice/);
});

test("a broken copy of the folder on disk fails the whole check", () => {
  const copy = mkdtempSync(join(tmpdir(), "frugal-k8s-"));
  try {
    for (const file of readdirSync(folder)) copyFileSync(join(folder, file), join(copy, file));
    assert.deepEqual(checkFolder(copy).errors, [], "an unchanged copy passes");
    const api = readFileSync(join(copy, "api.yaml"), "utf8");
    writeFileSync(join(copy, "api.yaml"), api.replace("replicas: 2", "replicas: two"));
    assert.match(checkFolder(copy).errors.join("\n"), /api\.yaml document 1 \(Deployment frugal-api\): .*replicas must be integer/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

// The flags a container passes to `frugal SUBCOMMAND`, and the files it names inside the image
// (deploy/Dockerfile copies the repository to /opt/frugal and models/ to /models).
function frugalArgs(name) {
  const object = shipped.entries.map((e) => e.object).find((o) => o.kind === "Deployment" && o.metadata.name === name);
  return object.spec.template.spec.containers[0].args;
}
// Flags of issue 21 item 2 (`frugal worker`, `serve --job-store`, `--no-video-workers`), written
// against the CLI that work defines; reported, not failed, while this build does not have them yet.
const PENDING_FLAGS = new Set(["--job-store", "--no-video-workers"]);

test("the flags the manifests pass exist in this frugal build, and the files they name in the repository",
     { skip: process.env.FRUGAL_BINARY ? false : "set FRUGAL_BINARY (test_deploy does)" }, (t) => {
  const help = (subcommand) => {
    const text = execFileSync(process.env.FRUGAL_BINARY, [subcommand, "--help"], { encoding: "utf8" });
    return text.includes(`Usage: `) && new RegExp(`Usage: \\S+ ${subcommand}\\b`).test(text) ? text : null;
  };
  const checkFlags = (args, text, where) => {
    for (const flag of args.filter((a) => a.startsWith("--"))) {
      if (new RegExp(`(^|[\\s,])${flag}\\b`, "m").test(text)) continue;  // not --tiers inside --video-tiers
      if (PENDING_FLAGS.has(flag)) t.diagnostic(`${where}: ${flag} is not in this build yet (issue 21 item 2)`);
      else assert.fail(`${where}: \`frugal ${args[0]}\` has no ${flag}`);
    }
  };
  const serve = help("serve");
  assert.ok(serve, "frugal serve --help");
  checkFlags(frugalArgs("frugal-api"), serve, "api.yaml");
  const worker = help("worker");
  if (worker) {
    for (const tier of ["draft", "preview", "final"]) checkFlags(frugalArgs(`frugal-worker-${tier}`), worker, "workers.yaml");
  } else {
    t.diagnostic("frugal worker is not in this build yet (issue 21 item 2): workers.yaml's flags are unchecked");
  }
  const root = join(folder, "..", "..");
  for (const arg of frugalArgs("frugal-api")) {
    const inRepo = arg.startsWith("/opt/frugal/") ? arg.slice("/opt/frugal/".length)
                 : arg.startsWith("/models/") && arg.endsWith(".gguf") ? `models/${arg.slice("/models/".length)}` : null;
    if (inRepo) assert.ok(existsSync(join(root, inRepo)), `api.yaml names ${arg}: ${inRepo} is not in the repository`);
  }
});
