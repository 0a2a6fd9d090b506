export function freePort(): Promise<number>;
export function redisServedBy(port: number, pid: number | undefined): Promise<boolean>;
