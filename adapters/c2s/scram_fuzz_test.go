package c2s

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
	"xmppd/router"
	"xmppd/stanza"

	"xmppd/events"
)

// emptyCredentials knows no account; with it every exchange runs against
// the made-up keys, which exercises the same parsing.
type emptyCredentials struct{}

func (emptyCredentials) Credentials(context.Context, string) (events.CredentialsSet, bool, error) {
	return events.CredentialsSet{}, false, nil
}

type nopCore struct{}

func (nopCore) Bound(context.Context, router.Session) error              { return nil }
func (nopCore) Stanza(context.Context, router.Session, stanza.Stanza)    {}
func (nopCore) Suspended(router.Session, router.End, int, time.Duration) {}
func (nopCore) Resumed(router.Session, int)                              {}
func (nopCore) Ended(router.Session, router.End)                         {}

// FuzzScram feeds the SCRAM server (outside input, before authentication)
// arbitrary client-first and client-final messages: it must never panic
// and never succeed for an account that does not exist.
func FuzzScram(f *testing.F) {
	certPEM, keyPEM, err := selfSigned("localhost", testNow())
	if err != nil {
		f.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{Domain: "localhost", StartTLSAddr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}}},
		Deps{Core: nopCore{}, Credentials: emptyCredentials{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("n,,n=alice,r=abc", "c=biws,r=abc,p=AAAA")
	f.Add("y,a=alice@localhost,n=al=2Cice,r=x", "c=eSxhPWFsaWNlQGxvY2FsaG9zdCw=,r=x,p=")
	f.Add("p=tls-unique,,n=a,r=b", "")
	f.Fuzz(func(t *testing.T, first, final string) {
		c := &conn{srv: srv, ctx: context.Background(), ip: "192.0.2.1"}
		s := newScram(c, "SCRAM-SHA-256")
		if _, done, serr := s.step([]byte(first)); serr != nil || done {
			return
		}
		if _, done, serr := s.step([]byte(final)); serr == nil || done {
			t.Fatalf("an unknown account authenticated with %q / %q", first, final)
		}
	})
}

func testNow() time.Time { return time.Now() }
