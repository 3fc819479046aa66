// @ts-check
/** Percentiles and the plain-text table the runner prints. */

/**
 * Nearest-rank percentile (p in 0..100) of numbers; NaN for none.
 * @param {readonly number[]} values
 * @param {number} p
 */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = isSorted(values) ? values : [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** @param {readonly number[]} values */
function isSorted(values) {
  for (let i = 1; i < values.length; i++) if (values[i - 1] > values[i]) return false;
  return true;
}

/**
 * @param {readonly number[]} values
 * @returns {{ n: number, p50: number, p99: number, max: number } | undefined}
 */
export function summary(values) {
  if (!values || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

/** @param {readonly number[]} values */
export function median(values) {
  return percentile(values, 50);
}

/**
 * A number for the table: thousands separated, `digits` decimals.
 * @param {number | undefined | null} n @param {number} [digits]
 */
export function fmt(n, digits = 0) {
  if (n === undefined || n === null || Number.isNaN(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Renders rows as an aligned text table (first row is the header). Columns are
 * right-aligned except the first and those listed in `leftColumns`.
 * @param {string[][]} rows
 * @param {number[]} [leftColumns]
 */
export function table(rows, leftColumns = [0]) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (/** @type {string[]} */ r) =>
    r.map((cell, c) => (leftColumns.includes(c) ? (cell ?? '').padEnd(widths[c]) : (cell ?? '').padStart(widths[c]))).join('  ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join('\n');
}
