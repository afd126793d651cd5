package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// startProgress prints a status line to log every second until the
// returned function is called.
func startProgress(log io.Writer, what string, status func() string) func() {
	if log == io.Discard {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				fmt.Fprint(log, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(log, "\r\033[K%s %ds %s", what, int(time.Since(start).Seconds()), status())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// progressWriter returns w when it is a terminal and io.Discard
// otherwise: progress lines help a person watching, and would only
// clutter a log or a script's capture.
func progressWriter(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return io.Discard
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return io.Discard
	}
	return w
}
