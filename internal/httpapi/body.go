package httpapi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

// deadlineBody gives a request with a body BodyTimeout to send it: the
// connection's read deadline is set now and cleared when the body ends, so
// that a client trickling a byte at a time is cut off, while a handler that
// runs long after reading its body is not (a read deadline left set would
// cancel its context when net/http's background read hits it). A read past
// the deadline fails with request_timeout (408). Requests without a body
// (GETs, event streams among them) are left alone: http.Server.ReadTimeout
// would also end an event stream's context, which is why the deadline is
// set here, per request, and not on the server.
func (s *Server) deadlineBody(w http.ResponseWriter, body io.ReadCloser) io.ReadCloser {
	if body == nil || body == http.NoBody {
		return body
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err != nil {
		return body // a writer without deadlines (a test recorder): nothing to bound
	}
	return &timedBody{ReadCloser: body, rc: rc, limit: s.cfg.BodyTimeout}
}

// timedBody is a body under a read deadline (deadlineBody).
type timedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	limit time.Duration
	ended bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.ended:
		b.ended = true
		b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errorf(api.CodeRequestTimeout, "the request body did not arrive within "+b.limit.String())
	}
	return n, err
}
