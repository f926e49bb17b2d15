//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

// echoOff does nothing here: term.ReadPassword turns echo off itself, just
// after the prompt is shown.
func echoOff(fd int) (restore func(), err error) { return func() {}, nil }
