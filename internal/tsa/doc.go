// Package tsa is Sceau's RFC 3161 time-stamping unit (ARC-5: every
// archived item carries a trustworthy timestamp): it parses TimeStampReq,
// signs TSTInfo tokens with a key certified for timeStamping, answers
// TimeStampResp over HTTP (RFC 3161 §3.4), verifies tokens, and asks an
// external time-stamping authority through the same Stamper interface.
//
// Invariants:
//   - a token is signed only after Guard (the node's clock guard, SYS-4)
//     says the clock is trusted; otherwise the answer is a rejection with
//     failInfo timeNotAvailable and no signature is made;
//   - the message imprint is SHA-256, SHA-384 or SHA-512 with a digest of
//     its length; anything else is refused with a precise error, never
//     signed;
//   - a request with extensions is refused (unacceptedExtension): the unit
//     supports none;
//   - serial numbers are 128 random bits; genTime is the unit's clock, in
//     UTC, as precise as the accuracy says;
//   - the unit's certificate has timeStamping as its only, critical,
//     extended key usage (RFC 3161 §2.3) and is valid at genTime;
//   - every token's signature is checked before it is returned
//     (cms.SignEncapsulated verifies what it signs);
//   - ParseRequest, ParseResponse and Verify never panic on input; their
//     refusals are errors of kind sceau.Invalid whose message starts
//     "tsa: ".
//
// The package imports cms and sceau only: no domain package, no store.
package tsa
