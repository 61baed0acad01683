package gateway

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/policy"
)

// models serves GET /v1/models: the models the caller may use.
func (s *Server) models(c *gin.Context, ex *exchange) error {
	owners := map[string]string{}
	for _, ep := range s.catalog.Endpoints() {
		for _, m := range ep.Models {
			if _, ok := owners[m]; !ok {
				owners[m] = ep.Provider
			}
		}
	}
	data := make([]gin.H, 0, len(owners))
	for _, m := range s.catalog.Models() {
		// Listed only if the policy would let this caller use it. A dry-run
		// deny still lists the model: dry-run does not enforce.
		d, err := s.decider.Decide(c.Request.Context(), s.policyInput(ex, m))
		if err != nil && !(d.DryRun && errors.Is(err, policy.ErrDenied)) {
			continue
		}
		data = append(data, gin.H{"id": m, "object": "model", "created": 0, "owned_by": owners[m]})
	}
	ex.ans.status = http.StatusOK
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": data})
	return nil
}
