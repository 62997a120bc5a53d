package aws_test

import "testing"

// The operations resource schedules call (docs/cost.md), each through the
// real SDK against a response shaped as the API reference's example.

func TestEC2StopAndStartInstances(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ op, resp, from, to string }{
		{"StopInstances", "StopInstancesResponse", "running", "stopping"},
		{"StartInstances", "StartInstancesResponse", "stopped", "pending"},
	} {
		code := map[string]string{"running": "16", "stopping": "64", "stopped": "80", "pending": "0"}
		rt := &replay{body: `<` + c.resp + ` xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-s</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>` + code[c.to] + `</code><name>` + c.to + `</name></currentState>
      <previousState><code>` + code[c.from] + `</code><name>` + c.from + `</name></previousState>
    </item>
  </instancesSet>
</` + c.resp + `>`}
		out, err := run(t, rt, map[string]any{"service": "ec2", "operation": c.op, "region": "us-east-1",
			"input": map[string]any{"InstanceIds": []any{"i-1234567890abcdef0"}}})
		if err != nil {
			t.Fatal(err)
		}
		assertSigned(t, rt.request, "ec2")
		assertForm(t, rt.form(t), map[string]string{"Action": c.op, "InstanceId.1": "i-1234567890abcdef0"})
		key := map[string]string{"StopInstances": "StoppingInstances", "StartInstances": "StartingInstances"}[c.op]
		inst := out.Values[key].([]any)[0].(map[string]any)
		if inst["CurrentState"].(map[string]any)["Name"] != c.to || inst["PreviousState"].(map[string]any)["Name"] != c.from {
			t.Errorf("%s: %#v", c.op, inst)
		}
	}
}

func TestRDSStopAndStartDBInstance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ op, status string }{{"StopDBInstance", "stopping"}, {"StartDBInstance", "starting"}} {
		rt := &replay{body: `<` + c.op + `Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <` + c.op + `Result>
    <DBInstance>
      <DBInstanceIdentifier>dev-db</DBInstanceIdentifier>
      <DBInstanceClass>db.t3.medium</DBInstanceClass>
      <Engine>postgres</Engine>
      <DBInstanceStatus>` + c.status + `</DBInstanceStatus>
    </DBInstance>
  </` + c.op + `Result>
  <ResponseMetadata><RequestId>req-r</RequestId></ResponseMetadata>
</` + c.op + `Response>`}
		out, err := run(t, rt, map[string]any{"service": "rds", "operation": c.op, "region": "us-east-1",
			"input": map[string]any{"DBInstanceIdentifier": "dev-db"}})
		if err != nil {
			t.Fatal(err)
		}
		assertSigned(t, rt.request, "rds")
		assertForm(t, rt.form(t), map[string]string{"Action": c.op, "DBInstanceIdentifier": "dev-db"})
		db := out.Values["DBInstance"].(map[string]any)
		if db["DBInstanceStatus"] != c.status || db["DBInstanceClass"] != "db.t3.medium" {
			t.Errorf("%s: %#v", c.op, db)
		}
	}
}
