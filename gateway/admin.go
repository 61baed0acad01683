package gateway

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
)

// auditExport serves GET /admin/audit/export to auditor keys only:
// ?from=&to= (RFC 3339 or YYYY-MM-DD), ?tenant=, ?format=jsonl|csv. The
// export is itself recorded before any record is sent.
func (s *Server) auditExport(c *gin.Context) {
	ex := s.newExchange(c)
	defer s.account(ex)
	fail := func(err error) {
		ex.err = err
		e := classify(err)
		ex.status = e.status
		writeError(c, e)
	}
	if err := s.authenticate(c, ex, auth.RoleAuditor); err != nil {
		fail(err)
		return
	}
	var f audit.Filter
	var err error
	if f.From, err = parseWhen(c.Query("from")); err != nil {
		fail(err)
		return
	}
	if f.To, err = parseWhen(c.Query("to")); err != nil {
		fail(err)
		return
	}
	f.Tenant = c.Query("tenant")
	format := c.DefaultQuery("format", audit.FormatJSONL)
	if format != audit.FormatJSONL && format != audit.FormatCSV {
		fail(errBadQuery)
		return
	}
	_, err = s.audit.Append(c.Request.Context(), audit.Record{
		Kind: audit.KindExport, RequestID: ex.id, App: ex.caller.App, KeyID: ex.caller.KeyID, Route: ex.route,
		Export: &audit.ExportInfo{Auditor: ex.caller.App, From: c.Query("from"), To: c.Query("to"), Tenant: f.Tenant, Format: format},
	})
	if err != nil {
		fail(err)
		return
	}
	ct := "application/x-ndjson"
	if format == audit.FormatCSV {
		ct = "text/csv; charset=utf-8"
	}
	c.Header("Content-Type", ct)
	c.Header("Content-Disposition", `attachment; filename="custos-audit.`+format+`"`)
	c.Status(http.StatusOK)
	ex.status = http.StatusOK
	if _, err := s.audit.Export(c.Writer, f, format); err != nil {
		ex.err = err // the status is sent; the log line names the failure
	}
}

func parseWhen(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, errBadQuery
}
