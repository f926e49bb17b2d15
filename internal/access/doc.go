// Package access decides who may do what on the administration interface:
// the administration PKI, accounts and their authentication, trusted roles
// with separation of duties, sessions, personnel records, and dual control.
//
// Invariants:
//   - Authorization is one pure function, Decide(principal, action,
//     resource), over the role × action matrix held as data (policy); what
//     the matrix does not allow is refused (SYS-1, ROLE-1).
//   - Separation of duties is data too (compatible) and is checked on every
//     grant, at request and at execution (ROLE-2).
//   - A person's roles are read from the store for every request: nothing
//     caches them, so a removed role is refused on the next request (ROLE-4).
//   - A terminal is a verified client certificate of the admin CA (SYS-2).
//     The person behind it is authenticated by password and TOTP, which
//     opens a session bound to that terminal, or by a client certificate
//     bound to their account (ROLE-4). Passwords are Argon2id hashes with
//     their parameters (PUB-4); session tokens are kept as SHA-256 hashes.
//   - A TOTP code is accepted once: each account remembers the last time
//     step used, and older or equal steps are refused (replay).
//   - Actions under dual control execute only through Approvals, in the
//     transaction that records their last approval, exactly once (ROLE-3).
//   - Every change, every login and every refusal is an audit event, in the
//     transaction of the change it records (AUD-1, AUD-7, ROLE-5).
package access
