// Package incident is the register of security incidents (INC-1) and the
// deadlines they set (INC-4; docs/incident.md).
//
// An incident has a kind (key loss, suspected compromise, theft, weak
// algorithm, outage, other), a severity, its detection time, a timeline of
// notes and actions, and a closure. Opening one notifies the Security
// Officers and the configured partners through pluggable senders (SMTP, a
// signed webhook, syslog); every notification is a row with its delivery
// attempts, retried with exponential backoff until delivered, never
// dropped. A major incident owes notifications to the supervisory authority
// and the conformity assessment body within 24 hours of its detection:
// CheckDeadlines journals an event before the due time and when it has
// passed, which the journal's analysis turns into alerts (AUD-6); and it
// starts the compromise procedure (Options.OnMajor; INC-2).
//
// Every state change commits with its journal event in one transaction.
package incident
