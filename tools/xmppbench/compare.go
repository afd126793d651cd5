package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// compareBins are the Debian programs `compare` runs, with the package
// that installs each.
var compareBins = map[string]string{"prosody": "/usr/bin/prosody", "erl": "/usr/bin/erl", "tsung": "/usr/bin/tsung"}

var compareDebs = map[string]string{"prosody": "prosody", "erl": "ejabberd", "tsung": "tsung"}

// compareSizes are the parameters every server gets, identical for all.
type compareSizes struct {
	Users          int           `json:"users"`       // accounts provisioned: fan-out hub + contacts + roster owner
	Duration       time.Duration `json:"duration_ns"` // measured phase of login, chat, fanout, roster
	LoginConc      int           `json:"login_concurrency"`
	ChatUsers      int           `json:"chat_users"` // pairs = /2
	ChatWindow     int           `json:"chat_window"`
	FanoutContacts int           `json:"fanout_contacts"`
	RosterItems    int           `json:"roster_items"`
	IdleSessions   int           `json:"idle_sessions"` // idle, and idle-sm with XEP-0198 on
	IdleHold       time.Duration `json:"idle_hold_ns"`
	ResumeSessions int           `json:"resume_sessions"` // sm-resume: sessions cut and resumed in turn
	ResumeConc     int           `json:"resume_concurrency"`
	TsungSeconds   int           `json:"tsung_seconds"` // arrival phase
	TsungRate      int           `json:"tsung_rate"`    // new tsung users per second
	TsungMessages  int           `json:"tsung_messages"`
	// The archive phase: the archive mam-query reads holds MAMMessages,
	// a size every server reaches within MAMFillLimit, then
	// MAMMessagesLarge where a server's fill rate allows it.
	MAMMessages      int           `json:"mam_messages"`
	MAMMessagesLarge int           `json:"mam_messages_large"`
	MAMFillLimit     time.Duration `json:"mam_fill_limit_ns"`
}

func compareSizesFor(quick bool) compareSizes {
	if quick {
		return compareSizes{Users: 202, Duration: 3 * time.Second, LoginConc: 10, ChatUsers: 20, ChatWindow: 10,
			FanoutContacts: 100, RosterItems: 100, IdleSessions: 1000, IdleHold: 2 * time.Second,
			ResumeSessions: 200, ResumeConc: 10, TsungSeconds: 10, TsungRate: 20, TsungMessages: 5,
			MAMMessages: 2_000, MAMMessagesLarge: 20_000, MAMFillLimit: time.Minute}
	}
	return compareSizes{Users: 1002, Duration: 10 * time.Second, LoginConc: 20, ChatUsers: 100, ChatWindow: 10,
		FanoutContacts: 1000, RosterItems: 1000, IdleSessions: 10000, IdleHold: 5 * time.Second,
		ResumeSessions: 1000, ResumeConc: 20, TsungSeconds: 30, TsungRate: 50, TsungMessages: 10,
		MAMMessages: 5_000, MAMMessagesLarge: 1_000_000, MAMFillLimit: 5 * time.Minute}
}

// compareServerResult is what one server yielded.
type compareServerResult struct {
	Server     string             `json:"server"`
	ProvisionS float64            `json:"provision_s"`
	Results    map[string]*result `json:"results"`
	Tsung      *tsungSummary      `json:"tsung,omitempty"`
	Problems   []string           `json:"problems,omitempty"`
	Notes      []string           `json:"notes,omitempty"`       // what was left out on purpose, and why
	Dir        string             `json:"dir,omitempty"`         // its temporary directory, removed unless --keep
	ArchiveDir string             `json:"archive_dir,omitempty"` // the archive phase's, with --keep
}

// compareReport is the --json output.
type compareReport struct {
	Started time.Time              `json:"started"`
	Sizes   compareSizes           `json:"sizes"`
	Servers []*compareServerResult `json:"servers"`
	Table   []compareRow           `json:"table"`
}

// compareOptions is the command line of `xmppbench compare`.
type compareOptions struct {
	xmppdBin, servers, save, from string
	quick, noTsung, noInstall     bool
	jsonOut, keep                 bool
	noArchive, archiveOnly        bool
	fanout, mamMessages           int
	maxTime                       time.Duration
}

// compareCommand is `xmppbench compare`.
func compareCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare --xmppd bin/xmppd [--quick] [--servers xmppd,prosody,ejabberd] [--json]",
		Short: "run every scenario against xmppd, Prosody and ejabberd and print one table",
		Long: `Runs the same scenarios (login, chat, chat-sm, subscribe, fanout,
fill-roster, roster, sm-resume, idle, idle --sm; and tsung unless --no-tsung) against each of --servers in turn, each
started fresh in its own temporary directory on a free loopback port with
identical sizes, and prints one table with xmppd's ratio to each.

Then, unless --no-archive, the archive phase on a fresh server of the same
kind with message archiving on (xmppd archive.enabled; Prosody and ejabberd
mod_mam on their default storage, archiving every message): chat again
(chat-archived), mam-fill (--mam-messages sent to one account, whose
archive then holds them; the growth of the data files per message and the
start-up time before and after), and mam-query (the last 50 messages of
that archive, one query at a time). --archive-only runs just this phase.

Unless --no-install is given, it first installs from Debian (apt-get, as
root or with sudo -n) whatever of Prosody, ejabberd and tsung the run needs
and the machine lacks, then stops the system services those packages start;
it says on stderr what it installs and stops before doing it. With
--no-install it installs and stops nothing.

--quick uses small sizes (about 4 minutes for three servers); the full run
takes about 20 minutes, and its archive phase (a million messages to
archive on each server) up to 8 minutes more per server. --save writes the JSON report; --from prints the
table of a saved report and runs nothing.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exitWith(runCompare(cmd.Context(), o, stdout, stderr))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.xmppdBin, "xmppd", "bin/xmppd", "the xmppd binary to run (built beforehand: make build)")
	fs.StringVar(&o.servers, "servers", "xmppd,prosody,ejabberd", "servers to run, in order")
	fs.BoolVar(&o.quick, "quick", false, "small sizes (about 3 minutes in all)")
	fs.BoolVar(&o.noTsung, "no-tsung", false, "skip the tsung runs")
	fs.BoolVar(&o.noInstall, "no-install", false, "do not apt-get install missing servers and tsung (nor stop their system services)")
	fs.BoolVar(&o.jsonOut, "json", false, "print every raw result as JSON instead of the table")
	fs.BoolVar(&o.keep, "keep", false, "keep each server's temporary directory (configs, logs, tsung.log) for a look afterwards")
	fs.StringVar(&o.save, "save", "", "also write the JSON report to this file")
	fs.StringVar(&o.from, "from", "", "run nothing: print the table of a report saved with --save or --json")
	fs.IntVar(&o.fanout, "fanout", 0, "contacts of the fan-out hub (0: 1000, or 100 with --quick)")
	fs.BoolVar(&o.noArchive, "no-archive", false, "skip the archive phase (chat-archived, mam-fill, mam-query)")
	fs.BoolVar(&o.archiveOnly, "archive-only", false, "run only the archive phase (no tsung either)")
	fs.IntVar(&o.mamMessages, "mam-messages", 0, "messages in the large archive mam-query-large reads (0: 1,000,000, or 20,000 with --quick)")
	fs.DurationVar(&o.maxTime, "max-time", maxRunTime, "hard limit for the whole comparison")
	return cmd
}

// runCompare runs the same scenarios against xmppd, Prosody and ejabberd
// in turn and prints one table; it returns the exit code.
func runCompare(ctx context.Context, o *compareOptions, stdout, stderr io.Writer) int {
	kinds := strings.Split(o.servers, ",")
	var errs []error
	for _, k := range kinds {
		if k != "xmppd" && k != "prosody" && k != "ejabberd" {
			errs = append(errs, fmt.Errorf("--servers: %q is not xmppd, prosody or ejabberd", k))
		}
	}
	// The servers run in their own temporary directories: a relative path
	// (the Makefile's bin/xmppd) must be made absolute first.
	if abs, err := filepath.Abs(o.xmppdBin); err == nil {
		o.xmppdBin = abs
	}
	if fi, err := os.Stat(o.xmppdBin); (err != nil || fi.IsDir()) && strings.Contains(o.servers, "xmppd") && o.from == "" {
		errs = append(errs, fmt.Errorf("--xmppd %s: not a binary (make build first)", o.xmppdBin))
	}
	if o.fanout < 0 || o.fanout > maxUsers-2 {
		errs = append(errs, fmt.Errorf("--fanout must be between 0 and %d", maxUsers-2))
	}
	if o.noArchive && o.archiveOnly {
		errs = append(errs, errors.New("--no-archive and --archive-only exclude each other"))
	}
	if o.mamMessages < 0 {
		errs = append(errs, errors.New("--mam-messages must not be negative"))
	}
	if o.maxTime <= 0 || o.maxTime > maxRunTime {
		errs = append(errs, fmt.Errorf("--max-time must be positive and at most %v", maxRunTime))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, "xmppbench compare:", err)
		return exitUsage
	}
	if o.from != "" {
		return compareFromFile(o.from, stdout, stderr)
	}
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	log := progressWriter(stderr)
	if o.archiveOnly {
		o.noTsung = true
	}
	if !o.noInstall {
		// Not the progress writer: what changes the system is said on
		// stderr even when it is not a terminal.
		if err := installCompareDeps(ctx, kinds, !o.noTsung, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
	}
	rep := &compareReport{Started: time.Now().UTC(), Sizes: compareSizesFor(o.quick)}
	if o.fanout > 0 {
		rep.Sizes.FanoutContacts = o.fanout
		rep.Sizes.Users = max(rep.Sizes.Users, o.fanout+2)
	}
	if o.mamMessages > 0 {
		rep.Sizes.MAMMessagesLarge = o.mamMessages
	}
	failed := false
	for _, k := range kinds {
		r := &compareServerResult{Server: k, Results: map[string]*result{}}
		if !o.archiveOnly {
			r = runCompareServer(ctx, k, o.xmppdBin, rep.Sizes, !o.noTsung, o.keep, log)
		}
		if !o.noArchive && ctx.Err() == nil {
			runCompareArchive(ctx, r, o.xmppdBin, rep.Sizes, o.keep, log)
		}
		rep.Servers = append(rep.Servers, r)
		if len(r.Problems) > 0 {
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep.Table = buildCompareTable(rep.Servers)
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	raw = append(raw, '\n')
	if o.save != "" {
		if err := os.WriteFile(o.save, raw, 0o644); err != nil {
			fmt.Fprintln(stderr, "xmppbench compare:", err)
			failed = true
		}
	}
	if o.jsonOut {
		stdout.Write(raw)
	} else {
		writeCompareTable(stdout, rep)
	}
	if failed || ctx.Err() != nil {
		return exitFailure
	}
	return exitOK
}

// compareFromFile prints the table of a saved report, recomputing the
// rows from the raw results.
func compareFromFile(path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "xmppbench compare:", err)
		return exitFailure
	}
	var rep compareReport
	if err := json.Unmarshal(data, &rep); err != nil {
		fmt.Fprintf(stderr, "xmppbench compare: %s: %v\n", path, err)
		return exitFailure
	}
	rep.Table = buildCompareTable(rep.Servers)
	writeCompareTable(stdout, &rep)
	return exitOK
}

// installCompareDeps installs from Debian whatever of Prosody, ejabberd
// and tsung the run needs and the machine lacks (as root or with sudo -n),
// then stops the system services of the servers it installed. It says on
// w what it is about to install and stop before doing it. It runs only
// without --no-install.
func installCompareDeps(ctx context.Context, kinds []string, tsung bool, w io.Writer) error {
	missing := missingCompareDebs(kinds, tsung)
	if len(missing) == 0 {
		return nil
	}
	sudo := []string{}
	if os.Geteuid() != 0 {
		sudo = []string{"sudo", "-n"}
	}
	// Debian starts the system services of the servers it installs; the
	// comparison runs its own instances and the system ones would only
	// take CPU and ports. Only what was just installed is stopped: a
	// server the machine already ran is left alone.
	var services []string
	for _, deb := range missing {
		if deb == "prosody" || deb == "ejabberd" {
			services = append(services, deb)
		}
	}
	fmt.Fprintf(w, "xmppbench compare: installing from Debian (%s): %s\n",
		strings.Join(append(sudo, "apt-get install"), " "), strings.Join(missing, " "))
	if len(services) > 0 {
		fmt.Fprintf(w, "xmppbench compare: then stopping the system services it starts: %s\n", strings.Join(services, " "))
	}
	fmt.Fprintln(w, "xmppbench compare: (--no-install installs and stops nothing)")
	ictx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for _, argv := range [][]string{
		append(append([]string{}, sudo...), "apt-get", "update", "-qq"),
		append(append(append([]string{}, sudo...), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq"), missing...),
	} {
		cmd := exec.CommandContext(ictx, argv[0], argv[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("xmppbench: compare: %s: %w\n%s", strings.Join(argv, " "), err, out.String())
		}
	}
	for _, svc := range services {
		exec.CommandContext(ictx, "sh", "-c", strings.Join(sudo, " ")+" systemctl stop "+svc+" 2>/dev/null || "+strings.Join(sudo, " ")+" service "+svc+" stop 2>/dev/null || true").Run()
	}
	return nil
}

// missingCompareDebs returns the Debian packages of what the run needs
// and the machine lacks.
func missingCompareDebs(kinds []string, tsung bool) []string {
	need := map[string]bool{}
	for _, k := range kinds {
		switch k {
		case "prosody":
			need["prosody"] = true
		case "ejabberd":
			need["erl"] = true
		}
	}
	if tsung {
		need["tsung"] = true
	}
	var missing []string
	for _, bin := range []string{"prosody", "erl", "tsung"} {
		if _, err := os.Stat(compareBins[bin]); need[bin] && err != nil {
			missing = append(missing, compareDebs[bin])
		}
	}
	if need["erl"] && !slices.Contains(missing, "ejabberd") {
		if m, _ := globAny("/usr/lib/x86_64-linux-gnu/ejabberd-*", "/usr/lib/erlang/lib/ejabberd-*"); !m {
			missing = append(missing, "ejabberd")
		}
	}
	return missing
}

// runCompareServer runs every scenario and tsung against one server kind,
// on fresh state, and always stops and removes what it started.
func runCompareServer(ctx context.Context, kind, xmppdBin string, z compareSizes, tsung, keep bool, log io.Writer) *compareServerResult {
	r := &compareServerResult{Server: kind, Results: map[string]*result{}}
	problem := func(err error) {
		r.Problems = append(r.Problems, err.Error())
		fmt.Fprintf(log, "compare: %s: %v\n", kind, err)
	}
	fmt.Fprintf(log, "compare: %s: setting up\n", kind)
	s, err := newCompareServer(kind, xmppdBin, "localhost", false)
	if err != nil {
		problem(err)
		return r
	}
	r.Dir = s.dir
	if keep {
		defer s.stop()
	} else {
		defer s.remove()
	}
	t0 := time.Now()
	if err := s.provisionAndStart(ctx, z.Users, log); err != nil {
		problem(err)
		return r
	}
	r.ProvisionS = roundTo(time.Since(t0).Seconds(), 2)
	fmt.Fprintf(log, "compare: %s: %d accounts in %.1fs; running scenarios\n", kind, z.Users, r.ProvisionS)

	d := z.Duration.String()
	fanUsers := z.FanoutContacts + 1       // hub (index 0) and its contacts
	rosterHub := strconv.Itoa(z.Users - 1) // the last account: outside the fan-out group
	steps := []struct {
		key  string
		args []string
	}{
		{"login", []string{"login", "--users", strconv.Itoa(z.Users), "--concurrency", strconv.Itoa(z.LoginConc), "--duration", d}},
		{"chat", []string{"chat", "--users", strconv.Itoa(z.ChatUsers), "--window", strconv.Itoa(z.ChatWindow), "--duration", d}},
		// The same accounts, two resources each, with XEP-0198 and carbons.
		{"chat-sm", []string{"chat-sm", "--users", strconv.Itoa(z.ChatUsers), "--window", strconv.Itoa(z.ChatWindow), "--duration", d}},
		// Mutual subscriptions with a thousand contacts take Prosody and
		// ejabberd well over the default 20 s per operation.
		{"subscribe", []string{"subscribe", "--users", strconv.Itoa(fanUsers), "--timeout", "240s"}},
		{"fanout", []string{"fanout", "--users", strconv.Itoa(fanUsers), "--duration", d, "--timeout", "30s"}},
		{"fill-roster", []string{"fill-roster", "--users", strconv.Itoa(z.Users), "--hub", rosterHub, "--items", strconv.Itoa(z.RosterItems), "--window", "20"}},
		{"roster", []string{"roster", "--users", strconv.Itoa(z.Users), "--hub", rosterHub, "--items", strconv.Itoa(z.RosterItems), "--concurrency", "4", "--duration", d}},
		{"sm-resume", []string{"sm-resume", "--users", strconv.Itoa(z.Users), "--sessions", strconv.Itoa(z.ResumeSessions),
			"--concurrency", strconv.Itoa(z.ResumeConc), "--duration", d}},
	}
	for _, st := range steps {
		if ctx.Err() != nil {
			problem(ctx.Err())
			return r
		}
		res, err := compareStep(ctx, s, st.args, log)
		if res != nil {
			r.Results[st.key] = res
		}
		if err != nil {
			problem(fmt.Errorf("%s: %w", st.key, err))
		}
	}
	if tsung && ctx.Err() == nil {
		fmt.Fprintf(log, "compare: %s: tsung for %ds\n", kind, z.TsungSeconds)
		ts, err := runTsung(ctx, s, z, log)
		r.Tsung = ts
		if err != nil {
			problem(fmt.Errorf("tsung: %w", err))
		}
	}
	// Idle memory on a freshly started server each time: a
	// garbage-collected heap keeps what the earlier scenarios freed.
	for _, idle := range []struct {
		key   string
		extra []string
	}{{"idle", nil}, {"idle-sm", []string{"--sm"}}} {
		if ctx.Err() != nil {
			break
		}
		s.stop()
		if err := s.start(ctx); err != nil {
			problem(err)
			return r
		}
		time.Sleep(time.Second)
		args := append([]string{"idle", "--users", strconv.Itoa(z.Users), "--sessions", strconv.Itoa(z.IdleSessions),
			"--concurrency", "50", "--duration", z.IdleHold.String()}, idle.extra...)
		res, err := compareStep(ctx, s, args, log)
		if res != nil {
			r.Results[idle.key] = res
		}
		if err != nil {
			problem(fmt.Errorf("%s: %w", idle.key, err))
		}
	}
	return r
}

// provisionAndStart creates accounts user1..userN (pass1..passN) and
// starts the server: xmppd and Prosody are provisioned before they
// start, ejabberd after (through its HTTP API).
func (s *compareServer) provisionAndStart(ctx context.Context, users int, log io.Writer) error {
	c := &config{users: users, first: 1, userPattern: "user%d", passwordPattern: "pass%d", domain: s.domain}
	if s.kind != "ejabberd" {
		if err := s.provision(ctx, c, log); err != nil {
			return err
		}
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	if s.kind == "ejabberd" {
		return s.provision(ctx, c, log)
	}
	return nil
}

// compareStep runs one xmppbench command line against s, as the same code
// the single-scenario commands run, and decodes its JSON result.
func compareStep(ctx context.Context, s *compareServer, args []string, log io.Writer) (*result, error) {
	if !slices.Contains(args, "--timeout") {
		args = append(args, "--timeout", "20s")
	}
	if !slices.Contains(args, "--max-time") {
		args = append(args, "--max-time", "5m")
	}
	args = append(args, "--addr", s.addr(), "--insecure", "--mech", "SCRAM-SHA-1", "--json", "--label", s.kind,
		"--server-pid", strconv.Itoa(s.pid()))
	fmt.Fprintf(log, "compare: %s: %s\n", s.kind, strings.Join(args[:min(len(args), 9)], " "))
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("exit %d, no result: %s", code, truncate(strings.TrimSpace(errOut.String()), 500))
	}
	if code != exitOK {
		return &res, fmt.Errorf("exit %d (%d errors %v %q)", code, res.Errors, res.ErrorsByKind, res.ErrorSamples)
	}
	return &res, nil
}
