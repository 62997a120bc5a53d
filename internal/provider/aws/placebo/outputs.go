package placebo

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// clients are the SDK clients whose operations a pill can answer: those
// Flywheel calls. Adding a service is one line here.
var clients = []any{
	(*accessanalyzer.Client)(nil),
	(*cloudtrail.Client)(nil),
	(*cloudwatch.Client)(nil),
	(*cloudwatchlogs.Client)(nil),
	(*configservice.Client)(nil),
	(*ec2.Client)(nil),
	(*efs.Client)(nil),
	(*iam.Client)(nil),
	(*kms.Client)(nil),
	(*lambda.Client)(nil),
	(*rds.Client)(nil),
	(*s3.Client)(nil),
	(*s3control.Client)(nil),
	(*securityhub.Client)(nil),
	(*sns.Client)(nil),
	(*sts.Client)(nil),
}

var (
	outputsOnce sync.Once
	outputs     map[reflect.Type]reflect.Type // *XInput → XOutput
)

// outputType finds the output struct of the operation taking in, from the
// clients' method sets: every operation is a method
// func(ctx, *XInput, ...func(*Options)) (*XOutput, error).
func outputType(in reflect.Type) (reflect.Type, error) {
	outputsOnce.Do(func() {
		outputs = map[reflect.Type]reflect.Type{}
		ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
		for _, c := range clients {
			t := reflect.TypeOf(c)
			for i := range t.NumMethod() {
				m := t.Method(i).Type // receiver is In(0)
				if m.NumIn() != 4 || m.In(1) != ctxType || m.NumOut() != 2 || m.In(2).Kind() != reflect.Pointer || m.Out(0).Kind() != reflect.Pointer {
					continue
				}
				outputs[m.In(2)] = m.Out(0).Elem()
			}
		}
	})
	out, ok := outputs[in]
	if !ok {
		return nil, fmt.Errorf("no client of this package has an operation taking %v (add its client to placebo's clients)", in)
	}
	return out, nil
}
