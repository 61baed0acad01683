package gateway

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
)

// auditExport serves GET /admin/audit/export to auditor keys only:
// ?from=&to= (RFC 3339 or YYYY-MM-DD), ?tenant=, ?format=jsonl|csv. The
// export is itself recorded before any record is sent.
func (s *Server) auditExport(c *gin.Context, ex *exchange) error {
	var f audit.Filter
	var err error
	if f.From, err = parseWhen(c.Query("from")); err != nil {
		return err
	}
	if f.To, err = parseWhen(c.Query("to")); err != nil {
		return err
	}
	f.Tenant = c.Query("tenant")
	format := c.DefaultQuery("format", audit.FormatJSONL)
	if format != audit.FormatJSONL && format != audit.FormatCSV {
		return errBadQuery
	}
	_, err = s.audit.Append(c.Request.Context(), audit.Record{
		Kind: audit.KindExport, RequestID: ex.meta.id, App: ex.caller.App, KeyID: ex.caller.KeyID, Route: ex.meta.route.path,
		Export: &audit.ExportInfo{Auditor: ex.caller.App, From: when(f.From), To: when(f.To), Tenant: s.tenantName(f.Tenant), Format: format},
	})
	if err != nil {
		return err
	}
	ct := "application/x-ndjson"
	if format == audit.FormatCSV {
		ct = "text/csv; charset=utf-8"
	}
	c.Header("Content-Type", ct)
	c.Header("Content-Disposition", `attachment; filename="custos-audit.`+format+`"`)
	c.Status(http.StatusOK)
	ex.ans.status = http.StatusOK
	_, err = s.audit.Export(c.Writer, f, format) // the status is sent; the log line names a failure
	return err
}

// when records a filter bound as parsed, never as the caller typed it.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// tenantName is a filter's tenant as the record keeps it: a configured
// tenant id, or "(not a tenant)" for any other text.
func (s *Server) tenantName(t string) string {
	if t == "" {
		return ""
	}
	for _, tn := range s.cfg.Tenants {
		if tn.ID == t {
			return t
		}
	}
	return "(not a tenant)"
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
