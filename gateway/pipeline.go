package gateway

import "github.com/gin-gonic/gin"

// serveModel is every model route after authentication: the pipeline's
// stages, in order, each storing its result in the exchange for the later
// ones and the audit record:
//
//	parse → inspect → decide → redact → route → reserve → intent → forward → relay
func (s *Server) serveModel(parse parser) handler {
	return func(c *gin.Context, ex *exchange) error {
		body, err := s.readJSONBody(c)
		if err != nil {
			return err
		}
		if ex.req, err = parse(body, s.jsonLimits); err != nil {
			return err
		}
		if !s.catalog.Known(ex.req.model) {
			return &unknownModelError{model: ex.req.model}
		}
		ex.stage(stageInspect)
		if ex.insp, err = s.inspect(ex.caller, ex.req); err != nil {
			return err
		}
		ex.stage(stageDecide)
		s.estimate(c.Request.Context(), ex)
		if ex.dec, err = s.decide(c.Request.Context(), ex); err != nil {
			return err
		}
		if err := providerState(ex); err != nil {
			return err
		}
		ex.stage(stageRedact)
		if ex.sess, err = s.redact(ex.insp, &ex.dec); err != nil {
			return err
		}
		ex.stage(stageRoute)
		if ex.cands, err = s.route(ex); err != nil {
			return err
		}
		ex.stage(stageReserve)
		if err := s.reserve(c.Request.Context(), ex); err != nil {
			return err
		}
		resp, err := s.forward(c.Request.Context(), ex) // stages intent, forward
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		s.answerHeaders(c, ex)
		if ex.req.stream {
			return s.relayStream(c, ex, resp)
		}
		return s.relayAnswer(c, ex, resp)
	}
}

// providerState applies the decision to a Responses API request's provider
// state: a request that depends on state kept by the provider needs the
// policy's leave, and without it nothing is stored there (store: false).
func providerState(ex *exchange) error {
	r := ex.req.responses
	if r == nil || ex.dec.ProviderStorage {
		return nil
	}
	if err := r.StateError(); err != nil {
		return err
	}
	r.SetStore(false)
	return nil
}

// answerHeaders name where the request went.
func (s *Server) answerHeaders(c *gin.Context, ex *exchange) {
	h := c.Writer.Header()
	// Keys in canonical form, set directly: Set would canonicalize each.
	h["X-Custos-Endpoint"] = []string{ex.fwd.endpoint.Name}
	h["X-Custos-Provider"] = []string{ex.fwd.endpoint.Provider}
	h["X-Custos-Region"] = []string{ex.fwd.endpoint.Region}
	h["X-Custos-Policy-Revision"] = []string{ex.dec.Revision.String()}
	ex.rateHeaders(h)
}
