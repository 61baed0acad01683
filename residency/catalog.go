package residency

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Errors Candidates reports; neither names the requested model, which is
// caller-controlled text.
var (
	// ErrUnknownModel means no endpoint in the catalog serves the model at all.
	ErrUnknownModel = errors.New("residency: model served by no endpoint")
	// ErrNoCompliantEndpoint means endpoints serve the model but none satisfies
	// the request's constraints.
	ErrNoCompliantEndpoint = errors.New("residency: no compliant endpoint")
)

// Endpoint is one place a request can be processed, described by the facts
// routing decides on. How it is reached (its wire format, URL, key) is the
// gateway's business, looked up by Name.
type Endpoint struct {
	Name     string
	Provider string
	Region   string
	// Jurisdiction is the legal area the region belongs to (eu, us, uk, ...).
	Jurisdiction string
	// Attributes are configuration claims the policy may read.
	Attributes map[string]bool
	Models     []string
	Priority   int // lower is tried first
	Weight     int // among equal priority, a larger weight tolerates more latency
	// Aliases map a requested model name to the name this endpoint serves.
	Aliases map[string]string
}

// Serves reports whether the endpoint serves model, directly or by alias.
func (e *Endpoint) Serves(model string) bool {
	_, alias := e.Aliases[model]
	return alias || slices.Contains(e.Models, model)
}

// Served returns the name the endpoint serves model under.
func (e *Endpoint) Served(model string) string {
	if s, ok := e.Aliases[model]; ok {
		return s
	}
	return model
}

// Catalog is an immutable set of endpoints, safe for concurrent use.
type Catalog struct {
	endpoints []*Endpoint
	byModel   map[string][]*Endpoint
}

// NewCatalog builds a catalog; endpoint names must be unique.
func NewCatalog(eps []Endpoint) (*Catalog, error) {
	c := &Catalog{byModel: map[string][]*Endpoint{}}
	seen := map[string]bool{}
	for i := range eps {
		e := eps[i]
		if seen[e.Name] {
			return nil, fmt.Errorf("residency: endpoint %q listed twice", e.Name)
		}
		seen[e.Name] = true
		e.Models = slices.Clone(e.Models)
		if e.Jurisdiction == "" {
			e.Jurisdiction = JurisdictionOf(e.Region)
		}
		c.endpoints = append(c.endpoints, &e)
		for _, m := range e.Models {
			c.byModel[m] = append(c.byModel[m], &e)
		}
		for alias := range e.Aliases {
			if !slices.Contains(e.Models, alias) {
				c.byModel[alias] = append(c.byModel[alias], &e)
			}
		}
	}
	for _, list := range c.byModel {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Priority < list[j].Priority })
	}
	return c, nil
}

// Endpoints returns every endpoint in configuration order.
func (c *Catalog) Endpoints() []*Endpoint { return c.endpoints }

// Models returns every served model name, sorted.
func (c *Catalog) Models() []string {
	out := make([]string, 0, len(c.byModel))
	for m := range c.byModel {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Constraint narrows the endpoints a request may use. A nil list allows all;
// an empty, non-nil list allows none.
type Constraint struct {
	Endpoints []string // allowed endpoint names; nil means any
	Regions   []string // allowed regions; nil means any
	Providers []string // allowed providers; nil means any
}

// Candidates returns the endpoints serving model that satisfy c, in the order
// they should be tried. The returned slice is the caller's to keep.
func (c *Catalog) Candidates(model string, con Constraint) ([]*Endpoint, error) {
	serving := c.byModel[model]
	if len(serving) == 0 {
		return nil, ErrUnknownModel
	}
	out := make([]*Endpoint, 0, len(serving))
	var endpointMiss, regionMiss, providerMiss int
	for _, e := range serving {
		switch {
		case con.Endpoints != nil && !slices.Contains(con.Endpoints, e.Name):
			endpointMiss++
		case con.Regions != nil && !slices.Contains(con.Regions, e.Region):
			regionMiss++
		case con.Providers != nil && !slices.Contains(con.Providers, e.Provider):
			providerMiss++
		default:
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		constraint := "allowed regions"
		switch {
		case endpointMiss >= regionMiss && endpointMiss >= providerMiss:
			constraint = "endpoints the policy allows"
		case providerMiss > regionMiss:
			constraint = "allowed providers"
		}
		return nil, fmt.Errorf("%d endpoint(s) serve the requested model, none within the %s: %w",
			len(serving), constraint, ErrNoCompliantEndpoint)
	}
	return out, nil
}

// Serving returns the endpoints serving model (directly or by alias), in
// priority order, unconstrained. The slice is shared: read it, never change it.
func (c *Catalog) Serving(model string) []*Endpoint { return c.byModel[model] }

// Endpoint returns the endpoint named name, or nil.
func (c *Catalog) Endpoint(name string) *Endpoint {
	for _, e := range c.endpoints {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Known reports whether any endpoint serves model.
func (c *Catalog) Known(model string) bool { return len(c.byModel[model]) > 0 }
