/**
 * The e2e suite's four ports, from the OS. Playwright evaluates its config (which imports this file)
 * in the main process and again in every worker: the first evaluation asks the OS and publishes
 * the ports in PIPEWATCH_E2E_PORTS; the workers, forked with the main process's environment, read
 * them back, so the harness servers and every spec agree on one set of ports per run.
 */
import { execFileSync } from "node:child_process";

const ENV = "PIPEWATCH_E2E_PORTS";

/**
 * Ports the OS hands out to `count` listeners opened at once (so they differ), closed again before
 * the harness servers bind them. In a child process because a Playwright config loads synchronously.
 */
function portsFromOs(count: number): number[] {
  const script = `
    const net = require("node:net");
    const open = () => new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve(server));
    });
    Promise.all(Array.from({ length: ${count} }, open)).then((servers) => {
      process.stdout.write(JSON.stringify(servers.map((s) => s.address().port)));
      for (const s of servers) s.close();
    });`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=commonjs", "-e", script], { encoding: "utf8" })) as number[];
}

function e2ePorts(): number[] {
  const published = process.env[ENV]?.split(",").map(Number) ?? [];
  if (published.length === 4 && published.every((p) => Number.isInteger(p) && p > 0)) return published;
  const ports = portsFromOs(4);
  process.env[ENV] = ports.join(",");
  return ports;
}

const [appPort, controlPort, authAppPort, authControlPort] = e2ePorts();
export const APP_PORT = appPort!;
export const CONTROL_PORT = controlPort!;
export const AUTH_APP_PORT = authAppPort!;
export const AUTH_CONTROL_PORT = authControlPort!;
export const DASHBOARD_TOKEN = "e2e-dashboard-token";
