package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

func TestStartupRoundTrip(t *testing.T) {
	params := map[string]string{"user": "u", "database": "d", "options": "-c x=y", "application_name": "a"}
	b := encodeStartup(protocol30, params, []string{"application_name", "options"})
	sp, err := readStartup(bytes.NewReader(b), 10000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sp.params, params) || sp.code != protocol30 {
		t.Fatalf("got %+v", sp)
	}
	if !reflect.DeepEqual(sp.keys, []string{"user", "database", "application_name", "options"}) {
		t.Fatalf("order %v", sp.keys)
	}
}

func TestReadStartupBounds(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"too long", []byte{0, 0, 0x27, 0x11, 0, 3, 0, 0}, errStartupTooLarge},
		{"too short", []byte{0, 0, 0, 7, 0, 3, 0, 0}, errStartupTooLarge},
		{"ssl with body", []byte{0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f, 0}, errProtocol},
		{"short cancel", []byte{0, 0, 0, 12, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1}, errProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readStartup(bytes.NewReader(tc.in), 10000); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	sp, err := readStartup(bytes.NewReader(encodeCancel(7, []byte{1, 2, 3, 4})), 10000)
	if err != nil || sp.code != codeCancel || sp.pid != 7 || !bytes.Equal(sp.secret, []byte{1, 2, 3, 4}) {
		t.Fatalf("cancel: %+v %v", sp, err)
	}
}

func TestReadMessageBound(t *testing.T) {
	msg := []byte{'p', 0, 0, 0x10, 0}
	if _, _, _, err := readMessage(bufio.NewReader(bytes.NewReader(msg)), 16); !errors.Is(err, errProtocol) {
		t.Fatalf("oversized message: %v", err)
	}
	if _, _, _, err := readMessage(bufio.NewReader(bytes.NewReader([]byte{'p', 0, 0, 0, 3})), 16); !errors.Is(err, errProtocol) {
		t.Fatalf("negative body: %v", err)
	}
}

func TestParseSASLInitial(t *testing.T) {
	body := append([]byte("SCRAM-SHA-256\x00"), 0, 0, 0, 3, 'a', 'b', 'c')
	mech, data, err := parseSASLInitial(body)
	if err != nil || mech != "SCRAM-SHA-256" || string(data) != "abc" {
		t.Fatalf("%q %q %v", mech, data, err)
	}
	for _, bad := range [][]byte{nil, []byte("X"), []byte("X\x00\x00"), append([]byte("X\x00"), 0, 0, 0, 9, 'a')} {
		if _, _, err := parseSASLInitial(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzReadStartup(f *testing.F) {
	f.Add(encodeStartup(protocol30, map[string]string{"user": "u", "options": "endpoint=x"}, nil))
	f.Add(encodeCancel(1, []byte{1, 2, 3, 4}))
	f.Add([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	f.Add([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := readStartup(bytes.NewReader(b), 1000)
		if err != nil {
			return
		}
		if n := int(binary.BigEndian.Uint32(b)); n > 1000 {
			t.Fatalf("accepted %d-byte packet over the bound", n)
		}
		if sp.params != nil {
			again, err := readStartup(bytes.NewReader(encodeStartup(sp.code, sp.params, sp.keys)), 1<<20)
			if err != nil || !reflect.DeepEqual(again.params, sp.params) {
				t.Fatalf("re-encode: %v %+v vs %+v", err, again, sp)
			}
		}
	})
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{'p', 0, 0, 0, 8, 'a', 'b', 'c', 0})
	f.Add(append([]byte{'p', 0, 0, 0, 26}, append([]byte("SCRAM-SHA-256\x00"), 0, 0, 0, 3, 'a', 'b', 'c')...))
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, body, raw, err := readMessage(bufio.NewReader(bytes.NewReader(b)), 64)
		if err != nil {
			return
		}
		if len(body) > 64 || raw[0] != typ || len(raw) != len(body)+5 {
			t.Fatalf("bad decode of %q", b)
		}
		_, _, _ = parseSASLInitial(body)
		_, _ = parsePassword(body)
	})
}
