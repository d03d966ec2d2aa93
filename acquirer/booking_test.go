package acquirer

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posim/posim/wire"
)

// The ledger's records must hold no pointers: a chunk of them is then
// memory the garbage collector never scans, however many millions a
// long-running host keeps (issue 17: a ledger of pointer-bearing records
// stalled a host for whole seconds while the collector marked them).
func TestBooking_HasNoPointers(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				walk(f.Type, path+"."+f.Name)
			}
		case reflect.Array:
			walk(typ.Elem(), path+"[]")
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is a %s: the collector would mark every record", path, typ.Kind())
		}
	}
	walk(reflect.TypeOf(chunk{}), "chunk")
}

func TestBooking_KeepsTexts(t *testing.T) {
	var b bookings
	r := b.fresh()
	longTID := strings.Repeat("T", 40) // a --spec file's field may be longer than any dialect's
	longPAN := "6" + strings.Repeat("2", 24)
	at := time.Date(2026, 11, 27, 21, 30, 0, 123, time.FixedZone("CST", 8*3600))
	r.setTime(at)
	r.setOp(wire.OpRefund)
	r.tid.set(longTID)
	r.stan.set("000123")
	r.pan.set(longPAN)
	r.mark(StatusOrphan)
	require.Equal(t, longTID, r.TID())
	require.Equal(t, "000123", r.STAN())
	require.Equal(t, longPAN, r.PAN())
	require.Equal(t, wire.OpRefund, r.Op())
	require.Equal(t, StatusOrphan, r.Status())
	require.True(t, at.Equal(r.Time()))
	require.Equal(t, "CST", r.Time().Location().String())
	require.Empty(t, r.MID())
	require.Panics(t, func() { r.mark("lost") }, "an unknown status is a programming error")
}

// A view handed out keeps what the record was when it was made: the
// fields that change later (status, response code, reason) are not shared.
func TestBooking_ViewDoesNotChangeLater(t *testing.T) {
	e := newEngine(t)
	s := sale(approvePAN, 500)
	d := e.Decide(s, t0)
	require.Equal(t, StatusApproved, d.Record.Status)
	require.Equal(t, "00", d.Record.ResponseCode)
	rev := e.Decide(reversalOf(s, "98"), t0)
	require.Equal(t, "00", rev.Response.ResponseCode, rev.Why)
	require.Equal(t, StatusApproved, d.Record.Status, "the copy handed out before the reversal")
	require.Empty(t, d.Record.Reason)
	now := e.Find("T1", "0200", s.STAN)
	require.Len(t, now, 1)
	require.Equal(t, StatusReversed, now[0].Status)
	require.Equal(t, "98", now[0].Reason)
	require.Equal(t, wire.MaskPAN(approvePAN), now[0].MaskedPAN)
}

// Retention drops a chunk once every record in it is forgotten, and the
// records kept are still found by ID.
func TestBookings_DropForgottenChunks(t *testing.T) {
	var b bookings
	for range 3*chunkSize + 7 {
		r := b.fresh()
		b.n++
		r.ID = b.n
		if b.len() > chunkSize+1 {
			b.dropFirst()
		}
	}
	require.Equal(t, chunkSize+1, b.len())
	require.LessOrEqual(t, len(b.chunks), 3)
	require.Nil(t, b.get(b.first), "forgotten")
	for id := b.first + 1; id <= b.n; id++ {
		require.Equal(t, id, b.get(id).ID)
	}
	var n int
	for r := range b.backward() {
		n++
		require.Equal(t, b.n-int64(n)+1, r.ID)
	}
	require.Equal(t, b.len(), n)
}
