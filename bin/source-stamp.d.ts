// Types of source-stamp.js (plain JavaScript: the bin runs it before anything compiles TypeScript).
export declare const STAMP_FILE: string;
export declare function isBuilt(name: string): boolean;
export declare function sourceStamp(srcDir: string): { files: number; newestMtimeMs: number };
export declare function buildState(distDir: string, srcDir: string | undefined): 'current' | 'missing' | 'stale';
