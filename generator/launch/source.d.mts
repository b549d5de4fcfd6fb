// Types of ./source.mjs.
export declare const REPO: string;
export declare const BUNDLE_KIND: string;
export declare const BUNDLE_FILE: string;
export declare function bundleKey(): string;
