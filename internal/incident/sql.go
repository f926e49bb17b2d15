package incident

// The queries of the incident tables, which this package alone owns
// (migrations 0014_incident.sql: incidents are never deleted, a closed one
// is final, the timeline is append-only).

const (
	incidentColumns = `id, kind, severity, title, description, detected_at, opened_at, opened_by, status,
		COALESCE(closed_at, ''), closed_by, closure`
	qInsertIncident = `INSERT INTO incidents (kind, severity, title, description, detected_at, opened_at, opened_by, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'open') RETURNING id`
	qIncident       = `SELECT ` + incidentColumns + ` FROM incidents WHERE id = ?`
	qIncidents      = `SELECT ` + incidentColumns + ` FROM incidents ORDER BY id DESC LIMIT ?`
	qOpenIncidents  = `SELECT ` + incidentColumns + ` FROM incidents WHERE status = 'open' ORDER BY id DESC LIMIT ?`
	qCloseIncident  = `UPDATE incidents SET status = 'closed', closed_at = ?, closed_by = ?, closure = ? WHERE id = ? AND status = 'open'`
	qCountIncidents = `SELECT COUNT(*) FROM incidents WHERE status = 'open'`

	qInsertNote = `INSERT INTO incident_notes (incident, at, author, kind, text) VALUES (?, ?, ?, ?, ?) RETURNING id`
	qNotes      = `SELECT id, at, author, kind, text FROM incident_notes WHERE incident = ? ORDER BY id`

	notificationColumns = `id, incident, event, channel, recipient, subject, body, created_at, attempts, next_try,
		COALESCE(last_try, ''), COALESCE(delivered_at, ''), last_error`
	qInsertNotification = `INSERT INTO incident_notifications (incident, event, channel, recipient, subject, body, created_at, next_try)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qNotifications    = `SELECT ` + notificationColumns + ` FROM incident_notifications WHERE incident = ? ORDER BY id`
	qNotification     = `SELECT ` + notificationColumns + ` FROM incident_notifications WHERE id = ?`
	qDueNotifications = `SELECT id, next_try FROM incident_notifications WHERE delivered_at IS NULL AND next_try <= ?
		ORDER BY next_try, id LIMIT ?`
	// A claim moves next_try past the attempt, so that another node
	// passing meanwhile leaves the notification alone.
	qClaim            = `UPDATE incident_notifications SET next_try = ? WHERE id = ? AND next_try = ? AND delivered_at IS NULL`
	qDelivered        = `UPDATE incident_notifications SET attempts = attempts + 1, last_try = ?, delivered_at = ?, last_error = '' WHERE id = ?`
	qAttemptFailed    = `UPDATE incident_notifications SET attempts = attempts + 1, last_try = ?, next_try = ?, last_error = ? WHERE id = ?`
	qCountUndelivered = `SELECT COUNT(*) FROM incident_notifications WHERE delivered_at IS NULL`

	obligationColumns = `incident, kind, due_at, COALESCE(done_at, ''), done_by, reference, COALESCE(warned_at, ''), COALESCE(overdue_at, '')`
	qInsertObligation = `INSERT INTO incident_obligations (incident, kind, due_at) VALUES (?, ?, ?)`
	qObligations      = `SELECT ` + obligationColumns + ` FROM incident_obligations WHERE incident = ? ORDER BY kind`
	qOpenObligations  = `SELECT ` + obligationColumns + ` FROM incident_obligations WHERE done_at IS NULL ORDER BY due_at, incident, kind`
	qObligationDone   = `UPDATE incident_obligations SET done_at = ?, done_by = ?, reference = ? WHERE incident = ? AND kind = ? AND done_at IS NULL`
	qObligationWarned = `UPDATE incident_obligations SET warned_at = ? WHERE incident = ? AND kind = ? AND warned_at IS NULL AND done_at IS NULL`
	qObligationLate   = `UPDATE incident_obligations SET overdue_at = ? WHERE incident = ? AND kind = ? AND overdue_at IS NULL AND done_at IS NULL`
)

const qDueForIncident = `SELECT id, next_try FROM incident_notifications WHERE incident = ? AND delivered_at IS NULL AND next_try <= ?
	ORDER BY id`

const qEscalate = `UPDATE incidents SET severity = ? WHERE id = ? AND status = 'open' AND severity = ?`
