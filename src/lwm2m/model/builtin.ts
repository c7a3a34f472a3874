/**
 * Built-in object models (core objects 0-7, 9, 19 and IPSO Smart Objects 3200-3203, 3300-3350),
 * generated from the OMA registry by scripts/gen-builtin-models.ts, plus user DDF files on top.
 */
import { type ModelError } from '../../common/errors';
import builtinJson from './builtin-models.json';
import { loadDdfDirectory } from './ddf-loader';
import { fromModelJson, type ModelsFileJson } from './model-json';
import { ObjectModelRegistry } from './registry';
import type { ObjectModel } from './types';

const BUILTIN_SOURCE = 'builtin-models.json';

let builtinCache: readonly ObjectModel[] | undefined;

/** The built-in models, parsed once (models are immutable, so they are shared between registries). */
export function builtinModels(): readonly ObjectModel[] {
  if (builtinCache === undefined) {
    const file: ModelsFileJson = builtinJson;
    builtinCache = file.objects.map((o) => fromModelJson(o, BUILTIN_SOURCE));
  }
  return builtinCache;
}

export function createBuiltinRegistry(): ObjectModelRegistry {
  return new ObjectModelRegistry(builtinModels());
}

export interface ModelRegistryResult {
  readonly registry: ObjectModelRegistry;
  /** One per user file that could not be loaded; the other files are in the registry. */
  readonly errors: ModelError[];
  /** User files that hold no object definition. */
  readonly skipped: Array<{ file: string; reason: string }>;
}

/**
 * The built-in models with every DDF file of `modelsDir` added on top: a user definition replaces
 * the built-in one with the same object id and version. Throws ModelError when the directory cannot be read.
 */
export async function createModelRegistry(opts: { modelsDir?: string } = {}): Promise<ModelRegistryResult> {
  const registry = createBuiltinRegistry();
  if (opts.modelsDir === undefined || opts.modelsDir === '') return { registry, errors: [], skipped: [] };
  const { models, errors, skipped } = await loadDdfDirectory(opts.modelsDir);
  registry.add(models);
  return { registry, errors, skipped };
}
