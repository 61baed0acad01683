package pgledger

import (
	"context"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
)

// checkHeads compares every stored chain head with the recomputed one.
func checkHeads(ctx context.Context, tx pgx.Tx, c *checker) error {
	rows, err := tx.Query(ctx, `SELECT tenant, seq, head FROM ledger_chains`)
	if err != nil {
		return err
	}
	var tenant string
	var seq int64
	var head []byte
	seen := map[string]bool{}
	_, err = pgx.ForEachRow(rows, []any{&tenant, &seq, &head}, func() error {
		seen[tenant] = true
		h := c.heads[tenant]
		if h == nil && seq == 0 {
			return nil
		}
		if h == nil || h.Seq != seq || h.Hash != hex.EncodeToString(head) {
			c.fail(ProblemChain, tenant, seq, "the stored head of %s (entry %d) is not the last entry of its chain", tenant, seq)
			return errProblem
		}
		return nil
	})
	if err != nil && err != errProblem {
		return err
	}
	for t, h := range c.heads {
		if !seen[t] && c.rep.Problem == nil {
			c.fail(ProblemChain, t, h.Seq, "%s has entries and no stored head", t)
		}
	}
	return nil
}

// checkAccounts compares stored balances with the journal's and stored
// reserved amounts with the active holds'.
func checkAccounts(ctx context.Context, tx pgx.Tx, c *checker) error {
	rows, err := tx.Query(ctx, `SELECT a.name, a.currency, a.balance, a.reserved,
			coalesce((SELECT sum(h.micros) FROM ledger_holds h WHERE h.account = a.name AND h.state = 'held'), 0)::bigint
		FROM ledger_accounts a`)
	if err != nil {
		return err
	}
	var name, cur string
	var bal, reserved, held int64
	seen := map[string]bool{}
	_, err = pgx.ForEachRow(rows, []any{&name, &cur, &bal, &reserved, &held}, func() error {
		seen[name] = true
		t := c.totals[name]
		if t == nil {
			t = &Totals{Account: name, Currency: cur}
			c.totals[name] = t
		}
		t.Stored, t.Reserved, t.Held = bal, reserved, held
		switch {
		case t.Balance != bal || t.Currency != cur:
			c.fail(ProblemBalance, "", 0, "account %s is stored at %d %s; its journal adds up to %d %s", name, bal, cur, t.Balance, t.Currency)
		case reserved != held:
			c.fail(ProblemReserved, "", 0, "account %s has %d reserved; its active holds add up to %d", name, reserved, held)
		default:
			return nil
		}
		return errProblem
	})
	if err != nil && err != errProblem {
		return err
	}
	for name := range c.totals {
		if !seen[name] && c.rep.Problem == nil {
			c.fail(ProblemBalance, "", 0, "account %s has journal entries and is not stored", name)
		}
	}
	return nil
}

// checkSpend compares every budget row with the charges and active holds
// that count against it.
func checkSpend(ctx context.Context, tx pgx.Tx, c *checker) error {
	held := map[string][2]int64{}
	rows, err := tx.Query(ctx, `SELECT k, h.micros, h.tokens FROM ledger_holds h, unnest(h.spend_keys) k WHERE h.state = 'held'`)
	if err != nil {
		return err
	}
	var key string
	var m, tk int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &m, &tk}, func() error {
		s := held[key]
		held[key] = [2]int64{s[0] + m, s[1] + tk}
		return nil
	}); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT key, micros, tokens, held_micros, held_tokens FROM ledger_spend`)
	if err != nil {
		return err
	}
	var hm, ht int64
	seen := map[string]bool{}
	_, err = pgx.ForEachRow(rows, []any{&key, &m, &tk, &hm, &ht}, func() error {
		seen[key] = true
		if spent := c.spend[key]; spent != [2]int64{m, tk} {
			c.fail(ProblemSpend, "", 0, "budget %s is stored as %d micro-units and %d tokens spent; the charges add up to %d and %d", key, m, tk, spent[0], spent[1])
			return errProblem
		}
		if h := held[key]; h != [2]int64{hm, ht} {
			c.fail(ProblemSpend, "", 0, "budget %s holds %d micro-units and %d tokens; the active holds add up to %d and %d", key, hm, ht, h[0], h[1])
			return errProblem
		}
		return nil
	})
	if err != nil && err != errProblem {
		return err
	}
	for k, s := range c.spend {
		if !seen[k] && s != [2]int64{} && c.rep.Problem == nil {
			c.fail(ProblemSpend, "", 0, "budget %s has charges and no stored spend", k)
		}
	}
	return nil
}
