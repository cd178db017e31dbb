package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
)

func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.promReg, promhttp.HandlerOpts{})
}

func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReadyz() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := s.reg.Ready(ctx)
		if err == nil && s.ready != nil {
			err = s.ready(ctx)
		}
		if err != nil {
			s.log.Warn("not ready", "err", err)
			if errors.Is(err, registry.ErrUnreadableSecrets) {
				return err // says why, naming no org
			}
			return &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: "the database does not answer", Err: err}
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
}

func (s *Server) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, s.openapi)
	})
}
