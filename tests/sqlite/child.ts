/** Starts the SQLite child process (fixtures/sqlite-child.ts) and reads its output. */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./fixtures/sqlite-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the first output line starting with `prefix`. */
  line: (prefix: string) => Promise<string>;
  exited: Promise<number | null>;
}

/** Node itself runs the script with tsx's loader (no npx or tsx wrapper), so a kill by this pid reaches the writer. */
export function startChild(args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], ...options });
  let out = "";
  let err = "";
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  const check = () => {
    for (const w of waiters.slice()) {
      const line = out.split("\n").find((l) => l.startsWith(w.prefix));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on("data", (d: Buffer) => {
    out += d;
    check();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    process: child,
    output: () => out + err,
    line: (prefix) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ prefix, resolve });
        check();
        void exited.then((code) => reject(new Error(`child exited ${code} before "${prefix}": ${out}${err}`)));
      }),
    exited,
  };
}
