// Bounds of the digest exchange: what one request or reply may hold. Everything from a peer is
// untrusted; these keep one exchange from costing unbounded memory or CPU on either side.

/** Leaves of the member tree: 256 buckets is a few members each even at thousands of members. */
export const MEMBER_TREE_LEAVES = 256;
/** Leaves of the claims tree: 4096 buckets, about 25 claims each at 100,000 claims. */
export const CLAIM_TREE_LEAVES = 4096;
/** Parents in one GetLeaves request (their children come back: 16 x 8 bytes each, 512 KiB at most). */
export const MAX_GETLEAVES_PARENTS = 4096;
/** Buckets in one FetchEntries request. */
export const MAX_FETCH_BUCKETS = 1024;
/** Claim records in one FetchEntries request or reply. */
export const MAX_FETCH_CLAIMS = 262_144;
/** Buckets the caller asks for per FetchEntries call (keeps each message a few hundred KiB at 100k claims). */
export const FETCH_CHUNK_BUCKETS = 256;
/** Roots in one ExchangeRoots message (one per tree kind). */
export const MAX_ROOTS = 8;
