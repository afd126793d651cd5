package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (or, for verify, found tampering)
	exitUsage   = 2 // the command line or configuration is wrong
)

// usageError marks an error the user fixes by changing the command line
// or the configuration; it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code for an error already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// app is one run of the xmppd command: its streams and its configuration
// loader. Tests create one per run; there are no package globals.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            *configLoader
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, cfg: newConfigLoader()}
}

// run executes the command line args and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "xmppd: %v\nRun 'xmppd --help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(a.stderr, "xmppd: %v\n", err)
		return exitFailure
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "xmppd",
		Short: "An XMPP server whose history is an event log",
		Long: `xmppd is an XMPP instant-messaging and presence server (RFC 6121) that
records every roster change, subscription transition and presence change as
an event, and the tools that read that log back.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	a.cfg.bindFlags(root.PersistentFlags())
	root.AddCommand(
		a.serveCommand(),
		a.userCommand(),
		a.verifyCommand(),
		a.exportCommand(),
		a.replayCommand(),
		a.auditCommand(),
		a.holdCommand(),
	)
	return root
}

// args wraps a cobra positional-argument check so its failure is a usage
// error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}
