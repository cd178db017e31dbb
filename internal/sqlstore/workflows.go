package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

var _ switchboard.WorkflowStore = (*Store)(nil)

// idempotencyWindow is how long a delivery's Idempotency-Key names the same
// event (SPEC 12).
const idempotencyWindow = 24 * time.Hour

func sealedText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func sealedBytes(s string) []byte {
	if s == "" {
		return nil
	}
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func text(b []byte) string { return string(b) }

func raw(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

const hookColumns = `id, org_id, app_id, event_name, secret, created_at`

func scanHook(row interface{ Scan(...any) error }) (switchboard.HookEndpoint, error) {
	var h switchboard.HookEndpoint
	var secret string
	var created int64
	if err := row.Scan(&h.ID, &h.OrgID, &h.AppID, &h.EventName, &secret, &created); err != nil {
		return h, err
	}
	h.Secret, h.CreatedAt = sealedBytes(secret), fromMicros(created)
	return h, nil
}

// EnsureHooks implements switchboard.WorkflowStore.
func (s *Store) EnsureHooks(ctx context.Context, hooks []switchboard.HookEndpoint) ([]switchboard.HookEndpoint, []bool, error) {
	stored := make([]switchboard.HookEndpoint, len(hooks))
	created := make([]bool, len(hooks))
	err := s.tx(ctx, "hooks", func(tx *sql.Tx) error {
		for i, h := range hooks {
			res, err := tx.ExecContext(ctx, `INSERT INTO workflow_hooks (`+hookColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (org_id, app_id, event_name) DO NOTHING`,
				h.ID, h.OrgID, h.AppID, h.EventName, sealedText(h.Secret), micros(h.CreatedAt))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			created[i] = n == 1
			if stored[i], err = scanHook(tx.QueryRowContext(ctx, `SELECT `+hookColumns+` FROM workflow_hooks
				WHERE org_id = $1 AND app_id = $2 AND event_name = $3`, h.OrgID, h.AppID, h.EventName)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return stored, created, nil
}

// HookEndpoint implements switchboard.WorkflowStore.
func (s *Store) HookEndpoint(ctx context.Context, id string) (switchboard.HookEndpoint, error) {
	h, err := scanHook(s.r.QueryRowContext(ctx, `SELECT `+hookColumns+` FROM workflow_hooks WHERE id = $1`, id))
	return h, s.translate(err, "hook")
}

// RegenerateHook implements switchboard.WorkflowStore.
func (s *Store) RegenerateHook(ctx context.Context, orgID, appID, eventName, newID string, secret []byte) (switchboard.HookEndpoint, error) {
	var h switchboard.HookEndpoint
	err := s.tx(ctx, "hook", func(tx *sql.Tx) error {
		var err error
		h, err = scanHook(tx.QueryRowContext(ctx, `UPDATE workflow_hooks SET id = $1, secret = $2
			WHERE org_id = $3 AND app_id = $4 AND event_name = $5 RETURNING `+hookColumns,
			newID, sealedText(secret), orgID, appID, eventName))
		return err
	})
	return h, err
}

// DuplicateEvent checks in tx a hook event's idempotency key, before the
// event is stored (StartRuns stores it): an event of the
// same hook with the same key received within 24 hours makes ev a
// duplicate of that event, whose id it returns with dup; an older one
// gives the key up. An event without a key is no duplicate.
func DuplicateEvent(ctx context.Context, tx Tx, ev switchboard.HookEvent) (id string, dup bool, err error) {
	if ev.IdempotencyKey == "" {
		return "", false, nil
	}
	var old string
	var at int64
	err = tx.QueryRow(ctx, `SELECT id, received_at FROM workflow_events WHERE hook_id = $1 AND idempotency_key = $2`,
		ev.HookID, ev.IdempotencyKey).Scan(&old, &at)
	switch {
	case err == nil && ev.ReceivedAt.Sub(fromMicros(at)) < idempotencyWindow:
		return old, true, nil
	case err == nil:
		if _, err := tx.Exec(ctx, `UPDATE workflow_events SET idempotency_key = NULL WHERE id = $1`, old); err != nil {
			return "", false, err
		}
	case !isNoRows(err):
		return "", false, err
	}
	return "", false, nil
}

const eventInsert = `INSERT INTO workflow_events (id, org_id, hook_id, idempotency_key, received_at, event) VALUES ($1, $2, $3, $4, $5, $6)`

func eventValues(dst []any, ev switchboard.HookEvent) []any {
	var key any
	if ev.IdempotencyKey != "" {
		key = ev.IdempotencyKey
	}
	return append(dst, ev.ID, ev.OrgID, ev.HookID, key, micros(ev.ReceivedAt), text(ev.Event))
}

// isNoRows reports a QueryRow that found nothing, on either driver (pgx's
// ErrNoRows says "no rows in result set" as database/sql's does).
func isNoRows(err error) bool {
	return err != nil && (err == sql.ErrNoRows || strings.Contains(err.Error(), "no rows in result set"))
}

// InsertRun stores a new run in tx.
func InsertRun(ctx context.Context, tx Tx, r switchboard.WorkflowRun) error {
	_, err := tx.Exec(ctx, `INSERT INTO workflow_runs (`+runColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, runValues(nil, r)...)
	return err
}

func runValues(dst []any, r switchboard.WorkflowRun) []any {
	return append(dst, r.ID, r.OrgID, r.Workflow, r.AppID, r.AppVersion, r.EventID, r.Status, text(r.Input), text(r.Error),
		micros(r.StartedAt), zeroMicros(r.FinishedAt))
}

func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromZeroMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// InsertStep stores a queued step of a run in tx.
func InsertStep(ctx context.Context, tx Tx, st switchboard.WorkflowStep) error {
	_, err := tx.Exec(ctx, `INSERT INTO workflow_steps (`+stepInsertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, stepValues(nil, st)...)
	return err
}

const stepInsertColumns = `run_id, seq, org_id, step_id, status, params, output, error, attempts, queued_at`

func stepValues(dst []any, st switchboard.WorkflowStep) []any {
	return append(dst, st.RunID, st.Seq, st.OrgID, st.StepID, st.Status, text(st.Params), text(st.Output), text(st.Error), st.Attempts, micros(st.QueuedAt))
}

// stepFinish records a step's outcome unless it has one (stepUpdateArgs).
const stepFinish = `UPDATE workflow_steps SET status = $1, params = $2, output = $3, error = $4, attempts = $5, started_at = $6, finished_at = $7
		WHERE run_id = $8 AND seq = $9 AND status IN ('queued', 'retrying')`

// FinishStep records a step's outcome in tx, if it has none yet (a job
// that runs again after its first run committed finds it done and changes
// nothing); done reports whether it was recorded here.
func FinishStep(ctx context.Context, tx Tx, st switchboard.WorkflowStep) (done bool, err error) {
	n, err := tx.Exec(ctx, stepFinish, stepUpdateArgs(st)...)
	return n == 1, err
}

// FinishRun ends a running run in tx with status (and the encoded error
// that failed it); done reports whether it was still running.
func FinishRun(ctx context.Context, tx Tx, orgID, runID, status string, problem []byte, at time.Time) (done bool, err error) {
	n, err := tx.Exec(ctx, `UPDATE workflow_runs SET status = $1, error = $2, finished_at = $3 WHERE org_id = $4 AND id = $5 AND status = 'running'`,
		status, text(problem), micros(at), orgID, runID)
	return n == 1, err
}

// LastStep returns in tx the step id, status and seq of a run's latest
// step execution; an error (no rows) when no step ran.
func LastStep(ctx context.Context, tx Tx, runID string) (stepID, status string, seq int, err error) {
	err = tx.QueryRow(ctx, `SELECT step_id, status, seq FROM workflow_steps WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`, runID).Scan(&stepID, &status, &seq)
	return stepID, status, seq, err
}

// CancelSteps marks a run's unfinished steps canceled in tx.
func CancelSteps(ctx context.Context, tx Tx, runID string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE workflow_steps SET status = 'canceled', finished_at = $1 WHERE run_id = $2 AND status IN ('queued', 'retrying')`,
		micros(at), runID)
	return err
}

// RestartRun makes a finished (failed or canceled) run running again in
// tx, its clock started anew; done reports whether it was finished.
func RestartRun(ctx context.Context, tx Tx, orgID, runID string, at time.Time) (done bool, err error) {
	n, err := tx.Exec(ctx, `UPDATE workflow_runs SET status = 'running', error = '', started_at = $1, finished_at = 0
		WHERE org_id = $2 AND id = $3 AND status IN ('failed', 'canceled')`, micros(at), orgID, runID)
	return n == 1, err
}

// AppendAuditTx writes audit entries in tx, so that a step's entry commits
// with its result.
func AppendAuditTx(ctx context.Context, tx Tx, entries []switchboard.AuditEntry) error {
	for _, e := range entries {
		args, _ := json.Marshal(e.Args)
		if e.Args == nil {
			args = []byte("{}")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error,
			event, upstream_status, session_id, subject, via)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			e.ID, e.OrgID, micros(e.Time), e.ActorID, e.ActorName, e.Kind, e.Name,
			string(args), e.Method, e.URL, e.Status, e.DurationMs, e.Cache, e.Error, e.Event, e.UpstreamStatus, e.SessionID, e.Subject, e.Via); err != nil {
			return err
		}
	}
	return nil
}

// RecordAttempt notes a failed attempt of a step that will be retried.
func (s *Store) RecordAttempt(ctx context.Context, runID string, seq, attempts int, problem []byte) error {
	return s.tx(ctx, "workflow step", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE workflow_steps SET status = 'retrying', attempts = $1, error = $2
			WHERE run_id = $3 AND seq = $4 AND status IN ('queued', 'retrying')`, attempts, text(problem), runID, seq)
		return err
	})
}

// StaleRuns lists the runs still running that started before t, across
// orgs (the run timeout's sweep).
func (s *Store) StaleRuns(ctx context.Context, before time.Time, limit int) ([]switchboard.WorkflowRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+runColumns+` FROM workflow_runs WHERE status = 'running' AND started_at < $1 ORDER BY started_at LIMIT $2`,
		micros(before), limit)
	if err != nil {
		return nil, s.translate(err, "workflow runs")
	}
	out, err := scanRuns(rows)
	return out, s.translate(err, "workflow runs")
}

// QueueDepth counts the steps waiting to run or to be retried.
func (s *Store) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM workflow_steps WHERE status IN ('queued', 'retrying')`).Scan(&n)
	return n, s.translate(err, "workflow steps")
}

const runColumns = `id, org_id, workflow, app_id, app_version, event_id, status, input, error, started_at, finished_at`

func scanRun(row interface{ Scan(...any) error }) (switchboard.WorkflowRun, error) {
	var r switchboard.WorkflowRun
	var input, problem string
	var started, finished int64
	if err := row.Scan(&r.ID, &r.OrgID, &r.Workflow, &r.AppID, &r.AppVersion, &r.EventID, &r.Status, &input, &problem, &started, &finished); err != nil {
		return r, err
	}
	r.Input, r.Error = raw(input), raw(problem)
	r.StartedAt, r.FinishedAt = fromMicros(started), fromZeroMicros(finished)
	return r, nil
}

func scanRuns(rows *sql.Rows) ([]switchboard.WorkflowRun, error) {
	defer rows.Close()
	var out []switchboard.WorkflowRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WorkflowRuns implements switchboard.WorkflowStore.
func (s *Store) WorkflowRuns(ctx context.Context, orgID string, f switchboard.RunFilter) ([]switchboard.WorkflowRun, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + runColumns + ` FROM workflow_runs WHERE org_id = $1`)
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Workflow != "" {
		q.WriteString(` AND workflow = ` + arg(f.Workflow))
	}
	if f.Status != "" {
		q.WriteString(` AND status = ` + arg(f.Status))
	}
	if !f.Since.IsZero() {
		q.WriteString(` AND started_at >= ` + arg(micros(f.Since)))
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		a, i := arg(at), arg(id)
		q.WriteString(` AND (started_at < ` + a + ` OR (started_at = ` + a + ` AND id < ` + i + `))`)
	}
	q.WriteString(` ORDER BY started_at DESC, id DESC LIMIT ` + arg(limit+1))
	rows, err := s.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, "", s.translate(err, "workflow runs")
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, "", s.translate(err, "workflow runs")
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCursor(micros(last.StartedAt), last.ID)
	}
	return out, next, nil
}

// WorkflowRun implements switchboard.WorkflowStore. The run and its steps
// are one query (the run LEFT JOIN its steps, one row a step, or one row
// with NULL steps for a run that has none): a workflow step reads its run
// this way before it works, so that is one statement a step rather than two.
func (s *Store) WorkflowRun(ctx context.Context, orgID, id string) (switchboard.WorkflowRun, []switchboard.WorkflowStep, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.org_id, r.workflow, r.app_id, r.app_version, r.event_id, r.status, r.input, r.error,
		r.started_at, r.finished_at,
		st.seq, COALESCE(st.step_id, ''), COALESCE(st.status, ''), COALESCE(st.params, ''), COALESCE(st.output, ''), COALESCE(st.error, ''),
		COALESCE(st.attempts, 0), COALESCE(st.queued_at, 0), COALESCE(st.started_at, 0), COALESCE(st.finished_at, 0)
		FROM workflow_runs r LEFT JOIN workflow_steps st ON st.run_id = r.id AND st.org_id = r.org_id
		WHERE r.org_id = $1 AND r.id = $2 ORDER BY st.seq`, orgID, id)
	if err != nil {
		return switchboard.WorkflowRun{}, nil, s.translate(err, "workflow run "+id)
	}
	defer rows.Close()
	var r switchboard.WorkflowRun
	var steps []switchboard.WorkflowStep
	found := false
	for rows.Next() {
		var input, runProblem string
		var runStarted, runFinished int64
		var seq sql.NullInt64
		var st switchboard.WorkflowStep
		var params, output, problem string
		var queued, started, finished int64
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Workflow, &r.AppID, &r.AppVersion, &r.EventID, &r.Status, &input, &runProblem, &runStarted, &runFinished,
			&seq, &st.StepID, &st.Status, &params, &output, &problem, &st.Attempts, &queued, &started, &finished); err != nil {
			return switchboard.WorkflowRun{}, nil, s.translate(err, "workflow run "+id)
		}
		if !found {
			found = true
			r.Input, r.Error = raw(input), raw(runProblem)
			r.StartedAt, r.FinishedAt = fromMicros(runStarted), fromZeroMicros(runFinished)
		}
		if !seq.Valid {
			continue
		}
		st.RunID, st.Seq, st.OrgID = r.ID, int(seq.Int64), r.OrgID
		st.Params, st.Output, st.Error = raw(params), raw(output), raw(problem)
		st.QueuedAt, st.StartedAt, st.FinishedAt = fromMicros(queued), fromZeroMicros(started), fromZeroMicros(finished)
		steps = append(steps, st)
	}
	if err := rows.Err(); err != nil {
		return switchboard.WorkflowRun{}, nil, s.translate(err, "workflow run "+id)
	}
	if !found {
		return switchboard.WorkflowRun{}, nil, s.translate(sql.ErrNoRows, "workflow run "+id)
	}
	return r, steps, nil
}

// WritableCTEs is implemented by a Dialect whose database runs
// data-modifying statements in WITH (PostgreSQL), so that a workflow
// step's writes, and a delivery's, are one statement, one round trip and
// one executor start, instead of one each (see docs/performance.md,
// "Workflows against River's floor"). Without it they are the separate
// statements of FinishStep, InsertStep, FinishRun and AppendAuditTx.
type WritableCTEs interface {
	WritableCTEs() bool
}

func (s *Store) writableCTEs() bool {
	w, ok := s.dialect.(WritableCTEs)
	return ok && w.WritableCTEs()
}

// StepEnd is a finished step with what follows it: the next step to queue,
// or (Next nil) the end of its run with RunStatus and RunError.
type StepEnd struct {
	Step      switchboard.WorkflowStep
	StepEntry switchboard.AuditEntry
	Next      *switchboard.WorkflowStep
	// OrgID, RunStatus, RunError and RunEntry end the run when Next is nil.
	OrgID     string
	RunStatus string
	RunError  []byte
	RunEntry  switchboard.AuditEntry
}

// EndStep records a step's outcome in tx with what follows it, only if
// the step has none yet (FinishStep): then it queues the next step
// (InsertStep) or ends the run if it is still running (FinishRun), and
// appends the step's audit entry and, when the run ended, the run's. done
// reports that the step was recorded here, ended that the run ended here;
// when done is false nothing was written. On a dialect with WritableCTEs
// this is one statement.
func (s *Store) EndStep(ctx context.Context, tx Tx, e StepEnd) (done, ended bool, err error) {
	if s.writableCTEs() {
		return endStepCTE(ctx, tx, e)
	}
	if done, err = FinishStep(ctx, tx, e.Step); err != nil || !done {
		return done, false, err
	}
	entries := []switchboard.AuditEntry{e.StepEntry}
	if e.Next != nil {
		if err := InsertStep(ctx, tx, *e.Next); err != nil {
			return false, false, err
		}
	} else {
		if ended, err = FinishRun(ctx, tx, e.OrgID, e.Step.RunID, e.RunStatus, e.RunError, e.Step.FinishedAt); err != nil {
			return false, false, err
		}
		if ended {
			entries = append(entries, e.RunEntry)
		}
	}
	return true, ended, AppendAuditTx(ctx, tx, entries)
}

// The parts of endStepCTE's statement. Rows that INSERT ... SELECT writes
// take their types from casts: only VALUES gives a parameter its column's
// type.
const (
	stepUpdate       = stepFinish + ` RETURNING 1`
	auditCastColumns = `$%d::text, $%d::text, $%d::bigint, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text,
		$%d::integer, $%d::bigint, $%d::text, $%d::text, $%d::text, $%d::integer, $%d::text, $%d::text, $%d::text`
)

// castParams numbers the placeholders of a list of casts from first on.
func castParams(list string, first int) string {
	var b strings.Builder
	n := first
	for {
		i := strings.Index(list, "%d")
		if i < 0 {
			b.WriteString(list)
			return b.String()
		}
		b.WriteString(list[:i])
		b.WriteString(strconv.Itoa(n))
		n++
		list = list[i+2:]
	}
}

var (
	// endStepNextSQL: u is the step's UPDATE; the next step and the audit
	// entry are written for each row of u, that is only when it updated one.
	endStepNextSQL = `WITH u AS (` + stepUpdate + `),
		n AS (INSERT INTO workflow_steps (run_id, seq, org_id, step_id, status, params, output, error, attempts, queued_at)
			SELECT $10::text, $11::integer, $12::text, $13::text, $14::text, $15::text, $16::text, $17::text, $18::integer, $19::bigint FROM u),
		a AS (INSERT INTO audit_log (` + auditColumns + `) SELECT ` + castParams(auditCastColumns, 20) + ` FROM u)
		SELECT count(*) FROM u`
	// endStepRunSQL: r ends the run only if u updated the step and the run
	// is still running; the run's entry is written for each row of r.
	endStepRunSQL = `WITH u AS (` + stepUpdate + `),
		r AS (UPDATE workflow_runs SET status = $10, error = $11, finished_at = $12
			WHERE org_id = $13 AND id = $14 AND status = 'running' AND EXISTS (SELECT 1 FROM u) RETURNING 1),
		a AS (INSERT INTO audit_log (` + auditColumns + `)
			SELECT ` + castParams(auditCastColumns, 15) + ` FROM u
			UNION ALL SELECT ` + castParams(auditCastColumns, 15+auditColumnCount) + ` FROM r)
		SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM r)`
)

func stepUpdateArgs(st switchboard.WorkflowStep) []any {
	return []any{st.Status, text(st.Params), text(st.Output), text(st.Error), st.Attempts, zeroMicros(st.StartedAt), zeroMicros(st.FinishedAt), st.RunID, st.Seq}
}

func endStepCTE(ctx context.Context, tx Tx, e StepEnd) (done, ended bool, err error) {
	args := stepUpdateArgs(e.Step)
	var nu, nr int64
	if n := e.Next; n != nil {
		args = stepValues(args, *n)
		args = auditValues(args, &e.StepEntry)
		err = tx.QueryRow(ctx, endStepNextSQL, args...).Scan(&nu)
	} else {
		args = append(args, e.RunStatus, text(e.RunError), micros(e.Step.FinishedAt), e.OrgID, e.Step.RunID)
		args = auditValues(args, &e.StepEntry)
		args = auditValues(args, &e.RunEntry)
		err = tx.QueryRow(ctx, endStepRunSQL, args...).Scan(&nu, &nr)
	}
	return nu == 1, nr == 1, err
}

// RunStart is a new run with its first step queued, or (First nil) a run
// that ended as it started, with Entry its audit entry.
type RunStart struct {
	Run   switchboard.WorkflowRun
	First *switchboard.WorkflowStep
	Entry *switchboard.AuditEntry
}

// StartRuns stores in tx a hook's event (ev, unless nil; DuplicateEvent
// has checked its key) and the runs it starts, with their first steps and
// the audit entries of those that ended at once. On a dialect with
// WritableCTEs this is one statement.
func (s *Store) StartRuns(ctx context.Context, tx Tx, ev *switchboard.HookEvent, starts []RunStart) error {
	if !s.writableCTEs() {
		if ev != nil {
			if _, err := tx.Exec(ctx, eventInsert, eventValues(nil, *ev)...); err != nil {
				return err
			}
		}
		for _, st := range starts {
			if err := InsertRun(ctx, tx, st.Run); err != nil {
				return err
			}
			if st.First != nil {
				if err := InsertStep(ctx, tx, *st.First); err != nil {
					return err
				}
			} else if st.Entry != nil {
				if err := AppendAuditTx(ctx, tx, []switchboard.AuditEntry{*st.Entry}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	q, args := startRunsSQL(ev, starts)
	if q == "" {
		return nil
	}
	_, err := tx.Exec(ctx, q, args...)
	return err
}

// startRunsSQL is StartRuns' one statement: a multi-row INSERT a table,
// all but the last in WITH (PostgreSQL runs every data-modifying CTE,
// referenced or not).
func startRunsSQL(ev *switchboard.HookEvent, starts []RunStart) (string, []any) {
	var args []any
	var parts []string
	// values numbers the placeholders of the rows just appended to args.
	values := func(n, rows int) string { return valuesList(len(args)-rows*n+1, rows, n) }
	if ev != nil {
		args = eventValues(args, *ev)
		parts = append(parts, `INSERT INTO workflow_events (id, org_id, hook_id, idempotency_key, received_at, event) VALUES `+values(6, 1))
	}
	var runs, steps, entries int
	for _, st := range starts {
		args = runValues(args, st.Run)
		runs++
	}
	if runs > 0 {
		parts = append(parts, `INSERT INTO workflow_runs (`+runColumns+`) VALUES `+values(11, runs))
	}
	for _, st := range starts {
		if st.First != nil {
			args = stepValues(args, *st.First)
			steps++
		}
	}
	if steps > 0 {
		parts = append(parts, `INSERT INTO workflow_steps (`+stepInsertColumns+`) VALUES `+values(10, steps))
	}
	for _, st := range starts {
		if st.First == nil && st.Entry != nil {
			args = auditValues(args, st.Entry)
			entries++
		}
	}
	if entries > 0 {
		parts = append(parts, `INSERT INTO audit_log (`+auditColumns+`) VALUES `+values(auditColumnCount, entries))
	}
	if len(parts) == 0 {
		return "", nil
	}
	var b strings.Builder
	for i, p := range parts[:len(parts)-1] {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("w" + strconv.Itoa(i) + " AS (" + p + ")")
		b.WriteByte('\n')
	}
	b.WriteString(parts[len(parts)-1])
	return b.String(), args
}
