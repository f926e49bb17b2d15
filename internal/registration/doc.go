// Package registration is the registration authority (CA-4): dossiers
// (request files) for natural persons, legal persons, natural persons
// attached to a legal person, and devices or websites; their identity
// evidence, with scans sealed in the archive (ARC-3); the applicant's
// acceptance of one exact version of the published CGU, archived as proof
// (ARC-1); validation by a Registration & Revocation Officer other than the
// one who entered the dossier (four eyes); issuance from the validated
// fields alone through the CA's record-before-sign path; delivery; and
// revocation requests checked by a Revocation Officer within the policy's
// deadline.
//
// Invariants:
//   - A dossier moves draft → submitted → validated or rejected → issued →
//     delivered, each change in one transaction with its audit event,
//     naming the account and the role (ROLE-5, AUD-7).
//   - The validator is a Registration & Revocation Officer and not the
//     account that created the dossier (four eyes, CA-4).
//   - The certificate's subject and names come only from the validated
//     dossier; the issuance request names no subject, and its profile is
//     the dossier's.
//   - The serial is recorded on the dossier in the transaction that
//     reserves it, before the signature (ca.Request.Claim): a dossier is
//     issued at most once.
//   - Nothing about a dossier or a revocation request is deleted: rows are
//     only inserted or moved forward.
package registration
