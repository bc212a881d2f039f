package dashboard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ListenAddr completes a listen address: a bare port ("8080", ":8080")
// gets the loopback host, so that the dashboard is reachable from this
// machine only unless a host is given ("0.0.0.0:8080" for every interface).
func ListenAddr(addr string) (string, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", addr), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("dashboard address %q: want HOST:PORT or PORT (%w)", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Server serves a dashboard on one listener.
type Server struct {
	d    *Dashboard
	srv  *http.Server
	lis  net.Listener
	tls  bool
	done chan error
}

// Serve starts serving d at addr (completed by ListenAddr) in the
// background; with certFile and keyFile it serves HTTPS with that PEM
// certificate and key. Errors of the address or the certificate come back
// at once.
func Serve(d *Dashboard, addr, certFile, keyFile string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	full, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("dashboard TLS: certificate and key must be given together")
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("dashboard TLS: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	lis, err := net.Listen("tcp", full)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen %s: %w", full, err)
	}
	s := &Server{d: d, srv: srv, lis: lis, tls: certFile != "", done: make(chan error, 1)}
	if !isLoopback(lis.Addr()) && !d.auth.on() {
		log.Warn("dashboard serves every interface without a token: anyone who reaches it sees every sweep", "addr", lis.Addr().String())
	}
	go func() {
		var err error
		if s.tls {
			err = srv.ServeTLS(lis, "", "")
		} else {
			err = srv.Serve(lis)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Addr is the address served.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// URL is the dashboard's address as a browser opens it.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.lis.Addr().String() + "/"
}

// Shutdown ends the event streams, then stops the server gracefully
// within ctx (then hard).
func (s *Server) Shutdown(ctx context.Context) error {
	s.d.Close()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serr := <-s.done; serr != nil && err == nil {
		err = serr
	}
	return err
}
