package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newLoginCmd(e *env) *cobra.Command {
	var account, passwordFile, totp string
	cmd := &cobra.Command{
		Use:   "login [--account NAME]",
		Short: "Log in at this terminal with your password and TOTP code (ROLE-4)",
		Long: `login opens a session for the person at this terminal: the terminal is
authenticated by the admin client certificate of --config (TLS), the person
by their password and the current code of their authenticator app (TOTP,
RFC 6238). Every later command of this terminal acts as that person, with the
roles they hold at the time of each request.

The session token is kept in a file only you can read (mode 0600): under
$XDG_RUNTIME_DIR/sceau, or in the admin directory, or in $SCEAU_SESSION_FILE
when set (two people sharing a machine each set their own). A session ends
after 15 minutes without a request, 8 hours after login, or at 'sceau logout'.

Five failed logins in a row lock the account for 15 minutes. A TOTP code is
accepted once: wait for the next one to log in again.

For scripts: --account, --password-file FILE and --totp CODE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, c, err := loadClient(e)
			if err != nil {
				return err
			}
			c = c.WithoutSession()
			if account == "" {
				if account, err = readLine("Account: ", e); err != nil {
					return err
				}
			}
			var password []byte
			if passwordFile != "" {
				b, err := os.ReadFile(passwordFile)
				if err != nil {
					return sceau.E(sceau.Invalid, "login", "cannot read --password-file", err)
				}
				password = trimNewline(b)
			} else if password, err = readSecret("Password: ", e.stdout); err != nil {
				return err
			}
			defer clear(password)
			if totp == "" {
				if totp, err = readLine("TOTP code: ", e); err != nil {
					return err
				}
			}
			req := server.LoginRequest{Account: account, Password: string(password), TOTP: totp}
			s, err := c.Login(cmd.Context(), req)
			req.Password = ""
			if err != nil {
				return err
			}
			if err := writeSession(cfg, storedSession{Token: s.Token, Account: s.Account, ExpiresAt: s.ExpiresAt}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Logged in as %s (%s) until %s at the latest; a session idle for %s ends.\n",
				s.Account, roleTitles(s.Roles), s.ExpiresAt.Local().Format(time.DateTime), s.IdleTimeout)
			if s.MustChangePassword {
				fmt.Fprintln(e.stdout, "Your password is an initial one: change it now with 'sceau account passwd'.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "your account name")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from FILE instead of the terminal")
	cmd.Flags().StringVar(&totp, "totp", "", "the current TOTP code")
	return cmd
}

func newLogoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "End the session of this terminal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, c, err := loadClient(e)
			if err != nil {
				return err
			}
			if !c.HasSession() {
				fmt.Fprintln(e.stdout, "Nobody is logged in at this terminal.")
				return nil
			}
			apiErr := c.Logout(cmd.Context())
			// The local token goes whatever the server said: an expired
			// session is over anyway.
			if err := removeSession(cfg); err != nil {
				return err
			}
			if apiErr != nil && sceau.KindOf(apiErr) != sceau.Denied {
				return apiErr
			}
			fmt.Fprintln(e.stdout, "Logged out.")
			return nil
		},
	}
}

func newWhoamiCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Say who this terminal acts as, with which roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, printed, err := fetch(cmd.Context(), e, (*adminapi.Client).Whoami)
			if err != nil || printed {
				return err
			}
			if w.Account == "" {
				fmt.Fprintf(e.stdout, "Terminal %s; nobody is logged in ('sceau login').\n", w.Terminal)
				return nil
			}
			fmt.Fprintf(e.stdout, "Account:   %s (%s)\nRoles:     %s\nMethod:    %s\nTerminal:  %s\n",
				w.Account, w.FullName, roleTitles(w.Roles), w.Method, w.Terminal)
			if w.SessionExpiresAt != nil {
				fmt.Fprintf(e.stdout, "Session:   %s, ends at %s at the latest\n", w.Session, w.SessionExpiresAt.Local().Format(time.DateTime))
			}
			if w.MustChangePassword {
				fmt.Fprintln(e.stdout, "Change your initial password: sceau account passwd")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}

func roleTitles(rs []access.Role) string {
	if len(rs) == 0 {
		return "no role"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Title()
	}
	return strings.Join(s, ", ")
}

// readLine asks for one line on the terminal.
func readLine(prompt string, e *env) (string, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", sceau.Errorf(sceau.Invalid, "prompt", "standard input is not a terminal: give %s as a flag", strings.TrimSuffix(strings.ToLower(prompt), ": "))
	}
	fmt.Fprint(e.stdout, prompt)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return "", sceau.E(sceau.Invalid, "prompt", "cannot read from the terminal", err)
	}
	return strings.TrimSpace(line), nil
}
