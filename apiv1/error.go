package apiv1

// ErrorResponse is the body of every error answer (4xx, 5xx).
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error says what went wrong: a code (bad_request, not_found, conflict,
// unauthorized, forbidden, unavailable, internal …), a message naming the
// problem, and the request's ID as the server logged it.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}
