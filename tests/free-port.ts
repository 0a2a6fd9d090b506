/** Ports from the OS, so test runs never collide with each other or with anything else on the host. */
import { createServer, type AddressInfo, type Server } from "node:net";

export { freePort } from "../scripts/net-probes.mjs";

/** `count` different ports from the OS: all listened on at once, then all closed. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
