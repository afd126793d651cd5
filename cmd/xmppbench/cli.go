package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"time"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed, or completed no operation
	exitUsage   = 2 // the command line is wrong
)

// scenarioFunc runs one scenario and returns its result. It returns an
// error only when the run could not take place (setup failed); errors of
// individual operations are counted in the result.
type scenarioFunc func(ctx context.Context, c *config, log io.Writer) (*result, error)

// scenarios maps each subcommand to what it runs and a line of help.
func scenarios() map[string]struct {
	run  scenarioFunc
	help string
} {
	type entry = struct {
		run  scenarioFunc
		help string
	}
	return map[string]entry{
		"login":       {runLogin, "connections/s through TLS, SASL, bind, roster and presence; latency per login"},
		"chat":        {runChat, "--users/2 pairs exchange chat messages; messages/s and end-to-end latency"},
		"fanout":      {runFanout, "the hub changes presence; time until each subscribed contact has it"},
		"idle":        {runIdle, "hold sessions open; server VmRSS per session (--server-pid)"},
		"roster":      {runRoster, "latency of roster gets by the hub account"},
		"subscribe":   {runSubscribe, "setup: mutual subscriptions between the hub and every other account"},
		"fill-roster": {runFillRoster, "setup: add --items roster items to the hub account"},
	}
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
		fmt.Fprintf(w, "  %-12s %s\n", n, all[n].help)
	}
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

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "compare" {
		return runCompare(ctx, args[1:], stdout, stderr)
	}
	sc, known := scenarios()[name]
	if !known && name != "provision" {
		fmt.Fprintf(stderr, "xmppbench: unknown scenario %q\n", name)
		usage(stderr)
		return exitUsage
	}
	c := &config{scenario: name}
	fs := flag.NewFlagSet("xmppbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "xmppbench: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if name == "provision" {
		writeProvision(stdout, c)
		return exitOK
	}
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
	res, err := sc.run(ctx, c, progressWriter(stderr))
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
