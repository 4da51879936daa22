// The replicas a claimed key's route answer names. A claim moves the key's owner to the claimant but not
// its shard: the replicas are the shard's ring owner and replicas without the claimant, as many as the
// ring names, so an answer never lists its owner among its replicas, and the ring's owner, which holds
// the shard's other data, stays among them. The sidecar and swimring-client both answer with this.

/** The replicas of a key claimed by `claimant` whose shard the ring gives to `ringOwner` and `ringReplicas`. */
export function replicasBeside<M extends { readonly name: string }>(claimant: M, ringOwner: M | null, ringReplicas: readonly M[]): M[] {
  const out: M[] = [];
  const take = (m: M): void => {
    if (out.length < ringReplicas.length && m.name !== claimant.name) out.push(m);
  };
  if (ringOwner !== null) take(ringOwner);
  for (const m of ringReplicas) take(m);
  return out;
}
