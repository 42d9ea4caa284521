import { ApiObject } from 'cdk8s';

/**
 * Changes an object's final manifest each time it is synthesized.
 *
 * JSON patches are not used: on generated `Kube*` classes (everything cdk8s-plus builds) they
 * apply to the props form before conversion, where a plain IntOrString or Quantity value is
 * silently dropped. Editing the converted manifest has no such trap.
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
      return sortKeys(manifest);
    },
  });
  return before;
}

/** Sorts object keys as cdk8s itself does, unless the user turned that off. */
function sortKeys(value: any, top = true): any {
  if (process.env.CDK8S_DISABLE_SORT) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => sortKeys(v, false));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  // cdk8s keeps apiVersion, kind and metadata first at the top level
  const leading = top ? ['apiVersion', 'kind', 'metadata'] : [];
  const keys = [...leading.filter((k) => k in value), ...Object.keys(value).filter((k) => !leading.includes(k)).sort()];
  const sorted: any = {};
  for (const key of keys) {
    sorted[key] = sortKeys(value[key], false);
  }
  return sorted;
}
