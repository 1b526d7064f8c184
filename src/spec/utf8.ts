/**
 * UTF-8 byte length without Node's Buffer: pure, so workflow code (payload sizes) uses it without the spec parser
 * (and its YAML library) in its bundle.
 */
export function utf8Length(text: string): number {
  // The common case, ASCII (JSON of a stored output: megabytes), by the regex engine's native scan.
  if (!NON_ASCII.test(text)) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const NON_ASCII = /[\u0080-\uffff]/;
