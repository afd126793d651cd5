package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed, or completed no operation
	exitUsage   = 2 // the command line is wrong
)

// usageError is a wrong command line: it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries the exit code of a command that has already said on
// stderr what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitWith turns an exit code into what a command's RunE returns.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return exitError{code}
}

// scenarioFunc runs one scenario and returns its result. It returns an
// error only when the run could not take place (setup failed); errors of
// individual operations are counted in the result.
type scenarioFunc func(ctx context.Context, c *config, log io.Writer) (*result, error)

// scenario is one subcommand that runs load: what it runs and its help.
type scenario struct {
	run   scenarioFunc
	short string
	long  string
}

// scenarios maps each subcommand to what it runs and its help.
func scenarios() map[string]scenario {
	return map[string]scenario{
		"login": {runLogin, "connections/s through TLS, SASL, bind, roster and presence; latency per login",
			`--concurrency connectors log in over and over (TLS, SASL, bind, roster get,
initial presence), each with the next account in turn. Reports logins/s, the
latency of each login, and in more_latency the latency of each step
(connect+tls, sasl, bind, roster), to see where a login's time goes.`},
		"chat": {runChat, "--users/2 pairs exchange chat messages; messages/s and end-to-end latency",
			`--users/2 pairs send chat messages to each other's bare JID, --window in
flight per sender, or paced to --rate in total. Reports messages/s delivered
and end-to-end latency.`},
		"chat-sm": {runChatSM, "chat between two resources per account with XEP-0198 acks and XEP-0280 carbons",
			`--users accounts bind two resources each (sm-a, sm-b); every session enables
XEP-0198 stream management with resumption and XEP-0280 carbons after its
initial presence. Pairs of accounts chat resource to resource (full JIDs),
--window in flight per sender, so each message is delivered to the addressed
resource and carbon-copied to both accounts' other resources. Clients answer
the server's <r/> and send their own every 50 stanzas. Reports messages/s
(direct deliveries), carbons/s, the latency of both, and checks every
resource's counts: nothing lost, nothing twice.`},
		"sm-resume": {runSMResume, "cut SM sessions' connections and resume them; resumptions/s and resume latency",
			`--sessions sessions (0: one per account) enable XEP-0198 with resumption;
then --concurrency workers in turn cut a session's TCP connection (no
</stream:stream>), reconnect, authenticate and send <resume/>. Reports
resumptions/s and the latency from TCP connect to <resumed/>; <failed/> is an
error. After each resumption an <r/> must be answered.`},
		"fanout": {runFanout, "the hub changes presence; time until each subscribed contact has it",
			`The --hub account changes presence in rounds; every other account is a
subscribed contact (run subscribe first). Reports the latency per contact and
per round (until every contact has it).`},
		"idle": {runIdle, "hold sessions open; server VmRSS per session (--server-pid)",
			`--sessions sessions are opened and held for --duration. With --server-pid,
reports the server's VmRSS per session; measure on a freshly started server.`},
		"roster": {runRoster, "latency of roster gets by the hub account",
			`--concurrency sessions of the --hub account fetch its roster over and over;
with --items, the roster must hold that many items.`},
		"subscribe": {runSubscribe, "setup: mutual subscriptions between the hub and every other account",
			`Setup for fanout: the --hub account and every other account subscribe to
each other's presence (both ways). Speaks only XMPP, so works on any server.`},
		"mam-fill": {runMAMFill, "setup: fill the hub's message archive with --count messages; messages/s",
			`Setup for mam-query: every account but the --hub sends chat messages to the
hub's bare JID, --window in flight each, until --count have been sent (bounded
by --duration); the hub is online and reads them, so each is archived
(XEP-0313) and delivered. Reports messages/s and their end-to-end latency:
how fast the server builds an archive. Speaks only XMPP, so works on any
server with MAM on.`},
		"mam-query": {runMAMQuery, "latency of XEP-0313 queries for the last page of the hub's archive",
			`--concurrency sessions of the --hub account ask for the last --items
(default 50) messages of its archive (XEP-0313 with an RSM <before/>) back to
back, reading every <result/> and the <fin/>. Reports queries/s and the
latency to <fin/>; a page with fewer results is an error (run mam-fill
first).`},
		"fill-roster": {runFillRoster, "setup: add --items roster items to the hub account",
			`Setup for roster: the --hub account gets --items roster items, --window
roster sets in flight. Speaks only XMPP, so works on any server.`},
	}
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := rootCommand(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "xmppbench: %v\nRun 'xmppbench --help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "xmppbench: %v\n", err)
		return exitFailure
	}
}

// rootCommand is the xmppbench command: one subcommand per scenario and
// setup step, provision and compare. It has no package state: each run
// makes its own.
func rootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "xmppbench",
		Short: "A load generator for any XMPP server",
		Long: `xmppbench drives many virtual users against an XMPP server on loopback
(xmppd, Prosody, ejabberd) and reports throughput, latency percentiles and
errors by kind for one scenario per run, as a table or as JSON (--json).
"xmppbench compare" runs every scenario against xmppd, Prosody and ejabberd
in turn and prints one table.`,
		// Arbitrary arguments reach RunE, which names an unknown scenario
		// instead of cobra's generic message.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				usage(stderr)
				return exitError{exitUsage}
			}
			fmt.Fprintf(stderr, "xmppbench: unknown scenario %q\n", args[0])
			usage(stderr)
			return exitError{exitUsage}
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	all := scenarios()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		root.AddCommand(scenarioCommand(n, all[n], stdout, stderr))
	}
	root.AddCommand(provisionCommand(stdout, stderr), compareCommand(stdout, stderr))
	return root
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: xmppbench SCENARIO [flags]   (xmppbench SCENARIO -h for flags)")
	fmt.Fprintln(w, "       xmppbench provision --server xmppd|prosody|ejabberd --users N")
	fmt.Fprintln(w, "       xmppbench compare --xmppd bin/xmppd [--quick] [--servers xmppd,prosody,ejabberd]")
	all := scenarios()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, all[n].short)
	}
}

// noArgs refuses positional arguments, naming them.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", args)}
	}
	return nil
}

// scenarioCommand is `xmppbench NAME`: one scenario or setup step.
func scenarioCommand(name string, sc scenario, stdout, stderr io.Writer) *cobra.Command {
	c := &config{scenario: name}
	cmd := &cobra.Command{
		Use:   name + " [flags]",
		Short: sc.short,
		Long:  sc.long + "\n\n" + sharedFlagsHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.validate(); err != nil {
				fmt.Fprintln(stderr, err)
				return exitError{exitUsage}
			}
			return exitWith(runScenario(cmd.Context(), c, sc.run, stdout, stderr))
		},
	}
	c.register(cmd.Flags())
	return cmd
}

// sharedFlagsHelp ends every scenario's help.
const sharedFlagsHelp = `Every scenario takes the same flags (a scenario ignores those it does not
use), so a script can run scenario X against server Y by changing --addr and
--label. Accounts are --users N from --first with --user-pattern and
--password-pattern on --domain; creating them is the caller's job (see
"xmppbench provision"). Only loopback targets unless --allow-remote; the
whole run is bounded by --max-time.`

// provisionCommand is `xmppbench provision`: it prints the commands that
// create the run's accounts on one server kind.
func provisionCommand(stdout, stderr io.Writer) *cobra.Command {
	c := &config{scenario: "provision"}
	cmd := &cobra.Command{
		Use:   "provision --server xmppd|prosody|ejabberd --users N",
		Short: "print the shell commands that create the accounts on a server",
		Long: `Prints, one a line, the commands that create accounts --first to
--first+--users-1 (--user-pattern, --password-pattern, --domain) on --server:
"xmppd user add", "prosodyctl register" or "ejabberdctl register". Pipe them
to sh to run them; nothing is run by xmppbench itself.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := c.validate(); err != nil {
				fmt.Fprintln(stderr, err)
				return exitError{exitUsage}
			}
			writeProvision(stdout, c)
			return nil
		},
	}
	c.register(cmd.Flags())
	return cmd
}

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("xmppbench: --cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("xmppbench: --cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runScenario runs one validated scenario and prints its result; it
// returns the exit code.
func runScenario(ctx context.Context, c *config, sc scenarioFunc, stdout, stderr io.Writer) int {
	// The hard bound on the whole run: whatever a scenario does, its
	// context ends here, and every connection is closed with it.
	ctx, cancel := context.WithTimeout(ctx, c.maxTime)
	defer cancel()
	var serverCPU0 time.Duration
	if c.serverPID > 0 {
		serverCPU0, _ = readCPU(c.serverPID)
	}
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		defer stop()
	}
	clientCPU0 := selfCPU()
	res, err := sc(ctx, c, progressWriter(stderr))
	if err != nil {
		fmt.Fprintln(stderr, err)
		if res == nil {
			return exitFailure
		}
	}
	res.fill(c)
	// CPU over the whole run, setup included: enough to see whether the
	// load generator starved the server on a shared machine, and to
	// compare servers' cost per operation on equal runs.
	res.Figures["client_cpu_s"] = roundTo((selfCPU() - clientCPU0).Seconds(), 2)
	if c.serverPID > 0 {
		if cpu, err := readCPU(c.serverPID); err == nil {
			res.Figures["server_cpu_s"] = roundTo((cpu - serverCPU0).Seconds(), 2)
		}
	}
	if c.json {
		if err := res.writeJSON(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
	} else {
		res.writeTable(stdout)
	}
	if err != nil || res.Ops == 0 {
		return exitFailure
	}
	return exitOK
}
