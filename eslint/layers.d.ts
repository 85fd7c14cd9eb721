// Types for eslint/layers.js (plain JS: eslint.config.js loads it without a build).
import type { ESLint } from 'eslint';

export declare const ORDER: readonly string[];
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare function layerOf(relPath: string): string | undefined;
export declare const layersPlugin: ESLint.Plugin;
