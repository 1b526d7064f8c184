/**
 * Own keys of plain data objects. JSON keys may be named like Object.prototype's (`constructor`, `toString`,
 * `__proto__`...): `o[k]` and `k in o` find the prototype's when the object lacks the key, and `o[k] = v` with
 * k === '__proto__' sets the prototype instead of a key.
 */

/** The value of an own key; undefined when the object does not have it, whatever its prototype has. */
export function getOwn<T>(object: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Sets an own key: assignment, which is fast, except for `__proto__`, which only defineProperty makes a key. */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
