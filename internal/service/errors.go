package service

import (
	"errors"
	"fmt"
)

// Kind classifies a refused operation; the API maps it to a status and
// code, the UI to a page.
type Kind int

const (
	// Invalid input (400).
	Invalid Kind = iota + 1
	// NotFound: the object does not exist in the caller's tenant (404).
	NotFound
	// Conflict with the object's state (409).
	Conflict
	// Forbidden: the caller lacks a permission the operation needs (403).
	Forbidden
	// Unavailable: the server runs without what the operation needs (503).
	Unavailable
)

// Error is a refused operation. Msg is the one text both the API and the UI
// show; Err, when set, is the cause (errors.As finds it, e.g. a
// *runbook.ParamError whose parts the UI files under their fields).
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// wrap refuses with err's text, keeping err as the cause.
func wrap(k Kind, err error) *Error { return &Error{Kind: k, Msg: err.Error(), Err: err} }

// As returns err's *Error when it has one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
