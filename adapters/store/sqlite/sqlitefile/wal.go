package sqlitefile

import (
	"encoding/binary"
	"fmt"
)

const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagic           = 0x377f0682 // | 1: checksums of big-endian words
	walVersion         = 3007000
)

// walIndex is what a WAL copy contributes to a view.
type walIndex struct {
	pageSize   int
	pages      map[uint32][]byte // page number -> content of its latest committed frame
	commitSize uint32            // database size in pages after the last valid commit; 0 if none
	frames     int               // number of frames used (up to and including the last commit)
}

// parseWAL validates a WAL copy as SQLite's recovery does and indexes its
// committed frames. It returns nil, nil for a WAL that SQLite would treat
// as empty: shorter than a header, a bad magic number, page size or header
// checksum.
func parseWAL(wal []byte) (*walIndex, error) {
	if len(wal) < walHeaderSize {
		return nil, nil
	}
	be := binary.BigEndian
	m := be.Uint32(wal[0:])
	if m&^1 != walMagic {
		return nil, nil
	}
	if v := be.Uint32(wal[4:]); v != walVersion {
		return nil, fmt.Errorf("%w: WAL format version %d", ErrUnsupported, v)
	}
	pageSize := int(be.Uint32(wal[8:]))
	if pageSize < 512 || pageSize > maxPageSize || pageSize&(pageSize-1) != 0 {
		return nil, nil
	}
	bigEndian := m&1 == 1
	s0, s1 := walChecksum(bigEndian, 0, 0, wal[:24])
	if s0 != be.Uint32(wal[24:]) || s1 != be.Uint32(wal[28:]) {
		return nil, nil
	}
	salt1, salt2 := be.Uint32(wal[16:]), be.Uint32(wal[20:])

	w := &walIndex{pageSize: pageSize}
	frameSize := walFrameHeaderSize + pageSize
	end := walHeaderSize // end of the last valid commit frame
	for off := walHeaderSize; off+frameSize <= len(wal); off += frameSize {
		fh := wal[off : off+walFrameHeaderSize]
		if be.Uint32(fh[0:]) == 0 || be.Uint32(fh[8:]) != salt1 || be.Uint32(fh[12:]) != salt2 {
			break
		}
		s0, s1 = walChecksum(bigEndian, s0, s1, fh[:8])
		s0, s1 = walChecksum(bigEndian, s0, s1, wal[off+walFrameHeaderSize:off+frameSize])
		if s0 != be.Uint32(fh[16:]) || s1 != be.Uint32(fh[20:]) {
			break
		}
		if commit := be.Uint32(fh[4:]); commit != 0 {
			w.commitSize = commit
			end = off + frameSize
		}
	}
	w.frames = (end - walHeaderSize) / frameSize
	if w.frames == 0 {
		// A valid header alone: still check the page size against the
		// database's, but no page comes from the WAL.
		return w, nil
	}
	w.pages = make(map[uint32][]byte, w.frames)
	for off := walHeaderSize; off < end; off += frameSize {
		p := off + walFrameHeaderSize
		w.pages[be.Uint32(wal[off:])] = wal[p : p+pageSize : p+pageSize]
	}
	return w, nil
}

// walChecksum continues the WAL checksum (s0, s1) over b, whose length is
// a multiple of 8, reading 32-bit words in the byte order the WAL's magic
// number names.
func walChecksum(bigEndian bool, s0, s1 uint32, b []byte) (uint32, uint32) {
	if bigEndian {
		for ; len(b) >= 8; b = b[8:] {
			s0 += binary.BigEndian.Uint32(b) + s1
			s1 += binary.BigEndian.Uint32(b[4:]) + s0
		}
	} else {
		for ; len(b) >= 8; b = b[8:] {
			s0 += binary.LittleEndian.Uint32(b) + s1
			s1 += binary.LittleEndian.Uint32(b[4:]) + s0
		}
	}
	return s0, s1
}
