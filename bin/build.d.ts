/** Types of bin/build.js for the TypeScript that imports it (the tests' global setup). */
export function isFresh(root?: string): boolean;
export function build(root?: string): Promise<void>;
