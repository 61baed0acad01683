// Package pricing owns the price table: per-token prices as versioned data
// inside the policy set (pricing/data.json, visible to Rego as
// data.pricing), their validation, and the cost of a request computed from
// its token counts. Money is integer micro-units end to end; no float is
// ever used.
//
// # The table
//
//	{
//	  "version": "2026-12-01",
//	  "currency": "USD",
//	  "price_unit": "micros_per_million_tokens",
//	  "models": {
//	    "gpt-4o": {
//	      "max_output_tokens": 16384,
//	      "aliases": ["gpt-4o-2024-11-20"],
//	      "effective": [
//	        {"from": "2024-10-01", "input": 2500000, "cached_input": 1250000, "output": 10000000,
//	         "source": "https://openai.com/api/pricing/", "taken": "2025-10-01"}
//	      ],
//	      "endpoints": {
//	        "azure-openai-eu": {"effective": [{"from": "2024-11-20", "input": 2750000, "output": 11000000}]}
//	      }
//	    }
//	  }
//	}
//
// Token prices (input, cached_input, cache_write, output, reasoning) are
// integer micro-units per 1,000,000 tokens, exact for any price quoted to
// the sixth decimal per million tokens; request_fee is micro-units per
// request. Absent cached_input and cache_write default to input, reasoning
// to output. A row applies to requests that START in [from, until): a price
// change at 00:00 UTC applies to requests started at or after that instant;
// a row without until runs until the next row's from (or for ever). A row
// for an endpoint overrides the model's own row while it applies. An
// optional long_context tier prices the whole request at other rates when
// its input exceeds above_input_tokens. max_output_tokens is the model's
// output cap, used for reservations when a request sets no max_tokens.
// labels (free strings) are for officers' Rego rules; note, source and
// taken document a row.
//
// # Rounding
//
// A request's cost is Σ tokens × rate / 1,000,000 over its token classes,
// computed exactly in 128-bit integers and rounded UP to a whole
// micro-unit once per request, then the request fee is added: never less
// than the exact price, at most one micro-unit more.
//
// # Validation
//
// Parse refuses a table with any problem and names the field:
// pricing/data.json: models["gpt-4o"].effective[1].input: must be an integer
// from 0 to 1000000000000 (micro-units per 1M tokens), not 2.5. Unknown and
// duplicate fields, fractions, exponents, negative values, rows out of date
// order or overlapping, and aliases that shadow a model are refused.
//
// The package holds prices only: it never sees request text, keeps no
// balance and speaks no HTTP.
package pricing
