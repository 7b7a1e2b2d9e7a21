package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Greeting is one stored message.
type Greeting struct {
	ID        int64     `json:"id"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Store is what the HTTP handlers need from the database.
type Store interface {
	Add(ctx context.Context, message string) (Greeting, error)
	List(ctx context.Context) ([]Greeting, error)
	Ping(ctx context.Context) error
}

// Config is the app configuration, read from the environment (see configFromEnv).
type Config struct {
	Driver   string // "mysql" or "postgres"
	Host     string // host or host:port
	DB       string
	User     string
	Password string
	Port     string // listen port
}

const (
	driverMySQL    = "mysql"
	driverPostgres = "postgres"
)

func configFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Driver:   strings.ToLower(strings.TrimSpace(getenv("DRIVER"))),
		Host:     strings.TrimSpace(getenv("HOST")),
		DB:       getenv("DB"),
		User:     getenv("USER"),
		Password: getenv("PASSWORD"),
		Port:     strings.TrimSpace(getenv("PORT")),
	}
	switch c.Driver {
	case "", driverMySQL, "mariadb":
		c.Driver = driverMySQL
	case driverPostgres, "postgresql", "pgx":
		c.Driver = driverPostgres
	default:
		return c, fmt.Errorf("DRIVER=%q: want mysql or postgres", c.Driver)
	}
	if c.Port == "" {
		c.Port = "5000"
	}
	if c.Host == "" {
		return c, errors.New("HOST is not set (database host, optionally host:port)")
	}
	if c.DB == "" {
		return c, errors.New("DB is not set (database name)")
	}
	if c.User == "" {
		return c, errors.New("USER is not set (database user)")
	}
	return c, nil
}

// hostPort adds the driver's default port to c.Host unless it has one.
func (c Config) hostPort() string {
	if _, _, err := net.SplitHostPort(c.Host); err == nil {
		return c.Host
	}
	port := "3306"
	if c.Driver == driverPostgres {
		port = "5432"
	}
	return net.JoinHostPort(strings.Trim(c.Host, "[]"), port)
}

// sqlDriver returns the database/sql driver name and DSN for c.
func (c Config) sqlDriver() (name, dsn string) {
	if c.Driver == driverPostgres {
		u := url.URL{
			Scheme: "postgres",
			User:   url.UserPassword(c.User, c.Password),
			Host:   c.hostPort(),
			Path:   "/" + c.DB,
		}
		// sslmode is left to pgx (PGSSLMODE, default "prefer"), so it works
		// with local servers without TLS and with managed ones that require it.
		return "pgx", u.String()
	}
	mc := mysql.NewConfig()
	mc.User = c.User
	mc.Passwd = c.Password
	mc.Net = "tcp"
	mc.Addr = c.hostPort()
	mc.DBName = c.DB
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.Timeout = 5 * time.Second
	return "mysql", mc.FormatDSN()
}

type sqlStore struct {
	db     *sql.DB
	driver string
}

func (s *sqlStore) createTable(ctx context.Context) error {
	q := `CREATE TABLE IF NOT EXISTS greetings (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	message VARCHAR(1000) NOT NULL,
	created_at DATETIME(6) NOT NULL
) DEFAULT CHARSET=utf8mb4`
	if s.driver == driverPostgres {
		q = `CREATE TABLE IF NOT EXISTS greetings (
	id BIGSERIAL PRIMARY KEY,
	message VARCHAR(1000) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
)`
	}
	_, err := s.db.ExecContext(ctx, q)
	return err
}

func (s *sqlStore) Add(ctx context.Context, message string) (Greeting, error) {
	g := Greeting{Message: message, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if s.driver == driverPostgres {
		err := s.db.QueryRowContext(ctx,
			`INSERT INTO greetings (message, created_at) VALUES ($1, $2) RETURNING id`,
			g.Message, g.CreatedAt).Scan(&g.ID)
		return g, err
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO greetings (message, created_at) VALUES (?, ?)`, g.Message, g.CreatedAt)
	if err != nil {
		return g, err
	}
	g.ID, err = res.LastInsertId()
	return g, err
}

func (s *sqlStore) List(ctx context.Context) ([]Greeting, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, message, created_at FROM greetings ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Greeting{}
	for rows.Next() {
		var g Greeting
		if err := rows.Scan(&g.ID, &g.Message, &g.CreatedAt); err != nil {
			return nil, err
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// openStore opens the database and creates the greetings table, retrying
// until it succeeds or ctx is done (the database may still be starting).
func openStore(ctx context.Context, c Config, logf func(string, ...any)) (*sqlStore, error) {
	name, dsn := c.sqlDriver()
	db, err := sql.Open(name, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(5)
	db.SetConnMaxLifetime(5 * time.Minute)
	s := &sqlStore{db: db, driver: c.Driver}
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = s.Ping(actx)
		if err == nil {
			err = s.createTable(actx)
		}
		cancel()
		if err == nil {
			return s, nil
		}
		logf("database not ready (attempt %d): %v", attempt, err)
		select {
		case <-ctx.Done():
			db.Close()
			return nil, fmt.Errorf("giving up on %s database at %s: %w", c.Driver, c.hostPort(), err)
		case <-time.After(delay):
		}
		if delay < 3*time.Second {
			delay *= 2
		}
	}
}
