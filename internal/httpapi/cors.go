package httpapi

import "net/http"

// CORS (SPEC 10): the two routes a session token may call answer a page on
// any origin, since they are authorized by a bearer token, never a cookie
// (no credentials are allowed). A session that lists origins refuses the
// others itself (auth). No other route sends CORS headers.

// corsMaxAge is how long a browser may keep a preflight's answer.
const corsMaxAge = "600"

// cors adds the CORS headers of a session route to every answer of h, the
// problem documents included, so that a page reads why it was refused.
func (s *Server) cors(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if o := r.Header.Get("Origin"); o != "" {
			hd := w.Header()
			hd["Access-Control-Allow-Origin"] = []string{o}
			hd["Access-Control-Expose-Headers"] = exposedHeaders
			hd["Vary"] = varyOrigin
		}
		return h(w, r)
	}
}

var (
	exposedHeaders = []string{"X-Request-Id, Retry-After"}
	varyOrigin     = []string{"Origin"}
)

// handlePreflight answers a CORS preflight of a session route from any
// origin.
func handlePreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Vary", "Origin")
		}
		h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}
