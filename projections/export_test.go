package projections

import "xmppd/events"

// Decoded, Decode and ApplyDecoded expose Rebuild's two phases to the
// benchmarks, which time them apart.
type Decoded = decoded

func Decode(e *events.Envelope) (Decoded, error) { d := decode(e, nil, false); return d, d.err }

func (v *Views) ApplyDecoded(e *events.Envelope, d Decoded) error { return v.applyDecoded(e, d) }
