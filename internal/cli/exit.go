package cli

import "errors"

// ExitCode returns the process exit status for Run's error: 0 for nil, the
// code of an *ExitError that err is or wraps, and 1 for any other error.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code > 0 {
		return ee.Code
	}
	// An ExitError without a positive code still reports a failure: a run
	// that returned an error must never look like a success.
	return 1
}
