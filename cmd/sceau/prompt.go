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

// readSecret reads a PIN or password from the terminal without echo.
func readSecret(prompt string, out io.Writer) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, sceau.Errorf(sceau.Invalid, "prompt", "standard input is not a terminal: give the PIN in a file instead")
	}
	fmt.Fprint(out, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(out)
	if err != nil {
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
