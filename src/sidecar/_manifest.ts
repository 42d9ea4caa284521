import { ApiObject } from 'cdk8s';

/**
 * Changes an object's final manifest each time it is synthesized.
 *
 * JSON patches are not used: on generated `Kube*` classes (everything cdk8s-plus builds) they
 * apply to the props form before conversion, where a plain IntOrString or Quantity value is
 * silently dropped. Editing the converted manifest has no such trap.
 *
 * cdk8s has already sorted the manifest's keys; an edit keeps that order by sorting what it adds
 * with `sortKeys` and the objects it changes with `sortOwnKeys`.
 *
 * @returns the manifest as it was before this edit (and any later one)
 */
export function editManifest(apiObject: ApiObject, edit: (manifest: any) => void): () => any {
  const before = apiObject.toJson.bind(apiObject);
  Object.defineProperty(apiObject, 'toJson', {
    configurable: true,
    writable: true,
    value: () => {
      const manifest = before();
      edit(manifest);
      return manifest;
    },
  });
  return before;
}

/** A deep copy of `value` with object keys sorted as cdk8s sorts them, unless turned off. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map((item) => sortKeys(item)) as T;
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const sorted = sortOwnKeys(value as any);
  for (const key of Object.keys(sorted)) {
    sorted[key] = sortKeys(sorted[key]);
  }
  return sorted;
}

/** A shallow copy of `object` with its own keys sorted; nested values are kept as they are. */
export function sortOwnKeys<T extends object>(object: T): T {
  if (process.env.CDK8S_DISABLE_SORT) {
    return { ...object };
  }
  const sorted: any = {};
  for (const key of Object.keys(object).sort()) {
    sorted[key] = (object as any)[key];
  }
  return sorted;
}
