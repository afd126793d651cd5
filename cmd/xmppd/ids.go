package main

import "github.com/google/uuid"

// newID returns a random identifier for correlation ids.
func newID() string { return uuid.NewString() }
