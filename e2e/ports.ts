/** The ports the e2e suite owns (the UI's range is 3200–3299). */
export const APP_PORT = 3210;
export const CONTROL_PORT = 3211;
export const AUTH_APP_PORT = 3212;
export const AUTH_CONTROL_PORT = 3213;
export const DASHBOARD_TOKEN = "e2e-dashboard-token";
