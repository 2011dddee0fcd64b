/** Indexes of sets by key (a Map whose empty sets are dropped), shared by the simulator's lookups. */

/** Adds `value` to the set under `key`, creating the set. */
export function link<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(value);
}

/** Removes `value` from the set under `key`; a set left empty is dropped with its key. */
export function unlink<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
