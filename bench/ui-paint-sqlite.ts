/** `npm run bench -- ui-paint-sqlite`: the paint benchmark over the dashboard's default SQLite storage (bench/ui-paint.ts). */
export { runSqlite as run } from "./ui-paint";
