import { describe, expect, it } from "vitest";
import { formatDuration } from "../../components/ui/duration-format";
import { formatPercent, formatRate, formatSignificant } from "../../components/metrics/metric-format";

describe("KPI formatting", () => {
  it("picks the throughput unit by magnitude", () => {
    // 44 finished runs over 7 days: 0.0044/min, 0.26/h, 6.29/day.
    expect(formatRate(44 / (7 * 24 * 60))).toEqual({ value: "6.29/day", unit: "day" });
    expect(formatRate(90 / 60)).toEqual({ value: "1.5/min", unit: "minute" });
    expect(formatRate(3 / 60)).toEqual({ value: "3/h", unit: "hour" });
    expect(formatRate(1 / 60 / 24 / 30)).toEqual({ value: "0.033/day", unit: "day" });
    expect(formatRate(1234.4)).toEqual({ value: "1,234/min", unit: "minute" });
    expect(formatRate(0)).toEqual({ value: "0/min", unit: "minute" });
    expect(formatRate(Number.NaN)).toEqual({ value: "0/min", unit: "minute" });
  });

  it("keeps 2–3 significant digits", () => {
    expect(formatSignificant(43.71)).toBe("43.7");
    expect(formatSignificant(4.5)).toBe("4.5");
    expect(formatSignificant(0.26193)).toBe("0.26");
    expect(formatSignificant(0.0041)).toBe("0.0041");
    expect(formatSignificant(0)).toBe("0");
  });

  it("never rounds a mixed success rate to 0 % or 100 %", () => {
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(0.8767)).toBe("87.7%");
    expect(formatPercent(4999 / 5000)).toBe("99.98%");
    expect(formatPercent(1 / 5000)).toBe("0.02%");
    expect(formatPercent(1 - 1e-9)).toBe(">99.9999%");
    expect(formatPercent(1e-9)).toBe("<0.0001%");
  });

  it("shows sub-millisecond durations instead of 0 ms", () => {
    expect(formatDuration(0.42)).toBe("0.42 ms");
    expect(formatDuration(0)).toBe("0 ms");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(null)).toBe("—");
  });
});
