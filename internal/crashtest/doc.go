// Package crashtest holds the tests that kill a real Switchboard process
// with SIGKILL under load and check what survives it: every run of an
// audited command that was answered has its entry in the audit log, on
// SQLite and on PostgreSQL. The test binary starts itself again as the
// server, so the kill is of a separate process, as a crash or an OOM kill
// would be.
package crashtest
