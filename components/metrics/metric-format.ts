/**
 * KPI number formatting. Metrics can be tiny (44 runs in 7 days is 0.004/min) or nearly 100 %;
 * a fixed number of decimals shows those as "0.00/min" or "100.0%", which says nothing. These
 * pick a unit or precision by magnitude so the figure on the card stays informative.
 */

/** 2–3 significant digits, trailing zeros dropped: 6.29, 0.26, 43.7, 1,234. */
export function formatSignificant(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  // ≥ 1: three significant digits; below 1 two are enough (0.26, 0.0041).
  const text = abs >= 1 ? value.toPrecision(3) : value.toPrecision(2);
  return String(Number(text));
}

export interface Rate {
  /** e.g. "6.29/day" */
  value: string;
  /** e.g. "day" — for the "finished runs per …" hint */
  unit: "minute" | "hour" | "day";
}

/** A per-minute rate shown per minute when ≥ 1/min, else per hour when ≥ 1/h, else per day. */
export function formatRate(perMinute: number): Rate {
  if (!Number.isFinite(perMinute) || perMinute <= 0) return { value: "0/min", unit: "minute" };
  if (perMinute >= 1) return { value: `${formatSignificant(perMinute)}/min`, unit: "minute" };
  const perHour = perMinute * 60;
  if (perHour >= 1) return { value: `${formatSignificant(perHour)}/h`, unit: "hour" };
  return { value: `${formatSignificant(perHour * 24)}/day`, unit: "day" };
}

/**
 * A 0–1 ratio as a percentage with one decimal, except that a rate which is neither exactly 0
 * nor exactly 1 never rounds to "0.0%" or "100.0%": one failure in 5 000 runs reads "99.98%".
 */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  const pct = ratio * 100;
  if (ratio <= 0) return "0%";
  if (ratio >= 1) return "100%";
  let decimals = 1;
  // Add decimals until the figure is distinguishable from 0 % and 100 % (capped: 99.9999…).
  while (decimals < 4 && (Number(pct.toFixed(decimals)) === 0 || Number(pct.toFixed(decimals)) === 100)) decimals++;
  const text = pct.toFixed(decimals);
  if (Number(text) === 0) return `<${(10 ** -decimals).toFixed(decimals)}%`;
  if (Number(text) === 100) return `>${(100 - 10 ** -decimals).toFixed(decimals)}%`;
  return `${text}%`;
}
