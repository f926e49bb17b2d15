// Package publication is the trust service provider's public repository
// (policy §2): every version of its CP, CPS and terms of use (CGU), its
// forms and notices, next to the CA certificates and CRLs, served as pages
// for people and stable files for machines (PUB-1), listed in a numbered
// manifest signed with a publication key certified in the hierarchy so
// that anyone can check any file (PUB-2), visible at once on every node
// of the database and watched for freshness (PUB-3), and changed only by
// an authenticated trusted role under dual control (PUB-4, ROLE-3).
//
// A document version, once published, never changes and never leaves its
// URL: the database refuses an update of its content and any deletion; a
// withdrawn version stays listed, marked withdrawn, and downloadable.
// Files are stored once under their SHA-256, which is also their
// content-addressed URL.
package publication
