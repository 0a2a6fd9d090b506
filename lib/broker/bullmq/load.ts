/** BullMQ is an optional peer dependency: loaded on first use, with an error naming it when missing. */
type BullMQ = typeof import("bullmq");

let loaded: Promise<BullMQ> | null = null;

export function loadBullMQ(): Promise<BullMQ> {
  loaded ??= import("bullmq").catch((err: unknown) => {
    loaded = null;
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error('BullMQBroker needs the "bullmq" package: npm install bullmq', { cause: err });
    }
    throw err;
  });
  return loaded;
}
