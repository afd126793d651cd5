package im

import (
	"sync"

	"xmppd/stanza"
)

// maxRosterCacheBytes bounds the rendered rosters kept: about 160 rosters
// of 1,000 items, or every roster of a small server. Past it the cache
// starts again empty.
const maxRosterCacheBytes = 16 << 20

// rosterCache keeps each account's complete roster as last rendered, by
// roster version (domain.PlanRosterGet): a roster get without 'ver' at an
// unchanged version is answered with the same bytes, without building and
// encoding every item again. A roster change bumps the version, so an
// entry is never stale, only unused. Safe for concurrent use.
type rosterCache struct {
	mu    sync.Mutex
	m     map[string]rosterEntry // bare JID -> its roster
	bytes int
}

type rosterEntry struct {
	ver   string
	query stanza.Encoded // <query xmlns='jabber:iq:roster' ver='...'>...</query>
}

// get returns bare's roster query at version ver, if kept.
func (c *rosterCache) get(bare, ver string) (stanza.Encoded, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[bare]
	if !ok || e.ver != ver {
		return nil, false
	}
	return e.query, true
}

// put keeps bare's roster query at version ver, in place of any older one.
func (c *rosterCache) put(bare, ver string, query stanza.Encoded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]rosterEntry{}
	}
	c.bytes -= len(c.m[bare].query)
	if c.bytes+len(query) > maxRosterCacheBytes {
		clear(c.m)
		c.bytes = 0
	}
	c.m[bare] = rosterEntry{ver: ver, query: query}
	c.bytes += len(query)
}
