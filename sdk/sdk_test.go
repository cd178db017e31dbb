package sdk_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/sdk"
)

// switchboard.js must parse as a classic script, which has no import or
// export statements; TestSDKCrossOrigin loads it both ways in a browser,
// and this guards it where no browser is installed.
func TestClassicScript(t *testing.T) {
	t.Parallel()
	statement := regexp.MustCompile(`(?m)^\s*(import|export)\b`)
	if loc := statement.FindIndex(sdk.JS); loc != nil {
		line := strings.Count(string(sdk.JS[:loc[0]]), "\n") + 1
		t.Errorf("switchboard.js:%d: an import or export statement; a classic script cannot parse it (switchboard.mjs holds the exports)", line)
	}
	for _, want := range []string{`import "./switchboard.js";`, "export { connect, kustomer, SwitchboardError, version };"} {
		if !strings.Contains(string(sdk.MJS), want) {
			t.Errorf("switchboard.mjs lacks %q", want)
		}
	}
	if !strings.Contains(string(sdk.DTS), "export as namespace Switchboard;") {
		t.Error("switchboard.d.ts does not declare the global Switchboard")
	}
}
