import 'reflect-metadata';
import { FLOW_METADATA } from '../pgflow.constants.ts';
import type { FlowOptions } from '../types/step-options.ts';

/** What `@Flow()` stores on the class: the options exactly as given, checked at bootstrap. */
export interface FlowMetadata {
  readonly options: unknown;
}

/**
 * Marks a provider class as a flow; its `@Step()` methods are the flow's steps. The class stays an
 * ordinary provider: constructor injection works (a class decorator makes TypeScript emit the
 * constructor's parameter types), `@Injectable()` options such as a scope are left alone; list it in
 * a module's providers.
 *
 * The decorator only stores the options: they are validated with the rest of the flow when the
 * application boots, so that every problem of the class is reported at once.
 *
 * ```ts
 * @Flow({ slug: 'analyze_website', maxAttempts: 3, baseDelay: 1, timeout: 60 })
 * export class AnalyzeWebsiteFlow { ... }
 * ```
 */
export function Flow(options: FlowOptions): ClassDecorator {
  return (target) => {
    const metadata: FlowMetadata = { options: copyOptions(options) };
    Reflect.defineMetadata(FLOW_METADATA, metadata, target);
  };
}

/** A shallow copy, so that later changes to the caller's object do not change the flow. */
export function copyOptions(options: unknown): unknown {
  return typeof options === 'object' && options !== null && !Array.isArray(options) ? { ...options } : options;
}
