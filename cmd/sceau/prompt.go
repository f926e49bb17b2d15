package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// readSecret reads a PIN or password from the terminal without echo. Echo
// is turned off before the prompt is shown, so that nothing typed ahead of
// the prompt (a holder who starts typing at once) is echoed. The caller
// wipes the result with clear.
func readSecret(prompt string, out io.Writer) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, sceau.Errorf(sceau.Invalid, "prompt", "standard input is not a terminal: give the PIN in a file instead")
	}
	restore, err := echoOff(fd)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "prompt", "cannot turn the terminal's echo off", err)
	}
	defer restore()
	fmt.Fprint(out, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(out)
	if err != nil {
		clear(b)
		return nil, sceau.E(sceau.Invalid, "prompt", "cannot read from the terminal", err)
	}
	return b, nil
}

// promptPINs asks each holder to choose the PIN of their new share, twice.
func promptPINs(out io.Writer) pinSource {
	return func(caID, holder string) ([]byte, error) {
		for {
			pin, err := readSecret(fmt.Sprintf("%s, choose the PIN of your share of CA %q (at least %d characters): ", holder, caID, quorum.MinPINLength), out)
			if err != nil {
				return nil, err
			}
			again, err := readSecret("Type it again: ", out)
			if err != nil {
				clear(pin)
				return nil, err
			}
			same := bytes.Equal(pin, again)
			clear(again)
			if same && len(pin) >= quorum.MinPINLength {
				return pin, nil
			}
			clear(pin)
			fmt.Fprintln(out, "The PINs differ or are too short; again.")
		}
	}
}

// withCardPINs asks the holders whose share goes to their smart card for
// the card's user PIN, once: the card, not Sceau, checks it and sets its
// rules. The other holders are asked by files.
func withCardPINs(files pinSource, cards map[string]quorum.Card, out io.Writer) pinSource {
	return func(caID, holder string) ([]byte, error) {
		c, ok := cards[holder]
		if !ok {
			return files(caID, holder)
		}
		return readSecret(fmt.Sprintf("%s, type the PIN of your %s to receive your share of CA %q: ", holder, c, caID), out)
	}
}
