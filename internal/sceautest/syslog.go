package sceautest

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SyslogCollector is a syslog collector for tests: it reads octet-counted
// messages (RFC 6587 §3.4.1 over TCP, RFC 5425 §4.3 over TLS: MSG-LEN SP
// SYSLOG-MSG) from every connection to its listener.
type SyslogCollector struct {
	mu   sync.Mutex
	msgs []string
	c    chan string
}

// CollectSyslog serves ln until the test ends.
func CollectSyslog(t testing.TB, ln net.Listener) *SyslogCollector {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	c := &SyslogCollector{c: make(chan string, 1024)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go c.read(conn)
		}
	}()
	return c
}

func (c *SyslogCollector) read(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		ls, err := r.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(ls, " "))
		if err != nil || n <= 0 {
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, string(b))
		c.mu.Unlock()
		select {
		case c.c <- string(b):
		default: // nobody is reading the channel; Messages keeps them all
		}
	}
}

// Messages returns the messages received so far.
func (c *SyslogCollector) Messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// String returns the messages received so far, one per line.
func (c *SyslogCollector) String() string { return strings.Join(c.Messages(), "\n") }

// C delivers the messages as they arrive (the first 1,024 unread at most).
func (c *SyslogCollector) C() <-chan string { return c.c }
