/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/index.ts) owns the HTTP server; ioredis and pino stay external.
  serverExternalPackages: ["ioredis", "pino", "prom-client"],
  typescript: { tsconfigPath: "tsconfig.json" },
};

export default nextConfig;
