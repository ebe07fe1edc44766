//! What goes into an image: a build context copied whole without a
//! `.dockerignore`, and secrets written into `ENV`/`ARG` (stored in the
//! image config and history for anyone who can pull it).

use super::docker::per_file;
use super::{dir_of, join};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::dockerfile::key_values;
use crate::mask;
use crate::model::{Category, Location, Severity};
use crate::repo::Repo;

pub fn checks() -> Vec<Check> {
    vec![Check { spec: DOCKERIGNORE, run: dockerignore_missing }, Check { spec: SECRET_IN_ENV, run: secret_in_env }]
}

const DOCKERIGNORE: CheckSpec = CheckSpec {
    id: "dockerignore-missing",
    title: "`COPY .` without a .dockerignore",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "build contexts are filtered by a .dockerignore",
    rationale: "`COPY . .` without a .dockerignore sends the whole directory into the image: `.git`, local `.env` files with real credentials, virtualenvs and node_modules. Secrets end up in a layer anyone with the image can read, and builds get slow.",
    fix: "Add a `.dockerignore` next to the build context listing at least `.git`, `.env*`, `node_modules`, `.venv`, `__pycache__` and build output; or copy only what the image needs (`COPY app/ ./app/`).",
};

/// `.env` files other than examples and templates.
fn env_files_exist(repo: &Repo<'_>) -> bool {
    repo.files().any(|e| {
        let n = e.file_name();
        (n == ".env" || n.starts_with(".env."))
            && !["example", "sample", "template", "dist", "defaults"].iter().any(|s| n.ends_with(s))
    })
}

fn dockerignore_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    let severity = env_files_exist(repo).then_some(Severity::Medium);
    per_file(
        repo,
        |df, d| {
            let path = &df.entry.path;
            let dir = dir_of(path);
            let ignored = [join("", ".dockerignore"), join(dir, ".dockerignore"), format!("{path}.dockerignore")]
                .iter()
                .any(|p| repo.file(p).is_some());
            if ignored {
                return vec![];
            }
            let copy_all = d.stages.iter().flat_map(|s| &s.instructions).find(|i| {
                if !matches!(i.keyword.as_str(), "COPY" | "ADD") || !i.heredocs.is_empty() {
                    return false;
                }
                let (flags, rest) = i.flags();
                // `COPY [".", "/app"]` is the JSON form of `COPY . /app`.
                let words: Vec<String> =
                    serde_json::from_str(rest).unwrap_or_else(|_| rest.split_whitespace().map(String::from).collect());
                !flags.iter().any(|(f, _)| *f == "from")
                    && words.len() >= 2
                    && words[..words.len() - 1].iter().any(|w| matches!(w.as_str(), "." | "./"))
            });
            copy_all
                .map(|i| {
                    let f = RawFinding::at(
                        Location::at(path, i.line),
                        format!("{path} copies the whole build context and there is no .dockerignore"),
                        format!("{} {}", i.keyword, i.args),
                    );
                    match severity {
                        Some(s) => f.with_severity(s),
                        None => f,
                    }
                })
                .into_iter()
                .collect()
        },
        |path| format!("{path}: no `COPY .` of an unfiltered context"),
    )
}

const SECRET_IN_ENV: CheckSpec = CheckSpec {
    id: "docker-secret-in-env",
    title: "Secret baked into the image",
    category: Category::Delivery,
    severity: Severity::High,
    pass_summary: "no secret-like ENV or ARG has a literal value",
    rationale: "`ENV` values are stored in the image config and `ARG` values in its history: anyone who can pull the image can read them with `docker inspect` or `docker history`, long after the variable was changed.",
    fix: "Remove the literal and pass the secret at run time (`docker run -e`, the platform's secret store, Kubernetes Secrets). For build-time secrets use BuildKit: `RUN --mount=type=secret,id=npm_token …`. Rotate the exposed value.",
};

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
    "AUTH_KEY",
];

/// Parts of a name that make it about a secret without being one.
const NOT_SECRET_PARTS: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "URL",
    "NAME",
    "ID",
    "LENGTH",
    "TTL",
    "EXPIRE",
    "EXPIRES",
    "TIMEOUT",
    "ALGORITHM",
    "HEADER",
];

fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w)) && !upper.split('_').any(|p| NOT_SECRET_PARTS.contains(&p))
}

fn is_literal_secret_value(v: &str) -> bool {
    let v = v.trim();
    !(v.is_empty()
        || v.starts_with('$')
        || v.starts_with('/')
        || v.chars().all(|c| c.is_ascii_digit())
        || matches!(v.to_ascii_lowercase().as_str(), "true" | "false" | "none" | "null"))
}

fn secret_in_env(repo: &Repo<'_>) -> Result<Verdict, String> {
    per_file(
        repo,
        |df, d| {
            let all = d.global_args.iter().chain(d.stages.iter().flat_map(|s| &s.instructions));
            all.filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
                .flat_map(|i| {
                    key_values(&i.args).into_iter().filter_map(move |(k, v)| {
                        let v = v?;
                        (is_secret_name(&k) && is_literal_secret_value(&v)).then(|| RawFinding {
                            location: Some(Location::at(&df.entry.path, i.line)),
                            message: format!("{} `{k}` has a literal value baked into the image", i.keyword),
                            evidence: format!("{} {k}={}", i.keyword, mask::mask(&v)),
                            identity: format!("{k}:{}", mask::secret_identity(&v)),
                            severity: None,
                        })
                    })
                })
                .collect()
        },
        |path| format!("no literal secrets in ENV/ARG of {path}"),
    )
}
