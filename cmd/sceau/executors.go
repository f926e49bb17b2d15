package main

import "github.com/sceau/sceau/internal/access"

// registerExecutors plugs the executors of actions under dual control that
// other packages carry out into the access service (ROLE-3): mass
// revocation and CA termination.
func registerExecutors(svc *access.Service, n *node) error {
	return svc.RegisterCAExecutors(n.rev, n.auth)
}
