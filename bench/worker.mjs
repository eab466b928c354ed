// One load-generating process: the members of some groups, their sockets, their senders.
//
// The coordinator (load.mjs) forks it and talks over IPC:
//   -> {type: "setup", cfg, groups: [index, ...]}   <- {type: "ready"} | {type: "error", message}
//   -> {type: "run", startAt: epochMs}               <- {type: "result", ...counts and samples}
// A group's members all live in one worker, so send and receive times share one clock.

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { io } from "socket.io-client";

const PASSWORD = "bench-password-0001";
const SETUP_CONCURRENCY = 8;
const WARMUP_TIMEOUT_MS = 15000;

async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A Parley account over HTTP (waiting out `rate_limited`), or a bare-server identity. */
async function identity(cfg, name) {
  if (cfg.target === "bare") return { userId: name, auth: { user_id: name } };
  for (;;) {
    const response = await fetch(`${cfg.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `${name}@bench.example.com`, username: name, password: PASSWORD }),
    });
    const body = await response.json();
    if (response.status === 201) return { userId: body.user.id, auth: { token: body.access_token } };
    if (response.status !== 429) throw new Error(`register ${name}: ${response.status} ${JSON.stringify(body)}`);
    await sleep(1000 * (body.error?.details?.retry_after ?? 1));
  }
}

function connect(cfg, auth) {
  return new Promise((resolve, reject) => {
    const socket = io(cfg.url, {
      auth,
      transports: cfg.transports,
      reconnection: false,
      forceNew: true,
      timeout: 20000,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) =>
      reject(new Error(`connect: ${error.message} ${JSON.stringify(error.data ?? null)}`)),
    );
  });
}

class Worker {
  constructor(cfg) {
    this.cfg = cfg;
    this.groups = [];
    this.sentAt = new Map(); // client_id -> scheduled send time (performance.now ms)
    this.deliveries = new Map(); // client_id -> distinct members that received it
    this.acked = new Set();
    this.latencies = [];
    this.ackLatencies = [];
    this.ackErrors = {};
    Object.assign(this, { sent: 0, delivered: 0, duplicated: 0, outOfOrder: 0, pendingAcks: 0 });
    this.lastDelivery = null;
    this.maxSendLag = 0;
  }

  async setupGroup(index) {
    const cfg = this.cfg;
    const names = Array.from({ length: cfg.members }, (_, m) => `b${cfg.runId}_${index}_${m}`);
    const members = await mapLimit(names, SETUP_CONCURRENCY, async (name) => {
      const who = await identity(cfg, name);
      return { ...who, socket: await connect(cfg, who.auth), lastSeq: 0, seen: new Set() };
    });
    const ack = await members[0].socket.timeout(cfg.ackTimeoutMs).emitWithAck("chat:create", {
      type: "group",
      name: `bench ${cfg.runId} ${index}`,
      member_ids: members.slice(1).map((member) => member.userId),
    });
    if (!ack?.ok) throw new Error(`chat:create: ${JSON.stringify(ack)}`);
    const group = { index, chatId: ack.data.chat.id, members, warm: 0 };
    for (const member of members) {
      member.socket.on("message:new", (data) => this.receive(group, member, data?.message));
    }
    await this.warmUp(group);
    return group;
  }

  /** One message every member must receive before the run: the rooms are in place. */
  async warmUp(group) {
    const done = new Promise((resolve) => (group.onWarm = resolve));
    const ack = await group.members[0].socket.timeout(this.cfg.ackTimeoutMs).emitWithAck("message:send", {
      chat_id: group.chatId,
      client_id: `warm.${this.cfg.runId}.${group.index}`,
      type: "text",
      content: "warm-up",
    });
    if (!ack?.ok) throw new Error(`warm-up message:send: ${JSON.stringify(ack)}`);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const got = `${group.warm}/${group.members.length}`;
        reject(new Error(`group ${group.index}: only ${got} members received the warm-up message`));
      }, WARMUP_TIMEOUT_MS);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  receive(group, member, message) {
    const now = performance.now();
    const sentAt = message ? this.sentAt.get(message.client_id) : undefined;
    if (sentAt === undefined) {
      if (message?.client_id?.startsWith("warm.") && ++group.warm === group.members.length) group.onWarm();
      if (message) member.lastSeq = Math.max(member.lastSeq, message.seq);
      return;
    }
    if (member.seen.has(message.id)) {
      this.duplicated++;
      return;
    }
    member.seen.add(message.id);
    this.delivered++;
    this.lastDelivery = now;
    this.deliveries.set(message.client_id, (this.deliveries.get(message.client_id) ?? 0) + 1);
    this.latencies.push(now - sentAt);
    if (message.seq < member.lastSeq) this.outOfOrder++;
    else member.lastSeq = message.seq;
  }

  send(sender, content) {
    const clientId = `${this.cfg.runId}.${sender.tag}.${sender.count++}`;
    const scheduled = sender.next;
    this.sentAt.set(clientId, scheduled);
    this.sent++;
    this.pendingAcks++;
    const payload = { chat_id: sender.chatId, client_id: clientId, type: "text", content };
    sender.socket.timeout(this.cfg.ackTimeoutMs).emit("message:send", payload, (error, ack) => {
      this.pendingAcks--;
      const code = error ? "timeout" : ack?.ok ? null : (ack?.error?.code ?? "malformed_ack");
      if (code) {
        this.ackErrors[code] = (this.ackErrors[code] ?? 0) + 1;
        return;
      }
      this.acked.add(clientId);
      this.ackLatencies.push(performance.now() - scheduled);
    });
  }

  /** Open loop: each sender sends at its own schedule, whatever the server answers. */
  async run(startAt) {
    const cfg = this.cfg;
    await sleep(Math.max(0, startAt - Date.now()));
    const startEpochMs = Date.now();
    const start = performance.now();
    const cpuBefore = process.cpuUsage();
    const interval = 1000 / cfg.rate;
    const end = start + cfg.duration * 1000;
    const content = "x".repeat(cfg.size);
    const senders = this.groups.flatMap((group) =>
      group.members.slice(0, cfg.senders).map((member, i) => ({
        socket: member.socket,
        chatId: group.chatId,
        tag: `${group.index}.${i}`,
        next: start + Math.random() * interval,
        count: 0,
      })),
    );
    for (let now = start; now < end; now = performance.now()) {
      for (const sender of senders) {
        while (sender.next <= now && sender.next < end) {
          this.maxSendLag = Math.max(this.maxSendLag, now - sender.next);
          this.send(sender, content);
          sender.next += interval;
        }
      }
      await sleep(1);
    }
    await this.drain(end + cfg.drain * 1000);
    const wall = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    return this.result(startEpochMs, start, ((cpu.user + cpu.system) / 1000 / wall) * 100);
  }

  /** Messages the server took: acked, or seen by anyone (an ack may time out after commit). */
  accepted() {
    const accepted = new Set(this.acked);
    for (const clientId of this.deliveries.keys()) accepted.add(clientId);
    return accepted;
  }

  complete() {
    const members = this.cfg.members;
    if (this.pendingAcks > 0) return false;
    for (const clientId of this.accepted()) if ((this.deliveries.get(clientId) ?? 0) < members) return false;
    return true;
  }

  async drain(deadline) {
    while (!this.complete() && performance.now() < deadline) await sleep(50);
  }

  result(startEpochMs, start, cpuPercent) {
    const accepted = this.accepted();
    const expected = accepted.size * this.cfg.members;
    return {
      type: "result",
      sent: this.sent,
      acked: this.acked.size,
      ackErrors: this.ackErrors,
      delivered: this.delivered,
      expected,
      lost: expected - this.delivered,
      duplicated: this.duplicated,
      outOfOrder: this.outOfOrder,
      latencies: this.latencies,
      ackLatencies: this.ackLatencies,
      startEpochMs,
      lastDeliveryEpochMs: this.lastDelivery === null ? null : startEpochMs + (this.lastDelivery - start),
      cpuPercent,
      maxSendLagMs: this.maxSendLag,
    };
  }

  close() {
    for (const group of this.groups) for (const member of group.members) member.socket.disconnect();
  }
}

let worker = null;

/** The last message: close the sockets and the channel once it has been handed over. */
function finish(message) {
  worker?.close();
  process.send(message, () => process.disconnect());
}

process.on("message", async (message) => {
  try {
    if (message.type === "setup") {
      worker = new Worker(message.cfg);
      worker.groups = await mapLimit(message.groups, 4, (index) => worker.setupGroup(index));
      process.send({ type: "ready" });
    } else if (message.type === "run") {
      finish(await worker.run(message.startAt));
    }
  } catch (error) {
    finish({ type: "error", message: String(error?.stack ?? error) });
  }
});
