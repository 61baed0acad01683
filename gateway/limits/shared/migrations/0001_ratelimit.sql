-- Shared per-minute rate limits: one token bucket per key, two dimensions
-- (requests, tokens). Levels are kept in units × 60·10⁹ (a unit per
-- nanosecond of a minute), so that refilling at exactly limit units per
-- minute is integer arithmetic with no lost remainder. Times are the
-- replicas' clocks (Unix nanoseconds), passed in; the bucket never
-- refills backwards (updated_ns only grows).

CREATE TABLE ratelimit_buckets (
	key        text PRIMARY KEY,
	req_limit  bigint NOT NULL,
	tok_limit  bigint NOT NULL,
	req_level  numeric NOT NULL,
	tok_level  numeric NOT NULL,
	updated_ns bigint NOT NULL
);

-- ratelimit_level refills (or, for a changed limit, caps) one dimension.
CREATE FUNCTION ratelimit_level(p_level numeric, p_old_limit bigint, p_limit bigint, p_elapsed_ns bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN p_limit = 0 THEN 0::numeric
		WHEN p_old_limit = 0 THEN p_limit::numeric * 60000000000
		ELSE least(p_level + p_limit::numeric * greatest(p_elapsed_ns, 0), p_limit::numeric * 60000000000)
	END
$$;

-- ratelimit_lease gives back what a replica held of key (p_give_*: its
-- unused units, negative for a debt), then grants it a lease: at least
-- p_need_* and at most p_want_* units of each limited dimension, or
-- nothing when the bucket lacks the need of either (retry_ns then says
-- when it would have it). A dimension whose limit is 0 is not limited.
-- The remaining levels are returned in whole units.
CREATE FUNCTION ratelimit_lease(p_key text, p_req_limit bigint, p_tok_limit bigint, p_now_ns bigint,
	p_give_req bigint, p_give_tok bigint, p_need_req bigint, p_need_tok bigint, p_want_req bigint, p_want_tok bigint,
	OUT granted_req bigint, OUT granted_tok bigint, OUT req_left bigint, OUT tok_left bigint, OUT retry_ns bigint)
LANGUAGE plpgsql AS $$
DECLARE
	p   constant numeric := 60000000000;
	b   ratelimit_buckets%ROWTYPE;
	req numeric;
	tok numeric;
BEGIN
	INSERT INTO ratelimit_buckets VALUES (p_key, p_req_limit, p_tok_limit, p_req_limit * p, p_tok_limit * p, p_now_ns)
		ON CONFLICT DO NOTHING;
	SELECT * INTO b FROM ratelimit_buckets WHERE key = p_key FOR UPDATE;
	req := ratelimit_level(b.req_level, b.req_limit, p_req_limit, p_now_ns - b.updated_ns);
	tok := ratelimit_level(b.tok_level, b.tok_limit, p_tok_limit, p_now_ns - b.updated_ns);
	IF p_req_limit > 0 THEN
		req := greatest(least(req + p_give_req * p, p_req_limit * p), -(2::numeric ^ 50) * p);
	END IF;
	IF p_tok_limit > 0 THEN
		tok := greatest(least(tok + p_give_tok * p, p_tok_limit * p), -(2::numeric ^ 50) * p);
	END IF;
	granted_req := 0;
	granted_tok := 0;
	retry_ns := 0;
	IF (p_req_limit = 0 OR req >= p_need_req * p) AND (p_tok_limit = 0 OR tok >= p_need_tok * p) THEN
		IF p_req_limit > 0 THEN
			granted_req := greatest(p_need_req, least(p_want_req, floor(req / p)));
			req := req - granted_req * p;
		END IF;
		IF p_tok_limit > 0 THEN
			granted_tok := greatest(p_need_tok, least(p_want_tok, floor(tok / p)));
			tok := tok - granted_tok * p;
		END IF;
	ELSE
		IF p_req_limit > 0 AND req < p_need_req * p THEN
			retry_ns := ceil((p_need_req * p - req) / p_req_limit);
		END IF;
		IF p_tok_limit > 0 AND tok < p_need_tok * p THEN
			retry_ns := greatest(retry_ns, ceil((p_need_tok * p - tok) / p_tok_limit));
		END IF;
	END IF;
	UPDATE ratelimit_buckets SET req_limit = p_req_limit, tok_limit = p_tok_limit, req_level = req, tok_level = tok,
		updated_ns = greatest(updated_ns, p_now_ns)
	WHERE key = p_key;
	req_left := floor(req / p);
	tok_left := floor(tok / p);
END $$;
