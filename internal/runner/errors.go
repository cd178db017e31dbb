package runner

import (
	"errors"

	"github.com/switchboardhq/switchboard"
)

// named puts the command or action's name in front of an upstream failure's
// detail, so that a caller running several knows which one failed and where
// it went ("command kustomer.app.shop.refund: could not reach
// api.shop.test:443: connection refused"). The error is copied: a failure
// shared by the runs of one single flight is not changed under the others.
func named(err error, kind, name string) error {
	var se *switchboard.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case switchboard.CodeUpstreamUnreachable, switchboard.CodeUpstreamTimeout, switchboard.CodeUpstreamForbidden:
		c := *se
		c.Detail = kind + " " + name + ": " + se.Detail
		return &c
	}
	return err
}
