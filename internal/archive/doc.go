// Package archive keeps the records the policy requires for ten years
// (ARC-1..ARC-6, policy §5.5; docs/archive.md): CRLs, CA certificates,
// versions of the CP/CPS and CGU, journal segments, ceremony transcripts,
// audit reports, and what an operator adds by hand.
//
// An item is its content, stored once under its SHA-256 (content
// addressing), and its description: kind, source, event time, media type,
// size, digest, confidentiality class and retention date. Each item is a
// leaf of an RFC 6962 Merkle tree (github.com/transparency-dev/merkle)
// whose heads the archive key signs; every retrieval checks the item's
// inclusion in the latest signed head, and every new head is checked
// against the previous one by a consistency proof, so an item removed or
// replaced and an index put back to an older state are detected.
//
// Invariants:
//   - an item, its leaf, a head, a timestamp and a purge record are never
//     changed; the database's triggers refuse it (ARC-2, ARC-3);
//   - an item leaves the database only after its retention date by the
//     database's clock, and only once a purge record names it (ARC-2);
//   - a confidential item is stored sealed with age to the archive's
//     recipients; the archive never holds the identity that opens it, and
//     the key that signs heads cannot decrypt (ARC-3);
//   - an ingest, its leaves, its replication queue rows and its journal
//     event commit in one transaction (AUD-7), and the tree's size row
//     orders ingests across nodes;
//   - retrieval says which check failed: hash, inclusion, head signature,
//     head chain, timestamp (ARC-6).
package archive
