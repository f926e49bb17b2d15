package sceautest

import (
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// NTPServer is a minimal SNTP server for tests (RFC 5905 §7.3, §8; RFC
// 4330): on a UDP socket of 127.0.0.1 it answers each client request
// (mode 3) with a server packet (mode 4) whose receive and transmit times
// are its own clock plus a chosen offset, so a real NTP client measures
// that offset. It can also stay silent, or answer as a server that is not
// synchronized (leap indicator 3), to exercise the faults.
type NTPServer struct {
	// Addr is the server's host:port.
	Addr     string
	conn     *net.UDPConn
	offset   atomic.Int64 // nanoseconds
	silent   atomic.Bool
	unsynced atomic.Bool
	requests atomic.Int64
}

// StartNTP serves SNTP on 127.0.0.1 with the given offset until the test
// ends.
func StartNTP(t testing.TB, offset time.Duration) *NTPServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &NTPServer{Addr: conn.LocalAddr().String(), conn: conn}
	s.offset.Store(int64(offset))
	done := make(chan struct{})
	go s.serve(done)
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

// SetOffset changes the offset of the times the server gives.
func (s *NTPServer) SetOffset(d time.Duration) { s.offset.Store(int64(d)) }

// SetSilent makes the server read requests without answering them (a
// server that is down or filtered), or answer again.
func (s *NTPServer) SetSilent(v bool) { s.silent.Store(v) }

// SetUnsynchronized makes the server answer with leap indicator 3, the
// clock not synchronized (RFC 5905 §7.3), or normally again.
func (s *NTPServer) SetUnsynchronized(v bool) { s.unsynced.Store(v) }

// Requests is the number of requests the server has read.
func (s *NTPServer) Requests() int { return int(s.requests.Load()) }

func (s *NTPServer) serve(done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 512)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		received := time.Now()
		s.requests.Add(1)
		// RFC 5905 §7.3: a header of 48 octets; mode in the low three bits
		// of the first, version in the three above.
		if n < 48 || buf[0]&0x7 != 3 || s.silent.Load() {
			continue
		}
		version := buf[0] >> 3 & 0x7
		off := time.Duration(s.offset.Load())
		var p [48]byte
		leap := byte(0)
		if s.unsynced.Load() {
			leap = 3
		}
		p[0] = leap<<6 | version<<3 | 4
		p[1] = 1              // stratum 1: a primary server
		p[2] = buf[2]         // poll, as asked
		p[3] = byte(256 - 20) // precision 2^-20 s
		// Root delay 0; root dispersion 1/65536 s (Q16.16).
		binary.BigEndian.PutUint32(p[8:], 1)
		copy(p[12:16], "LOCL")
		putNTPTime(p[16:], received.Add(off-time.Second)) // reference time
		copy(p[24:32], buf[40:48])                        // origin: the client's transmit time, echoed
		putNTPTime(p[32:], received.Add(off))
		putNTPTime(p[40:], time.Now().Add(off))
		if _, err := s.conn.WriteToUDP(p[:], from); err != nil {
			return
		}
	}
}

// putNTPTime writes t as an NTP timestamp: seconds since 1900 (era 0,
// modulo 2^32) and a 32-bit binary fraction.
func putNTPTime(b []byte, t time.Time) {
	const era0 = 2208988800 // seconds from 1900-01-01 to 1970-01-01
	binary.BigEndian.PutUint32(b, uint32(t.Unix()+era0))
	binary.BigEndian.PutUint32(b[4:], uint32((uint64(t.Nanosecond())<<32)/1e9))
}
