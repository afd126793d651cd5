package sqlitefile

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Kind is the storage class of a value in a record.
type Kind uint8

// The storage classes of SQLite.
const (
	Null Kind = iota
	Int
	Float
	Text
	Blob
)

var kindNames = [...]string{"NULL", "INTEGER", "REAL", "TEXT", "BLOB"}

// String returns the SQL name of the storage class, such as "INTEGER".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is one column of a record. Int holds an Int value, Float a Float
// value, and Bytes the bytes of a Text or Blob value (UTF-8 for Text),
// aliasing the payload the record was decoded from.
//
// A column of REAL affinity may be stored as an Int when its value is
// integral; SQLite converts it back to a floating-point number when it
// reads it, and so must a caller. An INTEGER PRIMARY KEY column is stored
// as Null: its value is the rowid.
type Value struct {
	Kind  Kind
	Int   int64
	Float float64
	Bytes []byte
}

// DecodeRecord decodes a record in the SQLite record format, appending one
// Value per column to vals[:0] and returning the result. It allocates
// nothing when vals has room for every column. Bytes of Text and Blob
// values alias payload.
//
// It reports ErrCorrupt for a header that overruns the payload, the
// reserved serial types 10 and 11, and a body shorter than the header's
// serial types say. Bytes after the last column are ignored. Rows written
// before an ALTER TABLE ADD COLUMN have fewer columns than the table.
func DecodeRecord(payload []byte, vals []Value) ([]Value, error) {
	vals = vals[:0]
	hsize, n := uint64(0), 0
	if len(payload) > 0 && payload[0] < 0x80 {
		hsize, n = uint64(payload[0]), 1
	} else {
		hsize, n = uvarint(payload)
	}
	if n == 0 || hsize < uint64(n) || hsize > uint64(len(payload)) {
		return vals, fmt.Errorf("%w: record header of %d bytes in a payload of %d", ErrCorrupt, hsize, len(payload))
	}
	header := payload[:hsize]
	body := int(hsize)
	for h := n; h < len(header); {
		var t uint64
		if x := header[h]; x < 0x80 {
			t = uint64(x)
			h++
		} else {
			v, m := uvarint(header[h:])
			if m == 0 {
				return vals, fmt.Errorf("%w: record: serial type of column %d overruns the header", ErrCorrupt, len(vals))
			}
			t = v
			h += m
		}
		// Fill the new element in place: building a Value and copying it in
		// stalls on store forwarding.
		col := len(vals)
		vals = append(vals, Value{})
		v := &vals[col]
		switch t {
		case 0:
		case 1, 2, 3, 4, 5, 6:
			w := intWidth[t]
			if len(payload)-body < w {
				return vals[:col], errShortBody(col, t, len(payload))
			}
			b := payload[body : body+w]
			body += w
			var x int64
			switch w {
			case 1:
				x = int64(int8(b[0]))
			case 2:
				x = int64(int16(binary.BigEndian.Uint16(b)))
			case 3:
				x = int64(int8(b[0]))<<16 | int64(b[1])<<8 | int64(b[2])
			case 4:
				x = int64(int32(binary.BigEndian.Uint32(b)))
			case 6:
				x = int64(int16(binary.BigEndian.Uint16(b)))<<32 | int64(binary.BigEndian.Uint32(b[2:]))
			case 8:
				x = int64(binary.BigEndian.Uint64(b))
			}
			v.Kind, v.Int = Int, x
		case 7:
			if len(payload)-body < 8 {
				return vals[:col], errShortBody(col, t, len(payload))
			}
			v.Kind, v.Float = Float, math.Float64frombits(binary.BigEndian.Uint64(payload[body:]))
			body += 8
		case 8:
			v.Kind = Int
		case 9:
			v.Kind, v.Int = Int, 1
		case 10, 11:
			return vals[:col], fmt.Errorf("%w: record: column %d has reserved serial type %d", ErrCorrupt, col, t)
		default:
			l := (t - 12) / 2
			if l > uint64(len(payload)-body) {
				return vals[:col], errShortBody(col, t, len(payload))
			}
			end := body + int(l)
			v.Kind = Blob
			if t&1 == 1 {
				v.Kind = Text
			}
			v.Bytes = payload[body:end:end]
			body = end
		}
	}
	return vals, nil
}

// intWidth is the size in bytes of the integer serial types 1 to 6.
var intWidth = [7]int{0, 1, 2, 3, 4, 6, 8}

func errShortBody(col int, t uint64, size int) error {
	return fmt.Errorf("%w: record: column %d of serial type %d overruns the payload of %d bytes", ErrCorrupt, col, t, size)
}

// uvarint decodes an SQLite varint: one to nine bytes, big-endian, seven
// bits from each of the first eight bytes whose high bit says another
// byte follows, and all eight bits of a ninth. It returns the number of
// bytes read, or 0 if b ends first.
func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		v = v<<7 | uint64(c&0x7f)
		if c < 0x80 {
			return v, i + 1
		}
	}
	if len(b) < 9 {
		return 0, 0
	}
	return v<<8 | uint64(b[8]), 9
}
