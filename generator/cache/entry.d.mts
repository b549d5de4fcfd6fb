// Types of ./entry.mjs (the read side of the cache, plain JavaScript for the launcher).
export declare const ENTRY_MARKER: string;
export declare function cacheRoot(): string;
export declare function cacheKey(...parts: (string | Buffer)[]): string;
export declare function listFiles(dir: string, rel?: string): string[];
export declare const fileHash: (f: string) => string;
export type EntryState<T> = { ok: true; value: T; id: string } | { ok: false; exists: boolean; why: string; id?: string };
export declare function readEntry<T>(dir: string, key: string): EntryState<T>;
export declare const entryDir: (kind: string, key: string, root?: string) => string;
