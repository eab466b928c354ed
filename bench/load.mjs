#!/usr/bin/env node
// Load generator: G groups x M members, S senders per group at R msgs/s each for D seconds.
//
//   node bench/load.mjs --url http://127.0.0.1:8000 [--target parley|bare] [--groups 10]
//        [--members 20] [--senders 5] [--rate 5] [--duration 15] [--procs 1] ...
//
// Prints the report as JSON on stdout and a one-line summary on stderr. `--target parley`
// registers the members over HTTP and creates each group with `chat:create`; `--target bare`
// talks to bench/bare_server.py. See README.md, Benchmarks.

import { execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { aggregate, summary } from "./stats.mjs";

const OPTIONS = {
  url: { type: "string" },
  target: { type: "string", default: "parley" },
  groups: { type: "string", default: "10" },
  members: { type: "string", default: "20" },
  senders: { type: "string", default: "5" },
  rate: { type: "string", default: "5" },
  duration: { type: "string", default: "15" },
  drain: { type: "string", default: "10" },
  size: { type: "string", default: "100" },
  procs: { type: "string", default: "1" },
  transports: { type: "string", default: "websocket" },
  "ack-timeout": { type: "string", default: "10" },
  "server-pid": { type: "string" },
};

function config() {
  const { values } = parseArgs({ options: OPTIONS, strict: true });
  const number = (name) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  if (!values.url) throw new Error("--url is required (e.g. http://127.0.0.1:8000)");
  if (!["parley", "bare"].includes(values.target)) throw new Error("--target is parley or bare");
  const cfg = {
    url: values.url.replace(/\/$/, ""),
    target: values.target,
    groups: number("groups"),
    members: number("members"),
    senders: number("senders"),
    rate: number("rate"),
    duration: number("duration"),
    drain: number("drain"),
    size: number("size"),
    procs: Math.min(number("procs"), number("groups")),
    transports: values.transports.split(","),
    ackTimeoutMs: number("ack-timeout") * 1000,
    runId: randomBytes(3).toString("hex"),
    serverPid: values["server-pid"] ? Number(values["server-pid"]) : null,
  };
  if (cfg.members < 2 || cfg.senders > cfg.members) throw new Error("need 2 <= members and senders <= members");
  return cfg;
}

function startWorker() {
  const child = fork(new URL("./worker.mjs", import.meta.url));
  const waiting = [];
  const queue = [];
  child.on("message", (message) => (waiting.length ? waiting.shift()(message) : queue.push(message)));
  child.on("exit", (code) => {
    while (waiting.length) waiting.shift()({ type: "error", message: `worker exited with code ${code}` });
  });
  const next = () => new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiting.push(resolve)));
  return { child, next };
}

/** CPU seconds a local process has used so far (Linux /proc), or null. */
function cpuSeconds(pid) {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return null;
  }
}

async function expect(worker, type) {
  const message = await worker.next();
  if (message.type !== type) throw new Error(`worker failed: ${message.message ?? JSON.stringify(message)}`);
  return message;
}

async function main() {
  const cfg = config();
  const workers = Array.from({ length: cfg.procs }, startWorker);
  try {
    const setupStarted = Date.now();
    workers.forEach((worker, w) => {
      const groups = Array.from({ length: cfg.groups }, (_, g) => g).filter((g) => g % cfg.procs === w);
      worker.child.send({ type: "setup", cfg, groups });
    });
    await Promise.all(workers.map((worker) => expect(worker, "ready")));
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    const startAt = Date.now() + 300;
    const cpuBefore = cpuSeconds(cfg.serverPid);
    for (const worker of workers) worker.child.send({ type: "run", startAt });
    const results = await Promise.all(workers.map((worker) => expect(worker, "result")));
    const cpuAfter = cpuSeconds(cfg.serverPid);
    const runSeconds = (Date.now() - startAt) / 1000;
    const params = Object.fromEntries(
      ["groups", "members", "senders", "rate", "duration", "drain", "size", "procs", "transports"].map(
        (key) => [key, cfg[key]],
      ),
    );
    const report = aggregate(cfg.target, cfg.url, params, results, setupSeconds);
    if (cpuBefore !== null && cpuAfter !== null) {
      report.server_cpu_percent = Math.round((1000 * (cpuAfter - cpuBefore)) / runSeconds) / 10;
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`${summary(report)}\n`);
  } finally {
    for (const worker of workers) if (worker.child.connected) worker.child.kill();
  }
}

main().catch((error) => {
  process.stderr.write(`load: ${error.message}\n`);
  process.exit(1);
});
