package esdb

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	server_features "github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeESDBServer is an in-memory stand-in for an EventStoreDB node, served
// over real gRPC on 127.0.0.1, because EventStoreDB cannot run here. It
// implements just what the adapter uses (append; stream and $all reads in
// both directions; catch-up subscriptions to $all with an event-type
// filter; the server-features call) with the server semantics doc.go
// relies on: byte-offset positions with commit = prepare per event,
// reads of $all refused at positions where no record begins, subscriptions
// exclusive of their start, positions on stream reads. It proves the
// adapter's use of the client, not EventStoreDB's behaviour: the
// conformance suite against a real server (XMPPD_TEST_ESDB_URL) does that.
type fakeESDBServer struct {
	api.UnimplementedStreamsServer
	server_features.UnimplementedServerFeaturesServer

	version string // reported server version, e.g. "24.10.0"
	addr    string
	srv     *grpc.Server

	mu      sync.Mutex
	log     []fakeRecord
	streams map[string][]int // stream -> indexes into log, by revision
	end     uint64           // position after the last record
	starts  map[uint64]bool  // positions where a record begins
	changed chan struct{}    // closed and replaced on every append
	subs    map[int]context.CancelCauseFunc
	nextSub int
}

type fakeRecord struct {
	stream      string
	revision    uint64
	pos         uint64
	id          uuid.UUID
	typ         string
	contentType string
	created     time.Time
	data, meta  []byte
}

// startFakeESDB serves a fake node reporting version until the test ends.
// Its log begins with two system events, as a real one does.
func startFakeESDB(t *testing.T, version string) *fakeESDBServer {
	t.Helper()
	return startFakeESDBAt(t, version, "127.0.0.1:0")
}

// startFakeESDBAt is startFakeESDB on a given address, to bring a node
// back where it was.
func startFakeESDBAt(t *testing.T, version, addr string) *fakeESDBServer {
	t.Helper()
	f := &fakeESDBServer{
		version: version, streams: map[string][]int{}, starts: map[uint64]bool{},
		changed: make(chan struct{}), subs: map[int]context.CancelCauseFunc{}, end: 0,
	}
	f.appendLocked("$epoch-information", []*api.AppendReq_ProposedMessage{fakeProposed("$epoch", nil)})
	f.appendLocked("$stats-127.0.0.1:2113", []*api.AppendReq_ProposedMessage{fakeProposed("$statsCollected", []byte(`{}`))})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.srv = grpc.NewServer()
	api.RegisterStreamsServer(f.srv, f)
	server_features.RegisterServerFeaturesServer(f.srv, f)
	go f.srv.Serve(l)
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeESDBServer) url() string { return "esdb://" + f.addr + "?tls=false" }

func fakeProposed(typ string, data []byte) *api.AppendReq_ProposedMessage {
	most, least := esdb.UUIDAsInt64(uuid.New())
	return &api.AppendReq_ProposedMessage{
		Id:       &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
		Metadata: map[string]string{"type": typ, "content-type": "application/json"},
		Data:     data,
	}
}

func (f *fakeESDBServer) GetSupportedMethods(context.Context, *shared.Empty) (*server_features.SupportedMethods, error) {
	return &server_features.SupportedMethods{EventStoreServerVersion: f.version}, nil
}

// appendLocked writes msgs to stream, one record per event; the caller
// holds mu (or owns f exclusively).
func (f *fakeESDBServer) appendLocked(stream string, msgs []*api.AppendReq_ProposedMessage) {
	for _, m := range msgs {
		s := m.GetId().GetStructured()
		id, _ := esdb.ParseUUIDFromInt64(s.GetMostSignificantBits(), s.GetLeastSignificantBits())
		rec := fakeRecord{
			stream: stream, revision: uint64(len(f.streams[stream])), pos: f.end, id: id,
			typ: m.Metadata["type"], contentType: m.Metadata["content-type"], created: time.Now(),
			data: m.Data, meta: m.CustomMetadata,
		}
		f.starts[rec.pos] = true
		// A record's size: a header and its contents, so positions are
		// unique byte offsets, not contiguous numbers.
		f.end += 64 + uint64(len(stream)+len(rec.typ)+len(rec.data)+len(rec.meta))
		f.streams[stream] = append(f.streams[stream], len(f.log))
		f.log = append(f.log, rec)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeESDBServer) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	var msgs []*api.AppendReq_ProposedMessage
	for {
		req, err := srv.Recv()
		if err != nil {
			break // io.EOF: the client closed its side
		}
		msgs = append(msgs, req.GetProposedMessage())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	current := len(f.streams[stream]) // events in the stream
	ok := true
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_NoStream:
		ok = current == 0
	case *api.AppendReq_Options_Revision:
		ok = current > 0 && uint64(current-1) == e.Revision
	case *api.AppendReq_Options_StreamExists:
		ok = current > 0
	}
	if !ok {
		wrong := &api.AppendResp_WrongExpectedVersion{}
		if current == 0 {
			wrong.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			wrong.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current - 1)}
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrong}})
	}
	f.appendLocked(stream, msgs)
	last := f.log[len(f.log)-1]
	return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision},
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: last.pos, PreparePosition: last.pos}},
	}}})
}

func (f *fakeESDBServer) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o.GetSubscription() != nil {
		return f.subscribe(o, srv)
	}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	count := o.GetCount()
	f.mu.Lock()
	var recs []fakeRecord
	if s := o.GetStream(); s != nil {
		stream := string(s.GetStreamIdentifier().GetStreamName())
		idx, found := f.streams[stream]
		if !found {
			f.mu.Unlock()
			return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: s.GetStreamIdentifier()}}})
		}
		for _, i := range idx {
			recs = append(recs, f.log[i])
		}
		switch r := s.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			if backwards {
				recs = recs[:min(r.Revision+1, uint64(len(recs)))]
			} else {
				recs = recs[min(r.Revision, uint64(len(recs))):]
			}
		case *api.ReadReq_Options_StreamOptions_Start:
			if backwards {
				recs = recs[:min(1, len(recs))]
			}
		}
	} else {
		a := o.GetAll()
		from := f.end
		if backwards {
			if p := a.GetPosition(); p != nil {
				from = p.GetCommitPosition()
			} else if a.GetStart() != nil {
				from = 0
			}
		} else if p := a.GetPosition(); p != nil {
			from = p.GetCommitPosition()
		} else if a.GetEnd() == nil {
			from = 0
		}
		if from != f.end && !f.starts[from] {
			f.mu.Unlock()
			return status.Errorf(codes.Unknown, "fake: invalid position %d: no record begins there", from)
		}
		for _, r := range f.log {
			if backwards && r.pos < from || !backwards && r.pos >= from {
				recs = append(recs, r)
			}
		}
	}
	f.mu.Unlock()
	if backwards {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	for i, r := range recs {
		if uint64(i) >= count {
			break
		}
		if err := srv.Send(r.resp()); err != nil {
			return err
		}
	}
	return nil
}

func (r fakeRecord) resp() *api.ReadResp {
	most, least := esdb.UUIDAsInt64(r.id)
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			CommitPosition:   r.pos,
			PreparePosition:  r.pos,
			Metadata: map[string]string{"type": r.typ, "content-type": r.contentType,
				"created": strconv.FormatInt(r.created.UnixNano()/100, 10)},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}}}
}

// subscribe serves a catch-up subscription to $all: every matching record
// after the start position (exclusive; from the first with Start), then
// live ones, until the client goes away or dropSubscriptions is called.
func (f *fakeESDBServer) subscribe(o *api.ReadReq_Options, srv api.Streams_ReadServer) error {
	var typeFilter *regexp.Regexp
	if ex := o.GetFilter().GetEventType(); ex != nil {
		typeFilter = regexp.MustCompile(ex.GetRegex())
	}
	a := o.GetAll()
	if a == nil {
		return status.Error(codes.Unimplemented, "fake: stream subscriptions")
	}
	ctx, cancel := context.WithCancelCause(srv.Context())
	f.mu.Lock()
	id := f.nextSub
	f.nextSub++
	f.subs[id] = cancel
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
		cancel(nil)
	}()
	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: fmt.Sprint("fake-", id)}}}); err != nil {
		return err
	}
	next := 0 // index into log of the next record to consider
	f.mu.Lock()
	switch {
	case a.GetEnd() != nil:
		next = len(f.log)
	case a.GetPosition() != nil:
		p := a.GetPosition().GetCommitPosition()
		if p != f.end && !f.starts[p] {
			f.mu.Unlock()
			return status.Errorf(codes.Unknown, "fake: invalid position %d", p)
		}
		for next < len(f.log) && f.log[next].pos <= p {
			next++
		}
	}
	f.mu.Unlock()
	caughtUp := false
	for {
		f.mu.Lock()
		batch := append([]fakeRecord(nil), f.log[next:]...)
		changed := f.changed
		f.mu.Unlock()
		next += len(batch)
		for _, r := range batch {
			if typeFilter != nil && !typeFilter.MatchString(r.typ) {
				continue
			}
			if err := srv.Send(r.resp()); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			pos := &api.ReadResp_Checkpoint{CommitPosition: f.endPos(), PreparePosition: f.endPos()}
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: pos}}); err != nil {
				return err
			}
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
				return cause
			}
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (f *fakeESDBServer) endPos() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.end
}

// dropSubscriptions ends every live subscription as a leader change or a
// "too slow" verdict would.
func (f *fakeESDBServer) dropSubscriptions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cancel := range f.subs {
		cancel(status.Error(codes.Unavailable, "fake: subscription dropped"))
	}
	return len(f.subs)
}

// subscriptions returns how many subscriptions are being served.
func (f *fakeESDBServer) subscriptions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}
