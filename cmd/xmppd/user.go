package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"golang.org/x/text/secure/precis"
	"mellium.im/xmpp/jid"

	"xmppd/domain"
	"xmppd/events"
	"xmppd/im"
	"xmppd/projections"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, change, delete and list accounts",
		Long: `Manage accounts in the event log. Each change is an event in the
account's stream, recorded with the administrator as its actor; a running
server sees it within a second.`,
	}
	var password string
	var fromStdin, many bool
	add := &cobra.Command{
		Use:   "add JID | add --stdin",
		Short: "Create an account, or many from standard input",
		Example: `  xmppd user add alice@localhost --password s3cret
  printf '%s\n' "$PW" | xmppd user add alice@localhost --password-stdin
  printf 'alice@localhost pw1\nbob@localhost pw2\n' | xmppd user add --stdin`,
		Args: args(func(cmd *cobra.Command, argv []string) error {
			if many && len(argv) > 0 {
				return errors.New("--stdin reads the accounts from standard input: give no JID")
			}
			if many {
				return nil
			}
			return cobra.ExactArgs(1)(cmd, argv)
		}),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), false, func(c *Config, s events.Store) error {
				if many {
					return a.userAddMany(cmd, c, s)
				}
				return a.userAdd(cmd, c, s, argv[0], password, fromStdin)
			})
		},
	}
	passwd := &cobra.Command{
		Use:   "passwd JID",
		Short: "Set an account's password",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), false, func(c *Config, s events.Store) error {
				return a.userPasswd(cmd, c, s, argv[0], password, fromStdin)
			})
		},
	}
	for _, c := range []*cobra.Command{add, passwd} {
		c.Flags().StringVar(&password, "password", "", "the password (visible to other local users in the process list; prefer --password-stdin)")
		c.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
		c.MarkFlagsMutuallyExclusive("password", "password-stdin")
	}
	add.Flags().BoolVar(&many, "stdin", false, "create one account per line of standard input: JID, whitespace, password")
	add.MarkFlagsMutuallyExclusive("stdin", "password")
	add.MarkFlagsMutuallyExclusive("stdin", "password-stdin")
	del := &cobra.Command{
		Use:   "del JID",
		Short: "Delete an account and close its sessions",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.withStore(cmd.Context(), false, func(c *Config, s events.Store) error {
				return a.userDel(cmd, c, s, argv[0])
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), true, func(c *Config, s events.Store) error {
				return a.userList(cmd.Context(), s)
			})
		},
	}
	erase := &cobra.Command{
		Use:   "erase JID",
		Short: "Erase an account (GDPR art. 17): destroy its keys, then delete it",
		Long: `Destroy every key of the account in the key store (keys.path), so that
its personal content (vCard, private XML, PEP items, presence status and
stanzas, archived messages, messages queued for it offline) is unreadable in the log and in every copy or backup of it, then
record account.erased (no personal data) and delete the account. The log's
hash chains still verify. The server must be stopped: erase takes the
server lock of the data directory and refuses while ` + "`xmppd serve`" + ` holds it.
An account under legal hold is refused, naming the cases (xmppd hold).
Content recorded by an xmppd older than the key store is in clear and
stays so (see README, "Personal content and keys").`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.userErase(cmd, argv[0])
		},
	}
	cmd.AddCommand(add, passwd, del, list, erase)
	return cmd
}

// accountJID parses an account address: a localpart and this server's
// domain, no resource (RFC 7622 section 3).
func accountJID(c *Config, s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, usagef("%q is not a valid JID: %v", s, err)
	}
	switch {
	case j.Localpart() == "":
		return jid.JID{}, usagef("%q has no localpart: an account is user@%s", s, c.Domain)
	case j.Resourcepart() != "":
		return jid.JID{}, usagef("%q has a resource: an account is a bare JID (user@%s)", s, c.Domain)
	case j.Domainpart() != c.Domain:
		return jid.JID{}, usagef("%s is not on this server's domain %s (set domain in the configuration)", j, c.Domain)
	}
	return j, nil
}

// adminMeta is the provenance of a command-line change: the operating
// system user who ran it.
func adminMeta(c *Config) events.Meta {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return events.Meta{Actor: "admin:" + name, Node: c.Node, CorrelationID: im.NewCorrelationID()}
}

// accountError is err as the administrator reads it: a refusal by the
// account rules is its reason alone ("account x already exists").
func accountError(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return errors.New(de.Reason)
	}
	return err
}

func (a *app) userAdd(cmd *cobra.Command, c *Config, s events.Store, arg, password string, fromStdin bool) error {
	j, err := accountJID(c, arg)
	if err != nil {
		return err
	}
	creds, err := a.credentials(c, password, fromStdin)
	if err != nil {
		return err
	}
	if err := (im.Accounts{Store: s}).Create(cmd.Context(), j, creds, adminMeta(c)); err != nil {
		return accountError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", j)
	return nil
}

func (a *app) userPasswd(cmd *cobra.Command, c *Config, s events.Store, arg, password string, fromStdin bool) error {
	j, err := accountJID(c, arg)
	if err != nil {
		return err
	}
	accounts := im.Accounts{Store: s}
	// Asked before the password is read, so that a mistyped name is said
	// at once; SetPassword checks again.
	if ok, err := accounts.Exists(cmd.Context(), j); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("no account %s", j)
	}
	creds, err := a.credentials(c, password, fromStdin)
	if err != nil {
		return err
	}
	if err := accounts.SetPassword(cmd.Context(), j, creds, adminMeta(c)); err != nil {
		return accountError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "password changed for %s\n", j)
	return nil
}

func (a *app) userDel(cmd *cobra.Command, c *Config, s events.Store, arg string) error {
	j, err := accountJID(c, arg)
	if err != nil {
		return err
	}
	if err := (im.Accounts{Store: s}).Delete(cmd.Context(), j, "deleted by administrator", adminMeta(c)); err != nil {
		return accountError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", j)
	return nil
}

func (a *app) userList(ctx context.Context, s events.Store) error {
	accounts := projections.NewAccounts()
	if err := foldAccountStreams(ctx, s, accounts); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JID\tCREATED")
	list := accounts.List()
	for _, acc := range list {
		fmt.Fprintf(tw, "%s\t%s\n", acc.JID, acc.Created.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "%d account(s)\n", len(list))
	return nil
}

// foldAccountStreams applies every account stream to v: only those
// streams when the store can list its streams, else the whole log.
func foldAccountStreams(ctx context.Context, s events.Store, v *projections.Accounts) error {
	lister, ok := s.(events.StreamHeadLister)
	if !ok {
		for e, err := range s.ReadAll(ctx, 0) {
			if err != nil {
				return err
			}
			if err := v.Apply(&e); err != nil {
				return err
			}
		}
		return nil
	}
	for h, err := range lister.StreamHeads(ctx) {
		if err != nil {
			return err
		}
		if !strings.HasPrefix(h.Stream, events.AccountPrefix) {
			continue
		}
		for e, err := range s.ReadStream(ctx, h.Stream, 1) {
			if err != nil {
				return err
			}
			if err := v.Apply(&e); err != nil {
				return err
			}
		}
	}
	return nil
}

// credentials reads the new password and derives its SCRAM keys.
func (a *app) credentials(c *Config, password string, fromStdin bool) (events.CredentialsSet, error) {
	pw, err := a.readPassword(password, fromStdin, true)
	if err != nil {
		return events.CredentialsSet{}, err
	}
	return domain.NewCredentials(pw, c.Auth.ScramIterations, rand.Reader)
}

// readPassword returns the password from the flag, from standard input, or
// from a prompt on the terminal, prepared with the PRECIS OpaqueString
// profile (RFC 8265 section 4.2) that SCRAM and PLAIN clients apply.
func (a *app) readPassword(flag string, fromStdin, confirm bool) (string, error) {
	var pw string
	switch {
	case flag != "":
		pw = flag
	case fromStdin:
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", usagef("--password-stdin: no password on standard input")
		}
		pw = strings.TrimRight(line, "\r\n")
	default:
		f, ok := a.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", usagef("give the password with --password or --password-stdin")
		}
		var err error
		if pw, err = prompt(f, a.stderr, "Password: "); err != nil {
			return "", err
		}
		if confirm {
			again, err := prompt(f, a.stderr, "Again: ")
			if err != nil {
				return "", err
			}
			if again != pw {
				return "", errors.New("the passwords differ")
			}
		}
	}
	if pw == "" {
		return "", usagef("the password is empty")
	}
	out, err := precis.OpaqueString.String(pw)
	if err != nil {
		return "", usagef("the password is not allowed: %v", err)
	}
	return out, nil
}

func prompt(f *os.File, w io.Writer, label string) (string, error) {
	fmt.Fprint(w, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(w)
	return string(b), err
}
