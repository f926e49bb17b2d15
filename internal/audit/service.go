package audit

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Options configure the journal's workers. Zero values take the defaults
// named on each field.
type Options struct {
	DB      *store.DB
	Journal *Journal
	// Signer is the audit signing key (AUD-2), from the keystore or the
	// device; KeyLabel is its label there.
	Signer   crypto.Signer
	KeyLabel string
	Clock    sceau.Clock  // nil: the real clock
	Log      *slog.Logger // nil: discard

	// A checkpoint is signed every CheckpointEvery events (default 1000)
	// or every CheckpointInterval (default 5m) when events were appended.
	CheckpointEvery    int64
	CheckpointInterval time.Duration

	// ExportDir receives the continuous export (AUD-5); "" turns it off.
	// ExportInterval: default 10s.
	ExportDir      string
	ExportInterval time.Duration

	// Objects receives the export in object storage (AUD-5), under
	// ObjectPrefix, every ExportInterval; nil turns it off.
	Objects      ObjectStore
	ObjectPrefix string

	// Syslog forwards every event to a collector (AUD-5); nil turns it
	// off. SyslogInterval: default 2s.
	Syslog         *SyslogOptions
	SyslogInterval time.Duration

	// LiveRetention: events older than this move to the archive (AUD-4);
	// default and minimum MinLiveRetention. RetentionInterval: how often
	// the mover looks; default 1h.
	LiveRetention     time.Duration
	RetentionInterval time.Duration
	// OnMoved takes each segment moved out of the live journal (Mover).
	OnMoved func(ctx context.Context, tx *store.Tx, seg Segment) error

	// Rules of the analysis (AUD-6), run every AnalysisInterval (default
	// 5s); alerts also go to Webhook when it is set.
	Rules            Rules
	AnalysisInterval time.Duration
	Webhook          *Webhook

	// Settings are recorded in the audit.logging_started event.
	Settings map[string]any
}

func (o *Options) defaults() {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 1000
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 5 * time.Minute
	}
	if o.ExportInterval <= 0 {
		o.ExportInterval = 10 * time.Second
	}
	if o.SyslogInterval <= 0 {
		o.SyslogInterval = 2 * time.Second
	}
	if o.LiveRetention == 0 {
		o.LiveRetention = MinLiveRetention
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Hour
	}
	if o.AnalysisInterval <= 0 {
		o.AnalysisInterval = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Clock = sceau.ClockOr(o.Clock)
}

// Service runs the journal's workers: checkpoints, retention, export,
// syslog forwarding and analysis. Start it once the journal can be
// written; Stop it after the service's last event.
type Service struct {
	o         Options
	cp        *Checkpointer
	mover     *Mover
	exporter  *Exporter
	objects   *ObjectExporter
	forwarder *Forwarder
	analyzer  *Analyzer

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	failing map[string]*partFailure
	stopped bool
}

// The parts of the journal that report failures.
const (
	partCheckpoint = "checkpoint"
	partRetention  = "retention"
	partExport     = "export"
	partObjects    = "object-export"
	partSyslog     = "syslog"
	partAnalysis   = "analysis"
)

// Start registers the signing key if needed, records
// audit.logging_started, signs a first checkpoint, and starts the workers.
// It fails when the configuration is unusable (retention below the
// minimum, a bad syslog address) or the journal cannot be written.
func Start(ctx context.Context, o Options) (*Service, error) {
	const op = "audit: start"
	o.defaults()
	if o.DB == nil || o.Journal == nil || o.Signer == nil {
		return nil, sceau.Errorf(sceau.Internal, op, "a database, a journal and a signing key are required")
	}
	cp, err := NewCheckpointer(o.DB, o.Signer, o.Clock)
	if err != nil {
		return nil, err
	}
	s := &Service{o: o, cp: cp, failing: map[string]*partFailure{}}
	if s.mover, err = NewMover(o.DB, o.Journal, cp, o.LiveRetention, o.Clock); err != nil {
		return nil, err
	}
	s.mover.OnMoved = o.OnMoved
	if o.ExportDir != "" {
		s.exporter = NewExporter(o.DB, o.ExportDir, o.Clock)
	}
	if o.Objects != nil {
		s.objects = NewObjectExporter(o.DB, o.Objects, o.ObjectPrefix, o.Clock)
	}
	if o.Syslog != nil {
		if s.forwarder, err = NewForwarder(o.DB, *o.Syslog, o.Clock); err != nil {
			return nil, err
		}
	}
	s.analyzer = NewAnalyzer(o.DB, o.Journal, o.Rules, o.Clock)
	if o.Objects != nil {
		// AUD-2, AUD-5: the bucket witnesses the journal too.
		// A bucket out of reach does not stop the service: the exporter
		// checks again before it writes anything.
		cur, err := ReadObjectCursor(ctx, o.Objects, o.ObjectPrefix)
		if err != nil {
			o.Log.Warn("the object store export cannot be compared with the database now", "err", err)
		} else if err := CheckWitness(ctx, o.DB, Witness{Source: "the object store export " + o.ObjectPrefix, Seq: cur.Seq, Hash: cur.Hash, Checkpoint: cur.Checkpoint}); err != nil {
			return nil, err
		}
	}
	if _, _, err := RegisterKey(ctx, o.DB, o.Journal, sceau.System("audit"), o.KeyLabel, o.Signer.Public()); err != nil {
		return nil, err
	}
	settings := map[string]any{"key_id": cp.KeyID(), "checkpoint_every": o.CheckpointEvery,
		"checkpoint_interval": o.CheckpointInterval.String(), "export_dir": o.ExportDir,
		"live_retention": o.LiveRetention.String()}
	if o.Syslog != nil {
		settings["syslog"] = o.Syslog.Network + "://" + o.Syslog.Address
	}
	for k, v := range o.Settings {
		settings[k] = v
	}
	// AUD-1: the start of logging is itself an event; AUD-7: if it cannot
	// be written, nothing starts.
	if err := s.record(ctx, ActionLoggingStarted, settings); err != nil {
		return nil, err
	}
	o.Journal.every.Store(o.CheckpointEvery)
	s.checkpoint(ctx, KindPeriodic)

	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.checkpointLoop(lctx)
	s.loop(lctx, partRetention, o.RetentionInterval, func(ctx context.Context) error {
		for {
			n, err := s.mover.Move(ctx)
			if err != nil || n == 0 {
				return err
			}
			s.o.Log.Info("audit events archived", "events", n)
		}
	})
	if s.exporter != nil {
		s.loop(lctx, partExport, o.ExportInterval, func(ctx context.Context) error {
			_, err := s.exporter.Export(ctx)
			return err
		})
	}
	if s.objects != nil {
		s.loop(lctx, partObjects, o.ExportInterval, func(ctx context.Context) error {
			_, err := s.objects.Export(ctx)
			return err
		})
	}
	if s.forwarder != nil {
		s.loop(lctx, partSyslog, o.SyslogInterval, func(ctx context.Context) error {
			_, err := s.forwarder.Forward(ctx)
			return err
		})
	}
	s.loop(lctx, partAnalysis, o.AnalysisInterval, s.analyze)
	return s, nil
}

// checkpointLoop signs a checkpoint every CheckpointInterval when events
// were appended, and as soon as a batch that crossed a multiple of
// CheckpointEvery events has committed.
func (s *Service) checkpointLoop(ctx context.Context) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.o.CheckpointInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case target := <-s.o.Journal.kick:
				// Wait for the batch to commit (a second at most: it may
				// have rolled back).
				for range 200 {
					if h, _, err := Head(ctx, s.o.DB); err != nil || h >= target {
						break
					}
					select {
					case <-ctx.Done():
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			_, err := s.cp.Checkpoint(ctx, KindPeriodic)
			if ctx.Err() != nil {
				return
			}
			s.report(ctx, partCheckpoint, err, "retrying at the next interval")
		}
	}()
}

// loop runs fn every interval until ctx ends, reporting its failures.
func (s *Service) loop(ctx context.Context, part string, every time.Duration, fn func(context.Context) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := fn(ctx)
			if ctx.Err() != nil {
				return
			}
			s.report(ctx, part, err, fmt.Sprintf("retrying every %s", every))
		}
	}()
}

func (s *Service) analyze(ctx context.Context) error {
	alerts, err := s.analyzer.Analyze(ctx)
	for _, al := range alerts {
		s.o.Log.Warn("audit alert", "rule", al.Rule, "seq", al.Seq, "message", al.Message)
		if s.o.Webhook != nil {
			if werr := s.o.Webhook.Send(ctx, al); werr != nil {
				s.o.Log.Error("audit alert webhook failed", "rule", al.Rule, "seq", al.Seq, "err", werr)
			}
		}
	}
	return err
}

func (s *Service) checkpoint(ctx context.Context, kind string) {
	_, err := s.cp.Checkpoint(ctx, kind)
	s.report(ctx, partCheckpoint, err, "retrying at the next interval")
}

// partFailure is a part of the journal that is failing: since when, and
// whether its audit.failure event is in the journal yet.
type partFailure struct {
	since    time.Time
	err      string
	action   string
	recorded bool
}

// report logs a part's failure and records it once, when it starts, with
// what is done about it, and records the recovery (AUD-1: logging failures
// and the action taken). When the journal itself cannot be written (a full
// disk), the failure is recorded as soon as it can be, and at the latest
// just before the recovery, in the same transaction, marked late with the
// time it covers: the journal never shows a recovery without its failure,
// and the analysis raises an alert for the time nothing could be recorded
// (AUD-6).
func (s *Service) report(ctx context.Context, part string, err error, action string) {
	if sceau.KindOf(err) == sceau.Conflict {
		// Another node signed the same checkpoint number or moved the same
		// cursor first (PostgreSQL, several nodes): nothing failed.
		s.o.Log.Debug("audit: "+part+": another node was first", "err", err)
		err = nil
	}
	now := s.o.Clock.Now()
	s.mu.Lock()
	f := s.failing[part]
	switch {
	case err != nil && f == nil:
		f = &partFailure{since: now, err: err.Error(), action: action}
		s.failing[part] = f
	case err == nil && f != nil:
		delete(s.failing, part)
	}
	var pending partFailure
	if f != nil {
		pending = *f
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		s.o.Log.Error("audit: "+part+" failed", "err", err, "action", action)
		if pending.recorded {
			return
		}
		if rerr := s.recordEvents(ctx, failureEvent(part, pending, now)); rerr != nil {
			s.o.Log.Error("audit: cannot record the failure in the journal; it is recorded when the journal can be written again",
				"part", part, "err", rerr)
			return
		}
		s.mu.Lock()
		if g := s.failing[part]; g != nil {
			g.recorded = true
		}
		s.mu.Unlock()
	case f != nil:
		d := now.Sub(pending.since).Round(time.Second)
		s.o.Log.Info("audit: "+part+" works again", "failed_for", d)
		var evs []Event
		if !pending.recorded {
			evs = append(evs, failureEvent(part, pending, now))
		}
		evs = append(evs, Event{Actor: sceau.System("audit"), Action: ActionLoggingRecovered, Object: "journal:sceau",
			Details: map[string]any{"part": part, "failed_for": d.String()}})
		if rerr := s.recordEvents(ctx, evs...); rerr != nil {
			s.o.Log.Error("audit: cannot record the recovery in the journal", "part", part, "err", rerr)
		}
	}
}

// failureEvent is the audit.failure of part; recorded after its start it
// says so, with the time during which the journal could not record it.
func failureEvent(part string, f partFailure, now time.Time) Event {
	d := map[string]any{"part": part, "error": f.err, "action_taken": f.action}
	if now.Sub(f.since) >= time.Second {
		d["failed_at"] = store.FormatTime(f.since)
		d["recorded_late"] = true
		d["unrecorded_for"] = now.Sub(f.since).Round(time.Second).String()
	}
	return Event{Actor: sceau.System("audit"), Action: ActionLoggingFailed, Object: "journal:sceau", Details: d}
}

func (s *Service) recordEvents(ctx context.Context, evs ...Event) error {
	return s.o.DB.InTx(ctx, func(tx *store.Tx) error {
		return s.o.Journal.Append(ctx, tx, evs...)
	})
}

func (s *Service) record(ctx context.Context, action string, details map[string]any) error {
	return s.o.DB.InTx(ctx, func(tx *store.Tx) error {
		return s.o.Journal.Append(ctx, tx, Event{Actor: sceau.System("audit"), Action: action, Object: "journal:sceau", Details: details})
	})
}

// Stop stops the workers, then analyses the last events, records
// audit.logging_stopped, signs a final checkpoint covering it, and
// flushes the export and the syslog forwarding. Call it after the
// service's last event (service.stopped).
func (s *Service) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.o.Journal.every.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.analyze(ctx); err != nil {
		s.o.Log.Error("audit: last analysis failed", "err", err)
	}
	if err := s.record(ctx, ActionLoggingStopped, map[string]any{"reason": "the service is stopping"}); err != nil {
		s.o.Log.Error("audit: cannot record the stop of logging", "err", err)
	}
	if _, err := s.cp.Checkpoint(ctx, KindFinal); err != nil {
		s.o.Log.Error("audit: final checkpoint failed", "err", err)
	}
	if s.exporter != nil {
		if _, err := s.exporter.Export(ctx); err != nil {
			s.o.Log.Error("audit: final export failed", "err", err)
		}
	}
	if s.objects != nil {
		if _, err := s.objects.Export(ctx); err != nil {
			s.o.Log.Error("audit: final object storage export failed", "err", err)
		}
	}
	if s.forwarder != nil {
		if _, err := s.forwarder.Forward(ctx); err != nil {
			s.o.Log.Error("audit: final syslog forwarding failed", "err", err)
		}
		s.forwarder.Close()
	}
}

// Status reads the journal's status and its export's lag.
func (s *Service) Status(ctx context.Context) (Status, error) {
	return ReadStatus(ctx, s.o.DB, s.o.ExportDir, s.o.Clock.Now())
}

// Webhook posts alerts as JSON to a URL.
type Webhook struct {
	URL    string
	Token  string       // sent as "Authorization: Bearer …" when set
	Client *http.Client // nil: a client with a 10s timeout
}

// Send posts one alert; any status but 2xx is an error.
func (w *Webhook) Send(ctx context.Context, al Alert) error {
	const op = "audit: webhook"
	body, _ := json.Marshal(map[string]any{"rule": al.Rule, "message": al.Message, "seq": al.Seq, "at": al.At,
		"details": al.Details, "source": "sceau"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return sceau.E(sceau.Invalid, op, "bad webhook URL", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot reach the webhook", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return sceau.Errorf(sceau.Unavailable, op, "the webhook answered %s", resp.Status)
	}
	return nil
}
