// Types of ./entry.mjs (the read side of the cache, plain JavaScript for the launcher).
export declare const ENTRY_MARKER: string;
export declare function cacheRoot(): string;
export declare function cacheKey(...parts: (string | Buffer)[]): string;
export declare const fileHash: (f: string) => string;
export declare function readEntry<T>(dir: string, key: string): { ok: true; value: T } | { ok: false; exists: boolean };
export declare const entryDir: (kind: string, key: string, root?: string) => string;
