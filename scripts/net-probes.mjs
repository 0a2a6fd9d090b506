// Small network probes shared by `npm test` (scripts/test-all.mjs) and the tests' own redis-servers
// (tests/own-redis.ts): plain JavaScript, so the test runner script needs no TypeScript loader.
import net from "node:net";

/**
 * A port the OS just handed out and that was closed again at once: free for a server started next,
 * and (until one is started there) a port where nothing listens.
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("the OS gave no TCP port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Whether the Redis on `port` answers and is the process `pid` (not another one that took the port). */
export function redisServedBy(port, pid) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("INFO server\r\n"));
    socket.on("data", (d) => {
      reply += d.toString();
      const match = /process_id:(\d+)\r\n/.exec(reply);
      if (match) done(Number(match[1]) === pid);
      else if (reply.startsWith("-")) done(false);
    });
  });
}
