// TypeDoc plugin (typedoc.json `plugin`): names each entry point's module after the import specifier that reaches it
// — `@sdxs/clip`, `@sdxs/tensor/node` — instead of its path ("clip/src"), so the sources need no `@module` tags.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** The package that holds `file`: its folder and package.json name. */
function owningPackage(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      return { dir, name: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name };
    } catch {
      // no package.json here: go up
    }
  }
  return undefined;
}

/** `src/index.ts` (or the CLI's `src/main.ts`) is the package itself; `src/node.ts` is `<package>/node`. */
function specifier(file) {
  const pkg = owningPackage(file);
  if (!pkg?.name) return undefined;
  const sub = relative(join(pkg.dir, 'src'), file).replace(/\.tsx?$/, '');
  return sub === 'index' || sub === 'main' ? pkg.name : `${pkg.name}/${sub}`;
}

export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const name = file === undefined ? undefined : specifier(file);
    if (name !== undefined) reflection.name = name;
  });
}
