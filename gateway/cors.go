package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// corsExposed are the response headers a browser app may read.
const corsExposed = "x-request-id, request-id, x-custos-request-id, x-custos-endpoint, x-custos-provider, " +
	"x-custos-region, x-custos-policy-revision, x-custos-cost, retry-after, x-ratelimit-limit-requests, " +
	"x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, " +
	"x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens"

// cors lets the configured origins call Custos from a browser: a preflight
// from an allowed origin is answered (204), and answers to it name the
// origin. Other origins get no CORS headers, so their browsers refuse.
func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || !slices.Contains(s.cfg.CORS.AllowedOrigins, origin) {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if c.Request.Method != http.MethodOptions || c.GetHeader("Access-Control-Request-Method") == "" {
		h.Set("Access-Control-Expose-Headers", corsExposed)
		c.Next()
		return
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if req := c.GetHeader("Access-Control-Request-Headers"); tokenList(req) {
		h.Set("Access-Control-Allow-Headers", req)
	}
	maxAge := s.cfg.CORS.MaxAge.Std()
	if maxAge == 0 {
		maxAge = 10 * time.Minute
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(maxAge/time.Second)))
	c.AbortWithStatus(http.StatusNoContent)
}

// tokenList accepts a comma-separated list of header names.
func tokenList(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return false
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
