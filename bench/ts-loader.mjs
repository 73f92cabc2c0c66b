/**
 * Minimal TypeScript loader so the bench runs straight from source on Node 20:
 *   node --import ./bench/pull/ts-loader.mjs bench/pull/run.ts
 * It maps `./x.js` imports to `./x.ts` when only the .ts exists, and transpiles .ts files with
 * the project's `typescript` (transpileModule: no type check). Compiled runs need none of it.
 */
import { register } from 'node:module';

if (!globalThis.__berthTsLoader) {
  globalThis.__berthTsLoader = true;
  register(import.meta.url);
}

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let ts;

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))) {
    const url = new URL(specifier, context.parentURL);
    const tsPath = fileURLToPath(url).replace(/\.js$/, '.ts');
    if (!existsSync(fileURLToPath(url)) && existsSync(tsPath)) {
      return next(url.href.replace(/\.js$/, '.ts'), context);
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  ts ??= (await import('typescript')).default;
  const source = await readFile(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false, inlineSourceMap: true },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
