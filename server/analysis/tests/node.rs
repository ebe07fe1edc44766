//! Node checks (Express, NestJS, Fastify; .js/.mjs/.cjs/.ts/.tsx) on small
//! real repositories: each check fails on the pattern and passes on the fix
//! for every framework variant, and the negatives the catalogue names
//! (comments, strings, test files, other scopes, env-driven values,
//! parameterised SQL, front-end packages) stay quiet.

mod common;

use common::{assert_fails_at, assert_passes, findings, outcome, scan_files as scan};
use shipshape_analysis::{Outcome, Report, Severity};

const EXPRESS_PKG: &str =
    r#"{"name":"api","scripts":{"start":"node src/server.js"},"dependencies":{"express":"^4.19.2"}}"#;
const NEST_PKG: &str = r#"{"name":"api","scripts":{"start":"node dist/main.js"},"dependencies":{"@nestjs/core":"^10.0.0","@nestjs/common":"^10.0.0"}}"#;
const FASTIFY_PKG: &str =
    r#"{"name":"api","scripts":{"start":"node src/server.mjs"},"dependencies":{"fastify":"^4.26.0"}}"#;

/// An Express service with `main` as src/server.js (plus more files).
fn express(main: &str) -> Report {
    scan(&[("package.json", EXPRESS_PKG), ("src/server.js", main)])
}

fn express_with(package: &str, files: &[(&str, &str)]) -> Report {
    let mut all = vec![("package.json", package)];
    all.extend_from_slice(files);
    scan(&all)
}

/// A NestJS service with `main` as src/main.ts.
fn nest(files: &[(&str, &str)]) -> Report {
    express_with(NEST_PKG, files)
}

/// A Fastify service with `main` as src/server.mjs.
fn fastify(main: &str) -> Report {
    scan(&[("package.json", FASTIFY_PKG), ("src/server.mjs", main)])
}

/// package.json of an Express service with extra dependencies.
fn express_pkg(extra: &[&str]) -> String {
    let deps: Vec<String> = std::iter::once("\"express\":\"^4.19.2\"".to_string())
        .chain(extra.iter().map(|d| format!("\"{d}\":\"1\"")))
        .collect();
    format!(r#"{{"name":"api","dependencies":{{{}}}}}"#, deps.join(","))
}

/// Asserts the check failed at the repository level (something is missing).
#[track_caller]
fn assert_missing(report: &Report, id: &str) {
    let f = findings(report, id);
    assert_eq!(outcome(report, id), Outcome::Fail, "{id} should fail");
    assert!(f.len() == 1 && f[0].location.is_none(), "{id}: {f:#?}");
}

// ---------- applicability and scope ----------

#[test]
fn stack_names_node_frameworks_orms_and_languages() {
    let pkg = r#"{"dependencies":{"express":"4","@prisma/client":"5","knex":"3","sequelize":"6","typeorm":"0.3","drizzle-orm":"0.30"}}"#;
    let r = express_with(pkg, &[("src/app.ts", "export const x = 1;\n"), ("src/b.mjs", "export default 1;\n")]);
    assert_eq!(r.stack.frameworks, vec!["express"]);
    assert_eq!(r.stack.orms, vec!["drizzle", "knex", "prisma", "sequelize", "typeorm"]);
    assert!(r.stack.languages.contains_key("TypeScript") && r.stack.languages.contains_key("JavaScript"));
}

#[test]
fn a_front_end_package_is_not_server_code_and_without_a_server_nothing_applies() {
    let react = r#"{"name":"web","dependencies":{"react":"18","axios":"1"}}"#;
    let app =
        "import axios from 'axios';\nexport const load = () => axios.get('/api/items');\ntry { x() } catch (e) {}\n";
    let only_front = scan(&[("package.json", react), ("src/App.tsx", app)]);
    for id in ["cors-wildcard", "swallowed-exceptions", "outbound-http-no-timeout", "health-endpoint-missing"] {
        assert_eq!(outcome(&only_front, id), Outcome::NotApplicable, "{id}");
    }
    // A monorepo: the API is judged, its sibling front end is not read.
    let mono = scan(&[
        ("api/package.json", EXPRESS_PKG),
        (
            "api/src/server.js",
            "const express = require('express');\nconst app = express();\napp.get('/health', (req, res) => res.send('ok'));\napp.listen(3000);\nprocess.on('SIGTERM', () => server.close());\n",
        ),
        ("web/package.json", react),
        ("web/src/App.tsx", app),
    ]);
    assert_passes(&mono, "swallowed-exceptions");
    assert_passes(&mono, "outbound-http-no-timeout");
    assert_passes(&mono, "health-endpoint-missing");
}

// ---------- cors-wildcard, cors-duplicate, localhost-in-config ----------

#[test]
fn cors_wildcard_express_default_options_origin_true_with_credentials() {
    let src = "const express = require('express');\nconst cors = require('cors');\nconst app = express();\n// app.use(cors({ origin: '*' })) was the old setup\nconst note = \"cors()\";\napp.use(cors());\n";
    let f = assert_fails_at(&express(src), "cors-wildcard", "src/server.js", 6);
    assert_eq!(f.severity, Severity::High);
    let creds = "import express from 'express';\nimport cors from 'cors';\nconst app = express();\napp.use(\n  cors({\n    origin: true,\n    credentials: true,\n  }),\n);\n";
    let r = express_with(EXPRESS_PKG, &[("src/app.ts", creds)]);
    let f = assert_fails_at(&r, "cors-wildcard", "src/app.ts", 6);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(r.check("cors-wildcard").unwrap().severity, Severity::Critical);
}

#[test]
fn cors_from_configuration_passes_and_test_files_are_ignored() {
    let src = "const cors = require('cors');\napp.use(cors({ origin: process.env.CORS_ORIGINS.split(','), credentials: true }));\n";
    let r = express_with(
        EXPRESS_PKG,
        &[
            ("src/server.js", src),
            ("src/server.test.js", "app.use(cors());\n"),
            ("test/e2e.js", "app.use(cors({origin: '*'}));\n"),
        ],
    );
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "localhost-in-config");
}

#[test]
fn cors_wildcard_nest_enable_cors_and_factory_option() {
    let main = "import { NestFactory } from '@nestjs/core';\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.enableCors();\n  await app.listen(3000);\n}\n";
    assert_fails_at(&nest(&[("src/main.ts", main)]), "cors-wildcard", "src/main.ts", 4);
    let factory =
        "async function bootstrap() {\n  const app = await NestFactory.create(AppModule, { cors: true });\n}\n";
    assert_fails_at(&nest(&[("src/main.ts", factory)]), "cors-wildcard", "src/main.ts", 2);
    let fixed = "async function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.enableCors({ origin: config.get('CORS_ORIGINS') });\n}\n";
    assert_passes(&nest(&[("src/main.ts", fixed)]), "cors-wildcard");
}

#[test]
fn cors_wildcard_fastify_register_and_hand_set_header() {
    let src = "import Fastify from 'fastify';\nimport cors from '@fastify/cors';\nconst fastify = Fastify();\nawait fastify.register(cors, { origin: '*' });\n";
    assert_fails_at(&fastify(src), "cors-wildcard", "src/server.mjs", 4);
    let fixed = "import Fastify from 'fastify';\nimport cors from '@fastify/cors';\nconst fastify = Fastify();\nawait fastify.register(cors, { origin: allowedOrigins });\n";
    assert_passes(&fastify(fixed), "cors-wildcard");
    let header =
        "app.use((req, res, next) => {\n  res.setHeader('Access-Control-Allow-Origin', '*');\n  next();\n});\n";
    assert_fails_at(&express(header), "cors-wildcard", "src/server.js", 2);
}

#[test]
fn cors_chosen_by_the_environment_is_configuration_not_a_default() {
    let main = "async function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  if (isProduction) {\n    app.enableCors({ origin: config.get('ORIGINS').split(','), credentials: true });\n  } else {\n    app.enableCors({ origin: true, credentials: true });\n  }\n}\n";
    let r = nest(&[("src/main.ts", main)]);
    assert_passes(&r, "cors-wildcard");
    assert_passes(&r, "cors-duplicate");
}

#[test]
fn cors_duplicate_on_one_app_and_localhost_only_origins() {
    let src = "const cors = require('cors');\nconst app = express();\napp.use(cors({ origin: ['http://localhost:3000', 'http://127.0.0.1:5173'] }));\napp.use(cors({ origin: process.env.WEB_ORIGIN }));\n";
    let r = express(src);
    assert_fails_at(&r, "cors-duplicate", "src/server.js", 4);
    assert_fails_at(&r, "localhost-in-config", "src/server.js", 3);
    let one = "const cors = require('cors');\napp.use(cors({ origin: process.env.WEB_ORIGIN }));\n";
    assert_passes(&express(one), "cors-duplicate");
}

// ---------- debug-enabled, api-docs-exposed ----------

#[test]
fn debug_enabled_on_hard_coded_development_env() {
    let src = "const app = express();\napp.set('env', 'development');\n";
    assert_fails_at(&express(src), "debug-enabled", "src/server.js", 2);
    let guarded = "const app = express();\nif (process.env.LOCAL === '1') {\n  app.set('env', 'development');\n}\n";
    assert_passes(&express(guarded), "debug-enabled");
}

#[test]
fn api_docs_exposed_nest_swagger_and_swagger_ui_express() {
    let main = "import { SwaggerModule } from '@nestjs/swagger';\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  SwaggerModule.setup('docs', app, document);\n}\n";
    assert_fails_at(&nest(&[("src/main.ts", main)]), "api-docs-exposed", "src/main.ts", 4);
    let guarded = "async function bootstrap() {\n  if (process.env.NODE_ENV !== 'production') {\n    SwaggerModule.setup('docs', app, document);\n  }\n}\n";
    assert_passes(&nest(&[("src/main.ts", guarded)]), "api-docs-exposed");
    let express_docs =
        "const swaggerUi = require('swagger-ui-express');\napp.use('/docs', swaggerUi.serve, swaggerUi.setup(spec));\n";
    assert_fails_at(&express(express_docs), "api-docs-exposed", "src/server.js", 2);
}

// ---------- security-headers-missing, rate limits ----------

#[test]
fn security_headers_and_rate_limits_follow_the_middleware() {
    let bare = express("const app = express();\napp.get('/items', list);\n");
    assert_missing(&bare, "security-headers-missing");
    assert_missing(&bare, "rate-limit-missing");
    assert_eq!(outcome(&bare, "rate-limit-in-memory"), Outcome::NotApplicable);
    let src = "const helmet = require('helmet');\nconst rateLimit = require('express-rate-limit');\napp.use(helmet());\napp.use(rateLimit({ windowMs: 60000, max: 100 }));\n";
    let r = express_with(&express_pkg(&["helmet", "express-rate-limit"]), &[("src/server.js", src)]);
    assert_passes(&r, "security-headers-missing");
    assert_passes(&r, "rate-limit-missing");
    assert_fails_at(&r, "rate-limit-in-memory", "src/server.js", 4);
    let redis = src.replace("max: 100 }", "max: 100, store: new RedisStore({ sendCommand }) }");
    let r = express_with(&express_pkg(&["helmet", "express-rate-limit"]), &[("src/server.js", &redis)]);
    assert_passes(&r, "rate-limit-in-memory");
}

#[test]
fn nest_throttler_and_fastify_helmet() {
    let module = "import { ThrottlerModule } from '@nestjs/throttler';\n@Module({ imports: [ThrottlerModule.forRoot([{ ttl: 60000, limit: 10 }])] })\nexport class AppModule {}\n";
    let pkg = r#"{"dependencies":{"@nestjs/core":"10","@nestjs/throttler":"5"}}"#;
    let r = express_with(pkg, &[("src/app.module.ts", module)]);
    assert_passes(&r, "rate-limit-missing");
    assert_fails_at(&r, "rate-limit-in-memory", "src/app.module.ts", 2);
    let src = "import Fastify from 'fastify';\nimport helmet from '@fastify/helmet';\nconst app = Fastify();\nawait app.register(helmet);\n";
    assert_passes(&fastify(src), "security-headers-missing");
    let mem = "import { RateLimiterMemory } from 'rate-limiter-flexible';\nconst limiter = new RateLimiterMemory({ points: 5, duration: 1 });\n";
    assert_fails_at(&fastify(mem), "rate-limit-in-memory", "src/server.mjs", 2);
}

// ---------- weak-password-hash, jwt, tls ----------

#[test]
fn weak_password_hash_on_fast_digests_of_passwords_only() {
    let src = "const crypto = require('crypto');\nfunction register(user) {\n  user.hash = crypto.createHash('sha256').update(user.password).digest('hex');\n}\nconst etag = crypto.createHash('sha1').update(body).digest('hex');\n";
    assert_fails_at(&express(src), "weak-password-hash", "src/server.js", 3);
    let ok = "const bcrypt = require('bcrypt');\nasync function register(user) {\n  user.hash = await bcrypt.hash(user.password, 12);\n}\n";
    assert_passes(&express(ok), "weak-password-hash");
}

#[test]
fn jwt_none_algorithm_and_ignored_expiry_fail() {
    let src = "import jwt from 'jsonwebtoken';\nexport function auth(token: string) {\n  return jwt.verify(token, key, { algorithms: ['HS256', 'none'] });\n}\nexport const lax = (t: string) => jwt.verify(t, key, {\n  ignoreExpiration: true,\n});\n";
    let r = express_with(EXPRESS_PKG, &[("src/auth.ts", src)]);
    let f = findings(&r, "jwt-verification-disabled");
    let lines: Vec<_> = f.iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![3, 6]);
    let ok = "import jwt from 'jsonwebtoken';\nexport const auth = (t: string) => jwt.verify(t, key, { algorithms: ['HS256'] });\n";
    assert_passes(&express_with(EXPRESS_PKG, &[("src/auth.ts", ok)]), "jwt-verification-disabled");
}

#[test]
fn tls_verify_disabled_by_option_and_env() {
    let src = "const https = require('https');\nconst agent = new https.Agent({ rejectUnauthorized: false });\n";
    assert_fails_at(&express(src), "tls-verify-disabled", "src/server.js", 2);
    let env = "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n";
    assert_fails_at(&express(env), "tls-verify-disabled", "src/server.js", 1);
    let ok = "const agent = new https.Agent({ ca: fs.readFileSync(caPath) });\n// rejectUnauthorized: false\nfunction ssl(sslMode) {\n  if (sslMode === 'require') {\n    return { rejectUnauthorized: false };\n  }\n  return true;\n}\n";
    assert_passes(&express(ok), "tls-verify-disabled");
}

// ---------- sql-injection-risk, unsafe-deserialization, upload-unbounded ----------

#[test]
fn sql_built_from_values_fails_parameterised_passes() {
    let src = "export async function find(id: string) {\n  return pool.query(`SELECT * FROM users WHERE id = ${id}`);\n}\nexport async function byName(name: string) {\n  const sql = \"SELECT * FROM users WHERE name = '\" + name + \"'\";\n  return db.query(sql);\n}\nexport const raw = (q: string) => prisma.$queryRawUnsafe(`SELECT * FROM t WHERE a = ${q}`);\n";
    let r = express_with(EXPRESS_PKG, &[("src/repo.ts", src)]);
    let lines: Vec<_> =
        findings(&r, "sql-injection-risk").iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![2, 6, 8]);
    let ok = "export const find = (id: string) => pool.query('SELECT * FROM users WHERE id = $1', [id]);\nexport const safe = (id: string) => prisma.$queryRaw`SELECT * FROM users WHERE id = ${id}`;\nexport const label = (n: number) => logger.info(`found ${n} rows`);\n";
    assert_passes(&express_with(EXPRESS_PKG, &[("src/repo.ts", ok)]), "sql-injection-risk");
}

#[test]
fn eval_of_request_data_and_multer_without_limits() {
    let src = "app.post('/calc', (req, res) => {\n  res.json(eval(req.body.expr));\n});\nconst two = eval('1 + 1');\n";
    assert_fails_at(&express(src), "unsafe-deserialization", "src/server.js", 2);
    let upload = "const multer = require('multer');\nconst upload = multer({ dest: 'uploads/' });\n";
    let r = express(upload);
    assert_fails_at(&r, "upload-unbounded", "src/server.js", 2);
    let bounded = "const multer = require('multer');\nconst upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 5 * 1024 * 1024 } });\n";
    assert_passes(&express(bounded), "upload-unbounded");
}

// ---------- insecure-default-secret ----------

#[test]
fn secret_fallbacks_on_one_line_across_lines_and_through_a_variable() {
    let src = "const config = {\n  jwtSecret: process.env.JWT_SECRET || 'dev-secret',\n  session:\n    process.env.SESSION_SECRET ??\n    'keyboard cat',\n  port: process.env.PORT || 3000,\n};\nconst apiKey = process.env.API_KEY;\nexport const key = apiKey\n  ? apiKey\n  : 'sk_test_local';\nconst { COOKIE_SECRET = 'cookie-dev' } = process.env;\n// const old = process.env.JWT_SECRET || 'old';\nconst doc = \"process.env.JWT_SECRET || 'x'\";\n";
    let r = express_with(
        EXPRESS_PKG,
        &[("src/config.ts", src), ("src/config.test.ts", "const s = process.env.JWT_SECRET || 'test';\n")],
    );
    let f = findings(&r, "insecure-default-secret");
    let lines: Vec<_> = f.iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![2, 5, 11, 12], "{f:#?}");
    assert!(
        f.iter().all(|f| !f.evidence.contains("keyboard cat") || f.evidence.contains('"')),
        "masked or placeholder"
    );
    let ok = "const secret = process.env.JWT_SECRET;\nif (!secret) throw new Error('JWT_SECRET is required');\nexport const port = process.env.PORT || 3000;\n";
    assert_passes(&express_with(EXPRESS_PKG, &[("src/config.cjs", ok)]), "insecure-default-secret");
}

// ---------- data ----------

#[test]
fn migrations_for_prisma_typeorm_sequelize_knex_and_drizzle() {
    let prisma = r#"{"dependencies":{"express":"4","@prisma/client":"5"}}"#;
    let code = ("src/server.js", "app.get('/x', h);\n");
    assert_missing(
        &express_with(prisma, &[code, ("prisma/schema.prisma", "datasource db {\n  provider = \"postgresql\"\n}\n")]),
        "migrations-missing",
    );
    assert_passes(
        &express_with(prisma, &[code, ("prisma/migrations/20240101_init/migration.sql", "CREATE TABLE a (id int);\n")]),
        "migrations-missing",
    );
    let typeorm = r#"{"dependencies":{"@nestjs/core":"10","typeorm":"0.3"}}"#;
    assert_passes(
        &express_with(
            typeorm,
            &[("src/main.ts", "x();\n"), ("src/migrations/1700000000000-Init.ts", "export class Init {}\n")],
        ),
        "migrations-missing",
    );
    let sequelize = r#"{"dependencies":{"express":"4","sequelize":"6"}}"#;
    assert_missing(&express_with(sequelize, &[code]), "migrations-missing");
    let knex = r#"{"dependencies":{"express":"4","knex":"3","pg":"8"}}"#;
    assert_missing(&express_with(knex, &[code]), "migrations-missing");
    assert_passes(
        &express_with(knex, &[code, ("migrations/20240101_users.js", "exports.up = () => {};\n")]),
        "migrations-missing",
    );
    let drizzle = r#"{"dependencies":{"fastify":"4","drizzle-orm":"0.30"}}"#;
    assert_passes(
        &express_with(
            drizzle,
            &[("src/server.mjs", "x();\n"), ("drizzle/0000_init.sql", "CREATE TABLE a (id int);\n")],
        ),
        "migrations-missing",
    );
}

#[test]
fn schema_sync_at_startup_sequelize_and_typeorm() {
    let src = "const sequelize = new Sequelize(process.env.DATABASE_URL);\nawait sequelize.sync({ alter: true });\n";
    assert_fails_at(&express(src), "schema-created-at-startup", "src/server.js", 2);
    let typeorm = "export const AppDataSource = new DataSource({\n  type: 'postgres',\n  url: process.env.DATABASE_URL,\n  synchronize: true,\n});\n";
    assert_fails_at(&nest(&[("src/data-source.ts", typeorm)]), "schema-created-at-startup", "src/data-source.ts", 4);
    let ok = "export const AppDataSource = new DataSource({\n  type: 'postgres',\n  synchronize: false,\n  migrations: ['dist/migrations/*.js'],\n});\nawait sequelize.sync();\n";
    assert_passes(&nest(&[("src/data-source.ts", ok)]), "schema-created-at-startup");
}

#[test]
fn sqlite_in_typeorm_options_and_prisma_schema() {
    let typeorm = "TypeOrmModule.forRoot({\n  type: 'sqlite',\n  database: 'db.sqlite',\n});\n";
    assert_fails_at(&nest(&[("src/app.module.ts", typeorm)]), "sqlite-in-production", "src/app.module.ts", 2);
    let schema = "generator client {\n  provider = \"prisma-client-js\"\n}\n\ndatasource db {\n  provider = \"sqlite\"\n  url      = env(\"DATABASE_URL\")\n}\n";
    let r = express_with(EXPRESS_PKG, &[("src/server.js", "x();\n"), ("prisma/schema.prisma", schema)]);
    assert_fails_at(&r, "sqlite-in-production", "prisma/schema.prisma", 6);
    let pg = schema.replace("\"sqlite\"", "\"postgresql\"");
    assert_passes(
        &express_with(EXPRESS_PKG, &[("src/server.js", "x();\n"), ("prisma/schema.prisma", &pg)]),
        "sqlite-in-production",
    );
}

#[test]
fn unbounded_list_routes_express_and_nest() {
    let src = "app.get('/users', async (req, res) => {\n  res.json(await prisma.user.findMany());\n});\napp.get('/posts', async (req, res) => {\n  const take = Number(req.query.limit ?? 20);\n  res.json(await prisma.post.findMany({ take }));\n});\napp.get('/users/:id', async (req, res) => res.json(await prisma.user.findMany({ where: { id: req.params.id } })));\n";
    assert_fails_at(&express(src), "unbounded-list-endpoint", "src/server.js", 2);
    let ctl = "@Controller('orders')\nexport class OrdersController {\n  @Get()\n  findAll() {\n    return this.orders.find();\n  }\n  @Get('recent')\n  recent() {\n    return this.orders.find().limit(10);\n  }\n}\n";
    assert_fails_at(
        &nest(&[("src/orders.controller.ts", ctl)]),
        "unbounded-list-endpoint",
        "src/orders.controller.ts",
        5,
    );
}

#[test]
fn local_file_storage_unless_object_storage_is_used() {
    let src = "const multer = require('multer');\nconst storage = multer.diskStorage({ destination: 'uploads/' });\nconst upload = multer({ storage, limits: { fileSize: 1e6 } });\n";
    assert_fails_at(&express(src), "local-file-storage", "src/server.js", 2);
    let r = express_with(&express_pkg(&["multer", "@aws-sdk/client-s3"]), &[("src/server.js", src)]);
    assert_passes(&r, "local-file-storage");
}

// ---------- reliability ----------

#[test]
fn sync_io_in_handlers_blocks_the_event_loop() {
    let src = "const fs = require('fs');\nconst template = fs.readFileSync('t.html', 'utf8');\napp.get('/report', (req, res) => {\n  res.send(fs.readFileSync(path, 'utf8'));\n});\n";
    assert_fails_at(&express(src), "blocking-call-in-async", "src/server.js", 4);
    let ok = "const fs = require('fs');\nconst template = fs.readFileSync('t.html', 'utf8');\nasync function writeSchema() {\n  fs.writeFileSync('schema.gql', await build());\n}\napp.get('/report', async (req, res) => res.send(await fs.promises.readFile(path)));\n";
    assert_passes(&express(ok), "blocking-call-in-async");
}

#[test]
fn axios_without_timeout_unless_set_per_call_or_by_default() {
    let src = "import axios from 'axios';\nexport const load = () => axios.get(url);\nexport const ok = () => axios.get(url, { timeout: 5000 });\nexport const api = axios.create({ baseURL: base });\n";
    let r = express_with(EXPRESS_PKG, &[("src/client.ts", src)]);
    let lines: Vec<_> =
        findings(&r, "outbound-http-no-timeout").iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![2, 4]);
    let errors = "import axios, { AxiosError } from 'axios';\nexport const fail = () => { throw new AxiosError('bad'); };\nexport const api = axios.create({ timeout: 5000 });\n";
    assert_passes(&express_with(EXPRESS_PKG, &[("src/errors.ts", errors)]), "outbound-http-no-timeout");
    let defaults = "import axios from 'axios';\naxios.defaults.timeout = 10_000;\n";
    let r = express_with(EXPRESS_PKG, &[("src/client.ts", src), ("src/http.ts", defaults)]);
    assert_passes(&r, "outbound-http-no-timeout");
}

#[test]
fn graceful_shutdown_for_express_nest_and_fastify() {
    let bare = "const app = express();\napp.listen(process.env.PORT || 3000, () => console.log('up'));\n";
    assert_fails_at(&express(bare), "no-graceful-shutdown", "src/server.js", 2);
    let handled = format!("{bare}process.on('SIGTERM', () => server.close(() => process.exit(0)));\n");
    assert_passes(&express(&handled), "no-graceful-shutdown");
    let main = "async function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.enableShutdownHooks();\n  await app.listen(3000);\n}\n";
    assert_passes(&nest(&[("src/main.ts", main)]), "no-graceful-shutdown");
    let f = "import Fastify from 'fastify';\nconst app = Fastify();\nawait app.listen({ port: 3000 });\n";
    assert_fails_at(&fastify(f), "no-graceful-shutdown", "src/server.mjs", 3);
    let graceful = "import closeWithGrace from 'close-with-grace';\nconst app = Fastify();\ncloseWithGrace(async () => app.close());\nawait app.listen({ port: 3000 });\n";
    assert_passes(&fastify(graceful), "no-graceful-shutdown");
}

#[test]
fn empty_catch_blocks_and_promise_catches_are_swallowed() {
    let src = "try {\n  work();\n} catch (e) {}\nload().catch(() => {});\ntry { a(); } catch (err) { logger.error(err); }\nconst s = 'catch (e) {}';\n";
    let r = express(src);
    let lines: Vec<_> =
        findings(&r, "swallowed-exceptions").iter().map(|f| f.location.as_ref().unwrap().line.unwrap()).collect();
    assert_eq!(lines, vec![3, 4]);
    assert_passes(&express("try { a(); } catch (err) { next(err); }\n"), "swallowed-exceptions");
    let explained = "try {\n  url = new URL(raw);\n} catch {\n  // not a URL: keep the raw text\n}\n";
    assert_passes(&express(explained), "swallowed-exceptions");
}

#[test]
fn email_in_a_handler_needs_a_queue() {
    let src = "app.post('/signup', async (req, res) => {\n  await transporter.sendMail({ to: req.body.email });\n  res.sendStatus(201);\n});\n";
    assert_fails_at(&express(src), "no-background-worker", "src/server.js", 2);
    assert_passes(&express_with(&express_pkg(&["bullmq"]), &[("src/server.js", src)]), "no-background-worker");
}

// ---------- observability ----------

#[test]
fn health_routes_in_express_nest_and_fastify() {
    let none = express("// app.get('/health', ok)\napp.get('/items', list);\n");
    assert_missing(&none, "health-endpoint-missing");
    assert_eq!(outcome(&none, "health-shallow"), Outcome::NotApplicable);
    let r = express("app.get('/healthz', (req, res) => res.json({ status: 'ok' }));\n");
    assert_passes(&r, "health-endpoint-missing");
    let ctl = "@Controller('health')\nexport class HealthController {\n  @Get()\n  check() {\n    return { ok: true };\n  }\n}\n";
    assert_passes(&nest(&[("src/health/health.controller.ts", ctl)]), "health-endpoint-missing");
    let f = "fastify.route({ method: 'GET', url: '/ready', handler: async () => ({ ok: true }) });\n";
    assert_passes(&fastify(f), "health-endpoint-missing");
}

#[test]
fn health_shallow_when_a_database_is_not_checked() {
    let pkg = r#"{"dependencies":{"express":"4","@prisma/client":"5"}}"#;
    let shallow = "app.get('/health', (req, res) => res.json({ status: 'ok' }));\n";
    assert_fails_at(&express_with(pkg, &[("src/server.js", shallow)]), "health-shallow", "src/server.js", 1);
    let deep = "app.get('/health', async (req, res) => {\n  await prisma.$queryRaw`SELECT 1`;\n  res.json({ status: 'ok' });\n});\n";
    assert_passes(&express_with(pkg, &[("src/server.js", deep)]), "health-shallow");
}

#[test]
fn console_logging_above_the_threshold_and_hard_coded_debug_level() {
    let many = "console.log('a');\nconsole.log('b');\nconsole.info('c');\nconsole.log('d');\nconsole.debug('e');\nconsole.log('f');\n";
    let r = express(many);
    let f = assert_fails_at(&r, "print-logging", "src/server.js", 1);
    assert!(f.message.starts_with("6 console.log() calls"), "{}", f.message);
    assert_passes(&express("console.log('listening');\nconsole.error(err);\n"), "print-logging");
    let pino = "import pino from 'pino';\nexport const logger = pino({ level: 'debug' });\n";
    assert_fails_at(&express_with(EXPRESS_PKG, &[("src/logger.ts", pino)]), "log-level-hardcoded", "src/logger.ts", 2);
    let env = "import pino from 'pino';\nexport const logger = pino({ level: process.env.LOG_LEVEL || 'info' });\n";
    assert_passes(&express_with(EXPRESS_PKG, &[("src/logger.ts", env)]), "log-level-hardcoded");
}

#[test]
fn tsx_and_cjs_files_are_read() {
    let tsx = "import jwt from 'jsonwebtoken';\nexport const Page = () => <div>{jwt.verify(t, k, { ignoreExpiration: true }) ? 'a' : 'b'}</div>;\n";
    let cjs = "module.exports = { secret: process.env.SESSION_SECRET || 'abc123secret' };\n";
    let r = express_with(EXPRESS_PKG, &[("src/page.tsx", tsx), ("src/config.cjs", cjs)]);
    assert_fails_at(&r, "jwt-verification-disabled", "src/page.tsx", 2);
    assert_fails_at(&r, "insecure-default-secret", "src/config.cjs", 1);
}
