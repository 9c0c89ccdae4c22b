// `ctxmgr backup --to s3://…` and `ctxmgr restore s3://…` against a real S3 server on loopback
// (s3rver) behind a proxy that recomputes every request's SigV4 signature with botocore and
// refuses a mismatch, since s3rver itself does not check V4 signatures.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import S3rver from "s3rver";

const BIN = process.env.CTXMGR_BIN;
const PLUGINS = process.env.CTXMGR_PLUGIN_DIR;
const here = dirname(fileURLToPath(import.meta.url));
const SECRET = "ctxmgr-test-secret-9f2c";
const BUCKET = "ctxmgr-backups";

let dir, s3, proxy, proxyPort;

// Every store shares one audit key file (backups are signed with it and checked against it),
// each with its own checkpoint.
function store(name) {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, `plugins: {search_paths: [${PLUGINS}]}\n` +
    `audit: {key_file: ${join(dir, "audit.key")}, checkpoint_file: ${join(dir, name + ".checkpoint")}}\n` +
    `storage: {plugin: sqlite, options: {path: ${join(dir, name + ".db")}}}\n`);
  return config;
}

// Asynchronous: s3rver runs in this process and must keep answering while ctxmgr waits on it.
function ctxmgr(config, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(BIN, ["--config", config, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

function s3env(secret = SECRET) {
  return {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: `http://127.0.0.1:${proxyPort}`,
  };
}

async function proxyStats() {
  const r = await fetch(`http://127.0.0.1:${proxyPort}/__proxy/stats`);
  return r.json();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ctxmgr-s3-"));
  s3 = new S3rver({
    port: 0, address: "127.0.0.1", silent: true, directory: join(dir, "s3"),
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await s3.run();
  // Debian's Python with Debian's python3-botocore (scripts/install-deps.sh).
  proxy = spawn("/usr/bin/python3", [join(here, "sigv4_proxy.py"), String(port), "S3RVER", SECRET,
    "us-east-1"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: proxy.stdout });
  proxyPort = Number((await lines[Symbol.asyncIterator]().next()).value);
  assert.ok(proxyPort > 0);
});

after(async () => {
  proxy?.kill();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a backup goes up signed and comes back into another store", async () => {
  const a = store("a");
  assert.equal((await ctxmgr(a, ["agent", "create", "alice"])).code, 0);
  assert.equal((await ctxmgr(a, ["agent", "create", "bob", "--role", "admin"])).code, 0);
  const url = `s3://${BUCKET}/nightly/ctxmgr 1.jsonl.gz`;
  const before = await proxyStats();

  const up = await ctxmgr(a, ["backup", "--to", url], s3env());
  assert.equal(up.code, 0, up.err);
  assert.match(up.out, /backup of 2 agent, 2 audit, .* written to s3:\/\/ctxmgr-backups\/nightly\/ctxmgr 1\.jsonl\.gz/);

  const b = store("b");
  const down = await ctxmgr(b, ["restore", url], s3env());
  assert.equal(down.code, 0, down.err);
  assert.match(down.out, /restored 2 agent, 2 audit/);
  assert.match(down.out, /audit chain verified/);
  const list = await ctxmgr(b, ["agent", "list"]);
  assert.match(list.out, /^alice\tagent\tactive/m);
  assert.match(list.out, /^bob\tadmin\tactive/m);

  const stats = await proxyStats();
  assert.equal(stats.verified - before.verified, 2, "one PUT and one GET, both verified");
});

test("a wrong secret is refused by the signature check, and nothing is restored", async () => {
  const a = store("c");
  assert.equal((await ctxmgr(a, ["agent", "create", "carol"])).code, 0);
  const before = await proxyStats();
  const up = await ctxmgr(a, ["backup", "--to", `s3://${BUCKET}/wrong.jsonl.gz`], s3env("not-the-secret"));
  assert.equal(up.code, 1);
  assert.match(up.err, /PUT s3:\/\/ctxmgr-backups\/wrong\.jsonl\.gz: HTTP 403 SignatureDoesNotMatch/);
  assert.doesNotMatch(up.err + up.out, /not-the-secret/);

  const d = store("d");
  const down = await ctxmgr(d, ["restore", `s3://${BUCKET}/nightly/ctxmgr 1.jsonl.gz`],
    s3env("not-the-secret"));
  assert.equal(down.code, 1);
  assert.match(down.err, /HTTP 403 SignatureDoesNotMatch/);
  assert.equal((await ctxmgr(d, ["agent", "list"])).out, "");
  const stats = await proxyStats();
  assert.equal(stats.refused - before.refused, 2);
});

test("a missing object, missing credentials and a bad URL are clear errors", async () => {
  const e = store("e");
  const missing = await ctxmgr(e, ["restore", `s3://${BUCKET}/no/such.jsonl.gz`], s3env());
  assert.equal(missing.code, 1);
  assert.match(missing.err, /GET s3:\/\/ctxmgr-backups\/no\/such\.jsonl\.gz: HTTP 404 NoSuchKey/);
  const nocreds = await ctxmgr(e, ["backup", "--to", `s3://${BUCKET}/x.gz`],
    { AWS_ENDPOINT_URL: `http://127.0.0.1:${proxyPort}` });
  assert.equal(nocreds.code, 2);
  assert.match(nocreds.err, /S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  const bad = await ctxmgr(e, ["backup", "--to", "s3://Bad_Bucket/x.gz"], s3env());
  assert.equal(bad.code, 2);
  assert.match(bad.err, /not a valid S3 bucket name: Bad_Bucket/);
  const traversal = await ctxmgr(e, ["backup", "--to", `s3://${BUCKET}/../other/x.gz`], s3env());
  assert.equal(traversal.code, 2);
  assert.match(traversal.err, /an S3 key must not have empty, "\." or "\.\." segments/);
  const both = await ctxmgr(e, ["backup", "--to", `s3://${BUCKET}/x.gz`, "--out", join(dir, "x.gz")]);
  assert.equal(both.code, 2);
});
