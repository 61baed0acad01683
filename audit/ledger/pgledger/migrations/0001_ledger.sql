-- The shared ledger: accounts, reservations (holds), budget spend, and the
-- append-only journal with one hash chain per tenant. Amounts are integer
-- micro-units; times are the replicas' clocks, passed in (never now()).

CREATE TABLE ledger_accounts (
	name     text PRIMARY KEY,
	currency text NOT NULL,
	balance  bigint NOT NULL DEFAULT 0,
	reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0)
);

CREATE TABLE ledger_holds (
	request_id text PRIMARY KEY,
	account    text NOT NULL,
	tenant     text NOT NULL,
	app        text NOT NULL,
	key_id     text NOT NULL,
	currency   text NOT NULL,
	micros     bigint NOT NULL CHECK (micros >= 0),
	tokens     bigint NOT NULL CHECK (tokens >= 0),
	spend_keys text[] NOT NULL,
	replica    text NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	-- A settled hold's row is deleted: its charge in the journal is its
	-- record from then on. Released and expired rows are kept a while, so
	-- that a late settlement is told the hold ended.
	state      text NOT NULL CHECK (state IN ('held', 'released', 'expired')),
	ended_at   timestamptz
);
CREATE INDEX ledger_holds_due ON ledger_holds (expires_at) WHERE state = 'held';
CREATE INDEX ledger_holds_ended ON ledger_holds (created_at) WHERE state <> 'held';

-- key: "scope|period" of a budget (as the bbolt ledger names them).
CREATE TABLE ledger_spend (
	key         text PRIMARY KEY,
	micros      bigint NOT NULL DEFAULT 0,
	tokens      bigint NOT NULL DEFAULT 0,
	held_micros bigint NOT NULL DEFAULT 0,
	held_tokens bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger_chains (
	tenant text PRIMARY KEY,
	seq    bigint NOT NULL,
	head   bytea NOT NULL
);

CREATE TABLE ledger_journal (
	tenant        text NOT NULL,
	seq           bigint NOT NULL,
	at            timestamptz NOT NULL,
	op            text NOT NULL,
	account       text NOT NULL,
	currency      text NOT NULL,
	micros        bigint NOT NULL,
	balance       bigint NOT NULL,
	tokens        bigint NOT NULL DEFAULT 0,
	request_id    text NOT NULL,
	app           text NOT NULL DEFAULT '',
	key_id        text NOT NULL DEFAULT '',
	replica       text NOT NULL DEFAULT '',
	price_version text NOT NULL DEFAULT '',
	estimated     boolean NOT NULL DEFAULT false,
	reference     text NOT NULL DEFAULT '',
	actor         text NOT NULL DEFAULT '',
	spend_keys    text[] NOT NULL DEFAULT '{}',
	hash          bytea NOT NULL,
	PRIMARY KEY (tenant, seq)
);
-- A request is charged once; a credit id is used once.
CREATE UNIQUE INDEX ledger_journal_charge ON ledger_journal (request_id) WHERE op = 'charge';
CREATE UNIQUE INDEX ledger_journal_credit ON ledger_journal (request_id) WHERE op <> 'charge';

CREATE FUNCTION ledger_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'ledger_journal is append-only';
END $$;
CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE OR DELETE ON ledger_journal
	FOR EACH ROW EXECUTE FUNCTION ledger_journal_append_only();
CREATE TRIGGER ledger_journal_no_truncate BEFORE TRUNCATE ON ledger_journal
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_journal_append_only();

-- The canonical bytes an entry's hash covers (Entry.Body is the same in
-- Go): netstrings "len:value," of a version tag and every field. SQL
-- functions, STABLE like what they call, so that the planner inlines them.
CREATE FUNCTION ledger_ns(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT octet_length(coalesce(v, ''))::text || ':' || coalesce(v, '') || ','
$$;

CREATE FUNCTION ledger_ns_array(keys text[]) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_out text := '';
	v_key text;
BEGIN
	FOREACH v_key IN ARRAY keys LOOP
		v_out := v_out || ledger_ns(v_key);
	END LOOP;
	RETURN v_out;
END $$;

CREATE FUNCTION ledger_entry_body(tenant text, seq bigint, at timestamptz, op text, account text, currency text,
	micros bigint, balance bigint, tokens bigint, request_id text, app text, key_id text, replica text,
	price_version text, estimated boolean, reference text, actor text, spend_keys text[])
RETURNS bytea LANGUAGE sql STABLE AS $$
	SELECT convert_to(
		ledger_ns('custos-ledger-v1') || ledger_ns(tenant) || ledger_ns(seq::text) ||
		ledger_ns(((extract(epoch FROM at) * 1000000)::bigint)::text) || ledger_ns(op) || ledger_ns(account) ||
		ledger_ns(currency) || ledger_ns(micros::text) || ledger_ns(balance::text) || ledger_ns(tokens::text) ||
		ledger_ns(request_id) || ledger_ns(app) || ledger_ns(key_id) || ledger_ns(replica) ||
		ledger_ns(price_version) || ledger_ns(CASE WHEN estimated THEN '1' ELSE '0' END) ||
		ledger_ns(reference) || ledger_ns(actor) || ledger_ns(coalesce(cardinality(spend_keys), 0)::text) ||
		CASE WHEN coalesce(cardinality(spend_keys), 0) = 0 THEN '' ELSE ledger_ns_array(spend_keys) END,
		'UTF8')
$$;

-- ledger_append adds one journal entry to its tenant's chain and returns
-- the entry's per-tenant sequence number. The chain row is the tenant's
-- head: updated in one statement, its lock orders the tenant's entries.
CREATE FUNCTION ledger_append(p_tenant text, p_at timestamptz, p_op text, p_account text, p_currency text,
	p_micros bigint, p_balance bigint, p_tokens bigint, p_request_id text, p_app text, p_key_id text,
	p_replica text, p_price_version text, p_estimated boolean, p_reference text, p_actor text, p_spend_keys text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_seq  bigint;
	v_hash bytea;
BEGIN
	FOR attempt IN 1..2 LOOP
		UPDATE ledger_chains SET seq = seq + 1,
			head = sha256(head || ledger_entry_body(p_tenant, seq + 1, p_at, p_op, p_account, p_currency, p_micros,
				p_balance, p_tokens, p_request_id, p_app, p_key_id, p_replica, p_price_version, p_estimated,
				p_reference, p_actor, p_spend_keys))
		WHERE tenant = p_tenant RETURNING seq, head INTO v_seq, v_hash;
		EXIT WHEN FOUND;
		INSERT INTO ledger_chains (tenant, seq, head) VALUES (p_tenant, 0, decode(repeat('00', 32), 'hex'))
			ON CONFLICT DO NOTHING;
	END LOOP;
	INSERT INTO ledger_journal (tenant, seq, at, op, account, currency, micros, balance, tokens, request_id, app,
		key_id, replica, price_version, estimated, reference, actor, spend_keys, hash)
	VALUES (p_tenant, v_seq, p_at, p_op, p_account, p_currency, p_micros, p_balance, p_tokens, p_request_id, p_app,
		p_key_id, p_replica, p_price_version, p_estimated, p_reference, p_actor, p_spend_keys, v_hash);
	RETURN v_seq;
END $$;

-- ledger_spend_add adds to the spent and held amounts of budget keys (a
-- key listed twice counts twice), creating missing rows; rows are written
-- in key order, so that concurrent callers lock them in the same order.
CREATE FUNCTION ledger_spend_add(p_keys text[], p_micros bigint[], p_tokens bigint[], p_held_micros bigint[],
	p_held_tokens bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(cardinality(p_keys), 0) = 0 THEN
		RETURN;
	END IF;
	INSERT INTO ledger_spend AS s (key, micros, tokens, held_micros, held_tokens)
	SELECT k, sum(m), sum(t), sum(hm), sum(ht)
	FROM unnest(p_keys, p_micros, p_tokens, p_held_micros, p_held_tokens) u(k, m, t, hm, ht)
	GROUP BY k ORDER BY k
	ON CONFLICT (key) DO UPDATE SET micros = s.micros + EXCLUDED.micros, tokens = s.tokens + EXCLUDED.tokens,
		held_micros = s.held_micros + EXCLUDED.held_micros, held_tokens = s.held_tokens + EXCLUDED.held_tokens;
END $$;

-- ledger_spend_move gives a hold back from each of p_held_keys and adds a
-- charge to each of p_spent_keys (a key listed twice counts twice), in key
-- order, creating missing rows.
CREATE FUNCTION ledger_spend_move(p_held_keys text[], p_held_micros bigint, p_held_tokens bigint, p_spent_keys text[],
	p_spent_micros bigint, p_spent_tokens bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(cardinality(p_held_keys), 0) + coalesce(cardinality(p_spent_keys), 0) = 0 THEN
		RETURN;
	END IF;
	INSERT INTO ledger_spend AS s (key, micros, tokens, held_micros, held_tokens)
	SELECT u.k, sum(u.m), sum(u.t), sum(u.hm), sum(u.ht) FROM (
		SELECT k, 0::bigint AS m, 0::bigint AS t, -p_held_micros AS hm, -p_held_tokens AS ht FROM unnest(p_held_keys) k
		UNION ALL
		SELECT k, p_spent_micros, p_spent_tokens, 0::bigint, 0::bigint FROM unnest(p_spent_keys) k) u
	GROUP BY u.k ORDER BY u.k
	ON CONFLICT (key) DO UPDATE SET micros = s.micros + EXCLUDED.micros, tokens = s.tokens + EXCLUDED.tokens,
		held_micros = s.held_micros + EXCLUDED.held_micros, held_tokens = s.held_tokens + EXCLUDED.held_tokens;
END $$;

-- ledger_spend_create creates missing budget rows, in a transaction of its
-- own (so that no reservation creates rows while holding locks).
CREATE FUNCTION ledger_spend_create(p_keys text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ledger_spend (key) SELECT DISTINCT k FROM unnest(p_keys) k ORDER BY k ON CONFLICT DO NOTHING;
END $$;

-- ledger_due reports whether a hold is past its expiry at p_now.
CREATE FUNCTION ledger_due(p_now timestamptz) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM ledger_holds WHERE state = 'held' AND expires_at <= p_now);
END $$;

-- ledger_reclaim expires every hold past its expiry at p_now (any replica
-- may run it; it is idempotent) and forgets ended holds created before
-- p_forget. Locks: the holds (skipping those another transaction is
-- settling), then accounts in name order, then budget rows in key order.
CREATE FUNCTION ledger_reclaim(p_now timestamptz, p_forget timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_n        integer;
	v_accounts text[];
	v_micros   bigint[];
	v_keys     text[];
	v_km       bigint[];
	v_kt       bigint[];
BEGIN
	WITH ended AS (
		UPDATE ledger_holds h SET state = 'expired', ended_at = p_now
		WHERE h.request_id IN (SELECT request_id FROM ledger_holds WHERE state = 'held' AND expires_at <= p_now
			ORDER BY request_id FOR UPDATE SKIP LOCKED)
		RETURNING h.account, h.micros, h.tokens, h.spend_keys),
	acc AS (SELECT e.account, sum(e.micros)::bigint AS m FROM ended e GROUP BY e.account),
	ks AS (SELECT k, e.micros, e.tokens, row_number() OVER () AS n FROM ended e, unnest(e.spend_keys) k)
	SELECT (SELECT count(*) FROM ended),
		(SELECT array_agg(acc.account ORDER BY acc.account) FROM acc), (SELECT array_agg(acc.m ORDER BY acc.account) FROM acc),
		(SELECT array_agg(ks.k ORDER BY ks.n) FROM ks), (SELECT array_agg(-ks.micros ORDER BY ks.n) FROM ks),
		(SELECT array_agg(-ks.tokens ORDER BY ks.n) FROM ks)
	INTO v_n, v_accounts, v_micros, v_keys, v_km, v_kt;
	IF v_n > 0 THEN
		PERFORM 1 FROM ledger_accounts WHERE name = ANY (v_accounts) ORDER BY name FOR UPDATE;
		UPDATE ledger_accounts a SET reserved = a.reserved - d.m
		FROM unnest(v_accounts, v_micros) d(name, m) WHERE a.name = d.name;
		IF v_keys IS NOT NULL THEN
			PERFORM ledger_spend_add(v_keys, array_fill(0::bigint, ARRAY[cardinality(v_keys)]),
				array_fill(0::bigint, ARRAY[cardinality(v_keys)]), v_km, v_kt);
		END IF;
	END IF;
	DELETE FROM ledger_holds WHERE created_at <= p_forget AND state <> 'held';
	DELETE FROM ledger_sync WHERE pid NOT IN (SELECT pid FROM pg_stat_activity);
	RETURN v_n;
END $$;

-- ledger_reserve holds p_micros against the request's account and
-- p_micros and p_tokens against each budget key, all or nothing. Status:
-- ok, reclaim (a hold is due: run ledger_reclaim first), spend_rows
-- (create the budget rows first), duplicate, no_account, currency,
-- insufficient, budget (v_index: which; v_used_*: spent and held).
CREATE FUNCTION ledger_reserve(p_id text, p_tenant text, p_app text, p_key text, p_currency text, p_micros bigint,
	p_tokens bigint, p_replica text, p_now timestamptz, p_expires timestamptz, p_forget timestamptz, p_postpaid_tenant boolean,
	p_postpaid_app boolean, p_keys text[], p_distinct_keys integer, p_max_micros bigint[], p_max_tokens bigint[],
	p_budget_currency text[],
	p_check_due boolean, p_async boolean,
	OUT status text, OUT account text, OUT budget_index integer, OUT used_micros bigint, OUT used_tokens bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_postpaid boolean;
	v_currency text;
	v_inserted boolean;
	v_nkeys    integer := coalesce(cardinality(p_keys), 0);
BEGIN
	IF p_async THEN
		PERFORM set_config('synchronous_commit', 'off', true);
	END IF;
	IF p_check_due AND EXISTS (SELECT 1 FROM ledger_holds WHERE state = 'held' AND expires_at <= p_now) THEN
		status := 'reclaim';
		RETURN;
	END IF;
	-- The app's account when it exists (or is postpaid), else the tenant's.
	SELECT a.name, a.currency INTO account, v_currency FROM ledger_accounts a
	WHERE a.name = p_tenant OR (p_app <> '' AND a.name = p_tenant || '/' || p_app)
	ORDER BY a.name = p_tenant LIMIT 1;
	IF p_postpaid_app AND account IS DISTINCT FROM p_tenant || '/' || p_app THEN
		account := p_tenant || '/' || p_app;
		v_currency := NULL;
	ELSIF account IS NULL THEN
		account := p_tenant;
	END IF;
	v_postpaid := CASE WHEN account = p_tenant THEN p_postpaid_tenant ELSE p_postpaid_app END;
	INSERT INTO ledger_holds AS h (request_id, account, tenant, app, key_id, currency, micros, tokens, spend_keys, replica,
		created_at, expires_at, state)
	VALUES (p_id, account, p_tenant, p_app, p_key, p_currency, p_micros, p_tokens, coalesce(p_keys, '{}'), p_replica,
		p_now, p_expires, 'held')
	ON CONFLICT (request_id) DO UPDATE SET account = EXCLUDED.account, tenant = EXCLUDED.tenant, app = EXCLUDED.app,
		key_id = EXCLUDED.key_id, currency = EXCLUDED.currency, micros = EXCLUDED.micros, tokens = EXCLUDED.tokens,
		spend_keys = EXCLUDED.spend_keys, replica = EXCLUDED.replica, created_at = EXCLUDED.created_at,
		expires_at = EXCLUDED.expires_at, state = 'held', ended_at = NULL
	WHERE h.created_at <= p_forget AND h.state <> 'held'; -- an ended hold forgotten: the id may hold again
	v_inserted := FOUND;
	IF NOT v_inserted OR EXISTS (SELECT 1 FROM ledger_journal WHERE request_id = p_id AND op = 'charge') THEN
		status := 'duplicate'; -- held, or ended and remembered, or charged (the journal remembers for ever)
		IF v_inserted THEN
			DELETE FROM ledger_holds WHERE request_id = p_id;
		END IF;
		RETURN;
	END IF;
	IF v_postpaid AND v_currency IS NULL THEN
		INSERT INTO ledger_accounts (name, currency) VALUES (account, p_currency) ON CONFLICT DO NOTHING;
		SELECT a.currency INTO v_currency FROM ledger_accounts a WHERE a.name = account;
	END IF;
	IF v_currency IS NULL OR v_currency <> p_currency THEN
		status := CASE WHEN v_currency IS NULL THEN 'no_account' ELSE 'currency' END;
		DELETE FROM ledger_holds WHERE request_id = p_id;
		RETURN;
	END IF;
	UPDATE ledger_accounts a SET reserved = a.reserved + p_micros
	WHERE a.name = account AND (v_postpaid OR a.balance - a.reserved >= p_micros);
	IF NOT FOUND THEN
		status := 'insufficient';
		DELETE FROM ledger_holds WHERE request_id = p_id;
		RETURN;
	END IF;
	IF v_nkeys > 0 THEN
		SELECT r.status, r.budget_index, r.used_micros, r.used_tokens INTO status, budget_index, used_micros, used_tokens
		FROM ledger_reserve_budgets(p_keys, p_distinct_keys, p_currency, p_micros, p_tokens, p_max_micros, p_max_tokens,
			p_budget_currency) r;
		IF status <> 'ok' THEN
			UPDATE ledger_accounts a SET reserved = a.reserved - p_micros WHERE a.name = account;
			DELETE FROM ledger_holds WHERE request_id = p_id;
			RETURN;
		END IF;
	END IF;
	status := 'ok';
END $$;

-- ledger_reserve_budgets holds against every budget key (a key listed
-- twice holds twice), all or none: the rows are locked in key order, then
-- one conditional update holds against all of them unless a budget would
-- be exceeded, each judged by what was spent and held before this
-- request. When one would be, it says which (the first, in order).
CREATE FUNCTION ledger_reserve_budgets(p_keys text[], p_distinct_keys integer, p_currency text, p_micros bigint,
	p_tokens bigint, p_max_micros bigint[], p_max_tokens bigint[], p_budget_currency text[],
	OUT status text, OUT budget_index integer, OUT used_micros bigint, OUT used_tokens bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_rows integer;
BEGIN
	SELECT count(*) INTO v_rows FROM (SELECT 1 FROM ledger_spend WHERE key = ANY (p_keys) ORDER BY key FOR UPDATE) l;
	IF v_rows < p_distinct_keys THEN
		status := 'spend_rows';
		RETURN;
	END IF;
	UPDATE ledger_spend s SET held_micros = s.held_micros + p_micros * d.n, held_tokens = s.held_tokens + p_tokens * d.n
	FROM (SELECT k, count(*) AS n FROM unnest(p_keys) k GROUP BY k) d
	WHERE s.key = d.k AND NOT EXISTS (
		SELECT 1 FROM unnest(p_keys, p_max_micros, p_max_tokens, p_budget_currency) b(k, mm, mt, cur)
		JOIN ledger_spend u ON u.key = b.k
		WHERE (b.mm > 0 AND (b.cur <> p_currency OR u.micros + u.held_micros + p_micros > b.mm))
			OR (b.mt > 0 AND u.tokens + u.held_tokens + p_tokens > b.mt));
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	IF v_rows = p_distinct_keys THEN
		status := 'ok';
		RETURN;
	END IF;
	SELECT CASE WHEN b.mm > 0 AND b.cur <> p_currency THEN 'budget_currency' ELSE 'budget' END, b.i,
		u.micros + u.held_micros, u.tokens + u.held_tokens
	INTO status, budget_index, used_micros, used_tokens
	FROM unnest(p_keys, p_max_micros, p_max_tokens, p_budget_currency) WITH ORDINALITY b(k, mm, mt, cur, i)
	JOIN ledger_spend u ON u.key = b.k
	WHERE (b.mm > 0 AND (b.cur <> p_currency OR u.micros + u.held_micros + p_micros > b.mm))
		OR (b.mt > 0 AND u.tokens + u.held_tokens + p_tokens > b.mt)
	ORDER BY b.i LIMIT 1;
END $$;

-- ledger_release gives a hold back. Status: ok, settled (ended before),
-- unknown.
CREATE FUNCTION ledger_release(p_id text, p_now timestamptz, p_forget timestamptz, p_async boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_old     text;
	v_account text;
	v_micros  bigint;
	v_tokens  bigint;
	v_keys    text[];
BEGIN
	IF p_async THEN
		PERFORM set_config('synchronous_commit', 'off', true);
	END IF;
	UPDATE ledger_holds h SET state = 'released', ended_at = p_now
	FROM (SELECT request_id, state FROM ledger_holds WHERE request_id = p_id FOR UPDATE) o
	WHERE h.request_id = o.request_id AND h.state IN ('held', 'expired') AND h.created_at > p_forget
	RETURNING o.state, h.account, h.micros, h.tokens, h.spend_keys INTO v_old, v_account, v_micros, v_tokens, v_keys;
	IF NOT FOUND THEN
		RETURN CASE WHEN EXISTS (SELECT 1 FROM ledger_holds WHERE request_id = p_id AND created_at > p_forget)
			OR EXISTS (SELECT 1 FROM ledger_journal WHERE request_id = p_id AND op = 'charge') THEN 'settled' ELSE 'unknown' END;
	END IF;
	IF v_old = 'held' THEN
		UPDATE ledger_accounts SET reserved = reserved - v_micros WHERE name = v_account;
		PERFORM ledger_spend_move(v_keys, v_micros, v_tokens, '{}', 0, 0);
	END IF;
	RETURN 'ok';
END $$;

-- ledger_settle charges a request's actual cost to its hold's account,
-- gives the rest of the hold back and journals the charge, once per
-- request id (the hold's row goes). A hold past its expiry is still
-- charged. Status: ok, or what ledger_settle_other says.
CREATE FUNCTION ledger_settle(p_id text, p_account text, p_tenant text, p_app text, p_key text, p_currency text,
	p_micros bigint, p_tokens bigint, p_price_version text, p_estimated boolean, p_replica text, p_at timestamptz,
	p_now timestamptz, p_forget timestamptz, p_keys text[], p_fallback boolean, p_async boolean,
	OUT status text, OUT account text, OUT tenant text, OUT app text, OUT key_id text, OUT balance bigint, OUT seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_old    text;
	v_micros bigint;
	v_tokens bigint;
	v_hkeys  text[];
BEGIN
	IF p_async THEN
		PERFORM set_config('synchronous_commit', 'off', true);
	END IF;
	DELETE FROM ledger_holds h
	WHERE h.request_id = p_id AND h.state IN ('held', 'expired') AND h.currency = p_currency
		AND h.tenant = p_tenant AND h.app = p_app AND h.key_id = p_key AND h.created_at > p_forget
	RETURNING h.state, h.account, h.tenant, h.app, h.key_id, h.micros, h.tokens, h.spend_keys
	INTO v_old, account, tenant, app, key_id, v_micros, v_tokens, v_hkeys;
	IF NOT FOUND THEN
		SELECT o.status, o.account, o.tenant, o.app, o.key_id INTO status, account, tenant, app, key_id
		FROM ledger_settle_other(p_id, p_account, p_tenant, p_app, p_key, p_currency, p_now, p_forget, p_fallback) o;
		IF status <> 'lost' THEN
			RETURN;
		END IF;
	END IF;
	IF v_old IS DISTINCT FROM 'held' THEN -- expired (given back already), or lost
		v_micros := 0; v_tokens := 0; v_hkeys := '{}';
	END IF;
	UPDATE ledger_accounts a SET balance = a.balance - p_micros, reserved = a.reserved - v_micros
	WHERE a.name = account RETURNING a.balance INTO balance;
	seq := ledger_append(tenant, p_at, 'charge', account, p_currency, -p_micros, balance, p_tokens, p_id, app, key_id,
		p_replica, p_price_version, p_estimated, '', '', coalesce(p_keys, '{}'));
	IF cardinality(v_hkeys) + coalesce(cardinality(p_keys), 0) > 0 THEN
		PERFORM ledger_spend_move(v_hkeys, v_micros, v_tokens, p_keys, p_micros, p_tokens);
	END IF;
	status := 'ok';
END $$;

-- ledger_settle_other answers a settlement whose hold is not there to
-- settle as asked. Status: settled (it ended: charged or released),
-- mismatch (the caller's hold names another tenant, app or key: ask again
-- with the ones returned), currency (charged in another currency than
-- reserved: the hold is given back, nothing charged), unknown, or lost (no
-- hold row and no charge, p_fallback set: charge p_account, a hold lost in
-- a crash). A hold created at or before p_forget is forgotten, as if absent.
CREATE FUNCTION ledger_settle_other(p_id text, p_account text, p_tenant text, p_app text, p_key text,
	p_currency text, p_now timestamptz, p_forget timestamptz, p_fallback boolean,
	OUT status text, OUT account text, OUT tenant text, OUT app text, OUT key_id text)
LANGUAGE plpgsql AS $$
DECLARE
	v_state    text;
	v_currency text;
	v_micros   bigint;
	v_tokens   bigint;
	v_keys     text[];
BEGIN
	SELECT h.state, h.account, h.tenant, h.app, h.key_id, h.currency, h.micros, h.tokens, h.spend_keys
	INTO v_state, account, tenant, app, key_id, v_currency, v_micros, v_tokens, v_keys
	FROM ledger_holds h WHERE h.request_id = p_id AND h.created_at > p_forget FOR UPDATE;
	IF FOUND THEN
		IF v_state NOT IN ('held', 'expired') THEN
			status := 'settled';
		ELSIF (tenant, app, key_id) IS DISTINCT FROM (p_tenant, p_app, p_key) THEN
			status := 'mismatch';
		ELSE
			UPDATE ledger_holds h SET state = 'released', ended_at = p_now WHERE h.request_id = p_id;
			IF v_state = 'held' THEN
				UPDATE ledger_accounts a SET reserved = a.reserved - v_micros WHERE a.name = account;
				PERFORM ledger_spend_move(v_keys, v_micros, v_tokens, '{}', 0, 0);
			END IF;
			status := 'currency';
		END IF;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM ledger_journal j WHERE j.request_id = p_id AND j.op = 'charge') THEN
		status := 'settled';
		RETURN;
	END IF;
	SELECT a.currency INTO v_currency FROM ledger_accounts a WHERE a.name = p_account;
	status := CASE WHEN NOT p_fallback OR v_currency IS NULL THEN 'unknown' WHEN v_currency <> p_currency THEN 'currency' ELSE 'lost' END;
	account := p_account; tenant := p_tenant; app := p_app; key_id := p_key;
END $$;

-- ledger_credit applies a top-up, adjustment, refund or expiry and
-- journals it. Status: ok, reclaim, no_account, currency, insufficient.
CREATE FUNCTION ledger_credit(p_id text, p_op text, p_account text, p_tenant text, p_app text, p_currency text,
	p_micros bigint, p_reference text, p_actor text, p_replica text, p_now timestamptz, p_postpaid boolean,
	p_check_due boolean, OUT status text, OUT balance bigint, OUT reserved bigint, OUT seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_currency text;
BEGIN
	IF p_check_due AND p_micros < 0 AND ledger_due(p_now) THEN
		status := 'reclaim';
		RETURN;
	END IF;
	IF p_micros > 0 THEN
		INSERT INTO ledger_accounts (name, currency) VALUES (p_account, p_currency) ON CONFLICT DO NOTHING;
	END IF;
	UPDATE ledger_accounts a SET balance = a.balance + p_micros
	WHERE a.name = p_account AND a.currency = p_currency
		AND (p_micros > 0 OR p_postpaid OR a.balance - a.reserved + p_micros >= 0)
	RETURNING a.balance, a.reserved INTO balance, reserved;
	IF NOT FOUND THEN
		SELECT a.currency INTO v_currency FROM ledger_accounts a WHERE a.name = p_account;
		status := CASE WHEN v_currency IS NULL THEN 'no_account' WHEN v_currency <> p_currency THEN 'currency' ELSE 'insufficient' END;
		RETURN;
	END IF;
	seq := ledger_append(p_tenant, p_now, p_op, p_account, p_currency, p_micros, balance, 0, p_id, p_app, '',
		p_replica, '', false, p_reference, p_actor, '{}');
	status := 'ok';
END $$;

-- ledger_sync is a write that commits synchronously: once it returns,
-- every transaction committed before it (asynchronously or not) is on
-- disk too (the WAL is flushed in order). One row per server process.
CREATE TABLE ledger_sync (pid integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
