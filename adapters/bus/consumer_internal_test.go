package bus

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWaitForForgetsAWaiterThatGaveUp: a wait that ends with its context
// leaves nothing behind, however many there were, while one still
// waiting is kept and released.
func TestWaitForForgetsAWaiterThatGaveUp(t *testing.T) {
	c := &Consumer{name: "test", applied: 1, done: make(chan struct{})}
	kept := make(chan error, 1)
	go func() { kept <- c.WaitFor(context.Background(), 3) }()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := c.WaitFor(ctx, 2)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitFor past its deadline: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			if n != 1 {
				t.Fatalf("%d waiters after 100 gave up, want the 1 still waiting", n)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.advance(3)
	if err := <-kept; err != nil {
		t.Fatalf("the waiter still waiting: %v", err)
	}
}
