package acme

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// checkCAA applies the CAA records of name (RFC 8659): the relevant
// record set is the first non-empty one from name up to its top-level
// domain; if it has issue (or, for a wildcard, issuewild) properties, one
// must name one of our issuer domain names, and its accounturi and
// validationmethods parameters, when present, must match the account and
// the method used. A lookup failure refuses (fail closed).
func (s *Service) checkCAA(ctx context.Context, name, accountURL, method string) *problem {
	if len(s.opts.CAAIssuerDomains) == 0 {
		return nil
	}
	wildcard := strings.HasPrefix(name, "*.")
	name = strings.TrimPrefix(name, "*.")
	server, err := s.dnsServer()
	if err != nil {
		return prob(probCAA, http.StatusForbidden, "no resolver for the CAA lookup")
	}
	labels := dns.SplitDomainName(name)
	for i := 0; i < len(labels); i++ {
		fqdn := dns.Fqdn(strings.Join(labels[i:], "."))
		set, p := lookupCAA(ctx, server, fqdn)
		if p != nil {
			return p
		}
		if len(set) == 0 {
			continue
		}
		return s.evalCAA(set, fqdn, wildcard, accountURL, method)
	}
	return nil
}

func (s *Service) dnsServer() (string, error) {
	if s.opts.Resolver != "" {
		return s.opts.Resolver, nil
	}
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(conf.Servers) == 0 {
		return "", fmt.Errorf("acme: no resolver: %v", err)
	}
	return conf.Servers[0] + ":" + conf.Port, nil
}

func lookupCAA(ctx context.Context, server, fqdn string) ([]*dns.CAA, *problem) {
	m := new(dns.Msg)
	m.SetQuestion(fqdn, dns.TypeCAA)
	m.SetEdns0(4096, false)
	c := new(dns.Client)
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, prob(probCAA, http.StatusForbidden, fmt.Sprintf("the CAA lookup of %s failed", fqdn))
	}
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	default:
		return nil, prob(probCAA, http.StatusForbidden, fmt.Sprintf("the CAA lookup of %s failed: %s", fqdn, dns.RcodeToString[r.Rcode]))
	}
	var out []*dns.CAA
	for _, rr := range r.Answer {
		if caa, ok := rr.(*dns.CAA); ok {
			out = append(out, caa)
		}
	}
	return out, nil
}

func (s *Service) evalCAA(set []*dns.CAA, fqdn string, wildcard bool, accountURL, method string) *problem {
	var issue, issueWild []*dns.CAA
	for _, r := range set {
		switch strings.ToLower(r.Tag) {
		case "issue":
			issue = append(issue, r)
		case "issuewild":
			issueWild = append(issueWild, r)
		case "iodef", "contactemail", "contactphone", "issuemail", "issuevmc":
		default:
			if r.Flag&128 != 0 {
				return prob(probCAA, http.StatusForbidden, fmt.Sprintf("%s has a critical CAA property %q Sceau does not know", fqdn, r.Tag))
			}
		}
	}
	props := issue
	if wildcard && len(issueWild) > 0 {
		props = issueWild
	}
	if len(props) == 0 {
		return nil
	}
	for _, r := range props {
		if s.caaAllows(r.Value, accountURL, method) {
			return nil
		}
	}
	return prob(probCAA, http.StatusForbidden, fmt.Sprintf("the CAA records of %s do not authorize %s", fqdn, strings.Join(s.opts.CAAIssuerDomains, ", ")))
}

// caaAllows tells whether one issue value authorizes us (RFC 8659 §4.2,
// RFC 8657 for accounturi and validationmethods).
func (s *Service) caaAllows(value, accountURL, method string) bool {
	parts := strings.Split(value, ";")
	issuer := strings.ToLower(strings.TrimSpace(parts[0]))
	if issuer == "" || !slices.Contains(s.opts.CAAIssuerDomains, issuer) {
		return false
	}
	for _, param := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok {
			if strings.TrimSpace(param) == "" {
				continue
			}
			return false
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "accounturi":
			if v != accountURL {
				return false
			}
		case "validationmethods":
			if !slices.Contains(strings.Split(v, ","), method) {
				return false
			}
		}
	}
	return true
}
