/**
 * The two-proportion z-test the experiment report gives for success rates. It is the normal
 * approximation, so it is only given when it holds: every expected count (pooled rate × n, and its
 * complement) at least 5. Below that the report shows the counts alone.
 */

/** Two-sided p-value that x1/n1 and x2/n2 come from one rate; null when the approximation does not hold. */
export function twoProportionPValue(x1: number, n1: number, x2: number, n2: number): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)];
  if (expected.some((e) => e < 5)) return null;
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = Math.abs(x1 / n1 - x2 / n2) / se;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/** Φ(z) for z ≥ 0, from erf (Abramowitz and Stegun 7.1.26: absolute error under 1.5e-7). */
function normalCdf(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return 0.5 * (1 + erf);
}
