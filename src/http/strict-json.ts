/**
 * JSON.parse keeps the last of two equal keys, so `{"dryRun":true,"dryRun":false}`
 * reads as a real prune to the server and as a dry run to a person. This scan
 * walks the text once (strings, nesting) and names the first key an object
 * repeats; the text is then handed to JSON.parse, which stays the judge of
 * syntax. Keys are compared decoded, so `"dry\u0052un"` and `"dryRun"` collide.
 */
export class DuplicateKeyError extends Error {}

interface Frame {
  keys: Set<string> | undefined; // undefined for an array
  expectKey: boolean;
  path: string;
}

const readString = (text: string, start: number): { value: string; end: number } | undefined => {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') break;
    else i++;
  }
  if (i >= text.length) return undefined; // unterminated: JSON.parse will say so
  try {
    return { value: JSON.parse(text.slice(start, i + 1)) as string, end: i };
  } catch {
    return undefined;
  }
};

/** Throws DuplicateKeyError naming the path of the first repeated key (`body.dryRun`). */
export function checkDuplicateKeys(text: string, root = "body"): void {
  const stack: Frame[] = [];
  let lastKey = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      const string = readString(text, i);
      if (!string) return;
      i = string.end;
      if (top?.keys && top.expectKey) {
        if (top.keys.has(string.value)) {
          throw new DuplicateKeyError(`${top.path}.${string.value}: the key appears more than once; give each field once`);
        }
        top.keys.add(string.value);
        top.expectKey = false;
        lastKey = string.value;
      }
    } else if (c === "{" || c === "[") {
      const parentPath = top ? (top.keys ? `${top.path}.${lastKey}` : `${top.path}[]`) : root;
      stack.push({ keys: c === "{" ? new Set() : undefined, expectKey: c === "{", path: parentPath });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === "," && top?.keys) {
      top.expectKey = true;
    }
  }
}

/** JSON.parse that refuses repeated keys. */
export function parseStrictJson(text: string): unknown {
  checkDuplicateKeys(text);
  return JSON.parse(text);
}
