/** The ports the e2e suite owns (the UI's range is 3200–3299). */
// Interim: E2E_PORT_BASE moves the four ports, so two checkouts can run side by side.
const BASE = Number(process.env.E2E_PORT_BASE ?? 3210);
export const APP_PORT = BASE;
export const CONTROL_PORT = BASE + 1;
export const AUTH_APP_PORT = BASE + 2;
export const AUTH_CONTROL_PORT = BASE + 3;
export const DASHBOARD_TOKEN = "e2e-dashboard-token";
