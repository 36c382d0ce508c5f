/**
 * Summary statistics for comparisons: mean and the 95% confidence interval of the mean
 * (Student's t, two-sided), from independent runs (one per seed).
 */

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074,
  2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tQuantile975(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) return Number.NaN;
  if (degreesOfFreedom <= 30) return T_975[degreesOfFreedom - 1];
  if (degreesOfFreedom <= 60) return 2.0;
  if (degreesOfFreedom <= 120) return 1.98;
  return 1.96;
}

export interface Estimate {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  /** Half-width of the 95% confidence interval (0 for one run). */
  readonly ci95: number;
  readonly min: number;
  readonly max: number;
}

export function estimate(values: readonly number[]): Estimate {
  const n = values.length;
  if (n === 0) return { n, mean: Number.NaN, sd: Number.NaN, ci95: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const variance = n > 1 ? values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1) : 0;
  const sd = Math.sqrt(variance);
  return { n, mean, sd, ci95: n > 1 ? (tQuantile975(n - 1) * sd) / Math.sqrt(n) : 0, min: Math.min(...values), max: Math.max(...values) };
}

/** A number in a table: 4 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}
