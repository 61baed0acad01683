package ledger

import (
	"encoding/binary"
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

// History calls fn with each journal entry of the files (in chain order),
// those of one account when account is not "".
func History(paths []string, account string, fn func(file string, e Entry) error) error {
	ordered, err := audit.SortChain(paths)
	if err != nil {
		return err
	}
	for _, path := range ordered {
		err := audit.ViewFile(path, func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketJournal)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 8 || len(v) < 64 {
					return errEntry
				}
				e, err := decodeEntry(binary.BigEndian.Uint64(k), v[64:])
				if err != nil {
					return err
				}
				if account != "" && e.Account != account {
					return nil
				}
				return fn(path, e)
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}
