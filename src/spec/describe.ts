/** How a value reads in a message: `string "abc"`, `number 42`, `an object`. Pure, so workflow code uses it too. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  // JSON.stringify would print null: 1e309 parses as Infinity, YAML's .nan as NaN.
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN (not a number)' : `a number too large for JSON (${value})`;
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}
