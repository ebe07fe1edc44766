//! Go checks (net/http, gin, echo, chi, fiber) on small real repositories:
//! each check fails on the pattern and passes on the fix for every
//! framework variant, and the negatives (comments, strings, test files,
//! configuration-driven values, parameterised SQL) stay quiet.

mod common;

use common::{assert_fails_at, assert_passes, findings, outcome, scan_files as scan};
use shipshape_analysis::{Outcome, Report, Severity};

/// A go.mod requiring `deps` (module path and version).
fn gomod(deps: &[&str]) -> String {
    let reqs: Vec<String> = deps.iter().map(|d| format!("\t{d} v1.0.0")).collect();
    format!("module example.com/api\n\ngo 1.22\n\nrequire (\n{}\n)\n", reqs.join("\n"))
}

const GIN: &str = "github.com/gin-gonic/gin";
const ECHO: &str = "github.com/labstack/echo/v4";
const CHI: &str = "github.com/go-chi/chi/v5";
const FIBER: &str = "github.com/gofiber/fiber/v2";

/// A Go service: go.mod with `deps`, go.sum, and `main` as main.go.
fn service(deps: &[&str], main: &str) -> Report {
    service_with(deps, &[("main.go", main)])
}

fn service_with(deps: &[&str], files: &[(&str, &str)]) -> Report {
    let m = gomod(deps);
    let mut all = vec![("go.mod", m.as_str()), ("go.sum", "")];
    all.extend_from_slice(files);
    scan(&all)
}

#[track_caller]
fn assert_missing(report: &Report, id: &str) {
    let f = findings(report, id);
    assert_eq!(outcome(report, id), Outcome::Fail, "{id} should fail");
    assert!(f.len() == 1 && f[0].location.is_none(), "{id}: {f:#?}");
}

// ---------- stack ----------

#[test]
fn stack_names_go_frameworks_from_go_mod_and_imports() {
    let r = service(
        &[GIN, "gorm.io/gorm"],
        "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() { gin.New() }\n",
    );
    assert_eq!(r.stack.frameworks, vec!["gin"]);
    assert_eq!(r.stack.orms, vec!["gorm"]);
    assert!(r.stack.languages.contains_key("Go"));
    assert_eq!(r.stack.manifests, vec!["go.mod"]);
    // The standard library's server has no dependency to declare: its calls say so.
    let std = scan(&[
        ("go.mod", "module x\n\ngo 1.22\n"),
        (
            "cmd/api/main.go",
            "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", ok)\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
        ),
    ]);
    assert_eq!(std.stack.frameworks, vec!["net-http"]);
    assert_passes(&std, "health-endpoint-missing");
    // A Go CLI that only calls out over HTTP is not a web service.
    let cli = scan(&[
        ("go.mod", "module x\n\ngo 1.22\n"),
        ("main.go", "package main\n\nimport \"net/http\"\n\nfunc main() { http.Get(\"https://example.org\") }\n"),
    ]);
    assert!(cli.stack.frameworks.is_empty());
    assert_eq!(outcome(&cli, "health-endpoint-missing"), Outcome::NotApplicable);
}

// ---------- cors-wildcard, localhost-in-config, cors-duplicate ----------

#[test]
fn cors_wildcard_in_every_go_cors_package() {
    let gin = "package main\n\nimport (\n\t\"github.com/gin-contrib/cors\"\n\t\"github.com/gin-gonic/gin\"\n)\n\n// r.Use(cors.Default()) was the old setup\nfunc main() {\n\tr := gin.New()\n\tr.Use(cors.New(cors.Config{\n\t\tAllowAllOrigins:  true,\n\t\tAllowCredentials: true,\n\t}))\n}\n";
    let f = assert_fails_at(&service(&[GIN, "github.com/gin-contrib/cors"], gin), "cors-wildcard", "main.go", 11);
    assert_eq!(f.severity, Severity::Critical);
    let echo = "package main\n\nimport (\n\t\"github.com/labstack/echo/v4\"\n\t\"github.com/labstack/echo/v4/middleware\"\n)\n\nfunc main() {\n\te := echo.New()\n\te.Use(middleware.CORS())\n}\n";
    let f = assert_fails_at(&service(&[ECHO], echo), "cors-wildcard", "main.go", 10);
    assert_eq!(f.severity, Severity::High);
    let chi = "package main\n\nimport (\n\t\"github.com/go-chi/chi/v5\"\n\t\"github.com/go-chi/cors\"\n)\n\nfunc main() {\n\tr := chi.NewRouter()\n\tr.Use(cors.Handler(cors.Options{AllowedOrigins: []string{\"*\"}}))\n}\n";
    assert_fails_at(&service(&[CHI, "github.com/go-chi/cors"], chi), "cors-wildcard", "main.go", 10);
    let fiber = "package main\n\nimport (\n\t\"github.com/gofiber/fiber/v2\"\n\t\"github.com/gofiber/fiber/v2/middleware/cors\"\n)\n\nfunc main() {\n\tapp := fiber.New()\n\tapp.Use(cors.New())\n}\n";
    assert_fails_at(&service(&[FIBER], fiber), "cors-wildcard", "main.go", 10);
    let std = "package main\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/rs/cors\"\n)\n\nfunc main() {\n\tmux := http.NewServeMux()\n\thandler := cors.AllowAll().Handler(mux)\n\thttp.ListenAndServe(\":8080\", handler)\n}\n";
    assert_fails_at(&service(&["github.com/rs/cors"], std), "cors-wildcard", "main.go", 11);
    let header = "package main\n\nimport \"net/http\"\n\nfunc api(w http.ResponseWriter, r *http.Request) {\n\tw.Header().Set(\"Access-Control-Allow-Origin\", \"*\")\n}\n\nfunc main() { http.HandleFunc(\"/api\", api) }\n";
    assert_fails_at(&service(&[], header), "cors-wildcard", "main.go", 6);
}

#[test]
fn cors_from_configuration_passes_and_localhost_only_fails() {
    let cfg = "package main\n\nimport (\n\t\"os\"\n\t\"strings\"\n\n\t\"github.com/gin-contrib/cors\"\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc main() {\n\tr := gin.New()\n\tr.Use(cors.New(cors.Config{AllowOrigins: strings.Split(os.Getenv(\"CORS_ORIGINS\"), \",\"), AllowCredentials: true}))\n}\n";
    let test = (
        "main_test.go",
        "package main\n\nimport \"github.com/gin-contrib/cors\"\n\nfunc TestX() { r.Use(cors.Default()) }\n",
    );
    let r = service_with(&[GIN], &[("main.go", cfg), test]);
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "localhost-in-config");
    assert_passes(&r, "cors-duplicate");
    let local = "package main\n\nimport (\n\t\"github.com/labstack/echo/v4\"\n\t\"github.com/labstack/echo/v4/middleware\"\n)\n\nfunc main() {\n\te := echo.New()\n\te.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{\"http://localhost:3000\"}}))\n\te.Use(middleware.CORS())\n}\n";
    let r = service(&[ECHO], local);
    assert_fails_at(&r, "localhost-in-config", "main.go", 10);
    assert_fails_at(&r, "cors-duplicate", "main.go", 11);
}

// ---------- debug-enabled, api-docs-exposed ----------

#[test]
fn gin_and_echo_debug_mode_in_code() {
    let gin = "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tgin.SetMode(gin.DebugMode)\n\tr := gin.New()\n}\n";
    assert_fails_at(&service(&[GIN], gin), "debug-enabled", "main.go", 6);
    let release = gin.replace("gin.DebugMode", "gin.ReleaseMode");
    assert_passes(&service(&[GIN], &release), "debug-enabled");
    let guarded = "package main\n\nimport (\n\t\"os\"\n\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc main() {\n\tif os.Getenv(\"APP_ENV\") == \"dev\" {\n\t\tgin.SetMode(gin.DebugMode)\n\t}\n}\n";
    assert_passes(&service(&[GIN], guarded), "debug-enabled");
    let echo = "package main\n\nimport \"github.com/labstack/echo/v4\"\n\nfunc main() {\n\te := echo.New()\n\te.Debug = true\n}\n";
    assert_fails_at(&service(&[ECHO], echo), "debug-enabled", "main.go", 7);
}

#[test]
fn swagger_ui_served_unconditionally() {
    let src = "package main\n\nimport (\n\t\"github.com/gin-gonic/gin\"\n\tginSwagger \"github.com/swaggo/gin-swagger\"\n\tswaggerFiles \"github.com/swaggo/files\"\n)\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/swagger/*any\", ginSwagger.WrapHandler(swaggerFiles.Handler))\n}\n";
    assert_fails_at(&service(&[GIN], src), "api-docs-exposed", "main.go", 11);
    let guarded = src.replace(
        "\tr.GET(\"/swagger/*any\", ginSwagger.WrapHandler(swaggerFiles.Handler))\n",
        "\tif gin.Mode() != gin.ReleaseMode {\n\t\tr.GET(\"/swagger/*any\", ginSwagger.WrapHandler(swaggerFiles.Handler))\n\t}\n",
    );
    assert_passes(&service(&[GIN], &guarded), "api-docs-exposed");
}

// ---------- headers, rate limits, uploads ----------

#[test]
fn headers_and_rate_limits_from_middleware_or_modules() {
    let bare = service(
        &[CHI],
        "package main\n\nimport \"github.com/go-chi/chi/v5\"\n\nfunc main() { r := chi.NewRouter() }\n",
    );
    assert_missing(&bare, "security-headers-missing");
    assert_missing(&bare, "rate-limit-missing");
    let echo = "package main\n\nimport (\n\t\"github.com/labstack/echo/v4\"\n\t\"github.com/labstack/echo/v4/middleware\"\n)\n\nfunc main() {\n\te := echo.New()\n\te.Use(middleware.Secure())\n\te.Use(middleware.RateLimiter(middleware.NewRateLimiterMemoryStore(20)))\n}\n";
    let r = service(&[ECHO], echo);
    assert_passes(&r, "security-headers-missing");
    assert_passes(&r, "rate-limit-missing");
    assert_fails_at(&r, "rate-limit-in-memory", "main.go", 11);
    let hand = "package main\n\nimport \"net/http\"\n\nfunc secure(next http.Handler) http.Handler {\n\treturn http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {\n\t\tw.Header().Set(\"X-Frame-Options\", \"DENY\")\n\t\tnext.ServeHTTP(w, r)\n\t})\n}\n\nfunc main() { http.ListenAndServe(\":8080\", secure(http.NewServeMux())) }\n";
    let r = service_with(&["github.com/ulule/limiter/v3"], &[("main.go", hand)]);
    assert_passes(&r, "security-headers-missing");
    assert_passes(&r, "rate-limit-missing");
}

#[test]
fn multipart_upload_without_a_body_cap() {
    let src = "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc upload(c *gin.Context) {\n\tfile, _ := c.FormFile(\"file\")\n\tc.SaveUploadedFile(file, \"/data/uploads/\"+file.Filename)\n}\n";
    let r = service(&[GIN], src);
    assert_fails_at(&r, "upload-unbounded", "main.go", 6);
    assert_fails_at(&r, "local-file-storage", "main.go", 7);
    let capped = "package main\n\nimport \"net/http\"\n\nfunc upload(w http.ResponseWriter, r *http.Request) {\n\tr.Body = http.MaxBytesReader(w, r.Body, 10<<20)\n\tf, _, err := r.FormFile(\"file\")\n\t_ = f\n\t_ = err\n}\n\nfunc main() { http.HandleFunc(\"/upload\", upload) }\n";
    assert_passes(&service(&[], capped), "upload-unbounded");
    // go-gin-example: the handler checks the size with a helper of its own.
    let helper = "package api\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc UploadImage(c *gin.Context) {\n\tfile, image, _ := c.Request.FormFile(\"image\")\n\tif !upload.CheckImageSize(file) {\n\t\treturn\n\t}\n\t_ = image\n}\n";
    assert_passes(&service(&[GIN], helper), "upload-unbounded");
}

// ---------- crypto, JWT, TLS, SQL ----------

#[test]
fn weak_hash_jwt_tls_and_sql() {
    let src = "package main\n\nimport (\n\t\"crypto/md5\"\n\t\"crypto/tls\"\n\t\"database/sql\"\n\t\"fmt\"\n\t\"net/http\"\n\n\t\"github.com/golang-jwt/jwt/v5\"\n)\n\nfunc hash(password string) [16]byte { return md5.Sum([]byte(password)) }\n\nfunc claims(tok string) { jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{}) }\n\nvar client = &http.Client{Timeout: 5, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}\n\nfunc find(db *sql.DB, name string) {\n\tq := fmt.Sprintf(\"SELECT * FROM users WHERE name = '%s'\", name)\n\tdb.Query(q)\n\tdb.Query(\"SELECT * FROM users WHERE name = $1\", name)\n}\n";
    let r = service(&[CHI, "github.com/golang-jwt/jwt/v5"], src);
    assert_fails_at(&r, "weak-password-hash", "main.go", 13);
    assert_fails_at(&r, "jwt-verification-disabled", "main.go", 15);
    assert_fails_at(&r, "tls-verify-disabled", "main.go", 17);
    assert_fails_at(&r, "sql-injection-risk", "main.go", 21);
    // pgx takes the context first: `pool.Query(r.Context(), q)`.
    let pgx = "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc search(w http.ResponseWriter, r *http.Request) {\n\tq := fmt.Sprintf(\"SELECT id FROM items WHERE name LIKE '%%%s%%'\", r.URL.Query().Get(\"q\"))\n\tpool.Query(r.Context(), q)\n}\n";
    assert_fails_at(&service(&[CHI], pgx), "sql-injection-risk", "main.go", 10);
    let safe = "package main\n\nimport (\n\t\"crypto/sha256\"\n\t\"database/sql\"\n)\n\nfunc etag(body []byte) [32]byte { return sha256.Sum256(body) }\n\nfunc find(db *sql.DB, name string) { db.Query(\"SELECT * FROM users WHERE name = $1\", name) }\n\n// InsecureSkipVerify: true is never used here\n";
    let r = service(&[CHI], safe);
    for id in ["weak-password-hash", "jwt-verification-disabled", "tls-verify-disabled", "sql-injection-risk"] {
        assert_passes(&r, id);
    }
}

// ---------- insecure-default-secret ----------

#[test]
fn secret_fallbacks_in_go() {
    let branch = "package main\n\nimport \"os\"\n\nfunc secret() string {\n\ts := os.Getenv(\"JWT_SECRET\")\n\tif s == \"\" {\n\t\ts = \"super-secret-dev-key\"\n\t}\n\treturn s\n}\n";
    assert_fails_at(&service(&[GIN], branch), "insecure-default-secret", "main.go", 8);
    let helper = "package main\n\nfunc load() { key := getEnv(\"SESSION_SECRET\", \"changeme-please-123\") }\n";
    assert_fails_at(&service(&[GIN], helper), "insecure-default-secret", "main.go", 3);
    let required = "package main\n\nimport (\n\t\"log\"\n\t\"os\"\n)\n\nfunc secret() string {\n\ts := os.Getenv(\"JWT_SECRET\")\n\tif s == \"\" {\n\t\tlog.Fatal(\"JWT_SECRET is required\")\n\t}\n\treturn s\n}\n\nfunc port() string { return getEnv(\"PORT\", \"8080\") }\n";
    assert_passes(&service(&[GIN], required), "insecure-default-secret");
}

// ---------- data ----------

#[test]
fn gorm_auto_migrate_sqlite_and_unbounded_lists() {
    let src = "package main\n\nimport (\n\t\"github.com/gin-gonic/gin\"\n\t\"gorm.io/driver/sqlite\"\n\t\"gorm.io/gorm\"\n)\n\nvar db *gorm.DB\n\nfunc main() {\n\tdb, _ = gorm.Open(sqlite.Open(\"app.db\"), &gorm.Config{})\n\tdb.AutoMigrate(&User{})\n\tr := gin.New()\n\tr.GET(\"/users\", listUsers)\n}\n\nfunc listUsers(c *gin.Context) {\n\tvar users []User\n\tdb.Find(&users)\n\tc.JSON(200, users)\n}\n";
    let r = service(&[GIN, "gorm.io/gorm", "gorm.io/driver/sqlite"], src);
    assert_fails_at(&r, "sqlite-in-production", "main.go", 12);
    assert_fails_at(&r, "schema-created-at-startup", "main.go", 13);
    assert_fails_at(&r, "unbounded-list-endpoint", "main.go", 20);
    assert_missing(&r, "migrations-missing");
    let fixed = "package main\n\nimport (\n\t\"os\"\n\t\"strconv\"\n\n\t\"github.com/gin-gonic/gin\"\n\t\"gorm.io/driver/postgres\"\n\t\"gorm.io/gorm\"\n)\n\nvar db *gorm.DB\n\nfunc main() {\n\tdb, _ = gorm.Open(postgres.Open(os.Getenv(\"DATABASE_URL\")), &gorm.Config{})\n\tr := gin.New()\n\tr.GET(\"/users\", listUsers)\n}\n\nfunc listUsers(c *gin.Context) {\n\tlimit, _ := strconv.Atoi(c.DefaultQuery(\"limit\", \"50\"))\n\tvar users []User\n\tdb.Limit(limit).Find(&users)\n\tc.JSON(200, users)\n}\n";
    let r = service_with(
        &[GIN, "gorm.io/gorm", "github.com/pressly/goose/v3"],
        &[("main.go", fixed), ("migrations/00001_users.sql", "-- +goose Up\nCREATE TABLE users (id bigint);\n")],
    );
    for id in ["sqlite-in-production", "schema-created-at-startup", "unbounded-list-endpoint", "migrations-missing"] {
        assert_passes(&r, id);
    }
}

// ---------- reliability ----------

#[test]
fn outbound_http_without_timeout() {
    let src = "package main\n\nimport \"net/http\"\n\nfunc fetch() {\n\thttp.Get(\"https://api.example.org/x\")\n\tc := &http.Client{}\n\tc.Get(\"https://api.example.org/y\")\n}\n";
    let r = service(&[CHI], src);
    let f = findings(&r, "outbound-http-no-timeout");
    let lines: Vec<_> = f.iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![6, 7], "{f:#?}");
    let ok =
        "package main\n\nimport (\n\t\"net/http\"\n\t\"time\"\n)\n\nvar c = &http.Client{Timeout: 10 * time.Second}\n";
    assert_passes(&service(&[CHI], ok), "outbound-http-no-timeout");
}

#[test]
fn graceful_shutdown_for_every_go_server() {
    let plain = "package main\n\nimport (\n\t\"log\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/health\", ok)\n\tlog.Fatal(http.ListenAndServe(\":8080\", nil))\n}\n";
    assert_fails_at(&service(&[], plain), "no-graceful-shutdown", "main.go", 10);
    let gin = "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.Default()\n\tr.Run(\":8080\")\n}\n";
    assert_fails_at(&service(&[GIN], gin), "no-graceful-shutdown", "main.go", 7);
    let echo = "package main\n\nimport \"github.com/labstack/echo/v4\"\n\nfunc main() {\n\te := echo.New()\n\te.Logger.Fatal(e.Start(\":8080\"))\n}\n";
    assert_fails_at(&service(&[ECHO], echo), "no-graceful-shutdown", "main.go", 7);
    let fiber = "package main\n\nimport \"github.com/gofiber/fiber/v2\"\n\nfunc main() {\n\tapp := fiber.New()\n\tapp.Listen(\":3000\")\n}\n";
    assert_fails_at(&service(&[FIBER], fiber), "no-graceful-shutdown", "main.go", 7);
    let graceful = "package main\n\nimport (\n\t\"context\"\n\t\"net/http\"\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n\n\t\"github.com/go-chi/chi/v5\"\n)\n\nfunc main() {\n\tr := chi.NewRouter()\n\tsrv := &http.Server{Addr: \":8080\", Handler: r}\n\tgo srv.ListenAndServe()\n\tctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)\n\tdefer stop()\n\t<-ctx.Done()\n\tsrv.Shutdown(context.Background())\n}\n";
    assert_passes(&service(&[CHI], graceful), "no-graceful-shutdown");
}

#[test]
fn discarded_io_errors_are_swallowed() {
    let src = "package main\n\nimport (\n\t\"encoding/json\"\n\t\"io\"\n\t\"net/http\"\n)\n\nfunc create(w http.ResponseWriter, r *http.Request) {\n\tbody, _ := io.ReadAll(r.Body)\n\tvar v map[string]any\n\t_ = json.Unmarshal(body, &v)\n\t_, _ = w.Write([]byte(\"ok\"))\n}\n";
    let r = service(&[CHI], src);
    let lines: Vec<_> =
        findings(&r, "swallowed-exceptions").iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![10, 12]);
    let handled = "package main\n\nimport (\n\t\"io\"\n\t\"net/http\"\n)\n\nfunc create(w http.ResponseWriter, r *http.Request) {\n\tbody, err := io.ReadAll(r.Body)\n\tif err != nil {\n\t\thttp.Error(w, err.Error(), 400)\n\t\treturn\n\t}\n\t_ = body\n}\n";
    assert_passes(&service(&[CHI], handled), "swallowed-exceptions");
}

// ---------- observability ----------

#[test]
fn health_routes_of_every_router_and_their_depth() {
    let cases: [(&str, &str); 5] = [
        (
            CHI,
            "package main\n\nimport \"github.com/go-chi/chi/v5\"\n\nfunc main() {\n\tr := chi.NewRouter()\n\tr.Get(\"/healthz\", health)\n}\n",
        ),
        (
            GIN,
            "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/health\", func(c *gin.Context) { c.String(200, \"ok\") })\n}\n",
        ),
        (
            ECHO,
            "package main\n\nimport \"github.com/labstack/echo/v4\"\n\nfunc main() {\n\te := echo.New()\n\te.GET(\"/ping\", ping)\n}\n",
        ),
        (
            FIBER,
            "package main\n\nimport \"github.com/gofiber/fiber/v2\"\n\nfunc main() {\n\tapp := fiber.New()\n\tapp.Get(\"/readyz\", ready)\n}\n",
        ),
        (
            "example.com/none",
            "package main\n\nimport \"net/http\"\n\nfunc main() {\n\tmux := http.NewServeMux()\n\tmux.HandleFunc(\"GET /livez\", live)\n\thttp.ListenAndServe(\":8080\", mux)\n}\n",
        ),
    ];
    for (dep, src) in cases {
        assert_passes(&service(&[dep], src), "health-endpoint-missing");
    }
    let none = service(
        &[GIN],
        "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/users\", list)\n}\n",
    );
    assert_missing(&none, "health-endpoint-missing");
    // Depth: a readiness handler elsewhere that pings the database.
    let shallow = service_with(
        &[GIN, "github.com/jackc/pgx/v5"],
        &[(
            "main.go",
            "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/health\", h.Health)\n}\n",
        )],
    );
    assert_fails_at(&shallow, "health-shallow", "main.go", 7);
    let deep = service_with(
        &[GIN, "github.com/jackc/pgx/v5"],
        &[
            (
                "main.go",
                "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() {\n\tr := gin.New()\n\tr.GET(\"/health\", h.Health)\n}\n",
            ),
            (
                "handlers/health.go",
                "package handlers\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc (h *Handler) Health(c *gin.Context) {\n\tif err := h.pool.Ping(c); err != nil {\n\t\tc.Status(503)\n\t}\n}\n",
            ),
        ],
    );
    assert_passes(&deep, "health-shallow");
}

#[test]
fn fmt_println_logging_and_fixed_debug_levels() {
    let prints =
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n".to_string() + &"\tfmt.Println(\"x\")\n".repeat(6) + "}\n";
    let r = service(&[CHI], &prints);
    let f = assert_fails_at(&r, "print-logging", "main.go", 6);
    assert!(f.message.starts_with("6 fmt.Println() calls"), "{}", f.message);
    let level = "package main\n\nimport \"github.com/rs/zerolog\"\n\nfunc main() {\n\tzerolog.SetGlobalLevel(zerolog.DebugLevel)\n}\n";
    let r = service(&[CHI, "github.com/rs/zerolog"], level);
    assert_fails_at(&r, "log-level-hardcoded", "main.go", 6);
    assert_passes(&r, "structured-logging-missing");
    let slog = "package main\n\nimport (\n\t\"log/slog\"\n\t\"os\"\n)\n\nvar log = slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))\n";
    let r = service(&[CHI], slog);
    assert_passes(&r, "log-level-hardcoded");
    assert_passes(&r, "structured-logging-missing");
}

#[test]
fn slow_work_in_handlers_without_a_queue() {
    let src = "package main\n\nimport (\n\t\"net/http\"\n\t\"net/smtp\"\n)\n\nfunc signup(w http.ResponseWriter, r *http.Request) {\n\tsmtp.SendMail(\"smtp:25\", nil, \"a@b\", []string{\"c@d\"}, []byte(\"hi\"))\n}\n\nfunc main() { http.HandleFunc(\"/signup\", signup) }\n";
    assert_fails_at(&service(&[], src), "no-background-worker", "main.go", 9);
    assert_passes(&service(&["github.com/hibiken/asynq"], src), "no-background-worker");
}

// ---------- testing, delivery ----------

#[test]
fn go_tests_lock_file_and_generated_code() {
    let main = "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() { gin.New() }\n";
    let r = service_with(
        &[GIN],
        &[
            ("main.go", main),
            ("main_test.go", "package main\n\nimport \"testing\"\n\nfunc TestMain(t *testing.T) {}\n"),
        ],
    );
    assert_passes(&r, "tests-missing");
    assert_passes(&r, "lockfile-missing");
    let no_sum = scan(&[("go.mod", &gomod(&[GIN])), ("main.go", main)]);
    assert_eq!(outcome(&no_sum, "lockfile-missing"), Outcome::Fail);
    assert_eq!(findings(&no_sum, "lockfile-missing")[0].location.as_ref().unwrap().path, "go.mod");
}

#[test]
fn generated_and_test_go_files_are_not_judged() {
    let generated = "// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage pb\n\nimport \"crypto/tls\"\n\nvar c = tls.Config{InsecureSkipVerify: true}\n";
    let test = "package main\n\nimport \"crypto/tls\"\n\nvar c = tls.Config{InsecureSkipVerify: true}\n";
    let r = service_with(&[CHI], &[("pb/api.go", generated), ("client_test.go", test), ("testdata/x.go", test)]);
    assert_passes(&r, "tls-verify-disabled");
}

// ---------- found on real services ----------

#[test]
fn group_prefixes_gorm_v1_and_gotestsum_from_real_services() {
    // golang-gin-realworld-example-app: `/api/ping/` declared on a group, GORM v1.
    let main = "package main\n\nimport (\n\t\"github.com/gin-gonic/gin\"\n\t\"github.com/jinzhu/gorm\"\n)\n\nfunc TestDBInit() { gorm.Open(\"sqlite3\", \"./../gorm_test.db\") }\nfunc Migrate(db *gorm.DB) {\n\tdb.AutoMigrate(&ArticleModel{})\n}\n\nfunc main() {\n\tdb, _ := gorm.Open(\"sqlite3\", \"./../gorm.db\")\n\tr := gin.Default()\n\tping := r.Group(\"/api/ping\")\n\tping.GET(\"/\", func(c *gin.Context) { c.JSON(200, gin.H{\"message\": \"pong\"}) })\n}\n";
    let r = service(&[GIN, "github.com/jinzhu/gorm"], main);
    assert_eq!(r.stack.orms, vec!["gorm"]);
    assert_passes(&r, "health-endpoint-missing");
    assert_fails_at(&r, "schema-created-at-startup", "main.go", 10);
    assert_fails_at(&r, "sqlite-in-production", "main.go", 14);
    // chi sub-routers: `r.Route("/api", func(r chi.Router) { r.Get("/health", h) })`.
    let chi = "package main\n\nimport \"github.com/go-chi/chi/v5\"\n\nfunc main() {\n\tr := chi.NewRouter()\n\tr.Route(\"/api\", func(r chi.Router) {\n\t\tr.Get(\"/health\", health)\n\t})\n}\n";
    assert_passes(&service(&[CHI], chi), "health-endpoint-missing");
    // go-clean-arch: CI runs `make tests`, whose target runs gotestsum.
    let ci = "on: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make tests\n";
    let r = service_with(
        &[ECHO],
        &[
            ("main.go", "package main\n\nimport \"github.com/labstack/echo/v4\"\n\nfunc main() { echo.New() }\n"),
            ("main_test.go", "package main\n"),
            ("Makefile", "tests:\n\t@ gotestsum --format testname -- ./...\n"),
            (".github/workflows/ci.yml", ci),
        ],
    );
    assert_passes(&r, "tests-not-in-ci");
}

#[test]
fn multibyte_text_and_query_builders_from_go_gin_example() {
    // go-gin-example: Chinese comments across the first 2,000 bytes, and
    // GORM callbacks that compose SQL from quoted identifiers and bound vars.
    let comment = format!("// {}\n", "中文注释".repeat(200));
    let src = format!(
        "package models\n\n{comment}import (\n\t\"fmt\"\n\n\t\"github.com/gin-gonic/gin\"\n)\n\nfunc deleteCallback(scope *Scope, extraOption string) {{\n\tscope.Raw(fmt.Sprintf(\n\t\t\"UPDATE %v SET %v=%v%v\",\n\t\tscope.QuotedTableName(),\n\t\tscope.Quote(\"deleted_on\"),\n\t\tscope.AddToVars(1),\n\t\textraOption,\n\t)).Exec()\n}}\n\nfunc find(db *DB, name string) {{ db.Raw(fmt.Sprintf(\"SELECT * FROM tags WHERE name = '%v'\", name)) }}\n"
    );
    let r = service(&[GIN], &src);
    assert!(r.notes.iter().all(|n| !n.message.contains("failed")), "{:#?}", r.notes);
    assert_fails_at(&r, "sql-injection-risk", "main.go", 20);
}

#[test]
fn travis_ci_counts_as_ci_and_its_scripts_are_followed() {
    // golang-gin-realworld-example-app: Travis runs scripts/coverage.sh, which runs go test with coverage.
    let travis = "language: go\nscript:\n  - bash ./scripts/coverage.sh\nafter_success:\n  - bash <(curl -s https://codecov.io/bash)\n";
    let cover = "#!/usr/bin/env bash\nset -e\nfor d in $(go list ./...); do\n  go test -coverprofile=profile.out -covermode=atomic $d\ndone\n";
    let r = service_with(
        &[GIN],
        &[
            ("hello.go", "package main\n\nimport \"github.com/gin-gonic/gin\"\n\nfunc main() { gin.New() }\n"),
            ("users/unit_test.go", "package users\n"),
            (".travis.yml", travis),
            ("scripts/coverage.sh", cover),
        ],
    );
    assert_eq!(r.stack.ci, vec!["travis-ci"]);
    for id in ["ci-missing", "tests-not-in-ci", "coverage-not-measured"] {
        assert_passes(&r, id);
    }
}

#[test]
fn absurdly_nested_go_is_skipped_with_a_note() {
    let deep = format!("package main\n\nvar x = {}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
    let r = service(&[CHI], &deep);
    assert!(r.notes.iter().any(|n| n.path == "main.go" && n.message.contains("nests too deep")), "{:#?}", r.notes);
}

#[test]
fn swagger_handler_as_a_value_and_dotenv_settings_about_secrets() {
    // fiber-go-template: `route.Get("*", swagger.HandlerDefault)` registered unconditionally,
    // and a committed .env.test whose only non-placeholder JWT_SECRET_* line is a minute count.
    let routes = "package routes\n\nimport (\n\t\"github.com/gofiber/fiber/v2\"\n\tswagger \"github.com/gofiber/swagger\"\n)\n\nfunc SwaggerRoute(a *fiber.App) {\n\troute := a.Group(\"/swagger\")\n\troute.Get(\"*\", swagger.HandlerDefault)\n}\n";
    let env = "JWT_SECRET_KEY=\"secret\"\nJWT_SECRET_KEY_EXPIRE_MINUTES_COUNT=15\n";
    let r = service_with(&[FIBER], &[("routes/swagger.go", routes), (".env.test", env)]);
    assert_fails_at(&r, "api-docs-exposed", "routes/swagger.go", 10);
    assert_passes(&r, "env-file-committed");
}
