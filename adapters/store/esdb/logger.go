package esdb

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// logTo adapts a *slog.Logger to the client's logging callback. The client
// logs every failed discovery attempt and every dropped subscription at
// error level; they are routine for a store that reconnects, so they are
// logged at warn level at most, and nowhere at all when l is nil.
func logTo(l *slog.Logger) esdb.LoggingFunc {
	if l == nil {
		return esdb.NoopLogging()
	}
	return func(level esdb.LogLevel, format string, args ...any) {
		l.Log(context.Background(), slogLevel(level), fmt.Sprintf(format, args...), "component", "esdb-client")
	}
}

func slogLevel(level esdb.LogLevel) slog.Level {
	switch level {
	case esdb.LogDebug:
		return slog.LevelDebug
	case esdb.LogInfo:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
