/**
 * A Redis Cluster of the test's own: three redis-server masters (no replicas, no persistence), each
 * in a temp folder of its own, on ports from the OS (client and cluster-bus ports both: the default
 * bus port, client port + 10 000, does not exist for ports above 55 535). Started once per test file;
 * `stop()` kills the servers and removes the folders.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort, redisServedBy } from "../scripts/net-probes.mjs";

const run = promisify(execFile);
const MASTERS = 3;

export interface OwnCluster {
  /** "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3", as REDIS_CLUSTER_NODES takes it. */
  nodes: string;
  ports: number[];
  /** A new ioredis Cluster client on these nodes (the caller disconnects it). */
  connect(): Cluster;
  /** SIGKILL of the node on `port`, as in a crash (no replica takes over: its slots stay down). */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

interface Node {
  port: number;
  child: ChildProcess;
  dir: string;
}

/** Starts the servers, joins them into a cluster and resolves once every node says cluster_state:ok. */
export async function startOwnCluster(): Promise<OwnCluster> {
  for (let attempt = 1; ; attempt++) {
    const nodes: Node[] = [];
    try {
      for (let i = 0; i < MASTERS; i++) nodes.push(await startNode());
      await joinCluster(nodes.map((n) => n.port));
      return handle(nodes);
    } catch (err) {
      await stopNodes(nodes);
      // Another process took a port between freePort() and the spawn: try again on new ports.
      if (!(err instanceof PortTakenError) || attempt >= 5) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startNode(): Promise<Node> {
  const port = await freePort();
  const busPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pw-cluster-"));
  // The spec's own flags, plus a config file in the node's own folder (cluster mode writes one).
  const args = ["--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1", "--cluster-enabled", "yes"];
  args.push("--cluster-config-file", join(dir, "nodes.conf"), "--dir", dir, "--save", "", "--appendonly", "no");
  const child = spawn("redis-server", args, { stdio: "ignore" });
  const node = { port, child, dir };
  let exited = false;
  let spawnError: Error | null = null;
  child.once("exit", () => (exited = true));
  child.once("error", (err) => {
    spawnError = err;
    exited = true;
  });
  for (let i = 0; i < 250 && !exited; i++) {
    if (await redisServedBy(port, child.pid)) return node;
    await new Promise((r) => setTimeout(r, 20)); // poll interval while redis-server starts up
  }
  rmSync(dir, { recursive: true, force: true });
  if (spawnError) throw new Error(`could not run redis-server (apt-get install -y redis-server): ${(spawnError as Error).message}`);
  if (exited) throw new PortTakenError(`redis-server could not listen on port ${port} or ${busPort}`);
  child.kill("SIGKILL");
  throw new Error(`redis-server on port ${port} did not start`);
}

async function joinCluster(ports: number[]): Promise<void> {
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { timeout: 20_000 });
  // `--cluster create` returns once the slots are assigned; every node must also agree the cluster is up.
  const clients = ports.map((port) => new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.cluster("INFO")));
      if (infos.every((info) => /cluster_state:ok/.test(info))) return;
      if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok: ${infos.join(" / ")}`);
      await new Promise((r) => setTimeout(r, 50)); // poll interval while the nodes gossip
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
}

function handle(nodes: Node[]): OwnCluster {
  const ports = nodes.map((n) => n.port);
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    connect: () => new Cluster(ports.map((port) => ({ host: "127.0.0.1", port }))),
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
      const exited = new Promise((r) => node.child.once("exit", r));
      node.child.kill("SIGKILL");
      await exited;
    },
    stop: () => stopNodes(nodes),
  };
}

async function stopNodes(nodes: Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async ({ child, dir }) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }),
  );
}
