//! The secrets category on real git repositories: credentials in text
//! files, committed dotenv and key files, `.env` ignore rules and the
//! documented environment.
//!
//! Credentials are assembled at run time (`k(&[...])`) so this file itself
//! holds nothing a scanner would report.

use base64::Engine;
use chrono::NaiveDate;
use shipshape_analysis::{Options, Outcome, Report, analyze};
use shipshape_testkit::GitRepo;

fn scan(r: &GitRepo) -> Report {
    analyze(
        r.path(),
        &Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() },
    )
    .unwrap()
}

fn outcome(report: &Report, id: &str) -> Outcome {
    report.check(id).unwrap_or_else(|| panic!("no check {id}")).outcome
}

/// (path, line, evidence) of every finding of `id`.
fn findings(report: &Report, id: &str) -> Vec<(String, Option<u32>, String)> {
    report
        .check(id)
        .unwrap()
        .findings
        .iter()
        .map(|f| {
            let loc = f.location.clone();
            (loc.as_ref().map(|l| l.path.clone()).unwrap_or_default(), loc.and_then(|l| l.line), f.evidence.clone())
        })
        .collect()
}

fn k(parts: &[&str]) -> String {
    parts.concat()
}

fn aws() -> String {
    k(&["AKIA", "Z7QH3M2KXW4TLP9V"])
}

fn github() -> String {
    k(&["ghp_", "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"])
}

fn jwt(payload: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(payload),
        "KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7"
    )
}

fn private_key() -> String {
    let body = "UStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF\n".repeat(4);
    k(&["-----BEGIN ", "RSA PRIVATE KEY-----\n", &body, "-----END ", "RSA PRIVATE KEY-----\n"])
}

#[test]
fn provider_keys_are_found_at_their_line_and_masked() {
    let config = format!(
        "# settings\naws_key_id: {}\ngithub: {}\nstripe: {}\nslack: {}\nopenai: {}\nanthropic: {}\n",
        aws(),
        github(),
        k(&["sk_live_", "4eC39HqLyjWDarjtT1zdp7dc9x"]),
        k(&["https://hooks.slack.com/services/", "T0A1B2C3D/B0E4F5G6H/Xk29sLq8vZ3mN7pR1tY5wQ0e"]),
        k(&["sk-proj-", "DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQed"]),
        k(&["sk-ant-api03-", "DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rESQed"]),
    );
    let r = GitRepo::with_files(&[("deploy/config.yaml", &config)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "hardcoded-secret"), Outcome::Fail);
    let f = findings(&report, "hardcoded-secret");
    let lines: Vec<Option<u32>> = f.iter().map(|x| x.1).collect();
    assert_eq!(lines, vec![Some(2), Some(3), Some(4), Some(5), Some(6), Some(7)], "{f:?}");
    assert_eq!(f[0].2, "AWS access key id: AKIA… (20 chars)");
    assert!(f[5].2.starts_with("Anthropic API key: "), "{f:?}");
    let json = serde_json::to_string(&report).unwrap();
    for secret in [aws(), github()] {
        assert!(!json.contains(&secret), "the report must never hold a secret value");
    }
}

#[test]
fn placeholders_and_documentation_examples_are_not_secrets() {
    let r = GitRepo::with_files(&[
        ("config/settings.yaml", "db:\n  password: changeme\n  token: ${API_TOKEN}\napi_key: <your-api-key>\n"),
        ("config/aws.ini", &k(&["aws_access_key_id = AKIA", "IOSFODNN7EXAMPLE\n"])),
        (".env.example", "SECRET_KEY=your-secret-key-here\nDB_PASSWORD=\n"),
        (
            "README.md",
            "Log in with `password: hK3v9qLm2xP7`\n\n```\nDATABASE_URL=postgres://app:Zq81mPx4@db.example.org/app\n```\n",
        ),
        ("app/main.py", "password = os.environ[\"DB_PASSWORD\"]\nurl = f\"postgresql://{user}:{pw}@{host}/db\"\n"),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "hardcoded-secret"), Outcome::Pass, "{:?}", findings(&report, "hardcoded-secret"));
}

#[test]
fn provider_credentials_in_docs_still_count() {
    let r = GitRepo::with_files(&[("docs/setup.md", &format!("Export it:\n\n    export GITHUB_TOKEN={}\n", github()))]);
    let report = scan(&r);
    assert_eq!(
        findings(&report, "hardcoded-secret"),
        vec![("docs/setup.md".into(), Some(3), "GitHub token: ghp_… (40 chars)".into())]
    );
}

#[test]
fn generated_secrets_in_a_deployment_guide_count_but_examples_do_not() {
    // A signing secret pasted into a deploy guide is published, not an example.
    let secret = k(&["Qm9vVXJ7kLp2ZxTn4", "RwYc8HsJd3FgA6eBtNq1WzMv5"]);
    let guide = format!(
        "# Deploy\n\n```\nENVIRONMENT=production\nSUPABASE_JWT_SECRET={secret}\nADMIN_PASSWORD=hK3v9qLm2xP7\nAPI_TOKEN=<your-token>\n```\n"
    );
    let r = GitRepo::with_files(&[("docs/DEPLOY.md", &guide)]);
    assert_eq!(
        findings(&scan(&r), "hardcoded-secret"),
        vec![("docs/DEPLOY.md".into(), Some(5), "hard-coded value for SUPABASE_JWT_SECRET: Qm9v… (42 chars)".into())]
    );
    // Hex digests and prose stay out: no mixed case, or no assignment.
    let hex = "SECRET_KEY=09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7\n";
    let r = GitRepo::with_files(&[("README.md", hex)]);
    assert_eq!(outcome(&scan(&r), "hardcoded-secret"), Outcome::Pass);
}

#[test]
fn django_secret_keys_in_dotenv_files_are_read_whole() {
    // get_random_secret_key() draws from `!@#$%^&*(-_=+)`: in a dotenv file
    // those are characters of the value, not code or a comment.
    let key = k(&["q7v!t(2m#x8", "k@z4)w_n9b=r3p%j6h^s-c0f+d&g1y*e5u"]);
    let env = format!("DEBUG=False\nDJANGO_SECRET_KEY={key}  # rotate me\nAPI_TOKEN=\n");
    let r = GitRepo::with_files(&[(".env", &env)]);
    assert_eq!(
        findings(&scan(&r), "hardcoded-secret"),
        vec![(".env".into(), Some(2), "hard-coded value for DJANGO_SECRET_KEY: q7v!… (45 chars)".into())]
    );
    // In code the same brackets still mean an expression.
    let r = GitRepo::with_files(&[("app/config.py", "SECRET_KEY = build_key(seed)\n")]);
    assert_eq!(outcome(&scan(&r), "hardcoded-secret"), Outcome::Pass);
}

#[test]
fn generic_assignments_and_url_passwords_are_found_in_config_and_code() {
    let r = GitRepo::with_files(&[
        ("config/prod.toml", "[db]\nhost = \"db.internal\"\npassword = \"hK3v9qLm2xP7\"\n"),
        (
            "app/settings.py",
            &k(&["import os\nDATABASE_URL = \"postgresql://app:", "Wq7zR2mX9k@db.prod.internal:5432/app\"\n"]),
        ),
        ("app/client.js", "const client = new Api({ apiKey: \"a8f5f167f44f4964e6c998dee827110c\" });\n"),
    ]);
    let f = findings(&scan(&r), "hardcoded-secret");
    let got: Vec<(&str, Option<u32>)> = f.iter().map(|x| (x.0.as_str(), x.1)).collect();
    assert_eq!(got, vec![("app/client.js", Some(1)), ("app/settings.py", Some(2)), ("config/prod.toml", Some(3))]);
    assert_eq!(f[1].2, "password in postgresql URL: Wq7z… (10 chars)");
    assert_eq!(f[2].2, "hard-coded value for password: hK3v… (12 chars)");
}

#[test]
fn jwts_count_when_they_are_secret_and_private_keys_at_the_header_line() {
    let service = jwt(r#"{"iss":"supabase","ref":"xyzcompany","role":"service_role","iat":1700000000}"#);
    let anon = jwt(r#"{"iss":"supabase","ref":"xyzcompany","role":"anon","iat":1700000000}"#);
    let r = GitRepo::with_files(&[
        ("web/.env.production", &format!("NEXT_PUBLIC_SUPABASE_ANON_KEY={anon}\n")),
        ("server/supabase.ts", &format!("// admin client\nconst key = \"{service}\";\n")),
        ("certs/server.pem", &format!("subject=CN=api\n{}", private_key())),
    ]);
    let f = findings(&scan(&r), "hardcoded-secret");
    let got: Vec<(&str, Option<u32>, &str)> =
        f.iter().map(|x| (x.0.as_str(), x.1, x.2.split(':').next().unwrap())).collect();
    assert_eq!(
        got,
        vec![
            ("certs/server.pem", Some(2), "private key (RSA PRIVATE KEY)"),
            ("server/supabase.ts", Some(2), "Supabase service_role JWT"),
        ]
    );
}

#[test]
fn test_files_count_for_provider_keys_but_not_for_fixture_passwords() {
    let r = GitRepo::with_files(&[
        (
            "tests/test_login.py",
            "def test_login(client):\n    client.post('/login', json={'password': 'Str0ngPassw0rd!'})\n",
        ),
        ("tests/conftest.py", "DB = 'postgresql://app:Kq83ndX2@localhost/test_db'\n"),
        ("tests/test_s3.py", &format!("import boto3\n\nKEY = '{}'\n", aws())),
    ]);
    let f = findings(&scan(&r), "hardcoded-secret");
    assert_eq!(f.iter().map(|x| (x.0.as_str(), x.1)).collect::<Vec<_>>(), vec![("tests/test_s3.py", Some(3))]);
}

#[test]
fn invalid_utf8_large_and_binary_files() {
    let r = GitRepo::new();
    let mut latin1 = b"caf\xe9 = 1\n\xff\xfe broken\n".to_vec();
    latin1.extend_from_slice(format!("token = \"{}\"\n", github()).as_bytes());
    r.write("app/legacy.cfg", latin1);
    let mut big = "x = 1 # filler line for a generated file\n".repeat(40_000);
    assert!(big.len() > 1024 * 1024);
    big.push_str(&format!("AWS_KEY = \"{}\"\n", aws()));
    r.write("data/generated.py", big);
    let mut binary = vec![0u8, 1, 2, 3];
    binary.extend_from_slice(aws().as_bytes());
    r.write("assets/blob.bin", binary);
    r.commit(shipshape_testkit::Commit::new("files"));
    let report = scan(&r);
    let got: Vec<(String, Option<u32>)> =
        findings(&report, "hardcoded-secret").into_iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(got, vec![("app/legacy.cfg".into(), Some(3)), ("data/generated.py".into(), Some(40_001))]);
}

#[test]
fn committed_dotenv_with_secret_values_fails_at_the_first_secret_line() {
    let r = GitRepo::with_files(&[
        (".env", "ENVIRONMENT=production\nDEBUG=false\nDB_PASSWORD=Tr0ub4dor&3x\n"),
        (".env.example", "DB_PASSWORD=changeme\n"),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "env-file-committed"), Outcome::Fail);
    let f = findings(&report, "env-file-committed");
    assert_eq!(f, vec![(".env".into(), Some(3), "holds DB_PASSWORD".into())]);
}

#[test]
fn dotenv_with_only_settings_or_placeholders_passes() {
    let r = GitRepo::with_files(&[
        (".env", "ENVIRONMENT=production\nSECRET_KEY=\nAPI_TOKEN=${API_TOKEN}\nDB_PASSWORD=<password>\n"),
        ("app/main.py", "print('hi')\n"),
    ]);
    assert_eq!(outcome(&scan(&r), "env-file-committed"), Outcome::Pass);
}

#[test]
fn key_files_and_service_accounts_are_committed_secrets() {
    let r = GitRepo::new();
    r.write("deploy/id_rsa", private_key());
    r.write("deploy/client.p12", [0x30u8, 0x82, 0x00, 0x00, 0x02, 0x01, 0x03]);
    r.write(
        "gcp/sa.json",
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"private_key\": \"{}\"\n}}\n",
            private_key().replace('\n', "\\n")
        ),
    );
    r.commit(shipshape_testkit::Commit::new("keys"));
    let f = findings(&scan(&r), "env-file-committed");
    let got: Vec<(&str, Option<u32>)> = f.iter().map(|x| (x.0.as_str(), x.1)).collect();
    assert_eq!(got, vec![("deploy/client.p12", None), ("deploy/id_rsa", Some(1)), ("gcp/sa.json", Some(3))]);
}

#[test]
fn env_file_not_ignored_fails_without_a_gitignore_rule() {
    let r = GitRepo::with_files(&[("app/config.py", "from dotenv import load_dotenv\n\nload_dotenv()\n")]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "env-file-not-ignored"), Outcome::Fail);
    assert_eq!(findings(&report, "env-file-not-ignored")[0].0, "app/config.py");
    assert_eq!(findings(&report, "env-file-not-ignored")[0].1, Some(3));
}

#[test]
fn env_file_ignored_passes_and_no_dotenv_is_not_applicable() {
    let r = GitRepo::with_files(&[
        (".gitignore", "__pycache__/\n.env\n!.env.example\n"),
        (
            "app/config.py",
            "from pydantic_settings import BaseSettings\n\nclass S(BaseSettings):\n    model_config = {\"env_file\": \".env\"}\n",
        ),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "env-file-not-ignored"), Outcome::Pass);
    let ev = &report.check("env-file-not-ignored").unwrap().evidence[0].message;
    assert!(ev.starts_with(".env ignored by .gitignore:2"), "{ev}");

    let none = GitRepo::with_files(&[("app/main.py", "import os\nprint(os.environ.get('X'))\n")]);
    assert_eq!(outcome(&scan(&none), "env-file-not-ignored"), Outcome::NotApplicable);
}

#[test]
fn env_example_missing_when_code_reads_env_without_documentation() {
    let r = GitRepo::with_files(&[("app/main.py", "import os\n\nDB = os.getenv('DATABASE_URL')\n")]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "env-example-missing"), Outcome::Fail);
    assert!(report.check("env-example-missing").unwrap().summary.contains("app/main.py:3"));
}

#[test]
fn env_example_missing_ignores_django_settings_module_defaults() {
    // manage.py and wsgi.py write a default; the settings read nothing.
    let manage = "import os\nimport sys\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n";
    let settings = "DEBUG = False\nALLOWED_HOSTS = ['shop.example.org']\n";
    let r = GitRepo::with_files(&[("manage.py", manage), ("proj/wsgi.py", manage), ("proj/settings.py", settings)]);
    assert_eq!(outcome(&scan(&r), "env-example-missing"), Outcome::NotApplicable);
    // A real read after the default in the same file still counts.
    let both = format!("{manage}DB = os.environ.get('DATABASE_URL')\n");
    let r = GitRepo::with_files(&[("manage.py", &both)]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "env-example-missing"), Outcome::Fail);
    assert!(report.check("env-example-missing").unwrap().summary.contains("manage.py:5"));
}

#[test]
fn env_example_or_readme_table_documents_the_environment() {
    let code = ("app/main.py", "import os\n\nDB = os.getenv('DATABASE_URL')\n");
    let with_example = GitRepo::with_files(&[code, (".env.example", "DATABASE_URL=\n")]);
    assert_eq!(outcome(&scan(&with_example), "env-example-missing"), Outcome::Pass);
    let readme =
        "# App\n\n## Environment variables\n\n| Name | Meaning |\n|---|---|\n| `DATABASE_URL` | Postgres DSN |\n";
    let with_readme = GitRepo::with_files(&[code, ("README.md", readme)]);
    let report = scan(&with_readme);
    assert_eq!(outcome(&report, "env-example-missing"), Outcome::Pass);
    assert_eq!(report.check("env-example-missing").unwrap().summary, "environment variables documented in README.md:3");
}

#[test]
fn env_reads_in_tests_only_are_not_applicable() {
    let r = GitRepo::with_files(&[
        ("app/main.py", "print('hello')\n"),
        ("tests/test_main.py", "import os\nassert os.getenv('CI') is not None\n"),
    ]);
    assert_eq!(outcome(&scan(&r), "env-example-missing"), Outcome::NotApplicable);
}

#[test]
fn example_tokens_are_not_reported() {
    let session = jwt(r#"{"username":"ada@example.com","iat":1641221031,"exp":1641825831}"#);
    let fixture = jwt(r#"{"sub":"user-1","data":"foo"}"#);
    let r = GitRepo::with_files(&[
        ("README.md", &format!("The login API returns:\n\n    {{\"token\": \"{session}\"}}\n")),
        ("tests/test_auth.py", &format!("TOKEN = \"{fixture}\"\n")),
        ("app/presign.py", &format!("# e.g. 'x-amz-credential': '{}/20220405/eu-central-1/s3/aws4_request'\n", aws())),
        ("app/fake.py", &k(&["KEY = 'AKIA", "ABCDEFGHIJKLMNOP'\n"])),
    ]);
    let report = scan(&r);
    assert_eq!(outcome(&report, "hardcoded-secret"), Outcome::Pass, "{:?}", findings(&report, "hardcoded-secret"));
}

#[test]
fn compose_env_file_and_anchored_gitignore_rules() {
    let compose = "services:\n  api:\n    build: .\n    env_file:\n      - .env\n";
    let anchored = GitRepo::with_files(&[
        (".gitignore", "/.env\n"),
        ("backend/pyproject.toml", "[project]\nname = \"api\"\ndependencies = [\"python-dotenv\"]\n"),
        ("backend/app/main.py", "from dotenv import load_dotenv\nload_dotenv()\n"),
    ]);
    let report = scan(&anchored);
    assert_eq!(outcome(&report, "env-file-not-ignored"), Outcome::Fail);
    assert!(report.check("env-file-not-ignored").unwrap().summary.contains("backend/.env"));

    let nested = GitRepo::with_files(&[
        ("docker-compose.yml", compose),
        (".gitignore", "*.pyc\n"),
        ("backend/.gitignore", ".env\n"),
    ]);
    let report = scan(&nested);
    assert_eq!(outcome(&report, "env-file-not-ignored"), Outcome::Fail);
    assert_eq!(findings(&report, "env-file-not-ignored")[0].0, "docker-compose.yml");
    assert_eq!(findings(&report, "env-file-not-ignored")[0].1, Some(4));

    let ok = GitRepo::with_files(&[("docker-compose.yml", compose), (".gitignore", ".env*\n!.env.example\n")]);
    assert_eq!(outcome(&scan(&ok), "env-file-not-ignored"), Outcome::Pass);
}
