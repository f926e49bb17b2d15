// Package access authenticates the people and programs that use the
// administration interface. This version holds the administration PKI: a
// dedicated admin CA (separate from the certification hierarchy), the admin
// listener's TLS certificate, and operator client certificates (SYS-2,
// ROLE-4 "client certificate" path). Accounts, roles, sessions and dual
// control build on it.
package access
