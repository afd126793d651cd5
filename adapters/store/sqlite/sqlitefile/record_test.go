package sqlitefile

import (
	"errors"
	"math"
	"testing"
)

// appendVarint appends v as a shortest SQLite varint.
func appendVarint(b []byte, v uint64) []byte {
	if v >= 1<<56 {
		var buf [9]byte
		putVarint(buf[:], v)
		return append(b, buf[:]...)
	}
	var tmp [8]byte
	n := 0
	for {
		tmp[n] = byte(v & 0x7f)
		n++
		v >>= 7
		if v == 0 {
			break
		}
	}
	for i := n - 1; i >= 0; i-- {
		c := tmp[i]
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

func TestVarint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v uint64
		n int
	}{
		{0, 1}, {1, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3},
		{1<<21 - 1, 3}, {1 << 21, 4}, {1<<49 - 1, 7}, {1 << 49, 8},
		{1<<56 - 1, 8}, {1 << 56, 9}, {math.MaxUint64, 9}, {1 << 63, 9},
	} {
		b := appendVarint(nil, c.v)
		if len(b) != c.n {
			t.Errorf("%d: %d bytes, want %d", c.v, len(b), c.n)
		}
		if v, n := uvarint(append(b, 0xff, 0xff)); v != c.v || n != c.n {
			t.Errorf("uvarint(%x) = %d, %d; want %d, %d", b, v, n, c.v, c.n)
		}
		if v, n := uvarint(b[:len(b)-1]); n != 0 {
			t.Errorf("uvarint(%x) truncated = %d, %d", b[:len(b)-1], v, n)
		}
	}
	// Nine bytes with the high bit set: the ninth contributes all 8 bits.
	if v, n := uvarint([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); v != math.MaxUint64 || n != 9 {
		t.Errorf("all ones: %x, %d", v, n)
	}
	if _, n := uvarint(nil); n != 0 {
		t.Error("empty varint decoded")
	}
}

// record builds a record from serial types and a body.
func record(types []uint64, body []byte) []byte {
	var hdr []byte
	for _, t := range types {
		hdr = appendVarint(hdr, t)
	}
	// The header size counts its own varint.
	size := uint64(len(hdr) + 1)
	if len(appendVarint(nil, size)) > 1 {
		size++
	}
	return append(append(appendVarint(nil, size), hdr...), body...)
}

func TestDecodeRecord(t *testing.T) {
	// Not parallel: AllocsPerRun.
	body := []byte{
		0x80,       // 1: -128
		0x80, 0x00, // 2: -32768
		0x7f, 0xff, 0xff, // 3: 8388607
		0xff, 0xff, 0xff, 0xfe, // 4: -2
		0x80, 0, 0, 0, 0, 0, // 6: -1<<47
		0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // 8: MaxInt64
		0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, // float pi
		'h', 'i', // text
		1, 2, 3, // blob
	}
	types := []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13 + 2*2, 12 + 2*3, 12, 13}
	want := []Value{
		{}, {Kind: Int, Int: -128}, {Kind: Int, Int: -32768}, {Kind: Int, Int: 8388607},
		{Kind: Int, Int: -2}, {Kind: Int, Int: -1 << 47}, {Kind: Int, Int: math.MaxInt64},
		{Kind: Float, Float: math.Pi}, {Kind: Int, Int: 0}, {Kind: Int, Int: 1},
		{Kind: Text, Bytes: []byte("hi")}, {Kind: Blob, Bytes: []byte{1, 2, 3}},
		{Kind: Blob, Bytes: []byte{}}, {Kind: Text, Bytes: []byte{}},
	}
	rec := record(types, body)
	vals := make([]Value, 0, 20)
	got, err := DecodeRecord(rec, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameValue(got[i], want[i]) {
			t.Errorf("column %d: %s, want %s", i, showValue(got[i]), showValue(want[i]))
		}
	}
	if &got[0] != &vals[:1][0] {
		t.Error("DecodeRecord did not reuse vals")
	}
	if n := testing.AllocsPerRun(100, func() { DecodeRecord(rec, vals) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
	// Trailing bytes are ignored; a record may have no columns.
	if got, err := DecodeRecord(append(rec, 9, 9), vals); err != nil || len(got) != len(want) {
		t.Errorf("trailing bytes: %d, %v", len(got), err)
	}
	if got, err := DecodeRecord([]byte{1}, vals); err != nil || len(got) != 0 {
		t.Errorf("no columns: %v, %v", got, err)
	}
	// A header size in a two-byte varint.
	long := make([]uint64, 200)
	if got, err := DecodeRecord(record(long, nil), vals); err != nil || len(got) != 200 {
		t.Errorf("long header: %d, %v", len(got), err)
	}

	for _, bad := range []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"header size 0", []byte{0}},
		{"header past the payload", []byte{5, 1, 1}},
		{"header size varint cut", []byte{0x81}},
		{"serial type crosses the header end", []byte{2, 0x81, 0x01}},
		{"reserved type 10", record([]uint64{10}, nil)},
		{"reserved type 11", record([]uint64{1, 11}, []byte{0})},
		{"integer cut", record([]uint64{6}, []byte{1, 2, 3})},
		{"float cut", record([]uint64{7}, []byte{1, 2, 3})},
		{"text cut", record([]uint64{13 + 2*5}, []byte("abc"))},
		{"blob cut", record([]uint64{1, 12 + 2*5}, []byte("abc"))},
		{"huge blob", record([]uint64{math.MaxUint64 - 1}, []byte("abc"))},
		{"huge text", record([]uint64{math.MaxUint64}, []byte("abc"))},
	} {
		if _, err := DecodeRecord(bad.rec, vals); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", bad.name, err)
		}
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	if Null.String() != "NULL" || Blob.String() != "BLOB" || Kind(9).String() != "Kind(9)" {
		t.Error(Null, Blob, Kind(9))
	}
}
