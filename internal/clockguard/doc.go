// Package clockguard checks this machine's clock against NTP servers and
// says whether Sceau may sign with it (SYS-4, policy §6.7).
//
// A Guard queries every configured server at once (RFC 5905, through
// github.com/beevik/ntp), takes the median offset of those that answered
// with a valid, synchronized response, and compares it with the drift
// limit. Its verdict is one immutable snapshot behind an atomic pointer:
// Err, which every signing path calls, is a load and a comparison of
// monotonic times, never a network call.
//
// Invariants:
//   - Signing is allowed only while the last check that got an answer was
//     within MaxDrift and the last such check is at most Interval plus
//     Timeout plus Grace old. No answer is not "in sync": at first start it refuses at
//     once, later it refuses once that time has passed. A stalled checker
//     therefore stops signing too.
//   - Every refusal is a sceau.Error of kind Unavailable wrapping
//     ErrClockDrift, whose message names the offset or the missing answers
//     and the servers.
//   - A Guard without servers is off: it never refuses and reports itself
//     unchecked (docs/clock.md says why that is the default and what it
//     costs).
//   - OnChange is told of each change of state (in_sync, drifted,
//     unreachable) or of the signing verdict, once, in order: the node
//     journals it (clock.* events) and the analysis raises the alerts.
package clockguard
