//go:build !unix

package exec

import (
	"context"
	"errors"
)

func (e *Exec) runLocal(context.Context, Command) (Result, error) {
	return Result{}, errors.New(`exec: the "local" target needs a Unix server host`)
}
