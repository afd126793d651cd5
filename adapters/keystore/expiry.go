package keystore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"xmppd/events"
)

// Retention (issue 13) destroys the keys whose period is older than the
// account's retention: Due finds them, DestroyPeriods destroys them. The
// server records keys.expired between the two (im/retention.go), so that
// the log says what is about to go before it goes.

// stamp is how the ends column writes a time: RFC 3339 in UTC with a
// fixed width, so that comparing the text compares the times.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// addEnds gives a key file made before the ends column existed that
// column, and fills it for every row from the period's name. Called by
// Open, before the store is shared.
func (s *Store) addEnds() error {
	has := false
	err := sqlitex.Execute(s.conn, `SELECT 1 FROM pragma_table_info('keys') WHERE name = 'ends'`,
		&sqlitex.ExecOptions{ResultFunc: func(*sqlite.Stmt) error { has = true; return nil }})
	if err != nil {
		return err
	}
	if !has {
		if err := sqlitex.ExecuteTransient(s.conn, `ALTER TABLE keys ADD COLUMN ends TEXT`, nil); err != nil {
			return err
		}
	}
	if err := sqlitex.ExecuteTransient(s.conn, `CREATE INDEX IF NOT EXISTS keys_ends ON keys (ends) WHERE key IS NOT NULL`, nil); err != nil {
		return err
	}
	var missing []events.KeyID
	err = sqlitex.Execute(s.conn, `SELECT account, period FROM keys WHERE ends IS NULL`,
		&sqlitex.ExecOptions{ResultFunc: func(st *sqlite.Stmt) error {
			missing = append(missing, events.KeyID{Account: st.ColumnText(0), Period: st.ColumnText(1)})
			return nil
		}})
	if err != nil || len(missing) == 0 {
		return err
	}
	end := sqlitex.Transaction(s.conn)
	for _, id := range missing {
		var ends time.Time
		if ends, err = events.PeriodEnd(id.Period); err != nil {
			break
		}
		err = sqlitex.Execute(s.conn, `UPDATE keys SET ends = ?3 WHERE account = ?1 AND period = ?2`,
			&sqlitex.ExecOptions{Args: []any{id.Account, id.Period, stamp(ends)}})
		if err != nil {
			break
		}
	}
	end(&err)
	return err
}

// Due returns the keys that still exist and whose period ended at or
// before before, by account, each account's periods oldest first.
func (s *Store) Due(before time.Time) (map[string][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, nil
	}
	out := map[string][]string{}
	err := sqlitex.Execute(s.conn, `SELECT account, period FROM keys WHERE key IS NOT NULL AND ends <= ?1 ORDER BY account, ends, period`,
		&sqlitex.ExecOptions{Args: []any{stamp(before)}, ResultFunc: func(st *sqlite.Stmt) error {
			a := st.ColumnText(0)
			out[a] = append(out[a], st.ColumnText(1))
			return nil
		}})
	if err != nil {
		return nil, fmt.Errorf("keystore: keys due before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}

// DestroyPeriods destroys account's keys of periods (events.KeyID.Period:
// a generation's "~N" is a period of its own) that still exist,
// recording why (events.GoneExpired), and returns the periods destroyed.
// As with Destroy, the bytes are overwritten in the file before it
// returns.
func (s *Store) DestroyPeriods(account string, periods []string, why string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly || s.conn == nil {
		return nil, errors.New("keystore: destroy: opened read-only")
	}
	var done []string
	now := s.now().UTC().Format(time.RFC3339Nano)
	end := sqlitex.Transaction(s.conn)
	var err error
	for _, p := range periods {
		err = sqlitex.Execute(s.conn, `UPDATE keys SET key = NULL, gone = ?3, destroyed = ?4 WHERE account = ?1 AND period = ?2 AND key IS NOT NULL`,
			&sqlitex.ExecOptions{Args: []any{account, p, why, now}})
		if err != nil {
			break
		}
		if s.conn.Changes() > 0 {
			done = append(done, p)
		}
	}
	end(&err)
	if err != nil {
		return nil, fmt.Errorf("keystore: destroy keys of %s (%s): %w", account, strings.Join(periods, ", "), err)
	}
	for _, p := range done {
		id := events.KeyID{Account: account, Period: p}
		delete(s.cache, id)
		for month, sealing := range s.sealing {
			if sealing == id {
				delete(s.sealing, month)
			}
		}
	}
	return done, nil
}
