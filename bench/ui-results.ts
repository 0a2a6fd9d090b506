/** bench/results/ui.md holds one section per UI benchmark; each run replaces only its own. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const FILE = "bench/results/ui.md";

export function writeUiSection(name: string, markdown: string): void {
  const start = `<!-- ui:${name} -->`;
  const end = `<!-- /ui:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  mkdirSync("bench/results", { recursive: true });
  const current = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trim() ? `${current.trim()}\n\n` : ""}${block}\n`;
  writeFileSync(FILE, next);
}
