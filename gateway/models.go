package gateway

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/policy"
)

// modelInfo is one model the caller may use.
type modelInfo struct{ id, owner string }

// usableModels lists the catalog's models the policy lets this caller use,
// sorted. A dry-run deny still lists the model: dry-run does not enforce.
func (s *Server) usableModels(c *gin.Context, ex *exchange) []modelInfo {
	owners := map[string]string{}
	for _, ep := range s.catalog.Endpoints() {
		for _, m := range ep.Models {
			if _, ok := owners[m]; !ok {
				owners[m] = ep.Provider
			}
		}
	}
	var out []modelInfo
	for _, m := range s.catalog.Models() {
		d, err := s.decider.Decide(c.Request.Context(), s.policyInput(ex, m))
		if err != nil && !(d.DryRun && errors.Is(err, policy.ErrDenied)) {
			continue
		}
		out = append(out, modelInfo{id: m, owner: owners[m]})
	}
	return out
}

// models serves GET /v1/models: the models the caller may use, in the
// OpenAI shape, or Anthropic's for a request with anthropic-version.
func (s *Server) models(c *gin.Context, ex *exchange) error {
	list := s.usableModels(c, ex)
	data := make([]gin.H, len(list))
	for i, m := range list {
		data[i] = ex.meta.dialect.model(m)
	}
	ex.ans.status = http.StatusOK
	if ex.meta.dialect == dialectAnthropic {
		page := gin.H{"data": data, "has_more": false, "first_id": nil, "last_id": nil}
		if len(list) > 0 {
			page["first_id"], page["last_id"] = list[0].id, list[len(list)-1].id
		}
		c.JSON(http.StatusOK, page)
		return nil
	}
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": data})
	return nil
}

// model serves GET /v1/models/{id}: one model the caller may use, or 404.
func (s *Server) model(c *gin.Context, ex *exchange) error {
	id := c.Param("id")
	for _, m := range s.usableModels(c, ex) {
		if m.id == id {
			ex.ans.status = http.StatusOK
			c.JSON(http.StatusOK, ex.meta.dialect.model(m))
			return nil
		}
	}
	return &unknownModelError{model: id}
}

func openAIModel(m modelInfo) gin.H {
	return gin.H{"id": m.id, "object": "model", "created": 0, "owned_by": m.owner}
}

func anthropicModel(m modelInfo) gin.H {
	return gin.H{"type": "model", "id": m.id, "display_name": m.id, "created_at": "1970-01-01T00:00:00Z"}
}
