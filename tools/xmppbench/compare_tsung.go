package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tsungSummary is the headline of one tsung run, from its tsung.log.
type tsungSummary struct {
	Seconds       float64          `json:"seconds"` // from the first to the last stats dump
	Users         float64          `json:"users"`   // users started
	Sessions      float64          `json:"sessions"`
	SessionsPerS  float64          `json:"sessions_per_s"`
	SessionMeanMS float64          `json:"session_mean_ms"`
	Requests      float64          `json:"requests"` // requests that wait for an answer
	RequestsPerS  float64          `json:"requests_per_s"`
	RequestMeanMS float64          `json:"request_mean_ms"`
	AuthMeanMS    float64          `json:"auth_mean_ms"` // transaction "authenticate"
	Errors        float64          `json:"errors"`
	ErrorsByKind  map[string]int64 `json:"errors_by_kind,omitempty"`
}

// tsungSettings fills testdata/compare/tsung-xmpp.xml.tmpl.
type tsungSettings struct {
	Port, Users, MaxUsers, Seconds, LimitSeconds, Rate, Messages int
	Domain                                                       string
}

// runTsung runs tsung's XMPP scenario against s for the arrival phase of
// z.TsungSeconds (hard limit: that plus a minute), on loopback only, and
// parses its log. It stops what it started: tsung's process group, and
// an epmd that tsung's Erlang node brought up when none ran before.
func runTsung(ctx context.Context, s *compareServer, z compareSizes, log io.Writer) (*tsungSummary, error) {
	dir := filepath.Join(s.dir, "tsung")
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o700); err != nil {
		return nil, err
	}
	set := tsungSettings{Port: s.set.Port, Users: z.Users, MaxUsers: z.TsungSeconds * z.TsungRate, Seconds: z.TsungSeconds,
		LimitSeconds: z.TsungSeconds + 30, Rate: z.TsungRate, Messages: z.TsungMessages, Domain: s.domain}
	xml, err := renderCompareTemplate("tsung-xmpp.xml", set)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "tsung.xml")
	if err := os.WriteFile(conf, xml, 0o600); err != nil {
		return nil, err
	}
	epmdBefore := processesNamed("epmd")
	tctx, cancel := context.WithTimeout(ctx, time.Duration(set.LimitSeconds+60)*time.Second)
	defer cancel()
	cmd := exec.Command(compareBins["tsung"], "-f", conf, "-l", filepath.Join(dir, "log"), "-n", "-w", "0", "start")
	cmd.Dir = dir
	// Erlang distribution and epmd on loopback only; ~/.tsung in the temp dir.
	cmd.Env = append(os.Environ(), "HOME="+dir, "ERL_EPMD_ADDRESS=127.0.0.1",
		"ERL_FLAGS=-kernel inet_dist_use_interface {127,0,0,1}")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: &out}, &lockedWriter{w: &out}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting tsung: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-tctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		runErr = fmt.Errorf("tsung did not finish within %ds: stopped", set.LimitSeconds+60)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	for _, pid := range processesNamed("epmd") {
		if !containsInt(epmdBefore, pid) {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "log", "*", "tsung.log"))
	if len(logs) == 0 {
		return nil, fmt.Errorf("no tsung.log (%v): %s", runErr, truncate(out.String(), 1000))
	}
	f, err := os.Open(logs[len(logs)-1])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum, err := parseTsungLog(f)
	if err != nil {
		return sum, err
	}
	if runErr != nil {
		return sum, runErr
	}
	return sum, nil
}

// parseTsungLog reads tsung.log: "# stats: dump at UNIXTIME" lines, each
// followed by "stats: NAME ..." lines, where a sample is "NAME count mean
// stddev max min mean_before count_before" (the count and mean of this
// interval, then of all intervals before it) and a counter "NAME count
// total". A sample's totals are summed over the intervals; a counter's
// total is its last.
func parseTsungLog(r io.Reader) (*tsungSummary, error) {
	sum := &tsungSummary{ErrorsByKind: map[string]int64{}}
	var first, last float64
	type sample struct{ weighted, count float64 }
	samples := map[string]*sample{}
	counters := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "# stats: dump at "); ok {
			t, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				if first == 0 {
					first = t
				}
				last = t
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, "stats: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		nums := make([]float64, 0, len(f))
		for _, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				break
			}
			nums = append(nums, v)
		}
		switch len(nums) {
		case 7:
			s := samples[f[0]]
			if s == nil {
				s = &sample{}
				samples[f[0]] = s
			}
			s.count += nums[0]
			s.weighted += nums[0] * nums[1]
		case 2:
			counters[f[0]] = nums[1]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading tsung.log: %w", err)
	}
	if last == 0 {
		return nil, fmt.Errorf("tsung.log has no stats dump")
	}
	mean := func(name string, decimals int) (float64, float64) {
		s := samples[name]
		if s == nil || s.count == 0 {
			return 0, 0
		}
		return s.count, roundTo(s.weighted/s.count, decimals)
	}
	// tsung dumps every tsungDumpInterval from its start, so the run began
	// one interval before the first dump.
	sum.Seconds = last - first + tsungDumpInterval
	sum.Users = counters["users_count"]
	sum.Sessions, sum.SessionMeanMS = mean("session", 1)
	sum.Requests, sum.RequestMeanMS = mean("request", 2)
	_, sum.AuthMeanMS = mean("tr_authenticate", 2)
	for name, v := range counters {
		if strings.HasPrefix(name, "error_") {
			sum.Errors += v
			sum.ErrorsByKind[name] = int64(v)
		}
	}
	if sum.Seconds > 0 {
		sum.SessionsPerS = roundTo(sum.Sessions/sum.Seconds, 1)
		sum.RequestsPerS = roundTo(sum.Requests/sum.Seconds, 1)
	}
	return sum, nil
}

// tsungDumpInterval is tsung's default interval between stats dumps, in
// seconds; the scenario does not change it.
const tsungDumpInterval = 10

// processesNamed returns the ids of processes whose command name is name.
func processesNamed(name string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err == nil && strings.TrimSpace(string(comm)) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
