package ledger

import (
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// Balances reads the balances a log file stores, read-only: usable on a
// copy, or on the file itself when no server holds it.
func Balances(path string) ([]audit.Balance, error) {
	var out []audit.Balance
	err := audit.ViewFile(path, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			cur, bal, _, err := decodeAccount(v)
			if err != nil {
				return fmt.Errorf("ledger: account %s unreadable: %w", k, err)
			}
			out = append(out, audit.Balance{Account: string(k), Currency: cur, Micros: bal})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, err
}

// History calls fn with each journal line of the files (in chain order),
// those of one account when account is not "", until fn returns an error.
func History(paths []string, account string, fn func(file string, e Entry) error) error {
	ordered, err := audit.SortChain(paths)
	if err != nil {
		return err
	}
	for _, path := range ordered {
		var ferr error
		var read uint64
		var in interner
		err := audit.ViewFile(path, func(tx *bolt.Tx) error {
			return eachLine(tx, func(seq uint64, l *line) bool {
				e, ok := entryOf(seq, l)
				if !ok || (account != "" && e.Account != account) {
					return true
				}
				ferr = fn(path, e)
				return ferr == nil
			}, &read, &in)
		})
		if err = errors.Join(err, ferr); err != nil {
			return err
		}
	}
	return nil
}
