package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// The wire types of package apiv1 are what clients (the command line, the
// agent) decode the API's answers into and encode their requests from;
// they are apart from the server's records and views, so a storage change
// is not an API change by accident. Two tests keep them the API's JSON:
// every golden response (TestGoldenResponses) decodes into its wire type
// and encodes back byte for byte, and each wire type the command line uses
// takes the JSON of the server type it mirrors, every field set, and gives
// it back unchanged.

// goldenWire names the wire type of each golden call's answer by method
// and path (IDs are <prefix>_<id>); an error answer is an ErrorResponse.
var goldenWire = []struct {
	method string
	path   *regexp.Regexp
	new    func() any
}{
	{"POST", regexp.MustCompile(`^/api/v1/silences$`), func() any { return new(apiv1.Silence) }},
	{"GET", regexp.MustCompile(`^/api/v1/silences/[^/]+$`), func() any { return new(apiv1.Silence) }},
	{"GET", regexp.MustCompile(`^/api/v1/silences(\?.*)?$`), func() any { return new(apiv1.List[apiv1.Silence]) }},
	{"POST", regexp.MustCompile(`^/api/v1/opsitems(/[^/]+/(acknowledge|notes|assign))?$`), func() any { return new(apiv1.OpsItem) }},
	{"PATCH", regexp.MustCompile(`^/api/v1/opsitems/[^/]+$`), func() any { return new(apiv1.OpsItem) }},
	{"GET", regexp.MustCompile(`^/api/v1/opsitems/[^/]+$`), func() any { return new(apiv1.OpsItem) }},
	{"GET", regexp.MustCompile(`^/api/v1/opsitems$`), func() any { return new(apiv1.List[apiv1.OpsItem]) }},
	{"GET", regexp.MustCompile(`^/api/v1/runbooks$`), func() any { return new(apiv1.List[apiv1.Summary]) }},
	{"GET", regexp.MustCompile(`^/api/v1/runbooks/[^/]+$`), func() any { return new(apiv1.RunbookView) }},
	{"POST", regexp.MustCompile(`^/api/v1/(runbooks/[^/]+/executions|opsitems/[^/]+/runbooks/[^/]+|executions/[^/]+/cancel)$`), func() any { return new(apiv1.ExecutionView) }},
	{"GET", regexp.MustCompile(`^/api/v1/executions/[^/]+$`), func() any { return new(apiv1.ExecutionView) }},
	{"POST", regexp.MustCompile(`^/api/v1/tokens$`), func() any { return new(apiv1.CreatedToken) }},
	{"POST", regexp.MustCompile(`^/api/v1/maintenance-windows$`), func() any { return new(apiv1.MaintenanceWindow) }},
	{"GET", regexp.MustCompile(`^/api/v1/maintenance-windows/[^/]+$`), func() any { return new(apiv1.MaintenanceWindow) }},
	{"GET", regexp.MustCompile(`^/api/v1/maintenance-windows$`), func() any { return new(apiv1.List[apiv1.MaintenanceWindow]) }},
	{"GET", regexp.MustCompile(`^/api/v1/audit(\?.*)?$`), func() any { return new(apiv1.List[apiv1.AuditRecord]) }},
}

// checkGoldenWire decodes each answer of calls (as the server sent it)
// into its wire type, refusing unknown fields, and encodes it back: the
// bytes must be the server's.
func checkGoldenWire(t *testing.T, calls []goldenCall) {
	t.Helper()
	for i, c := range calls {
		if len(c.Body) == 0 {
			continue
		}
		var v any
		if c.Status >= 400 {
			v = new(apiv1.ErrorResponse)
		} else {
			for _, w := range goldenWire {
				if w.method == c.Method && w.path.MatchString(c.Path) {
					v = w.new()
					break
				}
			}
		}
		if v == nil {
			t.Errorf("call %d %s %s: no wire type in goldenWire", i, c.Method, c.Path)
			continue
		}
		if err := wireRoundTrip(c.Body, v); err != nil {
			t.Errorf("call %d %s %s as %T: %v", i, c.Method, c.Path, v, err)
		}
	}
}

// wireRoundTrip decodes data into v (unknown fields are an error) and checks
// that v encodes to data again.
func wireRoundTrip(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, data); err != nil {
		return err
	}
	got, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want.Bytes()) {
		return fmt.Errorf("encodes differently:\n got %s\nwant %s", got, want.Bytes())
	}
	return nil
}

// TestWireTypesMirrorServerTypes: for each wire type the command line
// decodes or sends, a value of the server's type with every field set
// (filled below) encodes to JSON that the wire type takes without an
// unknown field and gives back byte for byte — the same names, the same
// omitempty, the same nesting.
func TestWireTypesMirrorServerTypes(t *testing.T) {
	t.Parallel()
	for _, p := range []struct{ server, wire any }{
		{api.AgentView{}, apiv1.AgentView{}}, {api.CommandInput{}, apiv1.CommandInput{}}, {api.CommandView{}, apiv1.CommandView{}},
		{api.CreatedEnrollToken{}, apiv1.CreatedEnrollToken{}}, {api.EnrollTokenInput{}, apiv1.EnrollTokenInput{}},
		{api.DraftRuleInput{}, apiv1.DraftRuleInput{}}, {api.SavedRule{}, apiv1.SavedRule{}}, {api.AWSAccount{}, apiv1.AWSAccount{}},
		{api.AWSAccountInput{}, apiv1.AWSAccountInput{}}, {api.RestoreInput{}, apiv1.RestoreInput{}}, {api.RestoreTestInput{}, apiv1.RestoreTestInput{}},
		{api.WindowRunInput{}, apiv1.WindowRunInput{}}, {api.ComplianceExceptionInput{}, apiv1.ComplianceExceptionInput{}},
		{api.ContentStatus{}, apiv1.ContentStatus{}}, {api.ReconcileInput{}, apiv1.ReconcileInput{}},
		{api.ResourceScheduleDetail{}, apiv1.ResourceScheduleDetail{}}, {api.ResourceScheduleView{}, apiv1.ResourceScheduleView{}},
		{api.SavingsReport{}, apiv1.SavingsReport{}}, {api.WasteView{}, apiv1.WasteView{}}, {api.MaintenanceWindow{}, apiv1.MaintenanceWindow{}},
		{api.MaintenanceWindowInput{}, apiv1.MaintenanceWindowInput{}}, {api.OpsItemInput{}, apiv1.OpsItemInput{}}, {api.OpsItemPatch{}, apiv1.OpsItemPatch{}},
		{api.HandlingInput{}, apiv1.HandlingInput{}}, {api.MergeInput{}, apiv1.MergeInput{}}, {api.SplitInput{}, apiv1.SplitInput{}},
		{api.ExecutionView{}, apiv1.ExecutionView{}}, {api.RunInput{}, apiv1.RunInput{}}, {api.BreakerReset{}, apiv1.BreakerReset{}},
		{api.BreakerResetResult{}, apiv1.BreakerResetResult{}}, {api.BreakerView{}, apiv1.BreakerView{}}, {api.DecisionInput{}, apiv1.DecisionInput{}},
		{api.RunbookView{}, apiv1.RunbookView{}}, {api.StepLog{}, apiv1.StepLog{}}, {api.Silence{}, apiv1.Silence{}}, {api.SilenceInput{}, apiv1.SilenceInput{}},
		{api.FlywheelStats{}, apiv1.FlywheelStats{}}, {api.TenantInput{}, apiv1.TenantInput{}}, {api.CreatedToken{}, apiv1.CreatedToken{}},
		{api.TokenInput{}, apiv1.TokenInput{}}, {api.WindowOpenings{}, apiv1.WindowOpenings{}}, {api.WindowRunDetail{}, apiv1.WindowRunDetail{}},
		{store.EnrollToken{}, apiv1.EnrollToken{}}, {store.UnmanagedHost{}, apiv1.UnmanagedHost{}}, {store.AuditRecord{}, apiv1.AuditRecord{}},
		{store.RecoveryPoint{}, apiv1.RecoveryPoint{}}, {store.RestoreTest{}, apiv1.RestoreTest{}}, {store.WindowRun{}, apiv1.WindowRun{}},
		{store.ComplianceException{}, apiv1.ComplianceException{}}, {store.ComplianceResult{}, apiv1.ComplianceResult{}},
		{store.ComplianceScore{}, apiv1.ComplianceScore{}}, {store.Event{}, apiv1.Event{}}, {store.MaintenanceSchedule{}, apiv1.MaintenanceSchedule{}},
		{store.MaintenanceTargets{}, apiv1.MaintenanceTargets{}}, {store.MaintenanceWindow{}, apiv1.MaintenanceWindowSpec{}}, {store.OpsItem{}, apiv1.OpsItem{}},
		{store.Expedite{}, apiv1.Expedite{}}, {store.Execution{}, apiv1.Execution{}}, {store.Tenant{}, apiv1.Tenant{}}, {store.Token{}, apiv1.Token{}},
		{store.MaintenanceTask{}, apiv1.MaintenanceTask{}}, {store.Recurrence{}, apiv1.Recurrence{}},
		{stats.Candidate{}, apiv1.Candidate{}}, {backup.PlanStatus{}, apiv1.PlanStatus{}}, {cost.Step{}, apiv1.Step{}}, {cost.RegionPrices{}, apiv1.RegionPrices{}},
		{forecast.Forecast{}, apiv1.Forecast{}}, {patch.BaselineView{}, apiv1.BaselineView{}}, {patch.ExpediteRequest{}, apiv1.ExpediteRequest{}},
		{patch.HostCompliance{}, apiv1.HostCompliance{}}, {patch.Report{}, apiv1.Report{}}, {runbook.Summary{}, apiv1.Summary{}}, {windowrun.Plan{}, apiv1.Plan{}},
		{api.List[store.OpsItem]{}, apiv1.List[apiv1.OpsItem]{}},
		{api.RuleStatus{}, apiv1.RuleStatus{}}, {api.ChannelStatus{}, apiv1.ChannelStatus{}}, {service.PackSummary{}, apiv1.PackSummary{}},
		{service.PackDetail{}, apiv1.PackDetail{}}, {service.PackDiff{}, apiv1.PackDiff{}}, {service.PackRequest{}, apiv1.PackRequest{}},
		{store.PackInstallation{}, apiv1.PackInstallation{}},
	} {
		name := fmt.Sprintf("%T", p.server)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sv := reflect.New(reflect.TypeOf(p.server))
			fill(sv.Elem(), 0)
			data, err := json.Marshal(sv.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if err := wireRoundTrip(data, reflect.New(reflect.TypeOf(p.wire)).Interface()); err != nil {
				t.Errorf("%T as %T: %v", p.server, p.wire, err)
			}
		})
	}
}

// fill sets every settable field of v to a value that is not its zero
// value (so omitempty does not hide it): strings name their kind,
// numbers are 7, slices and maps hold one element, pointers point.
func fill(v reflect.Value, depth int) {
	if depth > 8 || !v.CanSet() {
		return
	}
	switch v.Type() {
	case reflect.TypeOf(time.Time{}):
		v.Set(reflect.ValueOf(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)))
		return
	case reflect.TypeOf(json.RawMessage{}):
		v.SetBytes([]byte(`{"k":1}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.ToLower(v.Type().Name()) + "-x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7.5)
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf("any-x"))
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), depth+1)
		}
	}
}
