package main

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/server"
)

// cliAccess says, for every command of the CLI, which admin API routes it
// calls (each decided by access.Decide on the server, SYS-1) and, for the
// commands that work on the installation's files instead, why that is
// outside the access matrix. It is written by hand from the commands'
// code, independently of the server's table it is checked against.
var cliAccess = map[string]struct {
	routes []string
	local  string // why the command (also) works without the API
}{
	"account cert issue":  {routes: []string{"POST /api/v1/accounts/{name}/certificates"}},
	"account cert list":   {routes: []string{"GET /api/v1/accounts/{name}/certificates"}},
	"account cert revoke": {routes: []string{"POST /api/v1/accounts/{name}/certificates/{serial}/revoke"}},
	"account create":      {routes: []string{"POST /api/v1/accounts"}},
	"account delete":      {routes: []string{"DELETE /api/v1/accounts/{name}"}},
	"account list":        {routes: []string{"GET /api/v1/accounts"}},
	"account passwd":      {routes: []string{"POST /api/v1/password"}},
	"account recover":     {local: "the documented recovery when no Security Officer can log in: it needs the host and the database (docs/roles.md)"},
	"account resume":      {routes: []string{"POST /api/v1/accounts/{name}/resume"}},
	"account set":         {routes: []string{"PATCH /api/v1/accounts/{name}"}},
	"account show":        {routes: []string{"GET /api/v1/accounts/{name}"}},
	"account suspend":     {routes: []string{"POST /api/v1/accounts/{name}/suspend"}},

	// CA-4: the registration authority.
	"dossier create":             {routes: []string{"POST /api/v1/dossiers"}},
	"dossier show":               {routes: []string{"GET /api/v1/dossiers/{id}"}},
	"dossier list":               {routes: []string{"GET /api/v1/dossiers"}},
	"dossier requirements":       {routes: []string{"GET /api/v1/registration/requirements"}},
	"dossier evidence add":       {routes: []string{"POST /api/v1/dossiers/{id}/evidence"}},
	"dossier accept-cgu":         {routes: []string{"POST /api/v1/dossiers/{id}/cgu"}},
	"dossier submit":             {routes: []string{"POST /api/v1/dossiers/{id}/submit"}},
	"dossier validate":           {routes: []string{"POST /api/v1/dossiers/{id}/validate"}},
	"dossier reject":             {routes: []string{"POST /api/v1/dossiers/{id}/reject"}},
	"dossier issue":              {routes: []string{"POST /api/v1/dossiers/{id}/issue"}},
	"dossier deliver":            {routes: []string{"POST /api/v1/dossiers/{id}/deliver"}},
	"revocation-request create":  {routes: []string{"POST /api/v1/revocation-requests"}},
	"acme eab create":            {routes: []string{"POST /api/v1/acme/eab"}},
	"acme eab list":              {routes: []string{"GET /api/v1/acme/eab"}},
	"acme eab revoke":            {routes: []string{"POST /api/v1/acme/eab/{kid}/revoke"}},
	"est credential create":      {routes: []string{"POST /api/v1/est/credentials"}},
	"est credential list":        {routes: []string{"GET /api/v1/est/credentials"}},
	"est credential revoke":      {routes: []string{"POST /api/v1/est/credentials/{username}/revoke"}},
	"revocation-request holder":  {routes: []string{"POST /api/v1/revocation-requests/holder"}},
	"revocation-request list":    {routes: []string{"GET /api/v1/revocation-requests"}},
	"revocation-request process": {routes: []string{"POST /api/v1/revocation-requests/{id}/process"}},

	"publication add":      {routes: []string{"POST /api/v1/publication/files", "POST /api/v1/publication/requests"}},
	"publication withdraw": {routes: []string{"POST /api/v1/publication/requests"}},
	"publication list":     {routes: []string{"GET /api/v1/publication/documents"}},
	"publication verify":   {local: "reads the public site or a mirror, as any relying party does; it changes nothing"},
	"publication export":   {local: "writes a mirror of what the public site serves from the local installation; it changes nothing published"},

	"archive add":              {routes: []string{"POST /api/v1/archive/items"}},
	"archive get":              {routes: []string{"GET /api/v1/archive/items/{leaf}"}, local: "--identity opens a sealed item on the operator's machine, after the server's checks"},
	"archive head":             {routes: []string{"POST /api/v1/archive/heads"}},
	"archive list":             {routes: []string{"GET /api/v1/archive/items"}},
	"archive purge":            {routes: []string{"POST /api/v1/archive/purge"}},
	"archive status":           {routes: []string{"GET /api/v1/archive/status"}},
	"incident open":            {routes: []string{"POST /api/v1/incidents"}},
	"incident note":            {routes: []string{"POST /api/v1/incidents/{id}/notes"}},
	"incident escalate":        {routes: []string{"POST /api/v1/incidents/{id}/severity"}},
	"incident close":           {routes: []string{"POST /api/v1/incidents/{id}/close"}},
	"incident list":            {routes: []string{"GET /api/v1/incidents"}},
	"incident show":            {routes: []string{"GET /api/v1/incidents/{id}"}},
	"incident status":          {routes: []string{"GET /api/v1/incidents/status"}},
	"incident obligation done": {routes: []string{"POST /api/v1/incidents/{id}/obligations/{kind}/done"}},
	"archive verify":           {local: "verification must work offline on the database and on replicas, read-only (ARC-6)"},

	"check confirm": {routes: []string{"POST /api/v1/archive/items"}},

	"incident weak-algorithm": {routes: []string{"GET /api/v1/revocations/selections/preview", "POST /api/v1/revocations/selections"},
		local: "--local: the dry run reads the database read-only, with progress, for millions of certificates"},
	"backup create":  {local: "reads the data directory and the database of the host it runs on, and signs with its audit key (CONT-1)"},
	"backup list":    {local: "reads the backup target's signed manifests, no installation needed (CONT-1)"},
	"backup verify":  {local: "runs at the second site on the backup alone, with its age identity (CONT-1)"},
	"backup restore": {local: "runs on a clean machine at the second site, before any server exists (CONT-1)"},

	"approval approve": {routes: []string{"GET /api/v1/approvals/{id}", "POST /api/v1/approvals/{id}/approve"}},
	"approval list":    {routes: []string{"GET /api/v1/approvals"}},
	"approval reject":  {routes: []string{"GET /api/v1/approvals/{id}", "POST /api/v1/approvals/{id}/reject"}},
	"approval show":    {routes: []string{"GET /api/v1/approvals/{id}"}},

	"profile lint": {local: "reads the files it is given and the configuration's profiles; --csr opens the installation for a dry run that reserves no serial and uses no key"},
	"audit alerts": {routes: []string{"GET /api/v1/audit/alerts"}, local: "offline reading of a database copy (--local, --db)"},
	"audit events": {routes: []string{"GET /api/v1/audit/events"}, local: "offline reading of a database copy (--local, --db)"},
	"audit export": {routes: []string{"GET /api/v1/audit/export"}, local: "offline export of a database copy (--local, --db)"},
	"audit show":   {routes: []string{"GET /api/v1/audit/events/{seq}"}, local: "offline reading of a database copy (--local, --db)"},
	"audit status": {routes: []string{"GET /api/v1/audit/status"}, local: "offline reading of a database copy (--local, --db)"},
	"audit verify": {routes: []string{"GET /api/v1/audit/verify"}, local: "verification must work offline on copies and exports (AUD-2)"},

	"audit record host-start":        {routes: []string{"POST /api/v1/audit/records"}, local: "offline entry, marked as not authenticated"},
	"audit record host-stop":         {routes: []string{"POST /api/v1/audit/records"}, local: "offline entry, marked as not authenticated"},
	"audit record maintenance":       {routes: []string{"POST /api/v1/audit/records"}, local: "offline entry, marked as not authenticated"},
	"audit record media-destruction": {routes: []string{"POST /api/v1/audit/records"}, local: "offline entry, marked as not authenticated"},
	"audit record physical-access":   {routes: []string{"POST /api/v1/audit/records"}, local: "offline entry, marked as not authenticated"},

	"bench issue": {routes: []string{"POST /api/v1/certificates", "GET /api/v1/cas/{id}", "GET /metrics"}, local: "a throwaway installation of its own unless --running"},
	"bench ocsp":  {routes: []string{"GET /api/v1/cas/{id}", "GET /api/v1/certificates", "GET /metrics"}, local: "a throwaway installation of its own unless --running"},
	"bench crl":   {routes: []string{"GET /api/v1/cas", "GET /metrics"}, local: "a throwaway installation of its own unless --running"},
	"bench site":  {local: "a throwaway installation of its own, never an operator's"},

	"ca activate":       {routes: []string{"POST /api/v1/cas/{id}/activations", "POST /api/v1/cas/{id}/activations/{aid}/shares"}},
	"ca backup":         {routes: []string{"POST /api/v1/cas/{id}/backups", "GET /api/v1/approvals/{id}", "POST /api/v1/cas/{id}/backups/{aid}"}},
	"ca backups":        {routes: []string{"GET /api/v1/cas/{id}/backups"}},
	"ca create":         {local: "creates keys on the CA machine; refuses a CA without an executed ca.create approval (ROLE-3)"},
	"ca crl":            {routes: []string{"POST /api/v1/cas/{id}/crl"}},
	"ca deactivate":     {routes: []string{"POST /api/v1/cas/{id}/deactivate"}},
	"ca destroy-key":    {routes: []string{"POST /api/v1/cas/{id}/key-destruction"}},
	"ca import":         {routes: []string{"POST /api/v1/cas/{id}/imports", "POST /api/v1/cas/{id}/imports/{aid}"}},
	"ca list":           {routes: []string{"GET /api/v1/cas"}},
	"ca request-create": {routes: []string{"POST /api/v1/cas/{id}/creation"}},
	"ca compromise":     {routes: []string{"POST /api/v1/cas/{id}/compromise"}},
	"ca revoke-all":     {routes: []string{"POST /api/v1/cas/{id}/revocations"}},
	"ca show":           {routes: []string{"GET /api/v1/cas/{id}"}},
	"ca terminate":      {routes: []string{"POST /api/v1/cas/{id}/terminate"}},

	"ceremony export": {local: "a ceremony runs on the offline CA machine, witnessed, with a signed transcript (KEY-8)"},
	"ceremony list":   {local: "a ceremony runs on the offline CA machine, witnessed, with a signed transcript (KEY-8)"},
	"ceremony plan":   {local: "a ceremony runs on the offline CA machine, witnessed, with a signed transcript (KEY-8)"},
	"ceremony run":    {local: "a ceremony runs on the offline CA machine, witnessed, with a signed transcript (KEY-8)"},
	"ceremony verify": {local: "a transcript is checked offline, anywhere"},

	"cert issue":  {routes: []string{"POST /api/v1/certificates", "POST /api/v1/certificates/pkcs12"}},
	"cert list":   {routes: []string{"GET /api/v1/certificates"}},
	"cert revoke": {routes: []string{"GET /api/v1/certificates/{serial}", "POST /api/v1/certificates/{serial}/revoke"}},
	"cert show":   {routes: []string{"GET /api/v1/certificates/{serial}"}},

	"db grant-service-role": {local: "run by the database owner before the service starts: it sets what the service role may do (AUD-2)"},

	"demo":  {local: "makes a throwaway demo installation, then uses its API as its demo people"},
	"init":  {local: "makes a new installation and its first Security Officer: no one exists to decide yet"},
	"serve": {local: "runs the listeners that decide"},

	"login":  {routes: []string{"POST /api/v1/login"}},
	"logout": {routes: []string{"POST /api/v1/logout"}},
	"whoami": {routes: []string{"GET /api/v1/whoami"}},

	"people attest": {routes: []string{"POST /api/v1/people/{name}/attestations"}},
	"people show":   {routes: []string{"GET /api/v1/people", "GET /api/v1/people/{name}"}},
	"role grant":    {routes: []string{"POST /api/v1/accounts/{name}/roles"}},
	"role list":     {local: "prints the roles and their rules, from the code, with no installation"},
	"role remove":   {routes: []string{"DELETE /api/v1/accounts/{name}/roles/{role}"}},
}

// SYS-1: every CLI command either calls admin routes, each under
// access.Decide, or says why it works on the installation's files; a new
// command, or a route that does not exist, fails here.
func TestSYS1_EveryCLICommandGoesThroughTheDecisionOrSaysWhyNot(t *testing.T) {
	routes := server.RouteActions()
	root := newRootCmd(&env{stdout: io.Discard, stderr: io.Discard})
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			walk(s)
		}
		if c.HasSubCommands() || !c.Runnable() || c == root {
			return
		}
		path := c.CommandPath()[len(root.Name())+1:]
		seen[path] = true
		a, ok := cliAccess[path]
		if !ok {
			t.Errorf("sceau %s is not in cliAccess: list the admin routes it calls, or why it works locally", path)
			return
		}
		if len(a.routes) == 0 && a.local == "" {
			t.Errorf("sceau %s: neither routes nor a reason", path)
		}
		for _, r := range a.routes {
			if _, ok := routes[r]; !ok {
				t.Errorf("sceau %s calls %q, which is not an admin route under access.Decide", path, r)
			}
		}
	}
	walk(root)
	for path := range cliAccess {
		if !seen[path] {
			t.Errorf("cliAccess lists sceau %s, which is not a command", path)
		}
	}
	if len(seen) < 50 {
		t.Fatalf("walked %d commands: the command tree was not built", len(seen))
	}
}
